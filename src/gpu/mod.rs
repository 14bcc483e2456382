//! The GPU path: one wgpu device per engine, pipelines compiled once per
//! kernel, scratch buffers reused across jobs, executors for map and
//! reduce. Every job runs inside error scopes; any wgpu error becomes a
//! [`GpuError`] that the engine answers by rerunning the job on the CPU.

mod argbest;
mod context;
mod early_read;
mod filter;
mod health;
mod histogram;
mod kernel;
mod kernel_cache;
mod map;
mod partials;
mod pool;
mod probe;
mod profile;
mod reduce;
mod resident;
mod scan;
mod scratch;
mod source;
mod stream;
mod transfers;

pub use context::{adapters, preferred_adapter, GpuInfo};
pub(crate) use filter::Compacted;
pub use probe::GpuBandwidth;
pub use profile::GpuProfile;
pub(crate) use resident::{DeviceArray, Stage, StageInput};
pub use transfers::Transfers;

use crate::column::Column;
use crate::dtype::Element;
use crate::error::GpuError;
use crate::expr::program::{Program, Structure};
use crate::op::Reduce;
use crate::schedule::GpuTraits;
use context::Context;
use kernel::Kernel;
use kernel_cache::KernelCache;
pub(crate) use profile::Stopwatch;
use scratch::Scratch;
use std::sync::{Arc, Mutex, MutexGuard};

/// A fault to make the next GPU job fail with, for testing the fallback.
/// Validation and device loss are real wgpu faults, not simulated ones.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// Create an invalid buffer inside the job's error scope.
    Validation,
    /// Destroy the device: this and every later job meets a lost device.
    DeviceLost,
    /// Report out-of-memory (a real one cannot be provoked portably).
    OutOfMemory,
    /// Report a poll timeout.
    Timeout,
}

/// An opened GPU, ready to run jobs.
pub(crate) struct Gpu {
    ctx: Context,
    kernels: KernelCache,
    pool: Arc<pool::Pool>,
    /// Held for the whole of a job: GPU jobs run one at a time.
    scratch: Mutex<Scratch>,
    injected: Mutex<Option<InjectedFault>>,
    health: health::Health,
}

impl Gpu {
    /// Opens the adapter swath would pick; the error says why none is usable.
    /// Transfers and resident segments are cut at `chunk_bytes` at most
    /// (default [`MAX_CHUNK_BYTES`]).
    pub fn open(timeout: std::time::Duration, chunk_bytes: Option<u64>) -> Result<Gpu, String> {
        let mut ctx = Context::open(timeout)?;
        ctx.chunk_bytes = chunk_bytes.unwrap_or(MAX_CHUNK_BYTES).min(MAX_CHUNK_BYTES);
        ctx.segment_bytes = chunk_bytes.unwrap_or(MAX_SEGMENT_BYTES).min(MAX_SEGMENT_BYTES);
        Ok(Gpu {
            ctx,
            kernels: KernelCache::default(),
            pool: Default::default(),
            scratch: Mutex::default(),
            injected: Mutex::default(),
            health: Default::default(),
        })
    }

    pub fn info(&self) -> &GpuInfo {
        &self.ctx.info
    }

    pub fn traits(&self) -> GpuTraits {
        GpuTraits {
            software: self.ctx.info.software,
            shader_f64: self.ctx.info.shader_f64,
            healthy: self.unhealthy().is_none(),
            max_inputs: self.ctx.info.max_inputs,
        }
    }

    /// Writes `program(columns)` into `out` (as long as the columns).
    /// With `watch` on, the phases run one after another and are timed.
    pub fn map<U: Element>(
        &self,
        program: &Program,
        columns: &[Column<'_>],
        out: &mut [U],
        watch: &mut Stopwatch,
    ) -> Result<(), GpuError> {
        self.compile(&program.structure, None)?;
        self.job(|ctx, scratch| map::run(ctx, &self.kernels, scratch, program, columns, out, watch))
    }

    /// Reduces `program(columns)`, `len` elements, in the canonical order.
    pub fn map_reduce<U: Element>(
        &self,
        program: &Program,
        columns: &[Column<'_>],
        len: usize,
        reduce: Reduce,
        watch: &mut Stopwatch,
    ) -> Result<U, GpuError> {
        self.compile(&program.structure, Some(reduce))?;
        self.job(|ctx, scratch| {
            let job = reduce::ReduceTask { program, columns, len, reduce };
            reduce::run(ctx, &self.kernels, scratch, &job, watch)
        })
    }

    /// Writes the inclusive scan of `program(columns)` into `out` (as long
    /// as the columns), in the canonical order.
    pub fn scan<U: Element>(
        &self,
        program: &Program,
        columns: &[Column<'_>],
        reduce: Reduce,
        out: &mut [U],
    ) -> Result<(), GpuError> {
        for kernel in scan::kernels(&program.structure, reduce) {
            self.kernels.get(&self.ctx, &kernel)?;
        }
        self.job(|ctx, scratch| scan::run(ctx, &self.kernels, scratch, program, columns, reduce, out))
    }

    /// Why this GPU takes no more jobs (lost, timed out, failing), if so.
    pub fn unhealthy(&self) -> Option<String> {
        self.ctx.lost().map(|lost| lost.to_string()).or_else(|| self.health.unhealthy())
    }

    /// True if `array` lives on this GPU (not on one it replaced).
    pub fn owns(&self, array: &DeviceArray) -> bool {
        array.pool_is(&self.pool)
    }

    /// Compiles the kernels of a job over `structure` before the job
    /// takes the GPU, so that a long compilation holds up only the jobs
    /// that need its kernel.
    fn compile(&self, structure: &Arc<Structure>, reduce: Option<Reduce>) -> Result<(), GpuError> {
        for kernel in Kernel::of_job(structure, reduce) {
            self.kernels.get(&self.ctx, &kernel)?;
        }
        Ok(())
    }

    fn job<R>(&self, work: impl FnOnce(&Context, &mut Scratch) -> Result<R, GpuError>) -> Result<R, GpuError> {
        let mut scratch = self.lock_scratch();
        // Jobs routed before the GPU was marked unhealthy fail fast.
        if let Some(why) = self.health.unhealthy() {
            return Err(GpuError::DeviceLost(format!("the GPU was marked unhealthy: {why}")));
        }
        let injected = self.injected.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        let result = self.ctx.scoped(|| {
            if let Some(fault) = injected {
                self.provoke(fault)?;
            }
            work(&self.ctx, &mut scratch)
        });
        if result.is_err() {
            // Buffers or pipelines may be invalid now; rebuild them next time.
            scratch.clear();
            self.kernels.clear();
            self.pool.clear();
        }
        self.health.record(&result);
        result
    }

    /// Host–device traffic so far.
    pub fn transfers(&self) -> Transfers {
        self.ctx.counters.snapshot()
    }

    /// KernelCache compiled so far.
    pub fn compiled_kernels(&self) -> usize {
        self.kernels.len()
    }

    /// Makes the next job fail with `fault`.
    pub fn inject(&self, fault: InjectedFault) {
        *self.injected.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(fault);
    }

    fn provoke(&self, fault: InjectedFault) -> Result<(), GpuError> {
        match fault {
            InjectedFault::Validation => {
                // MAP_READ may only pair with COPY_DST: wgpu rejects this.
                let _invalid = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("swath injected fault"),
                    size: 4,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::STORAGE,
                    mapped_at_creation: false,
                });
                Ok(())
            }
            InjectedFault::DeviceLost => {
                self.ctx.device.destroy();
                self.ctx.check_lost().map_or(Ok(()), Err)
            }
            InjectedFault::OutOfMemory => Err(GpuError::OutOfMemory("injected".into())),
            InjectedFault::Timeout => Err(GpuError::Timeout(self.ctx.timeout)),
        }
    }

    fn lock_scratch(&self) -> MutexGuard<'_, Scratch> {
        self.scratch.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Largest chunk uploaded at once. Bounds the device memory a host-resident
/// job holds (input, output and readback of one chunk) on adapters whose
/// bindings reach gigabytes; at this size a submission's fixed cost is
/// well under 1% of the transfer.
pub(crate) const MAX_CHUNK_BYTES: u64 = 256 << 20;

/// Largest segment of a resident array. Nothing is copied through a
/// segment, so unlike a chunk its size bounds no memory: larger segments
/// only mean fewer dispatches, each with a barrier after it. Segments are
/// as large as one binding allows, up to 2 GiB, so that element offsets
/// within one stay far from `u32`'s limit in every kernel.
pub(crate) const MAX_SEGMENT_BYTES: u64 = 2 << 30;

/// Elements per uploaded chunk: as many elements of `widest` bytes as one
/// storage binding (and the context's chunk size) holds, rounded down to a
/// multiple of `multiple`.
fn chunk_elements(ctx: &Context, widest: usize, multiple: usize) -> usize {
    elements_within(ctx.info.max_binding_bytes.min(ctx.chunk_bytes), widest, multiple)
}

/// As many elements of `widest` bytes as `bytes` hold, rounded down to a
/// multiple of `multiple` (at least one multiple).
fn elements_within(bytes: u64, widest: usize, multiple: usize) -> usize {
    let per_binding = (bytes / widest as u64) as usize;
    (per_binding / multiple).max(1) * multiple
}

/// Bytes of the widest element a program reads or writes.
fn widest(program: &Program) -> usize {
    let output = program.structure.output();
    program.structure.inputs.iter().chain([&output]).map(|t| t.size()).max().unwrap_or(4)
}

/// A grid of at least `groups` workgroups within the per-dimension limit;
/// kernels skip the few extra workgroups of the rounded-up grid.
fn grid(ctx: &Context, groups: usize) -> (u32, u32) {
    let max = ctx.device.limits().max_compute_workgroups_per_dimension as usize;
    let rows = groups.div_ceil(max).max(1);
    (groups.div_ceil(rows) as u32, rows as u32)
}

/// One kernel launch: which pipeline, on which buffers, over how many
/// workgroups.
struct Launch<'a> {
    pipeline: &'a wgpu::ComputePipeline,
    params: wgpu::BufferBinding<'a>,
    dst: wgpu::BufferBinding<'a>,
    /// One binding per input slot of the kernel.
    inputs: Vec<wgpu::BufferBinding<'a>>,
    groups: usize,
}

impl Launch<'_> {
    /// Encodes the launch as one compute pass, writing the pass's
    /// timestamps where profiling asks for them.
    fn encode(
        self,
        ctx: &Context,
        encoder: &mut wgpu::CommandEncoder,
        timestamp_writes: Option<wgpu::ComputePassTimestampWrites<'_>>,
    ) {
        let buffers = [self.params, self.dst].into_iter().chain(self.inputs);
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .enumerate()
            .map(|(index, buffer)| wgpu::BindGroupEntry {
                binding: index as u32,
                resource: wgpu::BindingResource::Buffer(buffer),
            })
            .collect();
        let bind_group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &self.pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let (x, y) = grid(ctx, self.groups);
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes });
        pass.set_pipeline(self.pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(x, y, 1);
        ctx.counters.dispatched();
    }
}

/// `bytes` of `buffer` from `offset`, as a binding.
fn binding(buffer: &wgpu::Buffer, offset: u64, bytes: u64) -> wgpu::BufferBinding<'_> {
    wgpu::BufferBinding { buffer, offset, size: wgpu::BufferSize::new(bytes) }
}
