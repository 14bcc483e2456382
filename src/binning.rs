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
mod tests {
    use super::*;

    #[test]
    fn values_on_an_edge_start_its_bin_and_hi_closes_the_last() {
        let binning = Binning::<f64>::equal_width(4, 0.0, 1.0);
        let bins: Vec<Option<usize>> =
            [0.0, 0.25, 0.2499, 0.5, 0.75, 1.0, 1.0001, -0.0, f64::NAN].map(|x| binning.bin(x)).to_vec();
        assert_eq!(bins, [Some(0), Some(1), Some(0), Some(2), Some(3), Some(3), None, Some(0), None]);
    }

    #[test]
    fn f32_thresholds_round_up_so_comparisons_stay_exact() {
        // 0.1 is not an f32: the f32 just below it is in bin 0, the one just above in bin 1.
        let binning = Binning::<f32>::equal_width(10, 0.0, 1.0);
        let below = 0.1f64 as f32;
        let (below, above) = if (below as f64) < 0.1 { (below, below.next_up()) } else { (below.next_down(), below) };
        assert_eq!((binning.bin(below), binning.bin(above)), (Some(0), Some(1)));
        assert_eq!(binning.bin(f32::INFINITY), None);
    }

    #[test]
    fn integers_fall_between_the_fractional_edges() {
        // Edges 0.5, 1.75, 3, 4.25 and 5.5: the integers 1, 2..=3 (3 is on an edge), 4, 5.
        let binning = Binning::<i32>::equal_width(4, 0.5, 5.5);
        let bins: Vec<Option<usize>> = (0..7).map(|x| binning.bin(x)).collect();
        assert_eq!(bins, [None, Some(0), Some(1), Some(2), Some(2), Some(3), None]);
        // More bins than integers: some bins hold nothing, and the top bin's threshold is past 1.
        let narrow = Binning::<u32>::equal_width(8, 0.0, 1.5);
        assert_eq!((narrow.bin(0), narrow.bin(1), narrow.bin(2)), (Some(0), Some(5), None));
        assert_eq!(Binning::<i32>::equal_width(3, 0.2, 0.8).reachable(), 0, "no integer in [0.2, 0.8]");
    }

    #[test]
    fn any_estimate_corrects_to_the_same_bin() {
        let mut binning = Binning::<f32>::equal_width(1000, -3.0, 7.0);
        let exact: Vec<Option<usize>> = (0..2000).map(|k| binning.bin(k as f32 * 0.005 - 3.0)).collect();
        for scale in [0.0, 1e-3, 1e9, f64::INFINITY, f64::NAN] {
            binning.scale = scale;
            let found: Vec<Option<usize>> = (0..2000).map(|k| binning.bin(k as f32 * 0.005 - 3.0)).collect();
            assert_eq!(found, exact, "estimate scale {scale}");
        }
    }
}
