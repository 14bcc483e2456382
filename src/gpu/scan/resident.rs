//! Scans of arrays that live on the device: the passes of the parent
//! module over the arrays' segments, the result written into a new
//! device array, and the count scans that keep a compaction's offsets on
//! the device.

use super::{identity, kernels, level_dispatches, scan_totals, Pipelines, ScanJob, Slots};
use crate::dtype::DType;
use crate::error::GpuError;
use crate::expr::program::{Program, Structure};
use crate::gpu::kernel::Kernel;
use crate::gpu::resident::DeviceArray;
use crate::gpu::scratch::Scratch;
use crate::gpu::source::Columns;
use crate::gpu::{Context, Gpu, KernelCache};
use crate::op::{Reduce, Scan};
use std::sync::Arc;

/// Encodes the inclusive scan of `program(arrays)` into `out`, a device
/// array as long as the arrays, and returns the encoder, not yet
/// submitted (the work of earlier segments may be).
fn encode_resident(
    ctx: &Context,
    cache: &KernelCache,
    scratch: &mut Scratch,
    program: &Program,
    arrays: &[&DeviceArray],
    reduce: Reduce,
    out: &DeviceArray,
) -> Result<wgpu::CommandEncoder, GpuError> {
    if out.len == 0 {
        return Ok(ctx.device.create_command_encoder(&Default::default()));
    }
    let mut job = ScanJob::open(ctx, cache, scratch, program, Columns::Device(arrays), out.len, reduce)?;
    let (carry, mut encoder) = job.totals(ctx)?;
    // Pieces of a resident array are its segments, and so are the output's.
    for (k, start) in (0..out.len).step_by(job.piece).enumerate() {
        let n = job.piece.min(out.len - start);
        job.apply(ctx, &mut encoder, &carry, start..start + n, out.binding(k, n));
    }
    Ok(encoder)
}

/// Encodes `out[i + 1] = values[i]` for every element of `values` but
/// the last: segment by segment, and across each segment boundary.
fn encode_shift(ctx: &Context, encoder: &mut wgpu::CommandEncoder, values: &DeviceArray, out: &DeviceArray) {
    let size = values.dtype.size() as u64;
    let segment = DeviceArray::segment_len(ctx);
    for (k, start) in (0..values.len).step_by(segment).enumerate() {
        let n = segment.min(values.len - start);
        if n > 1 {
            encoder.copy_buffer_to_buffer(values.segment(k), 0, out.segment(k), size, (n as u64 - 1) * size);
        }
        if start + n < values.len {
            encoder.copy_buffer_to_buffer(values.segment(k), (n as u64 - 1) * size, out.segment(k + 1), 0, size);
        }
    }
}

impl Gpu {
    /// The scan of `program(arrays)`, `len` elements of arrays on this
    /// GPU, as a new device array. Submitted without waiting: a reading
    /// of the result waits for it.
    pub fn scan_resident(
        &self,
        program: &Program,
        arrays: &[&DeviceArray],
        len: usize,
        scan: Scan,
    ) -> Result<DeviceArray, GpuError> {
        self.check_resident(arrays, len)?;
        for kernel in kernels(&program.structure, scan.reduce) {
            self.kernels.get(&self.ctx, &kernel)?;
        }
        self.job(|ctx, scratch| {
            let dtype = program.structure.output();
            let out = DeviceArray::new(ctx, &self.pool, dtype, len);
            if !scan.exclusive {
                let encoder = encode_resident(ctx, &self.kernels, scratch, program, arrays, scan.reduce, &out)?;
                ctx.submit([encoder.finish()]);
                return Ok(out);
            }
            // The canonical scan of a prefix is the prefix of the scan, so
            // element i + 1 of the exclusive scan is element i of the
            // inclusive one, as the host path computes it. Shifting costs
            // a copy on the device: a kernel cannot write one place on,
            // across a segment's end, without binding the next segment.
            let inclusive = DeviceArray::new(ctx, &self.pool, dtype, len);
            let mut encoder = encode_resident(ctx, &self.kernels, scratch, program, arrays, scan.reduce, &inclusive)?;
            encode_shift(ctx, &mut encoder, &inclusive, &out);
            if len > 0 {
                ctx.queue.write_buffer(out.segment(0), 0, &identity(scan.reduce, dtype).to_le_bytes());
            }
            ctx.submit([encoder.finish()]);
            Ok(out)
        })
    }
}

/// Inclusive sum scans of `u32` counts on the device, by the kernels that
/// scan tile totals: a compaction's tile offsets, kept on the device.
pub(in crate::gpu) struct CountScan {
    pipelines: Pipelines,
    slots: Slots,
}

impl CountScan {
    /// The kernels of a count scan, to compile before a job takes the GPU.
    pub fn kernels() -> [Kernel; 4] {
        kernels(&Arc::new(Structure::identity(DType::U32)), Reduce::Sum)
    }

    /// Room for `scans` scans of at most `m` counts each.
    pub fn new(ctx: &Context, cache: &KernelCache, scans: usize, m: usize) -> Result<CountScan, GpuError> {
        let pipelines = Pipelines::new(ctx, cache, &Program::identity(DType::U32), Reduce::Sum)?;
        let slots = Slots::new(ctx, &pipelines, scans * level_dispatches(m), identity(Reduce::Sum, DType::U32));
        Ok(CountScan { pipelines, slots })
    }

    /// Encodes the inclusive scan of the `m` counts in `counts` (a
    /// buffer that can be copied from) and returns the buffer it will be in.
    pub fn encode(
        &mut self,
        ctx: &Context,
        encoder: &mut wgpu::CommandEncoder,
        counts: wgpu::Buffer,
        m: usize,
    ) -> Result<wgpu::Buffer, GpuError> {
        scan_totals(ctx, &self.pipelines, &mut self.slots, encoder, counts, m)
    }
}
