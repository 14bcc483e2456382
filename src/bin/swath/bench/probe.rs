//! Memory bandwidth probes: the speeds a map and a reduction cannot beat once their data is far larger
//! than the caches. Every row of the table is compared with the probe of the same run.

use super::input;
use super::matrix::Bound;
use super::measure::{measure, Budget, Timing};
use crate::failure::Failure;
use crate::format;
use rayon::prelude::*;
use std::hint::black_box;

/// The probes run over at least 2^26 f32 (268 MB), well above any last-level cache, so that they
/// measure memory rather than cache even when only small sizes are benchmarked.
pub const PROBE_MIN_EXPONENT: u32 = 26;

/// Elements per rayon task: large enough to amortise scheduling, small enough to balance the threads.
const CHUNK: usize = 1 << 16;

/// The copy and read bandwidth measured in this run.
#[derive(Debug, Clone, Copy)]
pub struct Bandwidth {
    /// Elements the probes ran over.
    pub n: usize,
    pub copy: Timing,
    pub read: Timing,
}

impl Bandwidth {
    /// Decimal GB/s of the copy (bytes read plus bytes written) or of the read, at the median time.
    pub fn gbps(&self, bound: Bound) -> Option<f64> {
        let bytes = self.n as u64 * std::mem::size_of::<f32>() as u64;
        match bound {
            Bound::Copy => format::gigabytes_per_second(2 * bytes, self.copy.median),
            Bound::Read => format::gigabytes_per_second(bytes, self.read.median),
        }
    }
}

/// Elements the probes run over when the largest benchmarked size is `largest`.
pub fn probe_len(largest: usize) -> usize {
    largest.max(1 << PROBE_MIN_EXPONENT)
}

/// Measures both probes over `n` elements, with the same method as every cell.
pub fn measure_bandwidth(n: usize, budget: &Budget) -> Result<Bandwidth, Failure> {
    let source = input::filled(n, 1.0).ok_or_else(|| out_of_memory(n))?;
    let mut target = input::filled(n, 0.0).ok_or_else(|| out_of_memory(n))?;
    let copy = measure(budget, || -> Result<(), Failure> {
        parallel_copy(black_box(&source), &mut target);
        black_box(&mut target);
        Ok(())
    })?;
    drop(target);
    let read = measure(budget, || -> Result<(), Failure> {
        black_box(parallel_read(black_box(&source)));
        Ok(())
    })?;
    Ok(Bandwidth { n, copy, read })
}

fn out_of_memory(n: usize) -> Failure {
    let size = format::bytes(n as u64 * std::mem::size_of::<f32>() as u64);
    Failure::Usage(format!("cannot allocate {size} for the bandwidth probes; try smaller --sizes"))
}

/// `copy_from_slice` on rayon chunks: reads and writes every element, as a map does, at the speed of
/// the standard library's memcpy.
fn parallel_copy(source: &[f32], target: &mut [f32]) {
    target.par_chunks_mut(CHUNK).zip(source.par_chunks(CHUNK)).for_each(|(to, from)| to.copy_from_slice(from));
}

/// A wrapping integer sum of the bits: reads every element once, as a reduction does, with adds that
/// are exact, so the compiler may reorder and vectorise them freely and only memory limits it.
fn parallel_read(source: &[f32]) -> u32 {
    source.par_chunks(CHUNK).map(fold_bits).reduce(|| 0, u32::wrapping_add)
}

/// The wrapping sum of one chunk's bits, in the widest vectors the CPU has. With the SSE2 of baseline
/// x86-64 alone, one core of a recent server adds more slowly than memory delivers, and the probe would
/// read low (swath's own reductions use AVX2 where the CPU has it).
fn fold_bits(chunk: &[f32]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { fold_bits_avx2(chunk) };
    }
    fold_bits_anywhere(chunk)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_bits_avx2(chunk: &[f32]) -> u32 {
    fold_bits_anywhere(chunk)
}

/// Sixteen lanes, so that the lane loop becomes whole vectors on any target.
#[inline(always)]
fn fold_bits_anywhere(chunk: &[f32]) -> u32 {
    let mut lanes = [0u32; 16];
    let rows = chunk.chunks_exact(lanes.len());
    let tail = rows.remainder().iter().fold(0u32, |sum, x| sum.wrapping_add(x.to_bits()));
    for row in rows {
        for (lane, x) in lanes.iter_mut().zip(row) {
            *lane = lane.wrapping_add(x.to_bits());
        }
    }
    lanes.iter().fold(tail, |sum, &lane| sum.wrapping_add(lane))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_touch_every_element() {
        let source: Vec<f32> = (0..100_003).map(|i| i as f32).collect();
        let mut target = vec![0.0; source.len()];
        parallel_copy(&source, &mut target);
        assert_eq!(source, target);
        let expected = source.iter().fold(0u32, |sum, x| sum.wrapping_add(x.to_bits()));
        assert_eq!(parallel_read(&source), expected);
        assert_eq!(probe_len(1 << 10), 1 << PROBE_MIN_EXPONENT);
        assert_eq!(probe_len(1 << 28), 1 << 28);
    }
}
