//! Whole groups of [`GROUP`] runs of a tile, scanned side by side.
//!
//! A run folds its [`ROWS`] values left to right, one combine after the
//! other: one chain of dependent operations. The baseline loop
//! interleaves the chains of eight runs, reading and writing each value
//! with a strided scalar access. Where the CPU has AVX-512VL, a group of
//! 4-byte values is transposed in registers so that row `k` holds
//! element `k` of every run, one run a lane: each run's chain is one lane
//! of a vector, the combines of a row are one vector operation, and the
//! rows are transposed back on the way out. The combines are the same
//! operations in the same order, lane by lane (Rust never contracts a
//! multiply and an add), so the values do not change, only where they
//! sit (a NaN's sign and payload are not among the bits swath fixes).
//!
//! Measured on the 2-core Xeon VM (`swath bench --ops scan_into --sizes 26`,
//! 2^26 `f32` into a buffer, three runs each): 52.5 to 53.8 ms with the
//! interleaved loop, 44.0 to 45.3 ms transposed, and 40.5 to 42.7 with
//! the input prefetched ([`crate::cpu::prefetch`]); on one thread, 100 ms, 81 to 87
//! and 74 to 78. A two-pass scan in C with as few instructions as a scan
//! can have (not in the canonical order) took 37.5 ms there. The same
//! transposes compiled for AVX2 alone took 56.5 ms: its 16 registers
//! cannot hold the rows.

use crate::canonical::ROWS;
use crate::dtype::Element;

/// Runs scanned side by side: eight 4-byte lanes of a 256-bit vector.
pub(super) const GROUP: usize = 8;

/// Values in one group.
pub(super) const GROUP_VALUES: usize = GROUP * ROWS;

/// A group's values by row: `rows[k][j]` is element `k` of run `j`.
type Rows<U> = [[U; GROUP]; ROWS];

/// Scans the whole groups of `values` (a multiple of [`GROUP_VALUES`]
/// long, the start of a tile) into `out` (as long) in the canonical
/// order, each result offset by `carry` if there is one; returns the
/// combined total of the runs (the offset of the runs after them).
#[inline]
pub(super) fn scan<U: Element, C: Fn(U, U) -> U + Copy>(
    values: &[U],
    out: &mut [U],
    carry: Option<U>,
    combine: C,
) -> Option<U> {
    assert!(values.len() == out.len() && values.len().is_multiple_of(GROUP_VALUES));
    #[cfg(target_arch = "x86_64")]
    if size_of::<U>() == 4 && wide::available() {
        // SAFETY: the CPU has AVX-512VL and `U` is 4 bytes, both checked
        // just above, and the lengths were checked on entry.
        return unsafe { wide::scan(values, out, carry, combine) };
    }
    let mut before = None;
    for (input, group) in values.chunks_exact(GROUP_VALUES).zip(out.chunks_exact_mut(GROUP_VALUES)) {
        before = Some(scan_interleaved(input, group, before, carry, combine));
    }
    before
}

/// The combined total of the runs of the whole groups of `values` (a
/// multiple of [`GROUP_VALUES`] long): the last value [`scan`] writes
/// with no carry.
#[inline]
pub(super) fn total<U: Element, C: Fn(U, U) -> U + Copy>(values: &[U], combine: C) -> Option<U> {
    assert!(values.len().is_multiple_of(GROUP_VALUES));
    #[cfg(target_arch = "x86_64")]
    if size_of::<U>() == 4 && wide::available() {
        // SAFETY: as in `scan`.
        return unsafe { wide::total(values, combine) };
    }
    let mut total = None;
    for group in values.chunks_exact(GROUP_VALUES) {
        let runs: [U; GROUP] = std::array::from_fn(|j| group[j * ROWS]);
        let runs = fold_runs(runs, |k, j| group[j * ROWS + k], |_, _, _| {}, combine);
        total = runs_after(total, runs, combine);
    }
    total
}

/// Scans one group of `input` into `out` with the runs' chains
/// interleaved, each result offset by the runs `before` it (in the tile)
/// and by `carry`; returns the runs' total with `before`'s.
fn scan_interleaved<U: Copy, C: Fn(U, U) -> U + Copy>(
    input: &[U],
    out: &mut [U],
    before: Option<U>,
    carry: Option<U>,
    combine: C,
) -> U {
    let firsts: [U; GROUP] = std::array::from_fn(|j| input[j * ROWS]);
    for (j, &first) in firsts.iter().enumerate() {
        out[j * ROWS] = first;
    }
    let totals = fold_runs(firsts, |k, j| input[j * ROWS + k], |k, j, r| out[j * ROWS + k] = r, combine);
    let mut before = before;
    for (run, total) in out.chunks_exact_mut(ROWS).zip(totals) {
        match (before, carry) {
            (None, None) => {}
            (Some(p), None) => run.iter_mut().for_each(|v| *v = combine(p, *v)),
            (None, Some(c)) => run.iter_mut().for_each(|v| *v = combine(c, *v)),
            (Some(p), Some(c)) => run.iter_mut().for_each(|v| *v = combine(c, combine(p, *v))),
        }
        before = runs_after(before, [total], combine);
    }
    before.expect("a group holds runs")
}

/// Folds the runs of a group from their first values `firsts`, element
/// `k` of run `j` being `value(k, j)`; `each(k, j, r)` sees every partial
/// fold. Returns the runs' totals.
#[inline(always)]
fn fold_runs<U: Copy, C: Fn(U, U) -> U>(
    firsts: [U; GROUP],
    value: impl Fn(usize, usize) -> U,
    mut each: impl FnMut(usize, usize, U),
    combine: C,
) -> [U; GROUP] {
    let mut acc = firsts;
    for k in 1..ROWS {
        for (j, acc) in acc.iter_mut().enumerate() {
            *acc = combine(*acc, value(k, j));
            each(k, j, *acc);
        }
    }
    acc
}

/// `before` combined with the totals of the runs after it, in order.
#[inline(always)]
fn runs_after<U: Copy, C: Fn(U, U) -> U, const N: usize>(before: Option<U>, totals: [U; N], combine: C) -> Option<U> {
    totals.into_iter().fold(before, |p, total| Some(p.map_or(total, |p| combine(p, total))))
}

/// Folds each run of `rows` in place: row `k` becomes the runs' partial
/// folds to element `k`. Returns the runs' totals.
#[inline(always)]
fn fold_rows<U: Copy, C: Fn(U, U) -> U>(rows: &mut Rows<U>, combine: C) -> [U; GROUP] {
    let mut acc = rows[0];
    for row in &mut rows[1..] {
        for (acc, value) in acc.iter_mut().zip(row.iter_mut()) {
            *acc = combine(*acc, *value);
            *value = *acc;
        }
    }
    acc
}

/// Offsets each run of the folded `rows` by the runs before it, `before`
/// for run 0 and the prefix of `totals` for the rest, and by `carry`, as
/// [`scan_interleaved`] does; returns the runs' total with `before`'s.
#[inline(always)]
fn offset_rows<U: Copy, C: Fn(U, U) -> U + Copy>(
    rows: &mut Rows<U>,
    totals: [U; GROUP],
    before: Option<U>,
    carry: Option<U>,
    combine: C,
) -> U {
    // Each run's prefix: the runs before it. Run 0 has none when the
    // group starts the tile (a rare case): its lane is offset by any
    // value and then set apart.
    let mut prefix = [totals[0]; GROUP];
    let mut p = before;
    for (prefix, &total) in prefix.iter_mut().zip(&totals) {
        if let Some(p) = p {
            *prefix = p;
        }
        p = runs_after(p, [total], combine);
    }
    match before {
        Some(_) => offset_lanes(rows, prefix, carry, combine),
        None => {
            let firsts: [U; ROWS] = std::array::from_fn(|k| rows[k][0]);
            offset_lanes(rows, prefix, carry, combine);
            for (row, first) in rows.iter_mut().zip(firsts) {
                row[0] = carry.map_or(first, |c| combine(c, first));
            }
        }
    }
    p.expect("a group holds runs")
}

/// Offsets each lane of `rows` by its `prefix`, then by `carry`.
#[inline(always)]
fn offset_lanes<U: Copy, C: Fn(U, U) -> U + Copy>(
    rows: &mut Rows<U>,
    prefix: [U; GROUP],
    carry: Option<U>,
    combine: C,
) {
    for row in rows.iter_mut() {
        for (value, &p) in row.iter_mut().zip(&prefix) {
            *value = combine(p, *value);
        }
    }
    if let Some(c) = carry {
        for row in rows.iter_mut() {
            for value in row.iter_mut() {
                *value = combine(c, *value);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod wide {
    use super::{fold_rows, offset_rows, runs_after, Rows, GROUP, GROUP_VALUES, ROWS};
    use crate::cpu::prefetch;
    use std::arch::x86_64::*;

    /// True if the CPU has AVX-512VL, whose 32 vector registers hold a
    /// group's 16 rows with room to spare. With AVX2's 16 the rows spill,
    /// and the transposed loop was no faster than the interleaved one.
    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vl")
    }

    /// [`super::scan`] with each group transposed into rows.
    ///
    /// # Safety
    /// The CPU has AVX-512VL, `U` is 4 bytes, and the lengths are as
    /// `scan` checks.
    #[target_feature(enable = "avx2,avx512f,avx512vl")]
    pub(super) unsafe fn scan<U: Copy + Default, C: Fn(U, U) -> U + Copy>(
        values: &[U],
        out: &mut [U],
        carry: Option<U>,
        combine: C,
    ) -> Option<U> {
        let mut rows: Rows<U> = [[U::default(); GROUP]; ROWS];
        let mut before = None;
        for (g, (input, group)) in values.chunks_exact(GROUP_VALUES).zip(out.chunks_exact_mut(GROUP_VALUES)).enumerate()
        {
            prefetch_group(values, g);
            // SAFETY: both hold a group of 4-byte values.
            unsafe { to_rows(input, &mut rows) };
            let totals = fold_rows(&mut rows, combine);
            before = Some(offset_rows(&mut rows, totals, before, carry, combine));
            // SAFETY: as above.
            unsafe { from_rows(&rows, group) };
        }
        before
    }

    /// [`super::total`] with each group transposed into rows.
    ///
    /// # Safety
    /// As for [`scan`].
    #[target_feature(enable = "avx2,avx512f,avx512vl")]
    pub(super) unsafe fn total<U: Copy + Default, C: Fn(U, U) -> U + Copy>(values: &[U], combine: C) -> Option<U> {
        let mut rows: Rows<U> = [[U::default(); GROUP]; ROWS];
        let mut total = None;
        for (g, input) in values.chunks_exact(GROUP_VALUES).enumerate() {
            prefetch_group(values, g);
            // SAFETY: `input` holds a group of 4-byte values.
            unsafe { to_rows(input, &mut rows) };
            let mut acc = rows[0];
            for row in &rows[1..] {
                for (acc, &value) in acc.iter_mut().zip(row) {
                    *acc = combine(*acc, value);
                }
            }
            total = runs_after(total, acc, combine);
        }
        total
    }

    /// Prefetches the lines of the group [`prefetch::AHEAD`] bytes past
    /// group `g` of `values`.
    #[inline(always)]
    fn prefetch_group<U>(values: &[U], g: usize) {
        for line in (0..GROUP_VALUES * size_of::<U>()).step_by(prefetch::LINE) {
            prefetch::ahead(values, g * GROUP_VALUES + line / size_of::<U>());
        }
    }

    /// Transposes a group of runs (run `j` at `j * ROWS`) into rows, four
    /// values of each run at a time. A vector's two 128-bit halves are
    /// loaded from runs `i` and `i + 4`, so the shuffles never cross the
    /// halves: 8 shuffles for 32 values, on the one port that shuffles.
    ///
    /// # Safety
    /// The CPU has AVX; `U` is 4 bytes; `group` holds [`GROUP_VALUES`].
    #[inline(always)]
    unsafe fn to_rows<U>(group: &[U], rows: &mut Rows<U>) {
        debug_assert!(group.len() == GROUP_VALUES && size_of::<U>() == 4);
        let (from, to) = (group.as_ptr().cast::<f32>(), rows.as_mut_ptr().cast::<f32>());
        for k in (0..ROWS).step_by(4) {
            // SAFETY: values `k..k + 4` of each run, and rows `k..k + 4`,
            // are within the group and the rows.
            unsafe {
                let four = |run: usize| _mm_loadu_ps(from.add(run * ROWS + k));
                let halves = std::array::from_fn(|i| _mm256_set_m128(four(i + 4), four(i)));
                for (i, row) in transpose_halves(halves).into_iter().enumerate() {
                    _mm256_storeu_ps(to.add((k + i) * GROUP), row);
                }
            }
        }
    }

    /// Transposes rows back into a group of runs: [`to_rows`] undone.
    ///
    /// # Safety
    /// As for [`to_rows`].
    #[inline(always)]
    unsafe fn from_rows<U>(rows: &Rows<U>, group: &mut [U]) {
        debug_assert!(group.len() == GROUP_VALUES && size_of::<U>() == 4);
        let (from, to) = (rows.as_ptr().cast::<f32>(), group.as_mut_ptr().cast::<f32>());
        for k in (0..ROWS).step_by(4) {
            // SAFETY: as in `to_rows`, the other way.
            unsafe {
                let rows = std::array::from_fn(|i| _mm256_loadu_ps(from.add((k + i) * GROUP)));
                for (i, runs) in transpose_halves(rows).into_iter().enumerate() {
                    _mm_storeu_ps(to.add(i * ROWS + k), _mm256_castps256_ps128(runs));
                    _mm_storeu_ps(to.add((i + 4) * ROWS + k), _mm256_extractf128_ps::<1>(runs));
                }
            }
        }
    }

    /// The 4 by 4 transpose of 4-byte values in each 128-bit half: pairs
    /// interleaved, then quads. Its own inverse. Shuffles move bits and
    /// never touch a value, so any 4-byte type goes through as `f32`.
    ///
    /// # Safety
    /// The CPU has AVX.
    #[inline(always)]
    unsafe fn transpose_halves(r: [__m256; 4]) -> [__m256; 4] {
        // SAFETY: the caller's CPU has AVX.
        unsafe {
            let (a, b) = (_mm256_unpacklo_ps(r[0], r[1]), _mm256_unpackhi_ps(r[0], r[1]));
            let (c, d) = (_mm256_unpacklo_ps(r[2], r[3]), _mm256_unpackhi_ps(r[2], r[3]));
            [
                _mm256_shuffle_ps::<0x44>(a, c),
                _mm256_shuffle_ps::<0xee>(a, c),
                _mm256_shuffle_ps::<0x44>(b, d),
                _mm256_shuffle_ps::<0xee>(b, d),
            ]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_scan_as_their_runs_interleaved_do() {
        let mut state = 0x2545_f491u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32 - 0.5) * 1e3
        };
        let values: Vec<f32> = (0..5 * GROUP_VALUES).map(|_| next()).collect();
        let add = |a: f32, b: f32| a + b;
        for carry in [None, Some(next())] {
            let mut want = vec![0.0; values.len()];
            let mut before = None;
            for (input, group) in values.chunks_exact(GROUP_VALUES).zip(want.chunks_exact_mut(GROUP_VALUES)) {
                before = Some(scan_interleaved(input, group, before, carry, add));
            }
            let mut got = vec![0.0; values.len()];
            let total = scan(&values, &mut got, carry, add);
            assert_eq!(total.map(f32::to_bits), before.map(f32::to_bits));
            assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "carry {carry:?}");
            if carry.is_none() {
                assert_eq!(super::total(&values, add).map(f32::to_bits), before.map(f32::to_bits));
            }
        }
    }
}
