//! Device buffers reused across jobs: each role keeps one buffer that grows
//! when a job needs more, so steady-state jobs allocate nothing.

use crate::error::GpuError;
use std::collections::HashMap;
use std::sync::mpsc;

/// What a scratch buffer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Role {
    /// Uploaded input slot `k` (one chunk).
    Input(usize),
    /// Map output (one chunk).
    Output,
    /// Tile partials of even and odd reduction levels.
    PartialsA,
    PartialsB,
    /// Host-mappable copies of a result, alternating piece by piece.
    Readback,
    ReadbackB,
    /// Host-writable staging of input `k`, two alternating per input.
    Staging(usize, usize),
    /// Kernel parameters, one slot per dispatch of a submission.
    Params,
}

impl Role {
    fn usage(self) -> wgpu::BufferUsages {
        use wgpu::BufferUsages as U;
        match self {
            Role::Input(_) => U::STORAGE | U::COPY_DST,
            Role::Output | Role::PartialsA | Role::PartialsB => U::STORAGE | U::COPY_SRC,
            Role::Readback | Role::ReadbackB => U::MAP_READ | U::COPY_DST,
            Role::Staging(..) => U::MAP_WRITE | U::COPY_SRC,
            Role::Params => U::UNIFORM | U::COPY_DST,
        }
    }
}

/// Alignment of a parameter slot: the largest uniform offset alignment
/// WebGPU allows, so any adapter accepts slot offsets.
pub(crate) const PARAM_SLOT: u64 = 256;
/// Dispatches one submission may hold (one parameter slot each).
pub(crate) const PARAM_SLOTS: u64 = 16;

/// Bytes of one parameter slot for a uniform of `size` bytes.
pub(crate) fn param_slot_bytes(size: usize) -> u64 {
    (size as u64).next_multiple_of(PARAM_SLOT)
}

/// One buffer per [`Role`], grown on demand.
#[derive(Default)]
pub(crate) struct Scratch {
    buffers: HashMap<Role, wgpu::Buffer>,
}

impl Scratch {
    /// A buffer for `role` of at least `bytes` bytes.
    pub fn get(&mut self, device: &wgpu::Device, role: Role, bytes: u64) -> wgpu::Buffer {
        match self.buffers.get(&role) {
            Some(buffer) if buffer.size() >= bytes => buffer.clone(),
            _ => {
                // Round up so slowly growing jobs do not reallocate each time.
                let limit = device.limits().max_buffer_size;
                let size = bytes.max(PARAM_SLOT * PARAM_SLOTS).next_multiple_of(1 << 16).min(limit).max(bytes);
                let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("swath scratch"),
                    size,
                    usage: role.usage(),
                    mapped_at_creation: false,
                });
                self.buffers.insert(role, buffer.clone());
                buffer
            }
        }
    }

    /// Drops every buffer (after a fault, so the next job starts clean).
    pub fn clear(&mut self) {
        self.buffers.clear();
    }
}

/// Maps the first `bytes` of `readback` once `submission` is done and hands
/// them to `read`. The buffer is unmapped afterwards, whatever happens.
pub(crate) fn read_back(
    ctx: &super::context::Context,
    readback: &wgpu::Buffer,
    bytes: u64,
    submission: wgpu::SubmissionIndex,
    read: impl FnOnce(&[u8]),
) -> Result<(), GpuError> {
    let (sender, receiver) = mpsc::channel();
    readback.map_async(wgpu::MapMode::Read, ..bytes, move |result| {
        let _ = sender.send(result);
    });
    ctx.wait(submission)?;
    // The callback has run by the end of a successful wait; anything else
    // means the submission or the mapping was rejected.
    match receiver.try_recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(GpuError::Validation(format!("readback mapping failed: {e}"))),
        Err(_) => return Err(GpuError::Validation("readback mapping never completed".into())),
    }
    let view = readback.get_mapped_range(..bytes).map_err(|e| GpuError::Validation(e.to_string()));
    if let Ok(view) = &view {
        read(view);
    }
    drop(view);
    readback.unmap();
    Ok(())
}
