//! The cost model: what a job costs on each device, in seconds.
//!
//! A model is a handful of measured rates ([`CpuCosts`], [`GpuCosts`]).
//! The engine measures them once per machine (see [`crate::Engine::calibrate`])
//! and caches them; [`CostModel::with_threads`] gives fixed defaults for a
//! desktop with a discrete GPU, for tests and for explaining jobs before
//! anything was measured.
//!
//! The CPU pool has two streaming rates, not one: a job whose bytes fit in
//! the caches runs several times faster than one that must come from
//! memory (8 MiB and 128 MiB maps differ 2.5x on a 2-core VM), and one rate
//! measured in between mispredicts both. A large result allocated for the
//! job costs more again: its first write faults every page in, which on
//! Linux with 4 KiB pages takes longer than the stream itself (see
//! [`NEW_PAGES_FROM`] for why only large ones). That cost is the same
//! whichever device writes the result, so it moves no choice between
//! devices; it is counted so that predictions are the times callers wait,
//! and so that learning from observed times does not skew one device.

use super::{Location, Shape};
use crate::cpu::SERIAL_BELOW;
use serde::{Deserialize, Serialize};

/// Bytes of a new result from which every job pays for its pages. A
/// smaller one reuses memory the allocator kept from an earlier result
/// (glibc raises its mmap threshold to the size of each large block freed,
/// up to 32 MiB; other allocators keep freed memory too), so its faults
/// are paid once, not per job; a larger one is mapped afresh by every job.
pub const NEW_PAGES_FROM: u64 = 32 << 20;

/// What the CPU pool costs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CpuCosts {
    /// Threads of the pool.
    pub threads: usize,
    /// Fixed cost of one parallel job on the pool (fork and join), in seconds.
    pub launch_s: f64,
    /// Bytes per second one thread streams through a map (jobs shorter
    /// than 32,768 elements run on one thread, and fit in its caches).
    pub serial_bytes_per_s: f64,
    /// Bytes per second the whole pool streams through a map whose bytes
    /// read and written fit in `cache_bytes`: the caches' speed.
    pub bytes_per_s: f64,
    /// Bytes read plus written up to which a pool job is predicted at
    /// `bytes_per_s`; larger jobs stream at `memory_bytes_per_s`.
    pub cache_bytes: u64,
    /// Bytes per second the whole pool streams through a map too large for
    /// the caches: memory's speed.
    pub memory_bytes_per_s: f64,
    /// Bytes per second of a result allocated for the job written for the
    /// first time, on top of the stream: the page faults that map it in
    /// (for results of [`NEW_PAGES_FROM`] bytes or more).
    pub first_touch_bytes_per_s: f64,
    /// Seconds one thread spends on one transcendental call (`exp`, `sin`, ...).
    pub transcendental_s: f64,
}

/// What the GPU costs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpuCosts {
    /// Fixed cost of one submission: encode, submit, wait, read one value.
    pub launch_s: f64,
    /// Host-to-device bytes per second.
    pub upload_bytes_per_s: f64,
    /// Device-to-host bytes per second, into a `Vec`.
    pub readback_bytes_per_s: f64,
    /// Bytes per second a kernel streams through device memory.
    pub bytes_per_s: f64,
    /// Seconds the whole device spends per transcendental call.
    pub transcendental_s: f64,
    /// The adapter computes on the CPU's own cores (a software rasterizer),
    /// so splitting a job between the two gains nothing.
    pub shares_cpu: bool,
}

/// Rates the scheduler predicts with: the CPU's, and the GPU's if there is one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    /// The CPU pool.
    pub cpu: CpuCosts,
    /// The GPU, if there is one.
    pub gpu: Option<GpuCosts>,
}

impl CpuCosts {
    /// Defaults for `threads` threads of a desktop CPU.
    pub fn with_threads(threads: usize) -> Self {
        let threads = threads.max(1);
        CpuCosts {
            threads,
            launch_s: 10e-6,
            serial_bytes_per_s: 8e9,
            bytes_per_s: (12e9 * threads as f64).min(120e9),
            cache_bytes: 16 << 20,
            memory_bytes_per_s: (6e9 * threads as f64).min(40e9),
            first_touch_bytes_per_s: 4e9,
            transcendental_s: 6e-9,
        }
    }

    /// Bytes per second the pool streams through a job that reads and
    /// writes `bytes`: from the caches if they hold it, else from memory.
    pub fn pool_bytes_per_s(&self, bytes: f64) -> f64 {
        if bytes <= self.cache_bytes as f64 {
            self.bytes_per_s
        } else {
            self.memory_bytes_per_s
        }
    }
}

impl GpuCosts {
    /// Defaults for a discrete GPU on PCIe 3.
    pub const DISCRETE: GpuCosts = GpuCosts {
        launch_s: 100e-6,
        upload_bytes_per_s: 12e9,
        readback_bytes_per_s: 12e9,
        bytes_per_s: 400e9,
        transcendental_s: 0.02e-9,
        shares_cpu: false,
    };
}

impl CostModel {
    /// Version of the model's fields, part of its cache key: 2 added the
    /// CPU's memory and first-touch rates beside its cache rate.
    pub const FORMAT: u32 = 2;

    /// Defaults for `threads` CPU threads and a discrete GPU.
    pub fn with_threads(threads: usize) -> Self {
        CostModel { cpu: CpuCosts::with_threads(threads), gpu: Some(GpuCosts::DISCRETE) }
    }

    /// The model with every CPU time multiplied by `cpu` and every GPU
    /// time by `gpu`: how observed times correct it.
    pub fn scaled(&self, cpu: f64, gpu: f64) -> CostModel {
        let c = &self.cpu;
        CostModel {
            cpu: CpuCosts {
                threads: c.threads,
                launch_s: c.launch_s * cpu,
                serial_bytes_per_s: c.serial_bytes_per_s / cpu,
                bytes_per_s: c.bytes_per_s / cpu,
                cache_bytes: c.cache_bytes,
                memory_bytes_per_s: c.memory_bytes_per_s / cpu,
                first_touch_bytes_per_s: c.first_touch_bytes_per_s / cpu,
                transcendental_s: c.transcendental_s * cpu,
            },
            gpu: self.gpu.map(|g| GpuCosts {
                launch_s: g.launch_s * gpu,
                upload_bytes_per_s: g.upload_bytes_per_s / gpu,
                readback_bytes_per_s: g.readback_bytes_per_s / gpu,
                bytes_per_s: g.bytes_per_s / gpu,
                transcendental_s: g.transcendental_s * gpu,
                shares_cpu: g.shares_cpu,
            }),
        }
    }

    /// Seconds the CPU pool takes for a job of `shape`, counting the
    /// readback of inputs that live on the GPU and the first write into a
    /// new result.
    pub fn cpu_seconds(&self, shape: &Shape) -> f64 {
        let work = Work::of(shape);
        let fetch = match (shape.data, self.gpu) {
            (Location::Gpu, Some(gpu)) => work.read / gpu.readback_bytes_per_s,
            _ => 0.0,
        };
        fetch + self.cpu_compute(&work) + self.first_touch(&work)
    }

    /// Seconds the GPU takes for a job of `shape` by itself (one
    /// submission): the upload of host inputs, the kernel, and, for a
    /// result that goes to the host, its readback (into a new result, the
    /// first write too). `None` without a GPU.
    pub fn gpu_seconds(&self, shape: &Shape) -> Option<f64> {
        let gpu = self.gpu?;
        let work = Work::of(shape);
        let transfers = match shape.data {
            Location::Host => {
                work.read / gpu.upload_bytes_per_s + work.written / gpu.readback_bytes_per_s + self.first_touch(&work)
            }
            Location::Gpu => 0.0,
        };
        Some(gpu.launch_s + transfers + self.gpu_compute(&work))
    }

    /// Seconds of a chain of `stages` submitted as one unit on the GPU:
    /// one launch, the upload of `host_bytes` of inputs, every kernel;
    /// results stay on the device.
    pub fn gpu_chain_seconds(&self, stages: &[Shape], host_bytes: u64) -> Option<f64> {
        let gpu = self.gpu?;
        let kernels: f64 = stages.iter().map(|s| self.gpu_compute(&Work::of(s))).sum();
        Some(gpu.launch_s + host_bytes as f64 / gpu.upload_bytes_per_s + kernels)
    }

    /// Seconds of the same chain on the CPU: the readback of `device_bytes`
    /// of inputs, then every stage.
    pub fn cpu_chain_seconds(&self, stages: &[Shape], device_bytes: u64) -> f64 {
        let fetch = self.gpu.map_or(0.0, |gpu| device_bytes as f64 / gpu.readback_bytes_per_s);
        fetch + stages.iter().map(|s| self.cpu_compute(&Work::of(s))).sum::<f64>()
    }

    /// The share of a host-data job to give the GPU so that both devices
    /// finish together, and the seconds they then take. `None` without a
    /// GPU, or for data not in host memory.
    ///
    /// The GPU's transfers read and write host memory, so they slow the
    /// CPU's part as much as the same traffic of its own would: splitting
    /// a memory-bound job gains nothing, a compute-bound one gains. A GPU
    /// that computes on the CPU's own cores gains nothing either way.
    pub fn split(&self, shape: &Shape) -> Option<(f64, f64)> {
        let gpu = self.gpu?;
        let work = Work::of(shape);
        if work.elements == 0.0 || shape.data != Location::Host {
            return None;
        }
        let n = work.elements;
        // Per element, fixed costs apart: the CPU's part, the GPU's part,
        // and the host-memory time the GPU's transfers take from the CPU.
        // Each side writes its part of a new result for the first time:
        // `gpu_seconds` counts that, so the CPU's part counts it too.
        let cpu_each = ((self.cpu_compute(&work) - self.cpu.launch_s).max(0.0) + self.first_touch(&work)) / n;
        let gpu_each = (self.gpu_seconds(shape)? - gpu.launch_s) / n;
        if gpu.shares_cpu {
            // One set of cores does both parts: shares by speed, times add.
            let share = cpu_each / (cpu_each + gpu_each);
            let seconds = self.cpu.launch_s + gpu.launch_s + n * ((1.0 - share) * cpu_each + share * gpu_each);
            return Some((share, seconds));
        }
        let host_each = (work.read + work.written) / n / self.cpu.pool_bytes_per_s(work.streamed());
        // launch_c + (1 - s) n c + s n h = launch_g + s n g
        let share = (self.cpu.launch_s - gpu.launch_s + n * cpu_each) / (n * (cpu_each - host_each + gpu_each));
        let share = if share.is_finite() { share.clamp(0.0, 1.0) } else { 0.5 };
        let cpu_s = self.cpu.launch_s + n * ((1.0 - share) * cpu_each + share * host_each);
        Some((share, cpu_s.max(gpu.launch_s + share * n * gpu_each)))
    }

    fn cpu_compute(&self, work: &Work) -> f64 {
        let cpu = &self.cpu;
        let bytes = work.streamed();
        if work.elements < SERIAL_BELOW as f64 {
            bytes / cpu.serial_bytes_per_s + work.transcendentals * cpu.transcendental_s
        } else {
            let stream = bytes / cpu.pool_bytes_per_s(bytes);
            cpu.launch_s + stream + work.transcendentals * cpu.transcendental_s / cpu.threads as f64
        }
    }

    /// Seconds of page faults the first write into a new result takes.
    fn first_touch(&self, work: &Work) -> f64 {
        work.first_touched / self.cpu.first_touch_bytes_per_s
    }

    fn gpu_compute(&self, work: &Work) -> f64 {
        self.gpu.map_or(f64::INFINITY, |gpu| {
            work.streamed() / gpu.bytes_per_s + work.transcendentals * gpu.transcendental_s
        })
    }
}

/// What a job moves and computes.
struct Work {
    elements: f64,
    /// Bytes read, every input together.
    read: f64,
    /// Bytes written: the output array (nothing for a reduction).
    written: f64,
    /// Of those, the bytes of a new result whose pages the job faults in.
    first_touched: f64,
    /// Transcendental calls, every element together.
    transcendentals: f64,
}

impl Work {
    fn of(shape: &Shape) -> Work {
        let n = shape.len as f64;
        let read = n * shape.program.bytes_per_element as f64;
        let written = if shape.reduce.is_some() { 0.0 } else { n * shape.dtype.size() as f64 };
        let first_touched = if shape.new_output && written >= NEW_PAGES_FROM as f64 { written } else { 0.0 };
        Work { elements: n, read, written, first_touched, transcendentals: n * shape.program.calls }
    }

    /// Bytes the compute streams, for its cost: what it reads and writes,
    /// but at least 4 per element, since a job that reads no array (a
    /// reduction over the index `i`) still computes every element.
    fn streamed(&self) -> f64 {
        (self.read + self.written).max(4.0 * self.elements)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DType, Op};

    fn map(len: usize) -> Shape {
        Shape::map(DType::F32, len, Op::Square)
    }

    #[test]
    fn jobs_past_the_cache_stream_at_memory_speed() {
        let model = CostModel::with_threads(8);
        let cpu = model.cpu;
        // Bytes read and written: 8 per element.
        let fits = (cpu.cache_bytes / 8) as usize;
        let per_byte = |len: usize| (model.cpu_seconds(&map(len)) - cpu.launch_s) / (8 * len) as f64;
        assert!((per_byte(fits) - 1.0 / cpu.bytes_per_s).abs() < 1e-15);
        assert!((per_byte(fits + 1) - 1.0 / cpu.memory_bytes_per_s).abs() < 1e-15);
        assert_eq!(cpu.pool_bytes_per_s(1e12), cpu.memory_bytes_per_s);
    }

    #[test]
    fn large_new_results_pay_their_page_faults_on_either_device() {
        let model = CostModel::with_threads(8);
        let large = (NEW_PAGES_FROM / 4) as usize;
        let faults = NEW_PAGES_FROM as f64 / model.cpu.first_touch_bytes_per_s;
        let extra = |shape: Shape| {
            let new = shape.with_new_output();
            (
                model.cpu_seconds(&new) - model.cpu_seconds(&shape),
                model.gpu_seconds(&new).zip(model.gpu_seconds(&shape)),
            )
        };
        let (cpu, gpu) = extra(map(large));
        assert!((cpu - faults).abs() < 1e-12, "{cpu} {faults}");
        assert!(gpu.is_some_and(|(new, given)| (new - given - faults).abs() < 1e-12));
        assert_eq!(extra(map(large - 1)).0, 0.0, "a smaller result reuses the allocator's memory");
        let reduction = Shape::reduce(DType::F32, large, None, crate::Reduce::Sum);
        assert!(!reduction.with_new_output().new_output, "a reduction writes no array");
    }

    #[test]
    fn scaling_slows_every_cpu_rate() {
        let model = CostModel::with_threads(4);
        let slower = model.scaled(2.0, 1.0);
        assert_eq!(slower.cpu.memory_bytes_per_s, model.cpu.memory_bytes_per_s / 2.0);
        assert_eq!(slower.cpu.first_touch_bytes_per_s, model.cpu.first_touch_bytes_per_s / 2.0);
        assert_eq!(slower.cpu.cache_bytes, model.cpu.cache_bytes);
        let shape = map(1 << 26).with_new_output();
        assert!((slower.cpu_seconds(&shape) / model.cpu_seconds(&shape) - 2.0).abs() < 1e-9);
    }
}
