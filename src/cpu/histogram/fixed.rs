//! The common histogram, f32 values into a few bins with proven margins,
//! in one AVX2 loop that finds the bins of a block in fixed point and
//! then counts them.
//!
//! [`Margins::bin`] asks of the estimate `g` (clamped to the reachable
//! bins) that its fraction lie in `[lower, 1 - upper]`, and of `x` that it
//! be counted. Scaled by `2^SHIFT`, `g`'s truncation `t` holds the bin in
//! its high bits and the fraction, floored to a multiple of `2^-SHIFT`,
//! in its low bits, so the two fraction tests become one masked integer
//! comparison and the bin one shift, with no conversion back to float.
//! Flooring and raising `lower` to at least `2^-SHIFT` only narrow what
//! is sure. With `lower > 0` the range test is not needed either: a value
//! below the first threshold has `g <= 0` (clamped to 0) and one above
//! the top has `g > last - upper` (clamped to `last`, or with a fraction
//! above `1 - upper`), by the same monotonicity that proves the margins,
//! so both fail the fraction test, as NaN does (clamped to 0). A lower
//! margin of 0 (bins whose edges the estimate hits exactly, as 256 bins
//! over `[0, 1]`) needs no lower test, and there the loop tests the range
//! instead, in two comparisons that NaN fails. Every
//! value that fails the fraction test is marked 0, counted there with the
//! rest (no test per value), then taken back out and searched exactly,
//! out of line. A value that fails the range test is sure not to count:
//! it is marked with the spare slot and never searched. With a lower
//! margin the loop leaves the range to the fraction test until a block
//! has more than [`SEARCHED_AT_MOST`] unsure values, the sign of values
//! out of range, and tests it from then on: 256 bins over `[0.25, 1]` of
//! 2^26 values uniform in `[0, 1)` took 33 ms with a quarter of them
//! searched, 17 ms with them marked (2 threads of a Zen 4 EPYC).
//!
//! Measured on one thread of the 2-core Ice Lake at 2^16 f32 in cache
//! (best of 5,000): 0.55 ns a value (0.60 with the range tests, for a
//! lower margin of 0), against 0.72 for the portable
//! marking pass (in float, with the range tests) and its counting with a
//! test for unsure marks per value, and 0.35 for counting bins known in
//! advance. A variable shift and unsure values sent to the spare slot (an
//! `or` and a `min` in place of one `andnot`) took 0.60. Marking and
//! counting 8 values at a time, lanes extracted from the vector, took
//! 0.71 to 0.77: one block's counting overlaps the next one's marking
//! only when the marks go through memory.
//!
//! From memory, the loop prefetches its input ([`prefetch`]): on the
//! 2-core Xeon VM, 256 bins over `[0, 1]` of 2^26 values took 33.6 to
//! 38.9 ms on two threads without, 22.4 to 25.5 with (one thread: 62 to
//! 71 ms, 45 to 49). Counting in pairs of values, in a triangle of byte
//! counts that halves the stores, was tried there too and was no faster
//! (24 to 25 ms), with or without the prefetch.

use crate::binning::Margins;
use crate::cpu::prefetch;
use crate::dtype::Element;

/// Values marked before they are counted: a block's marks stay in
/// registers' reach (one cache line of flags, four of marks).
pub(super) const BLOCK: usize = 64;

/// Unsure values in one block past which the marks test the range: a
/// search costs about as much as the range tests of a block, and values
/// near a boundary are rarely more than a few in 64.
const SEARCHED_AT_MOST: u32 = 4;

/// Sets of counts the loop counts into, one after another.
pub(super) const SETS: usize = 4;

/// The bits of `t` below the bin: fixed, so the shift is an immediate,
/// and enough for the most bins
/// counted in interleaved sets, 2^14, to keep `t` below 2^31. A margin
/// under `2^-SHIFT` is raised to it, leaving a few more values unsure.
const SHIFT: u32 = 17;

/// [`Margins::bin`]'s test in fixed point, for f32 values with an f32
/// estimate; built only where the CPU has AVX2.
pub(super) struct Fixed {
    lo: f32,
    /// `scale * 2^SHIFT`: exact, so `(x - lo) * scale` scaled by
    /// `2^SHIFT` is exactly the product, rounded once (below 1 either way
    /// where the unscaled product is subnormal).
    scale: f32,
    /// The last reachable bin times `2^SHIFT`.
    last: f32,
    /// The last reachable bin, which bounds every mark.
    last_bin: u32,
    /// The least sure fraction, in units of `2^-SHIFT` (at least 1).
    low: i32,
    /// The greatest sure fraction less `low`, in the same units.
    span: i32,
    /// The first and the last value counted.
    range: (f32, f32),
    /// True if the marks must test the range: with no lower margin.
    ranged: bool,
}

impl Fixed {
    /// The fixed-point test of `margins`, if the CPU has AVX2.
    pub fn new<U: Element>(margins: &Margins<U, f32>) -> Option<Fixed> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Fixed::of(margins);
        }
        let _ = margins;
        None
    }

    fn of<U: Element>(margins: &Margins<U, f32>) -> Option<Fixed> {
        let (lo, scale, last) = margins.estimate_f32();
        let (lower, below_one) = margins.fraction_bounds();
        // `last * 2^SHIFT` below 2^31, so `t` is a non-negative i32.
        if last >= (1u32 << (31 - SHIFT)) as f32 {
            return None;
        }
        let (first, top) = margins.range();
        let range = (first.to_f64() as f32, top.to_f64() as f32);
        let unit = (1u64 << SHIFT) as f64;
        // `lower` is 0 or a power of two: a whole number of units, or
        // raised to one; a fraction whose floor is at most `high` is below
        // `high + 1 <= (1 - upper) * unit`.
        let low = match lower {
            0.0 => 0,
            _ => (lower as f64 * unit).max(1.0) as i32,
        };
        let high = (below_one as f64 * unit).floor() as i32 - 1;
        let scaled = scale * unit as f32;
        if high < low || !scaled.is_finite() {
            return None;
        }
        let ranged = lower == 0.0;
        let (last, last_bin) = (last * unit as f32, last as u32);
        Some(Fixed { lo, scale: scaled, last, last_bin, low, span: high - low, range, ranged })
    }

    /// Counts the values of whole blocks of `values` into the first
    /// [`SETS`] sets of `counts`, `stride` slots each, value `j` of a
    /// block of four into set `j` (values out of range, and NaN, into the
    /// last slot, the spare), and adds those near a boundary to the slot
    /// `searched` gives them; returns how many values it counted (the
    /// rest are less than a block). Each set's first slot holds its bin's
    /// count only once the block's unsure values, marked 0, are taken
    /// back out of it.
    #[cfg(target_arch = "x86_64")]
    pub fn add(&self, counts: &mut [u32], stride: usize, values: &[f32], searched: impl Fn(usize) -> usize) -> usize {
        assert!(counts.len() >= SETS * stride && (self.last_bin as usize) < stride);
        // SAFETY: a `Fixed` is built only where the CPU has AVX2.
        unsafe { self.add_avx2(counts, stride, values, searched) }
    }

    #[cfg(not(target_arch = "x86_64"))]
    pub fn add(&self, _: &mut [u32], _: usize, _: &[f32], _: impl Fn(usize) -> usize) -> usize {
        unreachable!("a Fixed is built only with AVX2")
    }

    /// [`Fixed::add`], compiled whole for AVX2 so that the marking is
    /// inlined and its constants are set up once, not once a block.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn add_avx2(
        &self,
        counts: &mut [u32],
        stride: usize,
        values: &[f32],
        searched: impl Fn(usize) -> usize,
    ) -> usize {
        let mut marks = [0u32; BLOCK];
        let blocks = values.chunks_exact(BLOCK);
        let done = values.len() - blocks.remainder().len();
        let spare = stride as u32 - 1;
        let mut ranged = self.ranged;
        for (b, block) in blocks.enumerate() {
            for line in (0..BLOCK * 4).step_by(prefetch::LINE) {
                prefetch::ahead(values, b * BLOCK + line / 4);
            }
            // SAFETY: the caller's CPU has AVX2.
            let mut unsure = unsafe {
                match ranged {
                    true => self.mark_avx2::<true>(block, &mut marks, spare),
                    false => self.mark_avx2::<false>(block, &mut marks, spare),
                }
            };
            // Many unsure values are values out of range (a histogram over
            // part of its data's range), each searched one by one; from
            // then on, the range tests send them to the spare slot.
            ranged |= unsure.count_ones() > SEARCHED_AT_MOST;
            for quad in marks.chunks_exact(SETS) {
                for (set, &mark) in quad.iter().enumerate() {
                    // SAFETY: every mark is at most `last_bin` (the
                    // estimate is clamped to it, and unsure marks are 0),
                    // below `stride` (asserted by `add`), or the spare,
                    // `stride - 1`, and `counts` holds `SETS` sets of
                    // `stride` slots.
                    unsafe { *counts.get_unchecked_mut(set * stride + mark as usize) += 1 };
                }
            }
            while unsure != 0 {
                let j = unsure.trailing_zeros() as usize;
                unsure &= unsure - 1;
                counts[j % SETS * stride] -= 1;
                counts[searched(b * BLOCK + j)] += 1;
            }
        }
        done
    }

    /// Writes the marks of one block: each value's bin, or 0 for those it
    /// leaves to the search, which are the bits of the result. `RANGE`:
    /// test the range too, and mark the values out of it (and NaN)
    /// `spare`; without it, they fail the fraction test and are searched.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn mark_avx2<const RANGE: bool>(&self, block: &[f32], marks: &mut [u32; BLOCK], spare: u32) -> u64 {
        use std::arch::x86_64::*;
        let lo = _mm256_set1_ps(self.lo);
        let scale = _mm256_set1_ps(self.scale);
        let zero = _mm256_setzero_ps();
        let last = _mm256_set1_ps(self.last);
        let low = _mm256_set1_epi32(self.low);
        let span = _mm256_set1_epi32(self.span);
        let fraction = _mm256_set1_epi32((1 << SHIFT) - 1);
        let spare = _mm256_set1_epi32(spare as i32);
        let (first, top) = (_mm256_set1_ps(self.range.0), _mm256_set1_ps(self.range.1));
        let mut unsure = 0u64;
        for (k, (x, m)) in block.chunks_exact(8).zip(marks.chunks_exact_mut(8)).enumerate() {
            // SAFETY: `x` holds 8 f32 and `m` 8 u32; both unaligned.
            let x = _mm256_loadu_ps(x.as_ptr());
            let g = _mm256_mul_ps(_mm256_sub_ps(x, lo), scale);
            // `max` returns its second operand for NaN: 0.
            let g = _mm256_min_ps(_mm256_max_ps(g, zero), last);
            // `t - low`: the fraction is sure when its low bits, wrapped
            // past `low`, are at most `span`; then the high bits are `t`'s.
            let t = _mm256_sub_epi32(_mm256_cvttps_epi32(g), low);
            let mut bad = _mm256_cmpgt_epi32(_mm256_and_si256(t, fraction), span);
            let mut bin = _mm256_andnot_si256(bad, _mm256_srli_epi32::<{ SHIFT as i32 }>(t));
            if RANGE {
                // Not `x >= first` or not `x <= top`: true for NaN.
                let out = _mm256_or_ps(_mm256_cmp_ps::<_CMP_NGE_UQ>(x, first), _mm256_cmp_ps::<_CMP_NLE_UQ>(x, top));
                let out = _mm256_castps_si256(out);
                bin = _mm256_blendv_epi8(bin, spare, out);
                bad = _mm256_andnot_si256(out, bad);
            }
            _mm256_storeu_si256(m.as_mut_ptr().cast(), bin);
            unsure |= (_mm256_movemask_ps(_mm256_castsi256_ps(bad)) as u32 as u64) << (8 * k);
        }
        unsure
    }
}
