//! The loops: one tight loop per (operation, type, operand shape), each
//! run over a whole chunk so that LLVM vectorises it (in two versions:
//! see [`super::loops`]).

use super::lane::Arg;
use super::loops::{each1, each2, each3};
use super::num::Num;
use crate::expr::{Binary, Unary};

/// `out[j] = f(a[j])`.
#[inline(always)]
pub(super) fn map1<A: Copy, O: Copy>(a: Arg<'_, A>, out: &mut [O], f: impl Fn(A) -> O) {
    match a {
        Arg::Slice(a) => each1(a, out, f),
        Arg::Scalar(a) => out.fill(f(a)),
    }
}

/// `out[j] = f(a[j], b[j])`, with a loop of its own for each operand that
/// is a constant (`x + c` reads one stream, not two).
#[inline(always)]
pub(super) fn map2<A: Copy, B: Copy, O: Copy>(a: Arg<'_, A>, b: Arg<'_, B>, out: &mut [O], f: impl Fn(A, B) -> O) {
    match (a, b) {
        (Arg::Slice(a), Arg::Slice(b)) => each2(a, b, out, f),
        (Arg::Slice(a), Arg::Scalar(b)) => each1(a, out, |a| f(a, b)),
        (Arg::Scalar(a), Arg::Slice(b)) => each1(b, out, |b| f(a, b)),
        (Arg::Scalar(a), Arg::Scalar(b)) => out.fill(f(a, b)),
    }
}

/// `out[j] = if c[j] { a[j] } else { b[j] }`.
pub(super) fn select<T: Copy>(c: Arg<'_, bool>, a: Arg<'_, T>, b: Arg<'_, T>, out: &mut [T]) {
    let c = match c {
        Arg::Scalar(c) => return map1(if c { a } else { b }, out, |x| x),
        Arg::Slice(c) => c,
    };
    match (a, b) {
        (Arg::Slice(a), Arg::Slice(b)) => each3(c, a, b, out, |c, a, b| if c { a } else { b }),
        (Arg::Slice(a), Arg::Scalar(b)) => each2(c, a, out, |c, a| if c { a } else { b }),
        (Arg::Scalar(a), Arg::Slice(b)) => each2(c, b, out, |c, b| if c { a } else { b }),
        (Arg::Scalar(a), Arg::Scalar(b)) => each1(c, out, |c| if c { a } else { b }),
    }
}

/// `out[j]` = the global index of element `j`, `start + j`, as a `u32`
/// (wrapping past 2^32, as the GPU's index does).
pub(super) fn index(start: usize, out: &mut [u32]) {
    let base = start as u32;
    for (j, o) in out.iter_mut().enumerate() {
        *o = base.wrapping_add(j as u32);
    }
}

pub(super) fn unary<T: Num>(op: Unary, a: Arg<'_, T>, out: &mut [T]) {
    match op {
        Unary::Neg => map1(a, out, T::neg),
        Unary::Abs => map1(a, out, T::abs),
        Unary::Square => map1(a, out, |x| x.mul(x)),
        Unary::Not => unreachable!("`!` takes a condition"),
        op => T::float_unary(op, a, out),
    }
}

/// Arithmetic and `min`/`max`: an operator whose result is a number.
pub(super) fn arith<T: Num>(op: Binary, a: Arg<'_, T>, b: Arg<'_, T>, out: &mut [T]) {
    match op {
        Binary::Add => map2(a, b, out, T::add),
        Binary::Sub => map2(a, b, out, T::sub),
        Binary::Mul => map2(a, b, out, T::mul),
        Binary::Div => map2(a, b, out, T::div),
        Binary::Rem => map2(a, b, out, T::rem),
        Binary::Min => map2(a, b, out, T::min_nan),
        Binary::Max => map2(a, b, out, T::max_nan),
        Binary::Pow => T::pow(a, b, out),
        _ => unreachable!("{} gives a condition", op.name()),
    }
}

/// Comparisons (IEEE: NaN is unordered, so only `!=` holds for it).
pub(super) fn compare<S: Num>(op: Binary, a: Arg<'_, S>, b: Arg<'_, S>, out: &mut [bool]) {
    match op {
        Binary::Lt => map2(a, b, out, |a, b| a < b),
        Binary::Le => map2(a, b, out, |a, b| a <= b),
        Binary::Gt => map2(a, b, out, |a, b| a > b),
        Binary::Ge => map2(a, b, out, |a, b| a >= b),
        Binary::Eq => map2(a, b, out, |a, b| a == b),
        Binary::Ne => map2(a, b, out, |a, b| a != b),
        _ => unreachable!("{} is not a comparison", op.name()),
    }
}

/// `&&` and `||`; both sides are already evaluated, so no short circuit.
pub(super) fn logic(op: Binary, a: Arg<'_, bool>, b: Arg<'_, bool>, out: &mut [bool]) {
    match op {
        Binary::And => map2(a, b, out, |a, b| a & b),
        Binary::Or => map2(a, b, out, |a, b| a | b),
        _ => unreachable!("{} does not combine conditions", op.name()),
    }
}
