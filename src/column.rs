//! Arrays of any element type: [`Column`] borrows one, [`HostData`]
//! owns one in host memory. Jobs read columns; arrays and pipelines keep
//! host data.

use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::fresh::{copy_of, result_vec};
use std::any::Any;
use std::sync::Arc;

/// A borrowed array of any element type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Column<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    I32(&'a [i32]),
    U32(&'a [u32]),
}

impl<'a> Column<'a> {
    pub fn dtype(&self) -> DType {
        match self {
            Column::F32(_) => DType::F32,
            Column::F64(_) => DType::F64,
            Column::I32(_) => DType::I32,
            Column::U32(_) => DType::U32,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Column::F32(xs) => xs.len(),
            Column::F64(xs) => xs.len(),
            Column::I32(xs) => xs.len(),
            Column::U32(xs) => xs.len(),
        }
    }

    /// The column's bytes, as they are uploaded.
    pub fn bytes(&self) -> &'a [u8] {
        match self {
            Column::F32(xs) => bytemuck::cast_slice(xs),
            Column::F64(xs) => bytemuck::cast_slice(xs),
            Column::I32(xs) => bytemuck::cast_slice(xs),
            Column::U32(xs) => bytemuck::cast_slice(xs),
        }
    }

    /// The values as `T`, if that is their type.
    pub fn typed<T: Element>(&self) -> Option<&'a [T]> {
        // The bytes come from a slice of the type `dtype` names: aligned for `T`.
        (self.dtype() == T::DTYPE).then(|| bytemuck::cast_slice(self.bytes()))
    }

    /// Elements `range` of the column.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Self {
        match self {
            Column::F32(xs) => Column::F32(&xs[range]),
            Column::F64(xs) => Column::F64(&xs[range]),
            Column::I32(xs) => Column::I32(&xs[range]),
            Column::U32(xs) => Column::U32(&xs[range]),
        }
    }

    /// `xs` as a column of its element type.
    pub fn of<T: Element>(xs: &'a [T]) -> Self {
        // `T::DTYPE` names `T` exactly (the trait is sealed), so each cast
        // is between a type and itself.
        match T::DTYPE {
            DType::F32 => Column::F32(bytemuck::cast_slice(xs)),
            DType::F64 => Column::F64(bytemuck::cast_slice(xs)),
            DType::I32 => Column::I32(bytemuck::cast_slice(xs)),
            DType::U32 => Column::U32(bytemuck::cast_slice(xs)),
        }
    }
}

/// A borrowed array of any element type, to write.
#[derive(Debug)]
pub(crate) enum ColumnMut<'a> {
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
    I32(&'a mut [i32]),
    U32(&'a mut [u32]),
}

impl<'a> ColumnMut<'a> {
    /// `xs` as a column of its element type.
    pub fn of<T: Element>(xs: &'a mut [T]) -> Self {
        // As in `Column::of`: each cast is between a type and itself.
        match T::DTYPE {
            DType::F32 => ColumnMut::F32(bytemuck::cast_slice_mut(xs)),
            DType::F64 => ColumnMut::F64(bytemuck::cast_slice_mut(xs)),
            DType::I32 => ColumnMut::I32(bytemuck::cast_slice_mut(xs)),
            DType::U32 => ColumnMut::U32(bytemuck::cast_slice_mut(xs)),
        }
    }

    /// The column, to read.
    pub fn read(&self) -> Column<'_> {
        match self {
            ColumnMut::F32(xs) => Column::F32(xs),
            ColumnMut::F64(xs) => Column::F64(xs),
            ColumnMut::I32(xs) => Column::I32(xs),
            ColumnMut::U32(xs) => Column::U32(xs),
        }
    }

    /// The values as `T`, if that is their type.
    pub fn typed<T: Element>(&mut self) -> Option<&mut [T]> {
        if self.read().dtype() != T::DTYPE {
            return None;
        }
        let bytes: &mut [u8] = match self {
            ColumnMut::F32(xs) => bytemuck::cast_slice_mut(xs),
            ColumnMut::F64(xs) => bytemuck::cast_slice_mut(xs),
            ColumnMut::I32(xs) => bytemuck::cast_slice_mut(xs),
            ColumnMut::U32(xs) => bytemuck::cast_slice_mut(xs),
        };
        // The bytes come from a slice of the type `T` names: aligned for `T`.
        Some(bytemuck::cast_slice_mut(bytes))
    }

    /// The column's bytes, to read into.
    pub fn bytes(&mut self) -> &mut [u8] {
        match self {
            ColumnMut::F32(xs) => bytemuck::cast_slice_mut(xs),
            ColumnMut::F64(xs) => bytemuck::cast_slice_mut(xs),
            ColumnMut::I32(xs) => bytemuck::cast_slice_mut(xs),
            ColumnMut::U32(xs) => bytemuck::cast_slice_mut(xs),
        }
    }
}

/// An array in host memory, shared without copying.
#[derive(Debug, Clone)]
pub(crate) enum HostData {
    F32(Arc<Vec<f32>>),
    F64(Arc<Vec<f64>>),
    I32(Arc<Vec<i32>>),
    U32(Arc<Vec<u32>>),
}

impl HostData {
    /// Takes `values` without copying them.
    pub fn of<T: Element>(values: Vec<T>) -> HostData {
        let values: Box<dyn Any> = Box::new(values);
        // `T::DTYPE` names `T` exactly (the trait is sealed), so the
        // downcast matching it always succeeds.
        let owned = match T::DTYPE {
            DType::F32 => values.downcast().map(|v| HostData::F32(Arc::new(*v))),
            DType::F64 => values.downcast().map(|v| HostData::F64(Arc::new(*v))),
            DType::I32 => values.downcast().map(|v| HostData::I32(Arc::new(*v))),
            DType::U32 => values.downcast().map(|v| HostData::U32(Arc::new(*v))),
        };
        owned.unwrap_or_else(|_| unreachable!("DType names its Element type"))
    }

    pub fn column(&self) -> Column<'_> {
        match self {
            HostData::F32(v) => Column::F32(v),
            HostData::F64(v) => Column::F64(v),
            HostData::I32(v) => Column::I32(v),
            HostData::U32(v) => Column::U32(v),
        }
    }

    /// The values of `column`, copied (in parallel on the current rayon
    /// pool when large).
    pub fn copied(column: Column<'_>) -> Result<HostData> {
        Ok(match column {
            Column::F32(xs) => HostData::of(copy_of(xs)?),
            Column::F64(xs) => HostData::of(copy_of(xs)?),
            Column::I32(xs) => HostData::of(copy_of(xs)?),
            Column::U32(xs) => HostData::of(copy_of(xs)?),
        })
    }

    /// The values as `T`, which must be the array's type, copied into a
    /// new vector on the current rayon pool.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        // The bytes come from a `Vec<T>` of the same type: aligned for `T`.
        copy_of(bytemuck::cast_slice(self.column().bytes()))
    }

    /// The values as `T` (the array's type), moved out if no one else
    /// holds them; else the data back.
    pub fn into_vec<T: Element>(self) -> std::result::Result<Vec<T>, HostData> {
        fn unwrap<V: Any, T: Element>(
            values: Arc<V>,
            back: fn(Arc<V>) -> HostData,
        ) -> std::result::Result<Vec<T>, HostData> {
            let values = Arc::try_unwrap(values).map_err(back)?;
            let values: Box<dyn Any> = Box::new(values);
            // `T::DTYPE` names `T` exactly: the caller asked for the array's type.
            Ok(*values.downcast::<Vec<T>>().unwrap_or_else(|_| unreachable!("DType names its Element type")))
        }
        if self.column().dtype() != T::DTYPE {
            return Err(self);
        }
        match self {
            HostData::F32(v) => unwrap(v, HostData::F32),
            HostData::F64(v) => unwrap(v, HostData::F64),
            HostData::I32(v) => unwrap(v, HostData::I32),
            HostData::U32(v) => unwrap(v, HostData::U32),
        }
    }

    /// Zero-filled bytes of `len` elements of `dtype`, to read into; like
    /// `vec!`, an allocation failure aborts.
    pub fn zeroed(dtype: DType, len: usize) -> HostData {
        fn fresh<T: Element>(len: usize) -> Arc<Vec<T>> {
            let bytes = len.saturating_mul(T::DTYPE.size());
            let layout =
                std::alloc::Layout::from_size_align(bytes, T::DTYPE.size()).unwrap_or(std::alloc::Layout::new::<T>());
            Arc::new(result_vec(len).unwrap_or_else(|_| std::alloc::handle_alloc_error(layout)))
        }
        match dtype {
            DType::F32 => HostData::F32(fresh(len)),
            DType::F64 => HostData::F64(fresh(len)),
            DType::I32 => HostData::I32(fresh(len)),
            DType::U32 => HostData::U32(fresh(len)),
        }
    }

    /// The values of an unshared array as `T`, to fill. `None` once
    /// shared, or if `T` is not the array's type.
    pub fn values_mut<T: Element>(&mut self) -> Option<&mut [T]> {
        if self.column().dtype() != T::DTYPE {
            return None;
        }
        let bytes: &mut [u8] = match self {
            HostData::F32(v) => bytemuck::cast_slice_mut(Arc::get_mut(v)?.as_mut_slice()),
            HostData::F64(v) => bytemuck::cast_slice_mut(Arc::get_mut(v)?.as_mut_slice()),
            HostData::I32(v) => bytemuck::cast_slice_mut(Arc::get_mut(v)?.as_mut_slice()),
            HostData::U32(v) => bytemuck::cast_slice_mut(Arc::get_mut(v)?.as_mut_slice()),
        };
        // The bytes come from a `Vec` of the type `T` names: aligned for `T`.
        Some(bytemuck::cast_slice_mut(bytes))
    }
}
