//! Where a GPU job's time goes: upload, kernel, readback.
//!
//! The executors call a [`Stopwatch`] at the end of each phase. Switched
//! off (every normal job) it does nothing; switched on, it submits and
//! waits at each phase boundary, so the phases no longer overlap and each
//! can be timed on the host.

use super::context::Context;
use crate::error::GpuError;
use std::time::{Duration, Instant};

/// Time spent in each phase of one GPU job, summed over its chunks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GpuProfile {
    /// Host to device: staging and copying the input.
    pub upload: Duration,
    /// Dispatches: the kernel itself, including submission.
    pub kernel: Duration,
    /// Device to host: copying, mapping and reading the result.
    pub readback: Duration,
}

impl GpuProfile {
    /// The three phases together.
    pub fn total(&self) -> Duration {
        self.upload + self.kernel + self.readback
    }
}

pub(crate) struct Stopwatch {
    profile: Option<GpuProfile>,
    mark: Instant,
}

impl Stopwatch {
    /// A stopwatch that records nothing and never waits.
    pub fn off() -> Stopwatch {
        Stopwatch { profile: None, mark: Instant::now() }
    }

    /// A stopwatch that separates and times the phases.
    pub fn on() -> Stopwatch {
        Stopwatch { profile: Some(GpuProfile::default()), mark: Instant::now() }
    }

    /// Ends the upload phase: the buffer writes queued so far complete.
    pub fn uploaded(&mut self, ctx: &Context) -> Result<(), GpuError> {
        if self.profile.is_some() {
            ctx.wait(ctx.queue.submit([]))?;
            self.charge(|p| &mut p.upload);
        }
        Ok(())
    }

    /// Ends the kernel phase: when profiling, runs `encoder`'s dispatches
    /// now and hands back a fresh encoder for the readback copy.
    pub fn computed(&mut self, ctx: &Context, encoder: wgpu::CommandEncoder) -> Result<wgpu::CommandEncoder, GpuError> {
        if self.profile.is_none() {
            return Ok(encoder);
        }
        ctx.wait(ctx.queue.submit([encoder.finish()]))?;
        self.charge(|p| &mut p.kernel);
        Ok(ctx.device.create_command_encoder(&Default::default()))
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
