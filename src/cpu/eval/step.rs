//! One step over one chunk: picks the loop for the step and its types
//! (once per chunk, never per element) and runs it.

use super::kernels::{self, map1};
use super::lane::{Arg, Bank, Lane, Out};
use super::num::Num;
use super::plan::Loc;
use crate::column::Column;
use crate::dtype::DType;
use crate::expr::program::{Instr, Step, Ty};
use crate::expr::Unary;

/// The chunk being evaluated and where the values of earlier steps are.
pub(super) struct Chunk<'p, 'c> {
    pub instrs: &'p [Instr],
    /// Locations of the steps (at least of every step read).
    pub locs: &'p [Loc],
    pub columns: &'p [Column<'c>],
    /// Global index of the chunk's first element.
    pub start: usize,
    pub len: usize,
}

/// Where a step writes its value.
pub(super) enum Dst<'o, 'a> {
    Reg(usize),
    Out(&'o mut Out<'a>),
}

impl Chunk<'_, '_> {
    /// The value of step `s` over this chunk, read where it lies.
    pub fn arg<'x, T: Lane>(&'x self, bank: &'x Bank, s: usize) -> Arg<'x, T> {
        match self.locs[s] {
            Loc::Column(k) => match T::column(self.columns[k]) {
                Some(values) => Arg::Slice(&values[self.start..self.start + self.len]),
                None => unreachable!("Plan::new checks the type of every column"),
            },
            Loc::Scalar(lit) => match T::from_lit(lit) {
                Some(value) => Arg::Scalar(value),
                None => unreachable!("constants have the type of their step"),
            },
            Loc::Reg(r) => Arg::Slice(T::regs(bank)[r].values(self.len)),
            Loc::Out => unreachable!("the last step is no operand"),
        }
    }

    fn num(&self, s: usize) -> DType {
        number(self.instrs[s].ty)
    }
}

fn number(ty: Ty) -> DType {
    match ty {
        Ty::Num(dtype) => dtype,
        Ty::Bool => unreachable!("Program::compile gives arithmetic numbers only"),
    }
}

/// Evaluates `instr` (not a leaf: those are read in place) over the chunk into `dst`.
pub(super) fn run(chunk: &Chunk, bank: &mut Bank, instr: Instr, dst: Dst) {
    let Instr { step, ty } = instr;
    match step {
        Step::Input(_) | Step::Const(_) => unreachable!("inputs and constants are read in place"),
        Step::Index => with_dst(chunk, bank, dst, |_, out| kernels::index(chunk.start, out)),
        Step::Unary(Unary::Not, a) => {
            with_dst(chunk, bank, dst, |bank, out| map1(chunk.arg(bank, a), out, |c: bool| !c))
        }
        Step::Unary(op, a) => by_num!(number(ty), T => {
            with_dst(chunk, bank, dst, |bank, out: &mut [T]| kernels::unary(op, chunk.arg(bank, a), out))
        }),
        Step::Binary(op, a, b) if op.is_logical() => {
            with_dst(chunk, bank, dst, |bank, out| kernels::logic(op, chunk.arg(bank, a), chunk.arg(bank, b), out))
        }
        Step::Binary(op, a, b) if op.is_comparison() => by_num!(chunk.num(a), S => {
            with_dst(chunk, bank, dst, |bank, out| {
                kernels::compare::<S>(op, chunk.arg(bank, a), chunk.arg(bank, b), out)
            })
        }),
        Step::Binary(op, a, b) => by_num!(number(ty), T => {
            with_dst(chunk, bank, dst, |bank, out: &mut [T]| {
                kernels::arith(op, chunk.arg(bank, a), chunk.arg(bank, b), out)
            })
        }),
        Step::Select(c, a, b) => by_ty!(ty, T => {
            with_dst(chunk, bank, dst, |bank, out: &mut [T]| {
                kernels::select(chunk.arg(bank, c), chunk.arg(bank, a), chunk.arg(bank, b), out)
            })
        }),
        Step::Cast(a) => by_num!(number(ty), T => {
            with_dst(chunk, bank, dst, |bank, out: &mut [T]| cast(chunk, bank, a, out))
        }),
    }
}

/// Runs `f` with the destination's values and the registers to read.
/// A register is moved out of the bank while it is written, so that the
/// operands (other registers: see `Plan::new`) stay readable.
fn with_dst<T: Lane>(chunk: &Chunk, bank: &mut Bank, dst: Dst, f: impl FnOnce(&Bank, &mut [T])) {
    match dst {
        Dst::Reg(r) => {
            let mut reg = std::mem::take(&mut T::regs_mut(bank)[r]);
            f(bank, reg.values_mut(chunk.len));
            T::regs_mut(bank)[r] = reg;
        }
        Dst::Out(out) => match T::out(out) {
            Some(out) => f(bank, out),
            None => unreachable!("the caller checks that the output has the program's type"),
        },
    }
}

/// Converts step `a` to `T` (see [`Num`]'s `from_*` for the rules).
fn cast<T: Num>(chunk: &Chunk, bank: &Bank, a: usize, out: &mut [T]) {
    match chunk.instrs[a].ty {
        Ty::Bool => map1(chunk.arg(bank, a), out, T::of_bool),
        Ty::Num(DType::F32) => map1(chunk.arg(bank, a), out, T::of_f32),
        Ty::Num(DType::F64) => map1(chunk.arg(bank, a), out, T::of_f64),
        Ty::Num(DType::I32) => map1(chunk.arg(bank, a), out, T::of_i32),
        Ty::Num(DType::U32) => map1(chunk.arg(bank, a), out, T::of_u32),
    }
}
