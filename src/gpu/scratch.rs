//! Device buffers reused across jobs: each role keeps one buffer that grows
//! when a job needs more, so steady-state jobs allocate nothing.

use crate::error::GpuError;
use std::sync::mpsc;

/// What a scratch buffer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Uploaded input (one chunk).
    Input,
    /// Map output (one chunk).
    Output,
    /// Tile partials of even and odd reduction levels.
    PartialsA,
    PartialsB,
    /// Host-mappable copy of a result.
    Readback,
    /// Kernel parameters, one slot per dispatch of a submission.
    Params,
}

impl Role {
    const ALL: [Role; 6] = [Role::Input, Role::Output, Role::PartialsA, Role::PartialsB, Role::Readback, Role::Params];

    fn usage(self) -> wgpu::BufferUsages {
        use wgpu::BufferUsages as U;
        match self {
            Role::Input => U::STORAGE | U::COPY_DST,
            Role::Output | Role::PartialsA | Role::PartialsB => U::STORAGE | U::COPY_SRC,
            Role::Readback => U::MAP_READ | U::COPY_DST,
            Role::Params => U::UNIFORM | U::COPY_DST,
        }
    }
}

/// Bytes of one parameter slot: the largest uniform offset alignment
/// WebGPU allows, so any adapter accepts slot offsets.
pub(crate) const PARAM_SLOT: u64 = 256;
/// Dispatches one submission may hold (one parameter slot each).
pub(crate) const PARAM_SLOTS: u64 = 16;

/// One buffer per [`Role`], grown on demand.
#[derive(Default)]
pub(crate) struct Scratch {
    buffers: [Option<wgpu::Buffer>; 6],
}

impl Scratch {
    /// A buffer for `role` of at least `bytes` bytes.
    pub fn get(&mut self, device: &wgpu::Device, role: Role, bytes: u64) -> wgpu::Buffer {
        let index = Role::ALL.iter().position(|&r| r == role).unwrap_or_default();
        let slot = &mut self.buffers[index];
        match slot {
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
                *slot = Some(buffer.clone());
                buffer
            }
        }
    }

    /// Drops every buffer (after a fault, so the next job starts clean).
    pub fn clear(&mut self) {
        self.buffers = Default::default();
    }
}

/// The bytes of the kernels' `Params` uniform: scalars `a`, `b`, the
/// reduction identity, then the element count, each at its WGSL offset.
pub(crate) fn params_bytes<T: bytemuck::Pod>(a: T, b: T, identity: T, n: u32) -> [u8; PARAM_SLOT as usize] {
    let mut bytes = [0u8; PARAM_SLOT as usize];
    let size = size_of::<T>();
    for (i, x) in [a, b, identity].iter().enumerate() {
        bytes[i * size..][..size].copy_from_slice(bytemuck::bytes_of(x));
    }
    bytes[3 * size..][..4].copy_from_slice(&n.to_le_bytes());
    bytes
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
