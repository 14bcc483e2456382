//! Where a GPU job's time goes: upload, kernel, readback.
//!
//! The executors call a [`Stopwatch`] at the end of each phase. Switched
//! off (every normal job) it does nothing; switched on, it submits and
//! waits at each phase boundary, so the phases no longer overlap and each
//! can be timed on the host. Where the adapter has timestamp queries, the
//! kernel phase is timed on the GPU instead, without submission overhead.

use super::context::Context;
use super::scratch::read_back;
use crate::error::GpuError;
use std::time::{Duration, Instant};

/// Time spent in each phase of one GPU job, summed over its chunks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GpuProfile {
    /// Host to device: staging and copying the input.
    pub upload: Duration,
    /// The dispatches. From GPU timestamps where the adapter has them (see
    /// `kernel_timestamps`), else host wall time including submission.
    pub kernel: Duration,
    /// Device to host: copying, mapping and reading the result.
    pub readback: Duration,
    /// Of `readback`, the host's copy out of mapped memory into the
    /// result: slow where a driver maps readback memory uncached.
    pub readback_copy: Duration,
    /// True if `kernel` comes from GPU timestamp queries.
    pub kernel_timestamps: bool,
}

impl GpuProfile {
    /// The three phases together.
    pub fn total(&self) -> Duration {
        self.upload + self.kernel + self.readback
    }
}

/// Compute passes one kernel phase can time (two timestamps each); more
/// than a job's reduction levels ever need.
const TIMED_PASSES: u32 = 16;

pub(crate) struct Stopwatch {
    profile: Option<GpuProfile>,
    mark: Instant,
    timestamps: Option<Timestamps>,
}

/// A query set and the buffers its timestamps are read back through.
struct Timestamps {
    queries: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    readback: wgpu::Buffer,
    /// Queries written since the last kernel phase ended.
    used: u32,
}

impl Timestamps {
    fn new(ctx: &Context) -> Option<Timestamps> {
        if !ctx.device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return None;
        }
        let count = 2 * TIMED_PASSES;
        let bytes = u64::from(count) * 8;
        let buffer = |usage| {
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("swath timestamps"),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        Some(Timestamps {
            queries: ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("swath timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count,
            }),
            resolved: buffer(wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC),
            readback: buffer(wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST),
            used: 0,
        })
    }

    /// Seconds between each pass's begin and end timestamps, summed.
    fn kernel_time(ctx: &Context, bytes: &[u8]) -> Duration {
        let ticks: Vec<u64> =
            bytes.chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default())).collect();
        let total: u64 = ticks.chunks_exact(2).map(|pair| pair[1].saturating_sub(pair[0])).sum();
        Duration::from_nanos((total as f64 * f64::from(ctx.queue.get_timestamp_period())) as u64)
    }
}

impl Stopwatch {
    /// A stopwatch that records nothing and never waits.
    pub fn off() -> Stopwatch {
        Stopwatch { profile: None, mark: Instant::now(), timestamps: None }
    }

    /// A stopwatch that separates and times the phases.
    pub fn on() -> Stopwatch {
        Stopwatch { profile: Some(GpuProfile::default()), mark: Instant::now(), timestamps: None }
    }

    /// Timestamp writes for the next compute pass, when profiling on an
    /// adapter that has timestamp queries.
    pub fn pass_writes(&mut self, ctx: &Context) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
        self.profile?;
        if self.timestamps.is_none() {
            self.timestamps = Timestamps::new(ctx);
        }
        let timestamps = self.timestamps.as_mut().filter(|t| t.used < 2 * TIMED_PASSES)?;
        let begin = timestamps.used;
        timestamps.used += 2;
        Some(wgpu::ComputePassTimestampWrites {
            query_set: &timestamps.queries,
            beginning_of_pass_write_index: Some(begin),
            end_of_pass_write_index: Some(begin + 1),
        })
    }

    /// True if the phases are being separated and timed.
    pub fn is_on(&self) -> bool {
        self.profile.is_some()
    }

    /// Ends the upload phase: when profiling, runs `encoder`'s copies (and
    /// the buffer writes queued so far) now and hands back a fresh encoder.
    pub fn uploaded(&mut self, ctx: &Context, encoder: wgpu::CommandEncoder) -> Result<wgpu::CommandEncoder, GpuError> {
        if self.profile.is_none() {
            return Ok(encoder);
        }
        ctx.wait(ctx.submit([encoder.finish()]))?;
        self.charge(|p| &mut p.upload);
        Ok(ctx.device.create_command_encoder(&Default::default()))
    }

    /// Ends the kernel phase: when profiling, runs `encoder`'s dispatches
    /// now and hands back a fresh encoder for the readback copy.
    pub fn computed(
        &mut self,
        ctx: &Context,
        mut encoder: wgpu::CommandEncoder,
    ) -> Result<wgpu::CommandEncoder, GpuError> {
        if self.profile.is_none() {
            return Ok(encoder);
        }
        let timed = self.timestamps.as_mut().filter(|t| t.used > 0);
        let Some(timestamps) = timed else {
            ctx.wait(ctx.submit([encoder.finish()]))?;
            self.charge(|p| &mut p.kernel);
            return Ok(ctx.device.create_command_encoder(&Default::default()));
        };
        let bytes = u64::from(timestamps.used) * 8;
        encoder.resolve_query_set(&timestamps.queries, 0..timestamps.used, &timestamps.resolved, 0);
        encoder.copy_buffer_to_buffer(&timestamps.resolved, 0, &timestamps.readback, 0, bytes);
        timestamps.used = 0;
        let mut kernel = Duration::ZERO;
        let submission = ctx.submit([encoder.finish()]);
        read_back(ctx, &timestamps.readback, bytes, submission, |view| kernel = Timestamps::kernel_time(ctx, view))?;
        if let Some(profile) = &mut self.profile {
            profile.kernel += kernel;
            profile.kernel_timestamps = true;
        }
        self.mark = Instant::now();
        Ok(ctx.device.create_command_encoder(&Default::default()))
    }

    /// Adds `copy` to the time spent copying out of mapped memory.
    pub fn copied(&mut self, copy: Duration) {
        if let Some(profile) = &mut self.profile {
            profile.readback_copy += copy;
        }
    }

    /// Ends the readback phase (the caller has waited for it).
    pub fn read(&mut self) {
        self.charge(|p| &mut p.readback);
    }

    pub fn profile(&self) -> Option<GpuProfile> {
        self.profile
    }

    fn charge(&mut self, phase: impl FnOnce(&mut GpuProfile) -> &mut Duration) {
        let now = Instant::now();
        if let Some(profile) = &mut self.profile {
            *phase(profile) += now - self.mark;
        }
        self.mark = now;
    }
}
