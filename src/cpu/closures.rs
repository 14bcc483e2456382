//! Monomorphised element functions: an [`Op`] or [`Reduce`] becomes a
//! closure type once per job, so the hot loops inline and vectorise
//! instead of matching on the op per element.

use crate::dtype::Element;
use crate::op::{Op, Reduce};

/// Receives the element function of a map.
pub(crate) trait MapVisitor<T> {
    type Out;
    fn visit<F: Fn(T) -> T + Copy + Send + Sync>(self, f: F) -> Self::Out;
}

/// Receives the identity and combining function of a reduction.
pub(crate) trait ReduceVisitor<T> {
    type Out;
    fn visit<C: Fn(T, T) -> T + Copy + Send + Sync>(self, identity: T, combine: C) -> Self::Out;
}

/// True if `op` (the identity for `None`) has a loop compiled for it
/// here. Ops added since run on the chunked evaluator, which is nearly as
/// fast, so a new function needs no code in this file. The transcendental
/// functions run there too: its loops call the slice functions of
/// [`super::math`], which vectorise, where a closure per element would not.
#[inline]
pub(crate) fn has_loop(op: Option<Op>) -> bool {
    use Op::*;
    matches!(op, None | Some(Square | Abs | Neg | Sqrt | Add(_) | Mul(_) | Min(_) | Max(_) | Clamp { .. }))
}

/// Calls `v` with the closure for `op` (the identity if `op` is `None`).
/// The op must have passed [`Op::check`] for `T`, and [`has_loop`].
pub(crate) fn with_map<T: Element, V: MapVisitor<T>>(op: Option<Op>, v: V) -> V::Out {
    let [a, b] = op.map_or([0.0; 2], |op| op.scalars()).map(T::from_f64);
    let Some(op) = op else { return v.visit(|x| x) };
    match op {
        Op::Square => v.visit(|x: T| x.mul(x)),
        Op::Abs => v.visit(|x: T| x.abs()),
        Op::Neg => v.visit(|x: T| x.neg()),
        Op::Sqrt => v.visit(|x: T| x.sqrt()),
        Op::Add(_) => v.visit(move |x: T| x.add(a)),
        Op::Mul(_) => v.visit(move |x: T| x.mul(a)),
        Op::Min(_) => v.visit(move |x: T| x.min_nan(a)),
        Op::Max(_) => v.visit(move |x: T| x.max_nan(a)),
        Op::Clamp { .. } => v.visit(move |x: T| x.max_nan(a).min_nan(b)),
        op => unreachable!("{op} has no compiled loop: the executor evaluates it"),
    }
}

/// Calls `v` with the identity and combining closure of `reduce`.
pub(crate) fn with_reduce<T: Element, V: ReduceVisitor<T>>(reduce: Reduce, v: V) -> V::Out {
    let identity = reduce.identity::<T>();
    match reduce {
        Reduce::Sum => v.visit(identity, |a: T, b: T| a.add(b)),
        Reduce::Product => v.visit(identity, |a: T, b: T| a.mul(b)),
        Reduce::Min => v.visit(identity, |a: T, b: T| a.min_nan(b)),
        Reduce::Max => v.visit(identity, |a: T, b: T| a.max_nan(b)),
    }
}
