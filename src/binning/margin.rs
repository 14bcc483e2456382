//! Bins found with no lookup at all, for the values that are clearly
//! inside one.
//!
//! [`Near`](super::Near) corrects every estimate with two loads of
//! thresholds, which a CPU's vector units can only do with gathers (slow
//! on most x86 cores). But the estimate `g = (x - lo) * scale` is only
//! ever wrong for values within a rounding of a bin boundary: for a value
//! whose `g` lies well inside `[k, k + 1)`, `floor(g)` is its bin. The
//! [`Margins`] say how well inside: `g`'s fraction at least `lower` and at
//! most `1 - upper`. They are proven once per job from the thresholds,
//! as `Near` is: `g` is monotone in `x` (every step of it is), so if
//!
//! - every value just below threshold `b` has `g < b + lower`, then a
//!   value below bin `k`'s threshold never has `g >= k + lower`; and
//! - every threshold `b` has `g > b - upper`, then a value at or past bin
//!   `k + 1`'s threshold never has `g <= k + 1 - upper`,
//!
//! so a value with `floor(g) = k` and its fraction in `[lower, 1 - upper]`
//! lies in bin `k`. (A margin of 0 asks for `g < b`, or `g >= b`, at the
//! thresholds, and then no test is needed on that side: the estimate of
//! integer data over integer-aligned bins is exact.) The margins are
//! powers of two, so the fraction tests are exact in either precision.
//! Values outside the margins, about `lower + upper` of evenly spread
//! data, are marked [`UNSURE`] for an exact look-up by the caller.

use super::{before, Binning, Estimator, Precision};
use crate::dtype::Element;

/// The mark of a value near a boundary, whose bin the caller looks up.
pub(crate) const UNSURE: u32 = u32::MAX;

/// Margins wider than this leave too many values to look up.
const WIDEST: f64 = 1.0 / 8.0;

/// The narrowest margin used: far below any rounding that needs one,
/// and exact as a fraction of an f32 estimate.
const NARROWEST: f64 = 1.0 / (1u64 << 24) as f64;

/// A bin estimate with the margins that make it exact, in precision `F`.
#[derive(Debug, Clone)]
pub(crate) struct Margins<T, F> {
    estimator: Estimator<F>,
    lower: F,
    /// `1 - upper`.
    below_one: F,
    first: T,
    top: T,
    outside: u32,
}

impl<T: Element> Binning<T> {
    /// The margins of an estimate in precision `F`, if both are at most
    /// 1/8; `None` when nothing is counted or the edges are too close
    /// for `F`. Costs two estimates per reachable bin.
    pub fn margins<F: Precision>(&self) -> Option<Margins<T, F>> {
        let reachable = self.reachable();
        let (&first, &top) = (self.edges.first()?, self.edges.last()?);
        let estimator = F::estimator(self.lo, self.scale, reachable - 1);
        let g = |x: T| {
            let (whole, fraction) = F::place(&estimator, x.to_f64());
            whole as f64 + fraction.to_f64()
        };
        // The largest `g` just below each threshold, past it, and the
        // largest shortfall of `g` at each threshold (both exact in f64).
        let (mut past, mut short) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for b in 1..reachable {
            let threshold = self.edges[b];
            // No counted value lies below the first threshold.
            if threshold > first {
                let below = T::from_f64(before(T::DTYPE, threshold.to_f64()));
                past = past.max(g(below) - b as f64);
            }
            short = short.max(b as f64 - g(threshold));
        }
        let lower = if past < 0.0 { 0.0 } else { margin(past)? };
        let upper = if short <= 0.0 { 0.0 } else { margin(short)? };
        let outside = u32::try_from(self.bins).ok()?;
        Some(Margins { estimator, lower: F::from_f64(lower), below_one: F::from_f64(1.0 - upper), first, top, outside })
    }
}

/// The margin that a largest excess `excess` needs: the smallest power
/// of two above it (from [`NARROWEST`]), or `None` past [`WIDEST`].
fn margin(excess: f64) -> Option<f64> {
    let mut margin = NARROWEST;
    while margin <= excess {
        margin *= 2.0;
    }
    (margin <= WIDEST).then_some(margin)
}

impl<T: Element, F: Precision> Margins<T, F> {
    /// `x`'s bin; the number of bins, one past the last, if it is not
    /// counted (NaN, or outside the range), so that counts with a spare
    /// slot take it without a branch; or [`UNSURE`] if it is near a boundary. Branch-free, so a
    /// loop of it vectorises.
    #[inline(always)]
    pub fn bin(&self, x: T) -> u32 {
        let (whole, fraction) = F::place(&self.estimator, x.to_f64());
        let sure = fraction >= self.lower && fraction <= self.below_one;
        let counted = x >= self.first && x <= self.top;
        let bin = if sure { whole } else { UNSURE };
        if counted {
            bin
        } else {
            self.outside
        }
    }
}

impl<T> Margins<T, f32> {
    /// The estimate's `lo`, `scale` and last bin, for kernels that
    /// compute [`Margins::bin`]'s estimate their own way.
    pub fn estimate_f32(&self) -> (f32, f32, f32) {
        (self.estimator.lo, self.estimator.scale, self.estimator.last)
    }

    /// The bounds of a sure estimate's fraction: `lower` and `1 - upper`.
    pub fn fraction_bounds(&self) -> (f32, f32) {
        (self.lower, self.below_one)
    }
}

impl<T: Copy, F> Margins<T, F> {
    /// The first and the last value counted.
    pub fn range(&self) -> (T, T) {
        (self.first, self.top)
    }
}
