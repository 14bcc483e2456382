//! Histograms on the CPU: each rayon task counts into counts of its own,
//! and the tasks' counts are added up. Integer addition is exact and
//! order-free, so the counts are the same on any number of threads, and
//! the bins are those of [`crate::binning`], as on the GPU.
//!
//! Counting is bound by finding bins, so the common case does no look-up
//! at all: [`Binning::margins`] proves, once per job, how far inside a
//! bin a value's estimate must fall to be exact, and a vectorised pass
//! marks a block of values with their bins (or the spare slot past the
//! last bin, for values not counted), leaving only the few near a
//! boundary to be searched. Where no margins are narrow enough,
//! [`Binning::near`]'s estimate corrected by two comparisons takes over,
//! and past that, [`Binning::bin`]'s search. Values that repeat a bin
//! would make each add wait for the last one to be stored, so a task with
//! few bins counts into four interleaved sets of counts, added up at its
//! end.
//!
//! Counting alone (bins known in advance, one load and one add to memory
//! a value) runs nearly at the memory's speed on two threads; what a
//! histogram adds is the marking. So the common case,
//! f32 values in a few bins on a CPU with AVX2, has a loop of its own
//! ([`fixed`]): the margins' tests in fixed point, about 12 vector
//! instructions for 8 values in place of 17, and every value not surely
//! inside a bin (out of range and NaN included) flagged in a bit mask
//! and searched out of line, so counting a mark is one load and one add
//! with no test (a histogram over a small part of its data's range pays
//! a short search for each value outside it). One thread at 2^16 f32 in cache: 0.55 ns a value, from
//! 0.72; counting alone takes 0.35. Other types and more bins keep the
//! portable marking pass ([`marking`]), compiled for AVX2 where present.

use super::eval::for_each_piece;
use super::{SERIAL_BELOW, TASK_ELEMENTS};
use crate::binning::{Binning, Margins, Near, Precision, UNSURE};
use crate::canonical::TILE;
use crate::column::Column;
use crate::dtype::{DType, Element};
use crate::expr::program::Program;
use fixed::Fixed;
use rayon::prelude::*;
use std::ops::Range;

/// The counts of `input`'s values in the bins of `binning`.
pub(crate) fn count_in<U: Element>(input: &[U], binning: &Binning<U>) -> Vec<u32> {
    let counter = Counter::new(binning, input.len());
    let tally = |mut counts: Vec<u32>, part: &[U]| {
        counter.add(&mut counts, part);
        counts
    };
    if serial(input.len(), binning) {
        return counter.merge(tally(counter.zeros(), input));
    }
    let parts = input.par_chunks(TASK_ELEMENTS);
    counter.merge(parts.fold(|| counter.zeros(), tally).reduce(|| counter.zeros(), add_counts))
}

/// The counts of `program(columns)`'s values over elements `range`,
/// evaluated a tile at a time.
pub(crate) fn count<U: Element>(
    program: &Program,
    columns: &[Column<'_>],
    range: Range<usize>,
    binning: &Binning<U>,
) -> Vec<u32> {
    let counter = Counter::new(binning, range.len());
    let tally = |mut counts: Vec<u32>, part: Range<usize>| {
        for_each_piece(program, columns, part, TILE, |_, values: &[U]| counter.add(&mut counts, values));
        counts
    };
    if serial(range.len(), binning) {
        return counter.merge(tally(counter.zeros(), range));
    }
    let parts = range.len().div_ceil(TASK_ELEMENTS);
    let part = |t: usize| range.start + t * TASK_ELEMENTS..(range.start + (t + 1) * TASK_ELEMENTS).min(range.end);
    let parts = (0..parts).into_par_iter().map(part);
    counter.merge(parts.fold(|| counter.zeros(), tally).reduce(|| counter.zeros(), add_counts))
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
const LANES: usize = fixed::SETS;

/// Values whose bins are estimated in one vectorised pass before they
/// are counted: few enough that the core overlaps one block's marking
/// (vector arithmetic) with the counting of the block before (loads and
/// stores). Measured on 2 threads at 2^24 f32: 64 took 9.6 to 10 ms,
/// 1,024 took 11.6 to 13.8 ms, and 16 was slower than either.
const BLOCK: usize = 64;

/// How one job's values find their bins, chosen once.
enum Finder<'a, U> {
    /// Estimated in a vectorised pass, with the few values near a
    /// boundary searched: the common case.
    Margins32(Margins<U, f32>),
    Margins64(Margins<U, f64>),
    /// Estimated and corrected one by one, where the margins are too
    /// wide (edges close to the rounding of `lo`).
    Near32(Near<'a, U, f32>),
    Near64(Near<'a, U, f64>),
    Search,
}

/// One job's counting: its finder, and the sets of counts each task
/// keeps, each with a spare slot past the last bin for the values not
/// counted.
struct Counter<'a, U> {
    binning: &'a Binning<U>,
    finder: Finder<'a, U>,
    /// The AVX2 loop for f32 values, where it applies.
    fixed: Option<Fixed>,
    lanes: usize,
}

impl<'a, U: Element> Counter<'a, U> {
    /// The cheapest way to count `len` values: the proofs of the
    /// estimates cost about two values per bin, so a job with more bins
    /// than values searches.
    fn new(binning: &'a Binning<U>, len: usize) -> Counter<'a, U> {
        let lanes = if binning.bins <= INTERLEAVED_BINS { LANES } else { 1 };
        let finder = if binning.reachable() > len {
            Finder::Search
        } else if let Some(margins) = binning.margins::<f32>() {
            Finder::Margins32(margins)
        } else if let Some(margins) = binning.margins::<f64>() {
            Finder::Margins64(margins)
        } else if let Some(near) = binning.near::<f32>() {
            Finder::Near32(near)
        } else if let Some(near) = binning.near::<f64>() {
            Finder::Near64(near)
        } else {
            Finder::Search
        };
        let fixed = match &finder {
            Finder::Margins32(margins) if lanes == LANES && U::DTYPE == DType::F32 => Fixed::new(margins),
            _ => None,
        };
        Counter { binning, finder, fixed, lanes }
    }

    /// Slots in one set of counts: the bins and the spare.
    fn stride(&self) -> usize {
        self.binning.bins + 1
    }

    /// A task's empty counts: `lanes` sets, one after another.
    fn zeros(&self) -> Vec<u32> {
        vec![0; self.lanes * self.stride()]
    }

    /// The counts of the bins: the sets added up, the spare dropped.
    fn merge(&self, mut counts: Vec<u32>) -> Vec<u32> {
        let stride = self.stride();
        let (first, rest) = counts.split_at_mut(stride);
        for set in rest.chunks_exact(stride) {
            for (a, b) in first.iter_mut().zip(set) {
                *a += b;
            }
        }
        counts.truncate(self.binning.bins);
        counts
    }

    #[inline]
    fn add(&self, counts: &mut [u32], values: &[U]) {
        match &self.finder {
            Finder::Margins32(margins) => {
                let done = match &self.fixed {
                    // Only f32 values have a `Fixed`, so the cast keeps them.
                    Some(fixed) => {
                        fixed.add(counts, self.stride(), bytemuck::cast_slice(values), |j| self.searched(values[j]).0)
                    }
                    None => 0,
                };
                self.add_marked(counts, &values[done..], margins)
            }
            Finder::Margins64(margins) => self.add_marked(counts, values, margins),
            Finder::Near32(near) => self.add_each(counts, values, |x| near.bin(x)),
            Finder::Near64(near) => self.add_each(counts, values, |x| near.bin(x)),
            Finder::Search => self.add_each(counts, values, |x| self.searched(x)),
        }
    }

    /// `x`'s bin, or the spare slot.
    #[inline]
    fn searched(&self, x: U) -> (usize, u32) {
        (self.binning.bin(x).unwrap_or(self.binning.bins), 1)
    }

    /// Marks a block at a time, then counts the marks, searching those
    /// [`UNSURE`].
    fn add_marked<F: Precision>(&self, counts: &mut [u32], values: &[U], margins: &Margins<U, F>) {
        let mut marks = [0u32; BLOCK];
        for block in values.chunks(BLOCK) {
            let marks = &mut marks[..block.len()];
            marking::mark(margins, block, marks);
            self.count(counts, marks.len(), |j| match marks[j] {
                UNSURE => self.searched(block[j]),
                bin => (bin as usize, 1),
            });
        }
    }

    fn add_each(&self, counts: &mut [u32], values: &[U], bin: impl Fn(U) -> (usize, u32)) {
        self.count(counts, values.len(), |j| bin(values[j]));
    }

    /// Adds `bin(j)`'s second part, 0 or 1, to the count of its first,
    /// for each `j < len`. With four sets, four consecutive `j` go to
    /// four sets, so that a run of equal bins does not chain each add to
    /// the store before it.
    #[inline(always)]
    fn count(&self, counts: &mut [u32], len: usize, bin: impl Fn(usize) -> (usize, u32)) {
        let quads = match self.lanes {
            LANES => len / LANES,
            _ => 0,
        };
        let stride = self.stride();
        let (c0, rest) = counts.split_at_mut(stride);
        if quads > 0 {
            let (c1, rest) = rest.split_at_mut(stride);
            let (c2, c3) = rest.split_at_mut(stride);
            for q in 0..quads {
                let j = q * LANES;
                let (a, b, c, d) = (bin(j), bin(j + 1), bin(j + 2), bin(j + 3));
                c0[a.0] += a.1;
                c1[b.0] += b.1;
                c2[c.0] += c.1;
                c3[d.0] += d.1;
            }
        }
        for j in quads * LANES..len {
            let (b, counted) = bin(j);
            c0[b] += counted;
        }
    }
}

mod fixed;
mod marking;

fn add_counts(mut a: Vec<u32>, b: Vec<u32>) -> Vec<u32> {
    for (a, b) in a.iter_mut().zip(b) {
        *a += b;
    }
    a
}
