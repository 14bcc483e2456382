//! Which bin a value falls into: the one rule every histogram path uses.
//!
//! A histogram of `bins` equal-width bins over `[lo, hi]` has numpy's
//! edges, computed in f64 as `numpy.linspace` computes them:
//! `edge[b] = b * ((hi - lo) / bins) + lo` and `edge[bins] = hi`. A value
//! `x` falls into bin `b` when `edge[b] <= x < edge[b + 1]`; the last bin
//! is closed (`x == hi` counts), and NaN and values outside `[lo, hi]`
//! count nowhere. That is numpy's definition for f64 data, exactly.
//! (numpy computes the edges of f32 data in f32, so there it may put a
//! value within an f32 rounding of an edge one bin over.)
//!
//! How it is computed, identically on every device: the edges are turned
//! into thresholds of the data's own type on the host, once per job: the
//! smallest value of the type that is `>= edge[b]` (rounding up to f32,
//! `ceil` for integers). For a value of that type, `x >= edge[b]` exactly
//! when `x >= threshold[b]`, so comparing with the thresholds is exact
//! with no wider arithmetic on the device. A value's bin is the last `b`
//! whose threshold it reaches: a device estimates it with
//! `floor((x - lo) * bins / (hi - lo))` in whatever precision it has,
//! then steps down or up while the thresholds say so. The estimate only
//! saves steps; the thresholds alone decide, so the counts are the same
//! on every path, bit for bit. Bins whose threshold lies beyond the
//! largest counted value (integer data over a range of fractions, or f32
//! edges beyond `f32::MAX`) can hold nothing and are left out of the
//! search.

use crate::dtype::{DType, Element};

mod margin;
pub(crate) use margin::{Margins, UNSURE};

/// Most bins a histogram may have: bounds the memory of the counts (and
/// of one set of counts per CPU task).
pub(crate) const MAX_BINS: usize = 1 << 24;

/// The thresholds of one histogram, in the data's type.
#[derive(Debug, Clone)]
pub(crate) struct Binning<T> {
    /// Bins counted (the length of the result).
    pub bins: usize,
    /// `threshold[b]` for each bin that can hold a value, then the
    /// largest value counted; empty if no value of the type is counted.
    pub edges: Vec<T>,
    /// `lo` and `bins / (hi - lo)`, for the estimate.
    pub lo: f64,
    pub scale: f64,
}

impl<T: Element> Binning<T> {
    /// `bins` equal-width bins over `[lo, hi]`; the caller checked that
    /// `0 < bins <= MAX_BINS` and that `lo < hi` are finite, with a finite
    /// width.
    pub fn equal_width(bins: usize, lo: f64, hi: f64) -> Binning<T> {
        let width = hi - lo;
        let step = width / bins as f64;
        let edge = |b: usize| match step {
            // numpy's linspace divides first when the step underflows.
            0.0 => (b as f64 / bins as f64) * width + lo,
            step => b as f64 * step + lo,
        };
        let top = round_down(T::DTYPE, hi);
        let thresholds = (0..bins).map(|b| round_up(T::DTYPE, edge(b))).take_while(|&t| t <= top);
        let mut edges: Vec<T> = thresholds.map(T::from_f64).collect();
        if !edges.is_empty() {
            edges.push(T::from_f64(top));
        }
        Binning { bins, edges, lo, scale: bins as f64 / width }
    }

    /// One bin per integer key in `0..n`.
    pub fn keys(n: usize) -> Binning<T> {
        let mut edges: Vec<T> = (0..n).map(|k| T::from_f64(k as f64)).collect();
        if let Some(&last) = edges.last() {
            edges.push(last);
        }
        Binning { bins: n, edges, lo: 0.0, scale: 1.0 }
    }

    /// Bins that can hold a value (the rest count nothing).
    pub fn reachable(&self) -> usize {
        self.edges.len().saturating_sub(1)
    }

    /// The bin of `x`, if it is counted.
    #[inline(always)]
    pub fn bin(&self, x: T) -> Option<usize> {
        let reachable = self.reachable();
        let (&first, &top) = (self.edges.first()?, self.edges.last()?);
        // Written so that NaN, which fails every comparison, is not counted.
        if !(x >= first && x <= top) {
            return None;
        }
        // `as` truncates (a floor for the estimate's non-negative values)
        // and saturates (NaN to 0), and the clamp keeps any estimate safe.
        let estimate = ((x.to_f64() - self.lo) * self.scale) as i64;
        let mut b = estimate.clamp(0, reachable as i64 - 1) as usize;
        while b > 0 && x < self.edges[b] {
            b -= 1;
        }
        while b + 1 < reachable && x >= self.edges[b + 1] {
            b += 1;
        }
        Some(b)
    }
}

/// The arithmetic of a cheap estimate: `floor((x - lo) * scale)`, clamped
/// to the reachable bins, in f32 or f64. Every step (the conversion to
/// the precision, the subtraction, the product, the clamp and the
/// truncation) is monotone in `x`, so the estimate is too: that is what
/// lets [`Binning::near`] bound its error on all values by trying it on
/// the thresholds alone.
pub(crate) trait Precision: Copy + Send + Sync + PartialOrd {
    fn estimator(lo: f64, scale: f64, last: usize) -> Estimator<Self>;
    fn estimate(estimator: &Estimator<Self>, x: f64) -> usize;
    /// The clamped estimate before its truncation, split into its whole
    /// part (the estimate) and its fraction: both exact, since the
    /// estimate is below 2^24.
    fn place(estimator: &Estimator<Self>, x: f64) -> (u32, Self);
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
}

/// `lo`, `scale` and the last reachable bin in one precision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Estimator<F> {
    lo: F,
    scale: F,
    last: F,
}

macro_rules! precision {
    ($f:ty) => {
        impl Precision for $f {
            fn estimator(lo: f64, scale: f64, last: usize) -> Estimator<$f> {
                Estimator { lo: lo as $f, scale: scale as $f, last: last as $f }
            }

            #[inline(always)]
            fn estimate(e: &Estimator<$f>, x: f64) -> usize {
                let guess = (x as $f - e.lo) * e.scale;
                // Clamped before the conversion, by comparisons that send
                // NaN to 0, so the conversion needs no saturation.
                let guess = if guess > 0.0 { guess } else { 0.0 };
                let guess = if guess < e.last { guess } else { e.last };
                guess as u32 as usize
            }

            #[inline(always)]
            fn place(e: &Estimator<$f>, x: f64) -> (u32, $f) {
                let guess = (x as $f - e.lo) * e.scale;
                let guess = if guess > 0.0 { guess } else { 0.0 };
                let guess = if guess < e.last { guess } else { e.last };
                // SAFETY: the clamp leaves a finite value in [0, last]
                // (NaN fails both comparisons and becomes 0), and `last`
                // is below 2^24: an i32. Unchecked, the truncation
                // vectorises to one instruction; `as` would not.
                let whole = unsafe { guess.to_int_unchecked::<i32>() };
                (whole as u32, guess - whole as $f)
            }

            fn from_f64(x: f64) -> $f {
                x as $f
            }

            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    };
}
precision!(f32);
precision!(f64);

/// The bins of a [`Binning`] found without a search: an estimate known to
/// be at most one bin off for every counted value, corrected by two
/// comparisons. Gives exactly [`Binning::bin`]'s bin.
#[derive(Debug, Clone)]
pub(crate) struct Near<'a, T, F> {
    edges: &'a [T],
    first: T,
    top: T,
    last: usize,
    estimator: Estimator<F>,
}

impl<T: Element> Binning<T> {
    /// An estimate in precision `F` with its correction, if that estimate
    /// is never more than one bin off for a counted value of `T`; `None`
    /// when nothing is counted or when the edges are too close for it
    /// (the rounding of `lo` or of the edges spans bins). Costs two
    /// estimates per reachable bin.
    pub fn near<F: Precision>(&self) -> Option<Near<'_, T, F>> {
        let reachable = self.reachable();
        let (&first, &top) = (self.edges.first()?, self.edges.last()?);
        let estimator = F::estimator(self.lo, self.scale, reachable - 1);
        let estimate = |x: T| F::estimate(&estimator, x.to_f64());
        // The estimate is monotone and each bin's values lie between its
        // threshold and the value before the next one (or `top`), so
        // checking those two ends of every bin bounds it everywhere.
        for b in 0..reachable {
            let start = self.edges[b];
            let end = match b + 1 == reachable {
                true => top,
                false if self.edges[b + 1] > start => T::from_f64(before(T::DTYPE, self.edges[b + 1].to_f64())),
                false => continue, // holds nothing
            };
            if estimate(start) + 1 < b || estimate(end) > b + 1 {
                return None;
            }
        }
        Some(Near { edges: &self.edges, first, top, last: reachable - 1, estimator })
    }
}

impl<T: Element, F: Precision> Near<'_, T, F> {
    /// `x`'s bin and 1 if it is counted, or some bin and 0 if not: the
    /// caller adds the second to the first's count, with no branch.
    #[inline(always)]
    pub fn bin(&self, x: T) -> (usize, u32) {
        let counted = x >= self.first && x <= self.top;
        let estimate = F::estimate(&self.estimator, x.to_f64());
        // At most one bin off: one step down or up, never both. `top`
        // follows the last threshold, and a value equal to it stays in
        // the last bin, hence the `min`; values not counted may land
        // anywhere in range, hence the saturation.
        let down = (x < self.edges[estimate]) as usize;
        let up = (x >= self.edges[estimate + 1]) as usize;
        ((estimate + up).saturating_sub(down).min(self.last), counted as u32)
    }
}

/// The value of `dtype` just below `x`, a value of that type: the last
/// value of the bin whose successor starts at `x`.
fn before(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F64 => x.next_down(),
        DType::F32 => (x as f32).next_down() as f64,
        DType::I32 | DType::U32 => x - 1.0,
    }
}

/// The smallest value of `dtype` that is `>= x` (for f32 and the integer
/// types; f64 takes `x` as it is), as an f64. May exceed the type's range
/// (an integer above its maximum, f32's infinity): no value reaches it.
fn round_up(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F64 => x,
        DType::F32 => {
            let near = x as f32;
            if (near as f64) < x {
                near.next_up() as f64
            } else {
                near as f64
            }
        }
        DType::I32 => x.ceil().max(i32::MIN as f64),
        DType::U32 => x.ceil().max(0.0),
    }
}

/// The largest value of `dtype` that is `<= x`, as an f64: what a
/// histogram up to `x` counts last. Below the type's range when nothing
/// of the type is `<= x`.
fn round_down(dtype: DType, x: f64) -> f64 {
    match dtype {
        DType::F64 => x,
        DType::F32 => {
            let near = x as f32;
            if (near as f64) > x {
                near.next_down() as f64
            } else {
                near as f64
            }
        }
        DType::I32 => x.floor().min(i32::MAX as f64),
        DType::U32 => x.floor().min(u32::MAX as f64),
    }
}

#[cfg(test)]
mod tests;
