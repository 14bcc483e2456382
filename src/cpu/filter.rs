//! Stream compaction on the CPU: the values of a program where a
//! predicate program holds, in order, and the partition of all values
//! into those and the rest.
//!
//! Where an element lands depends on how many elements before it are
//! kept, so compaction is a scan of counts. The work is cut into blocks
//! of [`BLOCK`] elements and a block into chunks of [`CHUNK`] elements:
//! the predicate (and the values, unless they are an input read in
//! place) evaluated into buffers that stay in L1 cache, then compacted
//! ([`super::compress`]: eight values per step with AVX2). The plans are
//! built once per job and their registers once per task, so a chunk
//! costs only its loops. Where the predicate compares the values with a
//! constant (`x[x > 0.5]`), the compaction loop tests them itself, with
//! no flags written and read back.
//!
//! A filter reads its input once, in rounds of one span of [`SPAN`]
//! elements per thread: each span compacts into its own staging buffer,
//! which stays in its core's cache, and the counts, exact integers,
//! place it. One parallel region per round both copies the previous
//! round's staged values to their places (known since that round ended)
//! and stages the next spans, so a round costs one wake-up of the pool,
//! not two. A profile of rounds of one block per thread, a region to
//! stage and another to copy, found a tenth of the time in waking and
//! parking threads; with both in one region, spans of four blocks and
//! the vector compaction, `x[x > 0.5]` over 2^26 `f32` took 70 to 80 ms
//! (best of five, runs alternated on a shared 2-core machine) where it
//! took 103 to 109 ms; testing the comparison in the compaction loop
//! rather than through flags took it from 76-80 ms to 67-73 ms, and a
//! software prefetch of the input ([`super::prefetch`]) on a machine
//! whose hardware prefetchers lag took `filter_into` from 44 to 31 ms.
//! The copies run on every thread, so the page faults of the result's
//! first touch (a quarter of the time: the kernel zeroing fresh pages)
//! are spread over them too. Counting first and compacting in a second
//! pass would read the input twice, the larger cost for a memory-bound
//! job; keeping the flags between passes would still read the values
//! twice. The result is allocated for every element and cut to the kept
//! ones at the end: pages no kept value reaches are never touched, and
//! shrinking returns them.
//!
//! A partition's rejected values go after all the kept ones, a place
//! known only once every block is counted, so it runs two passes: count
//! every block, then cut the result (allocated once, at its length) into
//! a kept and a rejected slice per block, which each block fills as it
//! evaluates again. Every place is an exact count, so the result is the
//! same on any thread count.

use super::compress::{compact, Test};
use super::eval::{Bank, Plan};
use super::SERIAL_BELOW;
use crate::column::Column;
use crate::dtype::Element;
use crate::error::Result;
use crate::expr::program::{Program, Step};
use crate::fresh::result_vec;
use rayon::prelude::*;
use std::ops::Range;

/// Elements per block, the unit of parallel work: large enough that a
/// rayon task and a count cost little beside it (a few hundred
/// microseconds of work), small enough to balance over cores.
const BLOCK: usize = 1 << 16;

/// Elements one task of a filter's round compacts into its staging
/// buffer, which stays in its core's cache until copied to its place.
const SPAN: usize = 4 * BLOCK;

/// Elements evaluated at a time within a block: a chunk's flags, values
/// and registers (8 KiB each for 4-byte elements) stay in L1 cache
/// between evaluation and compaction.
const CHUNK: usize = 2048;

/// The values of `values` over elements `range` of `columns` where
/// `predicate` (a `u32` program over the same columns) is nonzero, in
/// order. The columns are whole, so elements keep their index `i`.
pub(crate) fn filter<U: Element>(
    values: &Program,
    predicate: &Program,
    columns: &[Column<'_>],
    range: Range<usize>,
) -> Result<Vec<U>> {
    let mut out = result_vec::<U>(range.len())?;
    let total = filter_into(values, predicate, columns, range, &mut out);
    // The pages past the kept values were never touched; shrinking a
    // large allocation returns them without copying the rest.
    out.truncate(total);
    out.shrink_to_fit();
    Ok(out)
}

/// [`filter`] into the front of `out`, which holds at least one place per
/// element of `range`; returns how many values it kept.
pub(crate) fn filter_into<U: Element>(
    values: &Program,
    predicate: &Program,
    columns: &[Column<'_>],
    range: Range<usize>,
    out: &mut [U],
) -> usize {
    let job = Compaction::new(values, predicate, columns, range);
    assert!(out.len() >= job.range.len(), "a place for every element");
    let spans: Vec<Range<usize>> = job.pieces(SPAN).collect();
    let serial = job.range.len() < SERIAL_BELOW;
    let round = if serial { 1 } else { rayon::current_num_threads() };
    let mut staging: Vec<Staging<U>> = (0..round.min(spans.len())).map(|_| job.staging()).collect();
    let mut rounds = spans.chunks(round);
    let mut total = 0;
    loop {
        // The values staged last round are counted now: their places.
        let counts: Vec<usize> = staging.iter().map(|staging| staging.len).collect();
        let kept: usize = counts.iter().sum();
        let slices = split_by(&mut out[total..total + kept], &counts);
        total += kept;
        let next = rounds.next().unwrap_or_default();
        let step = |(j, (staging, slice)): (usize, (&mut Staging<U>, &mut [U]))| {
            slice.copy_from_slice(&staging.kept[..slice.len()]);
            staging.len = next
                .get(j)
                .map_or(0, |span| job.compact(&mut staging.scratch, span.clone(), &mut staging.kept, None).0);
        };
        if serial {
            staging.iter_mut().zip(slices).enumerate().for_each(step);
        } else {
            staging.par_iter_mut().zip(slices).enumerate().for_each(step);
        }
        if next.is_empty() {
            break;
        }
    }
    total
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
    let job = Compaction::new(values, predicate, columns, range);
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

/// One compaction job: its programs' plans, columns and elements.
struct Compaction<'a> {
    values: &'a Program,
    values_plan: Plan<'a>,
    predicate: Plan<'a>,
    predicate_program: &'a Program,
    columns: &'a [Column<'a>],
    range: Range<usize>,
}

/// A filter's buffers for one block of a round: its compacted values,
/// which stay in its thread's cache until they are copied to their place.
struct Staging<U> {
    scratch: Scratch<U>,
    kept: Vec<U>,
    /// How many values `kept` holds that are not yet in their place.
    len: usize,
}

/// Buffers one task reuses for each of its chunks.
struct Scratch<U> {
    predicate: Bank,
    values_bank: Bank,
    flags: Vec<u32>,
    values: Vec<U>,
    /// A chunk's compacted values, when its slice has too little room
    /// left to take every write of the branch-free loop.
    staged: Vec<U>,
}

impl<'a> Compaction<'a> {
    fn new(values: &'a Program, predicate: &'a Program, columns: &'a [Column<'a>], range: Range<usize>) -> Self {
        let (values_plan, predicate_plan) = (Plan::new(values, columns), Plan::new(predicate, columns));
        Compaction { values, values_plan, predicate: predicate_plan, predicate_program: predicate, columns, range }
    }

    /// The job's blocks, as element indices.
    fn blocks(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.pieces(BLOCK)
    }

    /// The job's elements cut into consecutive pieces of `len`.
    fn pieces(&self, len: usize) -> impl Iterator<Item = Range<usize>> + '_ {
        self.range.clone().step_by(len).map(move |start| start..self.range.end.min(start + len))
    }

    /// `block` cut into chunks, as element indices.
    fn chunks(block: Range<usize>) -> impl Iterator<Item = Range<usize>> {
        let end = block.end;
        block.step_by(CHUNK).map(move |start| start..end.min(start + CHUNK))
    }

    /// Registers and flags for the predicate.
    fn flags(&self) -> (Bank, Vec<u32>) {
        let len = CHUNK.min(self.range.len());
        (self.predicate.bank(len), vec![0; len])
    }

    /// Buffers for one block of a filter's round.
    fn staging<U: Element>(&self) -> Staging<U> {
        Staging { scratch: self.scratch(), kept: vec![U::default(); SPAN.min(self.range.len())], len: 0 }
    }

    /// Pass 1: kept elements of each block.
    fn counts(&self) -> Vec<usize> {
        let count = |(bank, flags): &mut (Bank, Vec<u32>), block: Range<usize>| {
            let mut kept = 0;
            for chunk in Self::chunks(block) {
                let flags = &mut flags[..chunk.len()];
                self.predicate.eval(self.columns, chunk.start, bank, flags);
                kept += flags.iter().map(|&flag| usize::from(flag != 0)).sum::<usize>();
            }
            kept
        };
        let blocks: Vec<Range<usize>> = self.blocks().collect();
        if self.range.len() < SERIAL_BELOW {
            let mut scratch = self.flags();
            return blocks.into_iter().map(|block| count(&mut scratch, block)).collect();
        }
        blocks.into_par_iter().map_init(|| self.flags(), count).collect()
    }

    /// Buffers for one task of pass 2.
    fn scratch<U: Element>(&self) -> Scratch<U> {
        let (predicate, flags) = self.flags();
        let len = CHUNK.min(self.range.len());
        let values_bank = self.values_plan.bank(len);
        Scratch { predicate, values_bank, flags, values: vec![U::default(); len], staged: vec![U::default(); len] }
    }

    /// Pass 2: each block's kept values into its first slice, and its
    /// other values into its second (for a partition).
    fn write<U: Element>(&self, slices: Vec<Slices<'_, U>>) {
        let write = |scratch: &mut Scratch<U>, (block, (kept, rest)): (Range<usize>, Slices<'_, U>)| {
            let lengths = (kept.len(), rest.as_ref().map_or(0, |rest| rest.len()));
            let placed = self.compact(scratch, block, kept, rest);
            debug_assert_eq!(placed, lengths, "pass 2 places what pass 1 counted");
        };
        let blocks: Vec<Range<usize>> = self.blocks().collect();
        if self.range.len() < SERIAL_BELOW {
            let mut scratch = self.scratch();
            blocks.into_iter().zip(slices).for_each(|job| write(&mut scratch, job));
        } else {
            blocks.into_par_iter().zip(slices).for_each_init(|| self.scratch(), write);
        }
    }

    /// Evaluates one block a chunk at a time and writes its kept values
    /// to the front of `kept` (and the others to the front of `rest`);
    /// returns how many of each.
    fn compact<U: Element>(
        &self,
        scratch: &mut Scratch<U>,
        block: Range<usize>,
        kept: &mut [U],
        mut rest: Option<&mut [U]>,
    ) -> (usize, usize) {
        let input = self.identity_input::<U>();
        let test = input.and_then(|_| self.test::<U>());
        let (mut k, mut r) = (0, 0);
        for chunk in Self::chunks(block) {
            let len = chunk.len();
            if let (Some(input), Some(test)) = (input, test) {
                let values = &input[chunk];
                k += place(len, &mut kept[k..], &mut scratch.staged, |out| test.compact::<true>(values, out));
                if let Some(rest) = rest.as_deref_mut() {
                    r += place(len, &mut rest[r..], &mut scratch.staged, |out| test.compact::<false>(values, out));
                }
                continue;
            }
            let flags = &mut scratch.flags[..len];
            self.predicate.eval(self.columns, chunk.start, &mut scratch.predicate, flags);
            let values: &[U] = match input {
                Some(input) => &input[chunk],
                None => {
                    let values = &mut scratch.values[..len];
                    self.values_plan.eval(self.columns, chunk.start, &mut scratch.values_bank, values);
                    values
                }
            };
            let flags = &*flags;
            k += place(len, &mut kept[k..], &mut scratch.staged, |out| compact::<U, true>(values, flags, out));
            if let Some(rest) = rest.as_deref_mut() {
                r += place(len, &mut rest[r..], &mut scratch.staged, |out| compact::<U, false>(values, flags, out));
            }
        }
        (k, r)
    }

    /// The predicate as a comparison of the values with a constant
    /// (`x > 0.5` over `x`), which the compaction then evaluates itself.
    fn test<U: Element>(&self) -> Option<Test<U>> {
        let (structure, program) = (&*self.predicate_program.structure, self.predicate_program);
        let same_input = program.columns.first() == self.values.columns.first();
        let typed = structure.inputs == [U::DTYPE] && structure.consts == [U::DTYPE];
        let steps: Vec<Step> = structure.steps.iter().map(|instr| instr.step).collect();
        match steps[..] {
            [Step::Input(0), Step::Const(0), Step::Binary(op, 0, 1), Step::Cast(2)]
                if same_input && typed && op.is_comparison() =>
            {
                // The constant is of the values' type, so its bytes are a `U`.
                Some(Test { op, value: bytemuck::pod_read_unaligned(&program.consts[0].to_le_bytes()) })
            }
            _ => None,
        }
    }

    /// The input the values program reads, when it is that input itself
    /// (`x`), as `U`: then the values are read in place.
    fn identity_input<U: Element>(&self) -> Option<&'a [U]> {
        (self.values.as_op() == Some(None)).then(|| self.columns[self.values.columns[0]].typed::<U>()).flatten()
    }
}

/// Runs `compact` (which writes the kept ones of `len` values to the
/// front of the slice it is given, and returns how many) into the front
/// of `out`.
fn place<U: Element>(len: usize, out: &mut [U], staged: &mut [U], compact: impl FnOnce(&mut [U]) -> usize) -> usize {
    // The loops write every value, kept or not, at the next free place,
    // so they need room for the whole chunk; near the end of a block's
    // slice they compact into `staged` and the kept ones are copied over.
    if out.len() >= len {
        return compact(out);
    }
    let placed = compact(staged);
    out[..placed].copy_from_slice(&staged[..placed]);
    placed
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
