//! Stream compaction on the CPU: the values of a program where a
//! predicate program holds, in order, and the partition of all values
//! into those and the rest.
//!
//! Where an element lands depends on how many elements before it are
//! kept, so compaction is a scan of counts. Two passes over blocks of
//! [`BLOCK`] elements, each pass in parallel:
//!
//! 1. Count the kept elements of every block (the predicate evaluated a
//!    block at a time into a buffer that stays in cache).
//! 2. The exclusive prefix of the counts gives each block's first place
//!    in the result: exact integers, so the result is the same on any
//!    thread count. The result is allocated once at its final length
//!    and cut into one disjoint slice per block; each block evaluates the
//!    predicate again with its values and compacts them into its slice.
//!
//! Evaluating the predicate twice costs less than keeping its flags: a
//! flag array would be as large as the input, and pass 2 would read it
//! back from memory, while the second evaluation reads only the inputs.

use super::eval::map_at;
use super::SERIAL_BELOW;
use crate::column::Column;
use crate::dtype::Element;
use crate::error::Result;
use crate::expr::program::Program;
use crate::fresh::result_vec;
use rayon::prelude::*;
use std::ops::Range;

/// Elements per block: below [`SERIAL_BELOW`], so evaluating a block runs
/// on its rayon task alone, and small enough that a block's flags and
/// values (64 KiB each for 4-byte elements) stay in L2 cache between
/// evaluation and compaction.
const BLOCK: usize = 1 << 14;

/// The values of `values` over elements `range` of `columns` where
/// `predicate` (a `u32` program over the same columns) is nonzero, in
/// order. The columns are whole, so elements keep their index `i`.
pub(crate) fn filter<U: Element>(
    values: &Program,
    predicate: &Program,
    columns: &[Column<'_>],
    range: Range<usize>,
) -> Result<Vec<U>> {
    let job = Compaction { values, predicate, columns, range };
    let counts = job.counts();
    let mut out = result_vec::<U>(counts.iter().sum())?;
    let kept = split_by(&mut out, &counts);
    job.write(kept.into_iter().map(|kept| (kept, None)).collect());
    Ok(out)
}

/// The values of `values` over elements `range` of `columns`: first
/// those where `predicate` is nonzero, then the others, both in order,
/// and how many are kept.
pub(crate) fn partition<U: Element>(
    values: &Program,
    predicate: &Program,
    columns: &[Column<'_>],
    range: Range<usize>,
) -> Result<(Vec<U>, usize)> {
    let job = Compaction { values, predicate, columns, range };
    let counts = job.counts();
    let rest_counts: Vec<usize> = job.blocks().zip(&counts).map(|(block, kept)| block.len() - kept).collect();
    let total: usize = counts.iter().sum();
    let mut out = result_vec::<U>(job.range.len())?;
    let (kept, rest) = out.split_at_mut(total);
    let slices = split_by(kept, &counts).into_iter().zip(split_by(rest, &rest_counts));
    job.write(slices.map(|(kept, rest)| (kept, Some(rest))).collect());
    Ok((out, total))
}

/// Where one block's values go: its kept ones, and its others (for a
/// partition).
type Slices<'o, U> = (&'o mut [U], Option<&'o mut [U]>);

/// One compaction job: its programs, columns and elements.
struct Compaction<'a> {
    values: &'a Program,
    predicate: &'a Program,
    columns: &'a [Column<'a>],
    range: Range<usize>,
}

/// Buffers one task reuses for each of its blocks.
struct Scratch<U> {
    flags: Vec<u32>,
    values: Vec<U>,
    kept: Vec<U>,
    rest: Vec<U>,
}

impl<U: Element> Scratch<U> {
    fn new() -> Self {
        Scratch { flags: vec![0; BLOCK], values: vec![U::default(); BLOCK], kept: Vec::new(), rest: Vec::new() }
    }
}

impl Compaction<'_> {
    /// The job's blocks, as element indices.
    fn blocks(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.range.clone().step_by(BLOCK).map(|start| start..self.range.end.min(start + BLOCK))
    }

    /// Pass 1: kept elements of each block.
    fn counts(&self) -> Vec<usize> {
        let count = |flags: &mut Vec<u32>, block: Range<usize>| {
            let flags = &mut flags[..block.len()];
            map_at(self.predicate, self.columns, block.start, flags);
            flags.iter().filter(|&&flag| flag != 0).count()
        };
        let blocks: Vec<Range<usize>> = self.blocks().collect();
        if self.range.len() < SERIAL_BELOW {
            let mut flags = vec![0; BLOCK];
            return blocks.into_iter().map(|block| count(&mut flags, block)).collect();
        }
        blocks.into_par_iter().map_init(|| vec![0; BLOCK], count).collect()
    }

    /// Pass 2: each block's kept values into its first slice, and its
    /// other values into its second (for a partition).
    fn write<U: Element>(&self, slices: Vec<Slices<'_, U>>) {
        let write = |scratch: &mut Scratch<U>, (block, (kept, rest)): (Range<usize>, Slices<'_, U>)| {
            self.compact(scratch, block, kept, rest);
        };
        let blocks: Vec<Range<usize>> = self.blocks().collect();
        if self.range.len() < SERIAL_BELOW {
            let mut scratch = Scratch::new();
            blocks.into_iter().zip(slices).for_each(|job| write(&mut scratch, job));
        } else {
            blocks.into_par_iter().zip(slices).for_each_init(Scratch::new, write);
        }
    }

    /// Evaluates one block and writes its kept values into `kept` (and
    /// the others into `rest`), which are exactly as long as pass 1 said.
    fn compact<U: Element>(
        &self,
        scratch: &mut Scratch<U>,
        block: Range<usize>,
        kept: &mut [U],
        rest: Option<&mut [U]>,
    ) {
        let len = block.len();
        let flags = &mut scratch.flags[..len];
        map_at(self.predicate, self.columns, block.start, flags);
        let values: &[U] = match self.identity_input::<U>() {
            Some(input) => &input[block],
            None => {
                map_at(self.values, self.columns, block.start, &mut scratch.values[..len]);
                &scratch.values[..len]
            }
        };
        // Branch-free: every value is written to the next free place and
        // the place advances only for a kept one, so a predicate that
        // holds at random costs no mispredicted branches.
        scratch.kept.resize(len, U::default());
        let mut k = 0;
        for (&value, &flag) in values.iter().zip(flags.iter()) {
            scratch.kept[k] = value;
            k += usize::from(flag != 0);
        }
        kept.copy_from_slice(&scratch.kept[..k]);
        if let Some(rest) = rest {
            scratch.rest.resize(len, U::default());
            let mut r = 0;
            for (&value, &flag) in values.iter().zip(flags.iter()) {
                scratch.rest[r] = value;
                r += usize::from(flag == 0);
            }
            rest.copy_from_slice(&scratch.rest[..r]);
        }
    }

    /// The input the values program reads, when it is that input itself
    /// (`x`), as `U`: then the values are read in place.
    fn identity_input<U: Element>(&self) -> Option<&[U]> {
        (self.values.as_op() == Some(None)).then(|| self.columns[self.values.columns[0]].typed::<U>()).flatten()
    }
}

/// `out` cut into consecutive slices of `lengths` (which sum to its length).
fn split_by<'o, U>(mut out: &'o mut [U], lengths: &[usize]) -> Vec<&'o mut [U]> {
    let mut slices = Vec::with_capacity(lengths.len());
    for &len in lengths {
        let (slice, tail) = std::mem::take(&mut out).split_at_mut(len);
        slices.push(slice);
        out = tail;
    }
    slices
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::expr::{var, Expr};

    fn programs(predicate: &str) -> (Program, Program) {
        let inputs = [("x", DType::F32)];
        let values = Program::compile(&var("x"), &inputs, DType::F32).unwrap();
        let predicate = Program::compile(&Expr::parse(predicate).unwrap().cast(DType::U32), &inputs, DType::U32);
        (values, predicate.unwrap())
    }

    #[test]
    fn blocks_keep_their_order_across_threads() {
        let xs: Vec<f32> =
            (0..(3 * BLOCK + 77) as u32).map(|k| (k.wrapping_mul(2_654_435_761) % 1000) as f32).collect();
        let columns = [Column::of(&xs)];
        let (values, predicate) = programs("x < 300 || i % 7 == 0");
        let expected: Vec<f32> =
            xs.iter().enumerate().filter(|&(i, &x)| x < 300.0 || i % 7 == 0).map(|(_, &x)| x).collect();
        for range in [0..xs.len(), 5..xs.len() - 3, BLOCK..BLOCK] {
            let kept: Vec<f32> = filter(&values, &predicate, &columns, range.clone()).unwrap();
            let reference: Vec<f32> = range.clone().filter(|&i| xs[i] < 300.0 || i % 7 == 0).map(|i| xs[i]).collect();
            assert_eq!(kept, reference);
            let (all, k) = partition::<f32>(&values, &predicate, &columns, range.clone()).unwrap();
            assert_eq!(&all[..k], reference.as_slice());
            let others: Vec<f32> = range.filter(|&i| !(xs[i] < 300.0 || i % 7 == 0)).map(|i| xs[i]).collect();
            assert_eq!(&all[k..], others.as_slice());
        }
        assert_eq!(filter::<f32>(&values, &predicate, &columns, 0..xs.len()).unwrap(), expected);
    }
}
