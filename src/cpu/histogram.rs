//! Histograms on the CPU: each rayon task counts into counts of its own,
//! and the tasks' counts are added up. Integer addition is exact and
//! order-free, so the counts are the same on any number of threads, and
//! the bins are those of [`crate::binning`], as on the GPU.

use super::eval::for_each_piece;
use super::{SERIAL_BELOW, TASK_ELEMENTS};
use crate::binning::Binning;
use crate::canonical::TILE;
use crate::column::Column;
use crate::dtype::Element;
use crate::expr::program::Program;
use rayon::prelude::*;
use std::ops::Range;

/// The counts of `input`'s values in the bins of `binning`.
pub(crate) fn count_in<U: Element>(input: &[U], binning: &Binning<U>) -> Vec<u32> {
    let tally = |mut counts: Vec<u32>, part: &[U]| {
        add_values(&mut counts, part, binning);
        counts
    };
    if serial(input.len(), binning) {
        return tally(vec![0; binning.bins], input);
    }
    let parts = input.par_chunks(TASK_ELEMENTS);
    parts.fold(|| vec![0; binning.bins], tally).reduce(|| vec![0; binning.bins], add_counts)
}

/// The counts of `program(columns)`'s values over elements `range`,
/// evaluated a tile at a time.
pub(crate) fn count<U: Element>(
    program: &Program,
    columns: &[Column<'_>],
    range: Range<usize>,
    binning: &Binning<U>,
) -> Vec<u32> {
    let tally = |mut counts: Vec<u32>, part: Range<usize>| {
        for_each_piece(program, columns, part, TILE, |_, values: &[U]| add_values(&mut counts, values, binning));
        counts
    };
    if serial(range.len(), binning) {
        return tally(vec![0; binning.bins], range);
    }
    let parts = range.len().div_ceil(TASK_ELEMENTS);
    let part = |t: usize| range.start + t * TASK_ELEMENTS..(range.start + (t + 1) * TASK_ELEMENTS).min(range.end);
    let parts = (0..parts).into_par_iter().map(part);
    parts.fold(|| vec![0; binning.bins], tally).reduce(|| vec![0; binning.bins], add_counts)
}

/// True if a job of `len` values runs on the calling thread: a short one,
/// or one with more bins than values, where every task's own counts
/// would cost more than the counting.
fn serial<U>(len: usize, binning: &Binning<U>) -> bool {
    len < SERIAL_BELOW || binning.bins > len / 8
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
