//! Measuring the cost model: a few short micro-benchmarks per device,
//! most of them the best of a few runs so that one interruption does not
//! skew them. A fixed cost is measured on a job too small for anything
//! else to matter, and subtracted from the large jobs the rates come from.
//!
//! The CPU's rates ([`cpu`]) are measured where jobs run: in the caches
//! for jobs that fit them, from memory for jobs that do not. One rate
//! measured over 16 MiB, as this once was, is neither on a VM with a
//! 48 MiB last-level cache: there it read 2 to 3 times memory's speed, and
//! predicted a 2^26-element map into a new vector 3 to 4 times too fast.
//! The memory rate needs a working set well past the last-level cache
//! ([`llc`]): at least 128 MiB, which the kernel takes longer to fault in
//! than to stream, so the CPU's part grows from ~50 ms to 150 to 250 ms on
//! a busy 2-core VM. Modelling the two regimes without that working set
//! would guess memory's speed rather than measure it, and memory's speed
//! is what every large job on host data is bound by. The faults are
//! measured rather than wasted: they are what a job writing a large new
//! vector pays. The GPU's rates ([`gpu`]) come from jobs
//! large enough that its launch does not dominate them.

mod cpu;
mod gpu;
mod llc;

use crate::gpu::Gpu;
use crate::schedule::{CostModel, GpuCosts};
use std::time::Instant;

/// Measures the CPU pool (`threads` threads; `on_pool` runs work on it)
/// and, if given, the GPU.
pub(super) fn measure(
    threads: usize,
    on_pool: impl Fn(&mut (dyn FnMut() + Send)) + Sync,
    gpu: Option<&Gpu>,
) -> CostModel {
    let start = Instant::now();
    let cpu = cpu::costs(threads, &on_pool);
    let cpu_took = start.elapsed();
    let gpu = gpu.map(|gpu| {
        gpu::costs(gpu).unwrap_or_else(|fault| {
            log::warn!("measuring the GPU failed ({fault}); the model keeps the defaults for a discrete GPU");
            GpuCosts { shares_cpu: gpu.info().software, ..GpuCosts::DISCRETE }
        })
    });
    log::info!("cost model measured: cpu in {cpu_took:?}, gpu in {:?}", start.elapsed() - cpu_took);
    CostModel { cpu, gpu }
}

/// The input value at `index`: ordinary numbers in [1, 2), no zeros or
/// subnormals whose timing could differ, and a spread of `exp` arguments.
fn sample(index: usize) -> f32 {
    1.0 + (index % 977) as f32 * 1e-3
}

/// Best wall time of `runs` runs of `work`, in seconds.
fn best(runs: usize, mut work: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
        .max(1e-9)
}
