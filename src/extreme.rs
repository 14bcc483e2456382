//! Which element is the first extreme one: the rule argmin and argmax
//! share on every path.
//!
//! An order over (value, index) pairs that leaves no ties: a NaN comes
//! before any number (NaN propagates, as in the reductions), then the
//! smaller (argmin) or larger (argmax) value, then the lower index. `-0.0`
//! and `+0.0` are equal values, so the first of them wins. Because every
//! index is distinct this is a total order, and the best pair is the same
//! whatever order the pairs are compared in: a rayon task, a GPU lane and
//! a workgroup's tree all find the same element, and the devices agree
//! on the index (a NaN's payload bits may differ between them).

use crate::dtype::Element;
use crate::op::Reduce;

/// Where an extreme element is, and its value.
///
/// ```
/// let engine = swath::Engine::cpu();
/// let at = engine.argmax(&[1.0f32, 7.0, 7.0, 2.0])?;
/// assert_eq!(at, swath::Located { index: 1, value: 7.0 });
/// # Ok::<(), swath::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located<T> {
    /// Index of the element in the input.
    pub index: usize,
    /// The element's value.
    pub value: T,
}

/// Which extreme to locate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Extreme {
    Min,
    Max,
}

impl Extreme {
    /// The reduction that finds the extreme value (not its index).
    pub fn reduce(self) -> Reduce {
        match self {
            Extreme::Min => Reduce::Min,
            Extreme::Max => Reduce::Max,
        }
    }

    /// The operation's name.
    pub fn name(self) -> &'static str {
        match self {
            Extreme::Min => "argmin",
            Extreme::Max => "argmax",
        }
    }

    /// True if value `a` is strictly better than `b` (neither NaN).
    #[inline(always)]
    fn beats<T: Element>(self, a: T, b: T) -> bool {
        match self {
            Extreme::Min => a < b,
            Extreme::Max => a > b,
        }
    }

    /// True if `a` comes before `b` in the order of the module header.
    #[inline]
    pub fn precedes<T: Element>(self, a: &Located<T>, b: &Located<T>) -> bool {
        match (a.value.is_nan(), b.value.is_nan()) {
            (true, false) => true,
            (false, true) => false,
            (true, true) => a.index < b.index,
            (false, false) => self.beats(a.value, b.value) || (!self.beats(b.value, a.value) && a.index < b.index),
        }
    }

    /// True if value `a` comes strictly before value `b`: an element of
    /// value `a` after one of value `b` is the better of the two.
    #[inline]
    pub fn improves<T: Element>(self, a: T, b: T) -> bool {
        match (a.is_nan(), b.is_nan()) {
            (_, true) => false,
            (true, false) => true,
            (false, false) => self.beats(a, b),
        }
    }

    /// The better of two candidates (either may be absent).
    #[inline]
    pub fn pick<T: Element>(self, a: Option<Located<T>>, b: Option<Located<T>>) -> Option<Located<T>> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if self.precedes(&b, &a) { b } else { a }),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<T>(index: usize, value: T) -> Option<Located<T>> {
        Some(Located { index, value })
    }

    #[test]
    fn nan_then_value_then_index_decide() {
        let max = Extreme::Max;
        assert_eq!(max.pick(at(3, 1.0f32), at(1, 1.0)), at(1, 1.0), "a tie goes to the lower index");
        assert_eq!(max.pick(at(1, -0.0f32), at(0, 0.0)), at(0, 0.0), "-0 and +0 tie");
        assert_eq!(max.pick(at(0, 5.0f32), at(9, f32::NAN)).unwrap().index, 9, "NaN beats any number");
        assert_eq!(max.pick(at(4, f32::NAN), at(2, f32::NAN)).unwrap().index, 2, "the first NaN wins");
        assert_eq!(Extreme::Min.pick(at(0, 5i32), at(9, -1)), at(9, -1));
        assert_eq!(Extreme::Min.pick(None, at(9, 2u32)), at(9, 2));
    }
}
