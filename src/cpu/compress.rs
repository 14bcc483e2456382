//! Compacting one chunk of values by their flags: the chosen ones written
//! to the front of an output, in order.
//!
//! The baseline loop is branch-free: every value is written to the next
//! free place and the place advances only for a chosen one, so a
//! predicate that holds at random costs no mispredicted branches. It
//! still moves one value per step, about a cycle per element. Where the
//! CPU has AVX2, 4-byte values move eight at a time: the flags' zero
//! test gives an 8-bit mask, a table maps the mask to the permutation
//! that packs the chosen lanes to the front, and one unaligned store
//! writes all eight (the ones past the chosen are overwritten by the
//! next store, as the baseline loop overwrites its unchosen values).
//! Both copy bits and keep the order, so they give the same result.

use crate::dtype::Element;
use crate::expr::Binary;

/// Writes the `values` whose flag is nonzero (`KEEP`) or zero (not
/// `KEEP`) to the front of `out` (at least as long as `values`), in
/// order; returns how many. Values in `out` past those may change.
#[inline]
pub(crate) fn compact<U: Element, const KEEP: bool>(values: &[U], flags: &[u32], out: &mut [U]) -> usize {
    assert!(flags.len() == values.len() && out.len() >= values.len(), "compact: one flag per value, room for all");
    #[cfg(target_arch = "x86_64")]
    if size_of::<U>() == 4 && std::arch::is_x86_feature_detected!("avx2") {
        let (values, out) = (bytemuck::cast_slice(values), bytemuck::cast_slice_mut(out));
        // SAFETY: the CPU has AVX2, checked just above, and the lengths
        // were checked on entry.
        return unsafe { avx2::compact::<KEEP>(values, flags, out) };
    }
    compact_loop::<U, KEEP>(values, flags, &mut out[..values.len()])
}

/// A comparison of each value with a constant (`x > 0.5`): a predicate
/// simple enough that the compaction evaluates it itself, with no flags
/// written and read back between.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Test<U> {
    /// A comparison operator.
    pub op: Binary,
    /// The constant on its right.
    pub value: U,
}

impl<U: Element> Test<U> {
    /// Writes the `values` that pass the test (`KEEP`) or fail it (not
    /// `KEEP`) to the front of `out` (at least as long as `values`), in
    /// order; returns how many. Values in `out` past those may change.
    pub(crate) fn compact<const KEEP: bool>(self, values: &[U], out: &mut [U]) -> usize {
        let c = self.value;
        // IEEE comparisons, as the evaluator's: NaN passes only `!=`.
        match self.op {
            Binary::Lt => compact_by::<U, KEEP>(values, out, move |x| x < c),
            Binary::Le => compact_by::<U, KEEP>(values, out, move |x| x <= c),
            Binary::Gt => compact_by::<U, KEEP>(values, out, move |x| x > c),
            Binary::Ge => compact_by::<U, KEEP>(values, out, move |x| x >= c),
            Binary::Eq => compact_by::<U, KEEP>(values, out, move |x| x == c),
            Binary::Ne => compact_by::<U, KEEP>(values, out, move |x| x != c),
            op => unreachable!("{} is not a comparison", op.name()),
        }
    }
}

/// [`Test::compact`] for one comparison.
#[inline(always)]
fn compact_by<U: Element, const KEEP: bool>(values: &[U], out: &mut [U], test: impl Fn(U) -> bool + Copy) -> usize {
    assert!(out.len() >= values.len(), "compact: room for every value");
    #[cfg(target_arch = "x86_64")]
    if size_of::<U>() == 4 && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above, the values are 4
        // bytes, and the length was checked on entry.
        return unsafe { avx2::compact_by::<U, KEEP>(values, out, test) };
    }
    let mut at = 0;
    for &value in values {
        out[at] = value;
        at += usize::from(test(value) == KEEP);
    }
    at
}

/// The baseline loop: `out` is exactly as long as `values`.
#[inline(always)]
fn compact_loop<U: Copy, const KEEP: bool>(values: &[U], flags: &[u32], out: &mut [U]) -> usize {
    let mut at = 0;
    for (&value, &flag) in values.iter().zip(flags) {
        out[at] = value;
        at += usize::from((flag != 0) == KEEP);
    }
    at
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use crate::cpu::prefetch;
    use std::arch::x86_64::*;

    /// Lanes of one step.
    const LANES: usize = 8;

    /// For each 8-bit mask, the lanes whose bit is set, in order, then
    /// zeros: the permutation that packs the chosen lanes to the front.
    static PACK: [[u32; LANES]; 256] = pack_table();

    const fn pack_table() -> [[u32; LANES]; 256] {
        let mut table = [[0; LANES]; 256];
        let mut mask = 0;
        while mask < 256 {
            let (mut lane, mut at) = (0, 0);
            while lane < LANES {
                if mask & (1 << lane) != 0 {
                    table[mask][at] = lane as u32;
                    at += 1;
                }
                lane += 1;
            }
            mask += 1;
        }
        table
    }

    /// [`super::compact`] for 4-byte values, eight at a time.
    ///
    /// # Safety
    /// The CPU has AVX2; `flags` is as long as `values`, and `out` at least.
    #[target_feature(enable = "avx2,popcnt")]
    pub(super) unsafe fn compact<const KEEP: bool>(values: &[u32], flags: &[u32], out: &mut [u32]) -> usize {
        let whole = values.len() / LANES * LANES;
        let mut at = 0;
        for start in (0..whole).step_by(LANES) {
            prefetch::ahead(values, start);
            // SAFETY: `start + LANES <= whole`, within `flags`.
            let flag = unsafe { _mm256_loadu_si256(flags.as_ptr().add(start).cast()) };
            let zero = _mm256_castsi256_ps(_mm256_cmpeq_epi32(flag, _mm256_setzero_si256()));
            let unset = _mm256_movemask_ps(zero) as usize;
            let chosen = if KEEP { !unset & 0xff } else { unset };
            // SAFETY: as for `pack`, with `at <= start`.
            at += unsafe { pack(values, start, chosen, out, at) };
        }
        let tail = values.len() - whole;
        at + super::compact_loop::<u32, KEEP>(&values[whole..], &flags[whole..], &mut out[at..at + tail])
    }

    /// [`super::compact_by`] for 4-byte values, eight at a time: the
    /// test's eight results become the mask directly.
    ///
    /// # Safety
    /// The CPU has AVX2; `U` is 4 bytes; `out` is as long as `values` at least.
    #[target_feature(enable = "avx2,popcnt")]
    pub(super) unsafe fn compact_by<U: Copy, const KEEP: bool>(
        values: &[U],
        out: &mut [U],
        test: impl Fn(U) -> bool + Copy,
    ) -> usize {
        let whole = values.len() / LANES * LANES;
        let mut at = 0;
        for (start, lanes) in values[..whole].chunks_exact(LANES).enumerate() {
            prefetch::ahead(values, start * LANES);
            let mut chosen = 0;
            for (lane, &value) in lanes.iter().enumerate() {
                chosen |= usize::from(test(value) == KEEP) << lane;
            }
            // SAFETY: as for `pack`, with `at <= start * LANES` and 4-byte
            // values, which `u32` reads and writes as bits.
            at += unsafe {
                pack(
                    std::slice::from_raw_parts(values.as_ptr().cast(), whole),
                    start * LANES,
                    chosen,
                    std::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), out.len()),
                    at,
                )
            };
        }
        for &value in &values[whole..] {
            out[at] = value;
            at += usize::from(test(value) == KEEP);
        }
        at
    }

    /// Writes the lanes of `values[start..start + 8]` set in `chosen` to
    /// `out[at..]`, in order (all eight places are written); returns how
    /// many.
    ///
    /// # Safety
    /// The CPU has AVX2; `start + 8 <= values.len()`; `at + 8 <= out.len()`.
    #[inline(always)]
    unsafe fn pack(values: &[u32], start: usize, chosen: usize, out: &mut [u32], at: usize) -> usize {
        // SAFETY: both ranges of eight lie within their slices (the caller's
        // bounds), and `chosen < 256` indexes the table.
        unsafe {
            let value = _mm256_loadu_si256(values.as_ptr().add(start).cast());
            let order = _mm256_loadu_si256(PACK[chosen].as_ptr().cast());
            _mm256_storeu_si256(out.as_mut_ptr().add(at).cast(), _mm256_permutevar8x32_epi32(value, order));
        }
        chosen.count_ones() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_loop_keeps_what_the_baseline_keeps() {
        for len in [0, 1, 7, 8, 9, 63, 2048, 2051] {
            let values: Vec<f32> = (0..len).map(|i| f32::from_bits(0x7fc0_0000 + i as u32 * 77)).collect();
            let flags: Vec<u32> = (0..len as u32).map(|i| i.wrapping_mul(2_654_435_761) >> 29 & 3).collect();
            for keep in [true, false] {
                let mut expected = vec![0.0f32; len];
                let mut out = vec![0.0f32; len + 3];
                let (want, got) = if keep {
                    (
                        compact_loop::<f32, true>(&values, &flags, &mut expected),
                        compact::<f32, true>(&values, &flags, &mut out),
                    )
                } else {
                    (
                        compact_loop::<f32, false>(&values, &flags, &mut expected),
                        compact::<f32, false>(&values, &flags, &mut out),
                    )
                };
                assert_eq!(got, want);
                let bits = |xs: &[f32]| xs.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
                assert_eq!(bits(&out[..got]), bits(&expected[..want]));
            }
        }
    }
}
