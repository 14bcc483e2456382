//! Owned host arrays of any element type, and the CPU evaluation of a
//! stage over them.

use crate::dtype::{DType, Element};
use crate::expr::eval;
use crate::expr::program::Program;
use crate::inputs::Column;
use crate::op::Reduce;
use std::any::Any;
use std::sync::Arc;

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

    /// The values as `T`, which must be the array's type.
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        // The bytes come from a `Vec<T>` of the same type: aligned for `T`.
        bytemuck::cast_slice(self.column().bytes()).to_vec()
    }

    /// Zero-filled bytes of `len` elements of `dtype`, to read into.
    pub fn zeroed(dtype: DType, len: usize) -> HostData {
        match dtype {
            DType::F32 => HostData::F32(Arc::new(vec![0.0; len])),
            DType::F64 => HostData::F64(Arc::new(vec![0.0; len])),
            DType::I32 => HostData::I32(Arc::new(vec![0; len])),
            DType::U32 => HostData::U32(Arc::new(vec![0; len])),
        }
    }

    /// The bytes of a freshly made array, to fill. `None` once shared.
    pub fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        match self {
            HostData::F32(v) => Arc::get_mut(v).map(|v| bytemuck::cast_slice_mut(v.as_mut_slice())),
            HostData::F64(v) => Arc::get_mut(v).map(|v| bytemuck::cast_slice_mut(v.as_mut_slice())),
            HostData::I32(v) => Arc::get_mut(v).map(|v| bytemuck::cast_slice_mut(v.as_mut_slice())),
            HostData::U32(v) => Arc::get_mut(v).map(|v| bytemuck::cast_slice_mut(v.as_mut_slice())),
        }
    }
}

/// `program(columns)` over `len` elements on the CPU (the calling
/// thread's pool): the array, or with `reduce` its one-element reduction.
/// A map writes into `spare` if it is an unshared array of the right type
/// and length, which saves allocating and first touching a new one.
pub(crate) fn evaluate(
    program: &Program,
    columns: &[Column<'_>],
    len: usize,
    reduce: Option<Reduce>,
    spare: Option<HostData>,
) -> HostData {
    fn typed<U: Element>(program: &Program, columns: &[Column<'_>], len: usize, reduce: Option<Reduce>) -> HostData {
        let values = match reduce {
            Some(reduce) => vec![eval::map_reduce::<U>(program, columns, len, reduce)],
            None => {
                let mut out = vec![U::default(); len];
                eval::map_into(program, columns, &mut out);
                out
            }
        };
        HostData::of(values)
    }
    let output = program.structure.output();
    if let Some(mut spare) =
        spare.filter(|s| reduce.is_none() && s.column().dtype() == output && s.column().len() == len)
    {
        if let Some(bytes) = spare.bytes_mut() {
            match output {
                DType::F32 => eval::map_into::<f32>(program, columns, bytemuck::cast_slice_mut(bytes)),
                DType::F64 => eval::map_into::<f64>(program, columns, bytemuck::cast_slice_mut(bytes)),
                DType::I32 => eval::map_into::<i32>(program, columns, bytemuck::cast_slice_mut(bytes)),
                DType::U32 => eval::map_into::<u32>(program, columns, bytemuck::cast_slice_mut(bytes)),
            }
            return spare;
        }
    }
    match output {
        DType::F32 => typed::<f32>(program, columns, len, reduce),
        DType::F64 => typed::<f64>(program, columns, len, reduce),
        DType::I32 => typed::<i32>(program, columns, len, reduce),
        DType::U32 => typed::<u32>(program, columns, len, reduce),
    }
}
