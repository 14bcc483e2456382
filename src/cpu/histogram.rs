//! Histograms on the CPU: each rayon task counts into counts of its own,
//! and the tasks' counts are added up. Integer addition is exact and
//! order-free, so the counts are the same on any number of threads, and
//! the bins are those of [`crate::binning`], as on the GPU.
//!
//! Counting is bound by finding bins, so the common case is made
//! branch-free: [`Binning::near`] proves, once per job, that a cheap
//! estimate (in f32 where that is enough, else f64) is at most one bin
//! off for every value, and each value then costs an estimate, two
//! comparisons and an add of 0 or 1 (values not counted add 0
//! somewhere). Where no estimate is that close (edges closer than the
//! rounding of `lo`), values take [`Binning::bin`]'s search. Values that
//! repeat a bin would make each add wait for the last one to be stored,
//! so a task with few bins counts into four interleaved sets of counts,
//! added up at its end.

use super::eval::for_each_piece;
use super::{SERIAL_BELOW, TASK_ELEMENTS};
use crate::binning::{Binning, Near};
use crate::canonical::TILE;
use crate::column::Column;
use crate::dtype::Element;
use crate::expr::program::Program;
use rayon::prelude::*;
use std::ops::Range;

/// The counts of `input`'s values in the bins of `binning`.
pub(crate) fn count_in<U: Element>(input: &[U], binning: &Binning<U>) -> Vec<u32> {
    let finder = Finder::new(binning, input.len());
    let tally = |mut counts: Vec<u32>, part: &[U]| {
        finder.add(&mut counts, part);
        counts
    };
    if serial(input.len(), binning) {
        return finder.merge(tally(finder.zeros(), input));
    }
    let parts = input.par_chunks(TASK_ELEMENTS);
    finder.merge(parts.fold(|| finder.zeros(), tally).reduce(|| finder.zeros(), add_counts))
}

/// The counts of `program(columns)`'s values over elements `range`,
/// evaluated a tile at a time.
pub(crate) fn count<U: Element>(
    program: &Program,
    columns: &[Column<'_>],
    range: Range<usize>,
    binning: &Binning<U>,
) -> Vec<u32> {
    let finder = Finder::new(binning, range.len());
    let tally = |mut counts: Vec<u32>, part: Range<usize>| {
        for_each_piece(program, columns, part, TILE, |_, values: &[U]| finder.add(&mut counts, values));
        counts
    };
    if serial(range.len(), binning) {
        return finder.merge(tally(finder.zeros(), range));
    }
    let parts = range.len().div_ceil(TASK_ELEMENTS);
    let part = |t: usize| range.start + t * TASK_ELEMENTS..(range.start + (t + 1) * TASK_ELEMENTS).min(range.end);
    let parts = (0..parts).into_par_iter().map(part);
    finder.merge(parts.fold(|| finder.zeros(), tally).reduce(|| finder.zeros(), add_counts))
}

/// True if a job of `len` values runs on the calling thread: a short one,
/// or one with more bins than values, where every task's own counts
/// would cost more than the counting.
fn serial<U>(len: usize, binning: &Binning<U>) -> bool {
    len < SERIAL_BELOW || binning.bins > len / 8
}

/// Most bins counted in interleaved sets: four sets of them stay in a
/// core's L2 cache.
const INTERLEAVED_BINS: usize = 1 << 14;

/// Sets of counts a task with few bins keeps.
const LANES: usize = 4;

/// How one job's values find their bins, chosen once.
enum Finder<'a, U> {
    F32(Near<'a, U, f32>, usize),
    F64(Near<'a, U, f64>, usize),
    Search(&'a Binning<U>),
}

impl<'a, U: Element> Finder<'a, U> {
    /// The cheapest way to count `len` values: the checks of a near
    /// estimate cost about two values per bin, so a job with more bins
    /// than values searches.
    fn new(binning: &'a Binning<U>, len: usize) -> Finder<'a, U> {
        let lanes = if binning.bins <= INTERLEAVED_BINS { LANES } else { 1 };
        if binning.reachable() > len {
            return Finder::Search(binning);
        }
        if let Some(near) = binning.near::<f32>() {
            return Finder::F32(near, lanes);
        }
        match binning.near::<f64>() {
            Some(near) => Finder::F64(near, lanes),
            None => Finder::Search(binning),
        }
    }

    /// Sets of counts per task.
    fn lanes(&self) -> usize {
        match self {
            Finder::F32(_, lanes) | Finder::F64(_, lanes) => *lanes,
            Finder::Search(_) => 1,
        }
    }

    fn bins(&self) -> usize {
        match self {
            Finder::F32(near, _) => near.bins(),
            Finder::F64(near, _) => near.bins(),
            Finder::Search(binning) => binning.bins,
        }
    }

    /// A task's empty counts: `lanes()` sets, one after another.
    fn zeros(&self) -> Vec<u32> {
        vec![0; self.lanes() * self.bins()]
    }

    /// The counts of the bins: the sets added up.
    fn merge(&self, mut counts: Vec<u32>) -> Vec<u32> {
        let bins = self.bins();
        let (first, rest) = counts.split_at_mut(bins);
        for set in rest.chunks_exact(bins) {
            for (a, b) in first.iter_mut().zip(set) {
                *a += b;
            }
        }
        counts.truncate(bins);
        counts
    }

    #[inline]
    fn add(&self, counts: &mut [u32], values: &[U]) {
        match self {
            Finder::F32(near, LANES) => add_interleaved(counts, values, near),
            Finder::F32(near, _) => add_near(counts, values, near),
            Finder::F64(near, LANES) => add_interleaved(counts, values, near),
            Finder::F64(near, _) => add_near(counts, values, near),
            Finder::Search(binning) => add_values(counts, values, binning),
        }
    }
}

fn add_near<U: Element, F: crate::binning::Precision>(counts: &mut [u32], values: &[U], near: &Near<'_, U, F>) {
    for &x in values {
        let (b, counted) = near.bin(x);
        counts[b] += counted;
    }
}

/// Four consecutive values go to four sets of counts, so that a run of
/// equal bins does not chain each add to the store before it.
fn add_interleaved<U: Element, F: crate::binning::Precision>(counts: &mut [u32], values: &[U], near: &Near<'_, U, F>) {
    let bins = counts.len() / LANES;
    let (c0, rest) = counts.split_at_mut(bins);
    let (c1, rest) = rest.split_at_mut(bins);
    let (c2, c3) = rest.split_at_mut(bins);
    let mut quads = values.chunks_exact(LANES);
    for quad in &mut quads {
        // Four calls rather than an array's `map`, which is not inlined.
        let (a, b, c, d) = (near.bin(quad[0]), near.bin(quad[1]), near.bin(quad[2]), near.bin(quad[3]));
        c0[a.0] += a.1;
        c1[b.0] += b.1;
        c2[c.0] += c.1;
        c3[d.0] += d.1;
    }
    add_near(c0, quads.remainder(), near);
}

#[inline]
fn add_values<U: Element>(counts: &mut [u32], values: &[U], binning: &Binning<U>) {
    for &x in values {
        if let Some(b) = binning.bin(x) {
            counts[b] += 1;
        }
    }
}

fn add_counts(mut a: Vec<u32>, b: Vec<u32>) -> Vec<u32> {
    for (a, b) in a.iter_mut().zip(b) {
        *a += b;
    }
    a
}
