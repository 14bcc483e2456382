//! The CPU pool's rates, from maps (`square`, then `exp`), each the best
//! of a few runs:
//!
//! - 2^14 elements on the calling thread: the rate of jobs too small for
//!   the pool, which always fit in one core's caches;
//! - one pool task (2^16 elements): its time beyond the serial loop's is
//!   the pool's fixed cost;
//! - at least 2^24 elements read and as many written (128 MiB, and at
//!   least twice the last-level cache), first into a new result, then
//!   once more into the same one: the first pass is page faults plus the
//!   stream, the second the stream alone, so memory's rate and the cost
//!   of a new result's first write come out of one working set. One pass
//!   each, not the best of several: faulting this working set in already
//!   takes most of the calibration's time;
//! - up to 2^20 elements whose bytes take a quarter of the last-level
//!   cache, right after: the caches' rate;
//! - `exp` over 2^18 elements: its time beyond the stream is the calls'.
//!
//! Jobs whose bytes fit in half the last-level cache are predicted at the
//! caches' rate: the other half is left to whatever else runs, on a VM
//! other tenants of the same cache included.

use super::{best, llc, sample};
use crate::column::Column;
use crate::cpu;
use crate::dtype::DType;
use crate::expr::program::Program;
use crate::fresh::result_vec;
use crate::op::Op;
use crate::schedule::CpuCosts;
use rayon::prelude::*;

/// Elements of the serial measurement.
const SERIAL: usize = 1 << 14;

/// Elements of the mid-size measurement: one task on the pool.
const MID: usize = cpu::TASK_ELEMENTS;

/// Elements of the `exp` measurement: enough calls to time, few enough
/// to stay in the caches.
const EXP: usize = 1 << 18;

/// The least fixed cost a pool job is credited with: waking a worker.
const MIN_LAUNCH_S: f64 = 1e-6;

/// Fewest elements of the memory measurement: 128 MiB read and written,
/// past the last-level cache of most machines.
const MEMORY_MIN: usize = 1 << 24;

/// Most elements of the memory measurement: 256 MiB read and written,
/// which already takes the kernel tens of milliseconds to fault in.
const MEMORY_MAX: usize = 1 << 25;

/// Most elements of the in-cache measurement.
const CACHED_MAX: usize = 1 << 20;

/// Measures the pool of `threads` threads; `on_pool` runs work on it.
pub(super) fn costs(threads: usize, on_pool: &(impl Fn(&mut (dyn FnMut() + Send)) + Sync)) -> CpuCosts {
    let llc = llc::bytes();
    let cache_bytes = llc / 2;
    let Some((input, mut out)) = buffers(memory_len(llc), on_pool) else {
        log::warn!("no memory for the CPU's measurements; the model keeps the defaults for a desktop");
        return CpuCosts::with_threads(threads);
    };
    let n = input.len();
    let cached_len = cached_len(cache_bytes);
    let mut timed = |len: usize, op: Op, runs: usize| {
        let mut seconds = 0.0;
        on_pool(&mut || seconds = best(runs, || cpu::map_into(&input[..len], &mut out[..len], op)));
        seconds
    };
    let serial = timed(SERIAL, Op::Square, 5);
    let mid = timed(MID, Op::Square, 5);
    let first = timed(n, Op::Square, 1);
    let memory = timed(n, Op::Square, 1);
    let cached = timed(cached_len, Op::Square, 3);
    // `exp` runs on the evaluator, as every job of it does.
    let exp_program = Program::of_op(Some(Op::Exp), DType::F32);
    let mut exp = 0.0;
    if let Ok(program) = &exp_program {
        let columns = [Column::of(&input[..EXP])];
        on_pool(&mut || exp = best(2, || cpu::eval::map_at(program, &columns, 0, &mut out[..EXP])));
    }

    let serial_bytes_per_s = bytes(SERIAL) / serial;
    // MID elements make a single pool task: its time beyond the serial
    // loop's is the pool's fixed cost.
    let launch_s = (mid - bytes(MID) / serial_bytes_per_s).max(MIN_LAUNCH_S);
    let stream = |len: usize, seconds: f64| bytes(len) / (seconds - launch_s).max(seconds / 2.0);
    let output_bytes = (n * size_of::<f32>()) as f64;
    let mut costs = CpuCosts {
        threads,
        launch_s,
        serial_bytes_per_s,
        bytes_per_s: stream(cached_len, cached),
        cache_bytes,
        memory_bytes_per_s: stream(n, memory),
        // Where pages map in cheaply (huge pages), the difference drowns
        // in noise: credit the faults with 1% of the pass at least.
        first_touch_bytes_per_s: output_bytes / (first - memory).max(first / 100.0),
        transcendental_s: 0.0,
    };
    // The exp pass streams as a square pass does; the rest is its calls.
    let streaming = launch_s + bytes(EXP) / costs.pool_bytes_per_s(bytes(EXP));
    costs.transcendental_s = ((exp - streaming).max(0.0) * threads as f64 / EXP as f64).max(0.1e-9);
    costs
}

/// Bytes a map of `n` f32 reads and writes.
fn bytes(n: usize) -> f64 {
    (2 * n * size_of::<f32>()) as f64
}

/// Elements of the memory measurement: an input at least as large as the
/// last-level cache of `llc` bytes, so that input and output together are
/// at least twice as large, within [`MEMORY_MIN`]..=[`MEMORY_MAX`].
fn memory_len(llc: u64) -> usize {
    let elements = usize::try_from(llc / size_of::<f32>() as u64).unwrap_or(MEMORY_MAX);
    elements.next_power_of_two().clamp(MEMORY_MIN, MEMORY_MAX)
}

/// Elements of the in-cache measurement: a power of two whose bytes read
/// and written take at most half of `cache_bytes`, at least two pool tasks.
fn cached_len(cache_bytes: u64) -> usize {
    let elements = usize::try_from(cache_bytes / 2 / bytes(1) as u64).unwrap_or(CACHED_MAX);
    elements.checked_ilog2().map_or(0, |log| 1 << log).clamp(2 * MID, CACHED_MAX)
}

/// The input, written on the pool (so its pages are faulted in by the
/// threads that read them), and a new result allocated as the engine
/// allocates one; `len` elements each, halved until memory allows, down
/// to [`CACHED_MAX`], which every other pass fits in.
fn buffers(mut len: usize, on_pool: &(impl Fn(&mut (dyn FnMut() + Send)) + Sync)) -> Option<(Vec<f32>, Vec<f32>)> {
    loop {
        if let (Ok(mut input), Ok(out)) = (result_vec::<f32>(len), result_vec::<f32>(len)) {
            on_pool(&mut || input.par_iter_mut().enumerate().for_each(|(index, x)| *x = sample(index)));
            return Some((input, out));
        }
        if len <= CACHED_MAX {
            return None;
        }
        len /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_pass_misses_the_cache_and_the_cached_one_fits_it() {
        assert_eq!(memory_len(48 << 20), MEMORY_MIN, "128 MiB for a 48 MiB cache");
        assert_eq!(memory_len(96 << 20), MEMORY_MAX);
        assert_eq!(memory_len(1 << 40), MEMORY_MAX);
        assert_eq!(memory_len(0), MEMORY_MIN);
        assert_eq!(cached_len(24 << 20), 1 << 20, "8 MiB of a 24 MiB threshold");
        assert_eq!(cached_len(4 << 20), 1 << 18, "2 MiB of a 4 MiB threshold");
        assert_eq!(cached_len(0), 2 * MID);
        for llc in [1u64 << 20, 6 << 20, 48 << 20, 1 << 30] {
            assert!(bytes(memory_len(llc)) >= (2 * llc).min(bytes(MEMORY_MAX) as u64) as f64, "{llc}");
            assert!(cached_len(llc / 2).max(EXP) <= CACHED_MAX, "the passes fit in the smallest buffers");
        }
    }
}
