//! The types a step's value can have ([`Lane`]), the scratch registers
//! that hold them ([`Bank`]), and how a step sees an operand ([`Arg`]).

use super::reg::Reg;
use crate::column::Column;
use crate::dtype::{DType, Element};

/// Runs `$body` with `$T` the Rust type of the number type `$dtype`:
/// how a value known at run time picks a monomorphised loop.
macro_rules! by_num {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            crate::dtype::DType::F32 => {
                type $T = f32;
                $body
            }
            crate::dtype::DType::F64 => {
                type $T = f64;
                $body
            }
            crate::dtype::DType::I32 => {
                type $T = i32;
                $body
            }
            crate::dtype::DType::U32 => {
                type $T = u32;
                $body
            }
        }
    };
}

/// [`by_num!`] for a step type, conditions included.
macro_rules! by_ty {
    ($ty:expr, $T:ident => $body:expr) => {
        match $ty {
            crate::expr::program::Ty::Bool => {
                type $T = bool;
                $body
            }
            crate::expr::program::Ty::Num(dtype) => by_num!(dtype, $T => $body),
        }
    };
}

/// A step's operand over one chunk: the chunk's values, or one value
/// that every element shares (a constant), read without filling a buffer.
#[derive(Clone, Copy)]
pub(super) enum Arg<'a, T> {
    Slice(&'a [T]),
    Scalar(T),
}

/// A value of any step type: a constant, or a step folded from constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Lit {
    Bool(bool),
    F32(f32),
    F64(f64),
    I32(i32),
    U32(u32),
}

/// Where the last step writes: the output chunk, typed at run time.
pub(super) enum Out<'a> {
    Bool(&'a mut [bool]),
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
    I32(&'a mut [i32]),
    U32(&'a mut [u32]),
}

impl<'a> Out<'a> {
    /// `out` as an output of its element type.
    pub fn of<U: Element>(out: &'a mut [U]) -> Out<'a> {
        // `U::DTYPE` names `U` exactly (`Element` is sealed), so each cast
        // is between a type and itself.
        match U::DTYPE {
            DType::F32 => Out::F32(bytemuck::cast_slice_mut(out)),
            DType::F64 => Out::F64(bytemuck::cast_slice_mut(out)),
            DType::I32 => Out::I32(bytemuck::cast_slice_mut(out)),
            DType::U32 => Out::U32(bytemuck::cast_slice_mut(out)),
        }
    }
}

/// Number of step types: conditions and the four numbers.
pub(super) const KINDS: usize = 5;

/// Scratch registers of every type, one chunk long. A rayon task
/// allocates one bank and reuses it for all of its chunks.
#[derive(Default)]
pub(crate) struct Bank {
    bool: Vec<Reg<bool>>,
    f32: Vec<Reg<f32>>,
    f64: Vec<Reg<f64>>,
    i32: Vec<Reg<i32>>,
    u32: Vec<Reg<u32>>,
}

impl Bank {
    /// `counts[T::KIND]` registers of each type `T`, of `len` elements.
    pub fn new(counts: &[usize; KINDS], len: usize) -> Bank {
        fn regs<T: Lane>(counts: &[usize; KINDS], len: usize) -> Vec<Reg<T>> {
            (0..counts[T::KIND]).map(|_| Reg::new(len)).collect()
        }
        Bank {
            bool: regs(counts, len),
            f32: regs(counts, len),
            f64: regs(counts, len),
            i32: regs(counts, len),
            u32: regs(counts, len),
        }
    }

    /// Bytes of a bank of `counts` registers of `len` elements.
    pub fn bytes(counts: &[usize; KINDS], len: usize) -> usize {
        fn bytes<T: Lane>(counts: &[usize; KINDS], len: usize) -> usize {
            counts[T::KIND] * size_of::<T>() * len
        }
        bytes::<bool>(counts, len)
            + bytes::<f32>(counts, len)
            + bytes::<f64>(counts, len)
            + bytes::<i32>(counts, len)
            + bytes::<u32>(counts, len)
    }

    /// Grows this bank to hold at least `counts` registers of `len`
    /// elements: a step writes its register before any step reads it,
    /// so the values a register held before are never seen.
    pub fn fit(&mut self, counts: &[usize; KINDS], len: usize) {
        fn fit<T: Lane>(regs: &mut Vec<Reg<T>>, count: usize, len: usize) {
            if regs.len() < count {
                regs.resize_with(count, Reg::default);
            }
            for reg in &mut regs[..count] {
                if reg.len() < len {
                    *reg = Reg::new(len);
                }
            }
        }
        fit(&mut self.bool, counts[bool::KIND], len);
        fit(&mut self.f32, counts[f32::KIND], len);
        fit(&mut self.f64, counts[f64::KIND], len);
        fit(&mut self.i32, counts[i32::KIND], len);
        fit(&mut self.u32, counts[u32::KIND], len);
    }
}

/// A type a step's value can have.
pub(super) trait Lane: Copy + Default + Send + Sync + 'static {
    /// Index of the type in per-type tables such as register counts.
    const KIND: usize;
    fn regs(bank: &Bank) -> &[Reg<Self>];
    fn regs_mut(bank: &mut Bank) -> &mut [Reg<Self>];
    /// The column's values if it holds this type.
    fn column(column: Column<'_>) -> Option<&[Self]>;
    /// The output's values if it holds this type.
    fn out<'o>(out: &'o mut Out<'_>) -> Option<&'o mut [Self]>;
    fn wrap(values: &mut [Self]) -> Out<'_>;
    fn lit(self) -> Lit;
    fn from_lit(lit: Lit) -> Option<Self>;
}

macro_rules! lane {
    ($t:ident, $kind:expr, $variant:ident, $column:ident => $values:expr) => {
        impl Lane for $t {
            const KIND: usize = $kind;
            fn regs(bank: &Bank) -> &[Reg<Self>] {
                &bank.$t
            }
            fn regs_mut(bank: &mut Bank) -> &mut [Reg<Self>] {
                &mut bank.$t
            }
            fn column($column: Column<'_>) -> Option<&[Self]> {
                $values
            }
            fn out<'o>(out: &'o mut Out<'_>) -> Option<&'o mut [Self]> {
                match out {
                    Out::$variant(values) => Some(values),
                    _ => None,
                }
            }
            fn wrap(values: &mut [Self]) -> Out<'_> {
                Out::$variant(values)
            }
            fn lit(self) -> Lit {
                Lit::$variant(self)
            }
            fn from_lit(lit: Lit) -> Option<Self> {
                match lit {
                    Lit::$variant(value) => Some(value),
                    _ => None,
                }
            }
        }
    };
}

lane!(bool, 0, Bool, _column => None);
lane!(f32, 1, F32, column => if let Column::F32(xs) = column { Some(xs) } else { None });
lane!(f64, 2, F64, column => if let Column::F64(xs) = column { Some(xs) } else { None });
lane!(i32, 3, I32, column => if let Column::I32(xs) = column { Some(xs) } else { None });
lane!(u32, 4, U32, column => if let Column::U32(xs) = column { Some(xs) } else { None });
