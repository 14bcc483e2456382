//! Prefix scans in the canonical order of [`crate::canonical`] (see its
//! "Scans" section), two passes over the input:
//!
//! 1. every tile's total, tiles in parallel;
//! 2. the inclusive scan of those totals, by these same rules (a small
//!    array: 1/4096 of the input);
//! 3. every tile scanned again, in parallel, each offset by the scan of
//!    the totals before it.
//!
//! A tile is scanned from where its values are (the input itself, or a
//! tile of evaluated values in cache) straight into its part of the
//! output, so pass 3 reads the input once and writes the output once;
//! nothing depends on which thread runs which tile. Within a tile, runs
//! are scanned a group of eight at a time ([`groups`]: side by side in
//! vector lanes where the CPU has AVX-512VL).

use super::closures::{with_reduce, ReduceVisitor};
use super::eval::{Bank, Plan};
use super::{SERIAL_BELOW, TASK_ELEMENTS};
use crate::canonical::{tiles, ROWS, TILE};
use crate::column::Column;
use crate::dtype::Element;
use crate::expr::program::Program;
use crate::op::Reduce;
use groups::GROUP_VALUES;
use rayon::prelude::*;

/// Tiles per rayon task.
const TILES_PER_TASK: usize = TASK_ELEMENTS / TILE;

/// Writes the inclusive scan of `program(columns)`, elements `start..`
/// (as many as `out` holds), into `out`.
pub(crate) fn scan<U: Element>(program: &Program, columns: &[Column<'_>], start: usize, reduce: Reduce, out: &mut [U]) {
    // A scan of an input as it is reads it in place.
    let input = match program.as_op() {
        Some(None) => columns[program.columns[0]].typed::<U>(),
        _ => None,
    };
    match input {
        Some(input) => with_reduce(reduce, Scanner { values: &Copied(&input[start..][..out.len()]), out }),
        None => {
            let values = Evaluated { plan: Plan::new(program, columns), columns, start };
            with_reduce(reduce, Scanner { values: &values, out });
        }
    }
}

/// Writes the inclusive scan of `values` into `out` (as long).
#[cfg(test)]
fn scan_slice<U: Element>(values: &[U], reduce: Reduce, out: &mut [U]) {
    with_reduce(reduce, Scanner { values: &Copied(values), out });
}

/// Where a scan's values come from, a piece at a time.
trait Values<U>: Sync {
    /// Per-task state (the evaluator's registers).
    type State;
    fn state(&self, len: usize) -> Self::State;
    /// Writes values `from..from + out.len()` into `out`.
    fn fill(&self, state: &mut Self::State, from: usize, out: &mut [U]);
    /// Values `range`, if they are in memory already.
    fn in_memory(&self, _range: std::ops::Range<usize>) -> Option<&[U]> {
        None
    }
}

/// The values of a program, evaluated a piece at a time.
struct Evaluated<'p, 'c> {
    plan: Plan<'p>,
    columns: &'c [Column<'c>],
    start: usize,
}

impl<U: Element> Values<U> for Evaluated<'_, '_> {
    type State = Bank;

    fn state(&self, len: usize) -> Bank {
        self.plan.bank(len.min(TILE))
    }

    fn fill(&self, bank: &mut Bank, from: usize, out: &mut [U]) {
        self.plan.eval(self.columns, self.start + from, bank, out);
    }
}

/// Values already in memory (the tile totals of a lower level).
struct Copied<'a, U>(&'a [U]);

impl<U: Element> Values<U> for Copied<'_, U> {
    type State = ();

    fn state(&self, _: usize) {}

    fn fill(&self, _: &mut (), from: usize, out: &mut [U]) {
        out.copy_from_slice(&self.0[from..from + out.len()]);
    }

    fn in_memory(&self, range: std::ops::Range<usize>) -> Option<&[U]> {
        Some(&self.0[range])
    }
}

struct Scanner<'v, 'o, V, U> {
    values: &'v V,
    out: &'o mut [U],
}

impl<U: Element, V: Values<U>> ReduceVisitor<U> for Scanner<'_, '_, V, U> {
    type Out = ();

    fn visit<C: Fn(U, U) -> U + Copy + Send + Sync>(self, _identity: U, combine: C) {
        scan_with(self.values, combine, self.out);
    }
}

/// The canonical inclusive scan of `values` into `out`.
fn scan_with<U: Element, V: Values<U>, C: Fn(U, U) -> U + Copy + Send + Sync>(values: &V, combine: C, out: &mut [U]) {
    let len = out.len();
    if len <= TILE {
        let mut state = values.state(len);
        let mut tile = [U::default(); TILE];
        scan_tile_of(values, &mut state, &mut tile, 0, out, None, combine);
        return;
    }
    let mut totals = vec![U::default(); tiles(len)];
    let task = |first_tile: usize, totals: &mut [U]| {
        let mut state = values.state(TILE);
        let mut tile = [U::default(); TILE];
        for (k, total) in totals.iter_mut().enumerate() {
            let from = (first_tile + k) * TILE;
            let n = TILE.min(len - from);
            *total = match values.in_memory(from..from + n) {
                Some(values) => tile_total(values, combine),
                None => {
                    values.fill(&mut state, from, &mut tile[..n]);
                    tile_total(&tile[..n], combine)
                }
            };
        }
    };
    if len < SERIAL_BELOW {
        task(0, &mut totals);
    } else {
        totals.par_chunks_mut(TILES_PER_TASK).enumerate().for_each(|(t, totals)| task(t * TILES_PER_TASK, totals));
    }

    let mut offsets = vec![U::default(); totals.len()];
    scan_with(&Copied(&totals), combine, &mut offsets);

    let task = |first_tile: usize, out: &mut [U]| {
        let mut state = values.state(TILE);
        let mut tile = [U::default(); TILE];
        for (k, out) in out.chunks_mut(TILE).enumerate() {
            let t = first_tile + k;
            let carry = t.checked_sub(1).map(|before| offsets[before]);
            scan_tile_of(values, &mut state, &mut tile, t * TILE, out, carry, combine);
        }
    };
    if len < SERIAL_BELOW {
        task(0, out);
    } else {
        out.par_chunks_mut(TILES_PER_TASK * TILE).enumerate().for_each(|(t, out)| task(t * TILES_PER_TASK, out));
    }
}

/// Scans values `from..from + out.len()` (at most a tile) into `out`,
/// offset by `carry`: read where they are in memory, or evaluated into
/// `tile` first.
fn scan_tile_of<U: Element, V: Values<U>, C: Fn(U, U) -> U + Copy>(
    values: &V,
    state: &mut V::State,
    tile: &mut [U; TILE],
    from: usize,
    out: &mut [U],
    carry: Option<U>,
    combine: C,
) {
    let n = out.len();
    match values.in_memory(from..from + n) {
        Some(values) => scan_tile(values, out, carry, combine),
        None => {
            values.fill(state, from, &mut tile[..n]);
            scan_tile(&tile[..n], out, carry, combine);
        }
    }
}

/// Scans one tile's `values` into `tile` (as long), in the canonical
/// order, each result offset by `carry` (the scan of the tiles before)
/// if there is one. Reading the input where it is, rather than copying
/// it into `tile` and scanning there, spares a pass over the tile: the
/// scan of 2^26 `f32` into a buffer took 31 to 32 ms with the copy.
fn scan_tile<U: Element, C: Fn(U, U) -> U + Copy>(values: &[U], tile: &mut [U], carry: Option<U>, combine: C) {
    debug_assert_eq!(values.len(), tile.len());
    let whole = values.len() / GROUP_VALUES * GROUP_VALUES;
    let mut runs_before = groups::scan(&values[..whole], &mut tile[..whole], carry, combine);
    // The runs of a last, partial group (of the input's last tile).
    for (run, input) in tile[whole..].chunks_mut(ROWS).zip(values[whole..].chunks(ROWS)) {
        let mut acc = input[0];
        run[0] = acc;
        for (value, &x) in run[1..].iter_mut().zip(&input[1..]) {
            acc = combine(acc, x);
            *value = acc;
        }
        match (runs_before, carry) {
            (None, None) => {}
            (Some(p), None) => run.iter_mut().for_each(|v| *v = combine(p, *v)),
            (None, Some(c)) => run.iter_mut().for_each(|v| *v = combine(c, *v)),
            (Some(p), Some(c)) => run.iter_mut().for_each(|v| *v = combine(c, combine(p, *v))),
        }
        runs_before = Some(runs_before.map_or(acc, |p| combine(p, acc)));
    }
}

/// The total of one tile in the canonical scan order: the last element
/// [`scan_tile`] would give it without a carry.
fn tile_total<U: Element, C: Fn(U, U) -> U + Copy>(tile: &[U], combine: C) -> U {
    let whole = tile.len() / GROUP_VALUES * GROUP_VALUES;
    let mut total = groups::total(&tile[..whole], combine);
    for run in tile[whole..].chunks(ROWS) {
        let run = run[1..].iter().fold(run[0], |acc, &v| combine(acc, v));
        total = Some(total.map_or(run, |t| combine(t, run)));
    }
    total.expect("a tile holds at least one element")
}

mod groups;

#[cfg(test)]
mod tests {
    use super::*;

    /// The canonical order written out element by element, as the docs
    /// of [`crate::canonical`] state it.
    fn reference(values: &[f32]) -> Vec<f32> {
        fn in_tiles(values: &[f32]) -> (Vec<f32>, Vec<f32>) {
            let mut within = Vec::new();
            let mut totals = Vec::new();
            for tile in values.chunks(TILE) {
                let mut p: Option<f32> = None;
                for run in tile.chunks(ROWS) {
                    let mut r = run[0];
                    for (k, &v) in run.iter().enumerate() {
                        if k > 0 {
                            r += v;
                        }
                        within.push(p.map_or(r, |p| p + r));
                    }
                    p = Some(p.map_or(r, |p| p + r));
                }
                totals.push(p.unwrap());
            }
            (within, totals)
        }
        let (within, totals) = in_tiles(values);
        if totals.len() <= 1 {
            return within;
        }
        let offsets = reference(&totals);
        within.iter().enumerate().map(|(i, &w)| if i < TILE { w } else { offsets[i / TILE - 1] + w }).collect()
    }

    #[test]
    fn the_scan_follows_the_documented_order() {
        let mut state = 0x9e37_79b9u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state as f32 / u32::MAX as f32 - 0.5) * 1e3
        };
        for len in [0, 1, 15, 16, 17, 4095, 4096, 4097, 40_000, TILE * TILE + 3 * TILE + 5] {
            let values: Vec<f32> = (0..len).map(|_| next()).collect();
            let mut out = vec![0.0; len];
            scan_slice(&values, Reduce::Sum, &mut out);
            let expected = reference(&values);
            assert!(out.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()), "len {len}");
        }
    }
}
