//! Small results copied out in the submission that computes them.
//!
//! A resident reduction leaves one value on the device, and reading it
//! back the ordinary way costs a second submission and a second wait:
//! on a discrete GPU each is tens of microseconds, as much as the kernels
//! of a reduction over megabytes. So the stages that make a one-element
//! result also copy it into a host-mappable buffer of its own, in the same
//! command buffer, and map it as soon as that is submitted. Reading the
//! value then only waits for the submission, which is already under way.

use super::context::Context;
use crate::error::GpuError;
use std::sync::mpsc;
use std::sync::Mutex;

/// The copy of a small result, mapped once its submission is done.
pub(crate) struct EarlyRead {
    buffer: wgpu::Buffer,
    bytes: u64,
    state: Mutex<State>,
}

enum State {
    /// Encoded, not yet submitted.
    Encoded,
    /// Submitted and asked to map; the receiver hears when it is mapped.
    Mapping(wgpu::SubmissionIndex, mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>),
    /// Mapped: the bytes can be read any number of times.
    Mapped,
    /// The mapping failed; readers take the ordinary path.
    Failed,
}

impl EarlyRead {
    /// Encodes a copy of the first `bytes` of `source` into a new mappable
    /// buffer.
    pub fn encode(ctx: &Context, encoder: &mut wgpu::CommandEncoder, source: &wgpu::Buffer, bytes: u64) -> EarlyRead {
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("swath early readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.copy_buffer_to_buffer(source, 0, &buffer, 0, bytes);
        EarlyRead { buffer, bytes, state: Mutex::new(State::Encoded) }
    }

    /// Asks for the mapping, once `submission` (which holds the copy) is
    /// submitted.
    pub fn submitted(&self, submission: wgpu::SubmissionIndex) {
        let (sender, receiver) = mpsc::channel();
        self.buffer.map_async(wgpu::MapMode::Read, ..self.bytes, move |result| {
            let _ = sender.send(result);
        });
        *self.lock() = State::Mapping(submission, receiver);
    }

    /// Copies the value into `out` (exactly its bytes), waiting for its
    /// submission if need be. `Ok(false)` if there is nothing to read here
    /// (never submitted, or the mapping failed): read the array instead.
    pub fn read(&self, ctx: &Context, out: &mut [u8]) -> Result<bool, GpuError> {
        if out.len() as u64 != self.bytes {
            return Ok(false);
        }
        let mut state = self.lock();
        if let State::Mapping(submission, receiver) = &*state {
            ctx.wait(submission.clone())?;
            *state = match receiver.try_recv() {
                Ok(Ok(())) => State::Mapped,
                _ => State::Failed,
            };
        }
        if !matches!(*state, State::Mapped) {
            return Ok(false);
        }
        let view = self.buffer.get_mapped_range(..self.bytes).map_err(|e| GpuError::Validation(e.to_string()))?;
        out.copy_from_slice(&view);
        Ok(true)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
