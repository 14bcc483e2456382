//! Histograms on the GPU (`shaders/histogram.wgsl`): each workgroup
//! counts its elements into workgroup memory and adds its counts into
//! the global ones with integer atomics, which are exact in any order.
//! Bins are found by the thresholds of [`crate::binning`], uploaded once
//! per job, so the counts are the CPU's exactly. Host data streams
//! through uploads a chunk at a time, every chunk adding to the same
//! counts, read back once at the end; a resident array is read a segment
//! at a time (see [`Source`]) and its counts stay on the device, copied
//! into a new array.

use super::kernel::{Kernel, Kind};
use super::resident::DeviceArray;
use super::scratch::{param_slot_bytes, read_back, Role, Scratch};
use super::source::{Columns, Source};
use super::{binding, Context, Gpu, Launch};
use crate::binning::Binning;
use crate::canonical::LANES;
use crate::column::Column;
use crate::dtype::{DType, Element};
use crate::error::GpuError;
use crate::expr::program::{Program, Structure};
use std::fmt::Write;
use std::sync::Arc;

/// Bins one workgroup counts in its own memory: 16 KiB, the memory every
/// WebGPU adapter gives a workgroup. More bins count in global memory.
const LOCAL_BINS: usize = 4096;
/// Rows of [`LANES`] elements one workgroup counts: enough to pay for
/// clearing and adding up its local counts.
const HIST_ROWS: usize = 64;
/// Bytes of the `binning` uniform, for either estimate type.
const BINNING_BYTES: u64 = 32;

impl Gpu {
    /// The counts of `program(columns)`'s values (`len` of them) in the
    /// bins of `binning`.
    pub fn histogram<U: Element>(
        &self,
        program: &Program,
        columns: &[Column<'_>],
        len: usize,
        binning: &Binning<U>,
    ) -> Result<Vec<u32>, GpuError> {
        let mut counts = vec![0u32; binning.bins];
        let reachable = binning.reachable();
        if len == 0 || reachable == 0 {
            return Ok(counts);
        }
        let kernel = self.histogram_kernel(program, len, binning)?;
        self.job(|ctx, scratch| {
            let (mut encoder, global) = count(ctx, scratch, &kernel, program, Columns::Host(columns), len, binning)?;
            let count_bytes = (reachable * 4) as u64;
            let readback = scratch.get(&ctx.device, Role::Readback, count_bytes);
            encoder.copy_buffer_to_buffer(&global, 0, &readback, 0, count_bytes);
            let submission = ctx.submit([encoder.finish()]);
            read_back(ctx, &readback, count_bytes, submission, |view| {
                bytemuck::cast_slice_mut::<u32, u8>(&mut counts[..reachable]).copy_from_slice(view)
            })?;
            ctx.counters.read_back(count_bytes);
            Ok(counts)
        })
    }

    /// [`Gpu::histogram`] of arrays on this GPU, read in place, with the
    /// counts left in a new device array. Submitted without waiting.
    pub fn histogram_resident<U: Element>(
        &self,
        program: &Program,
        arrays: &[&DeviceArray],
        len: usize,
        binning: &Binning<U>,
    ) -> Result<DeviceArray, GpuError> {
        self.check_resident(arrays, len)?;
        let reachable = binning.reachable();
        let counted = len > 0 && reachable > 0;
        let kernel = if counted { Some(self.histogram_kernel(program, len, binning)?) } else { None };
        self.job(|ctx, scratch| {
            let out = DeviceArray::new(ctx, &self.pool, DType::U32, binning.bins);
            let (mut encoder, global) = match &kernel {
                Some(kernel) => {
                    let (encoder, global) =
                        count(ctx, scratch, kernel, program, Columns::Device(arrays), len, binning)?;
                    (encoder, Some(global))
                }
                None => (ctx.device.create_command_encoder(&Default::default()), None),
            };
            // The array's buffers are recycled: clear them, then copy the counts in.
            let segment = DeviceArray::segment_len(ctx);
            for (k, start) in (0..binning.bins).step_by(segment).enumerate() {
                encoder.clear_buffer(out.segment(k), 0, None);
                let end = reachable.min(start + segment);
                if let Some(global) = global.as_ref().filter(|_| end > start) {
                    encoder.copy_buffer_to_buffer(
                        global,
                        start as u64 * 4,
                        out.segment(k),
                        0,
                        (end - start) as u64 * 4,
                    );
                }
            }
            ctx.submit([encoder.finish()]);
            Ok(out)
        })
    }

    /// The compiled kernel counting `program`'s values, if the GPU can
    /// count `len` of them in the bins of `binning`.
    fn histogram_kernel<U: Element>(
        &self,
        program: &Program,
        len: usize,
        binning: &Binning<U>,
    ) -> Result<(Kernel, wgpu::ComputePipeline), GpuError> {
        let edge_bytes = size_of_val(binning.edges.as_slice()) as u64;
        if len > u32::MAX as usize || edge_bytes > self.ctx.info.max_binding_bytes {
            return Err(GpuError::Unsupported(format!("a histogram of {len} values in {} bins", binning.bins)));
        }
        let kernel = Kernel { structure: Arc::clone(&program.structure), kind: Kind::Histogram };
        let pipeline = self.kernels.get(&self.ctx, &kernel)?;
        Ok((kernel, pipeline))
    }
}

/// Encodes the counting of `program(columns)`'s values (`len` of them,
/// at least one bin reachable) piece by piece; returns the encoder of the
/// last piece, not yet submitted, and the counts of the reachable bins.
fn count<U: Element>(
    ctx: &Context,
    scratch: &mut Scratch,
    (kernel, pipeline): &(Kernel, wgpu::ComputePipeline),
    program: &Program,
    columns: Columns<'_>,
    len: usize,
    binning: &Binning<U>,
) -> Result<(wgpu::CommandEncoder, wgpu::Buffer), GpuError> {
    let layout = kernel.layout();
    let count_bytes = (binning.reachable() * 4) as u64;
    let edge_bytes = size_of_val(binning.edges.as_slice()) as u64;
    let global = buffer(ctx, count_bytes, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
    let edges = buffer(ctx, edge_bytes, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST);
    ctx.queue.write_buffer(&edges, 0, bytemuck::cast_slice(&binning.edges));
    let uniform = buffer(ctx, BINNING_BYTES, wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST);
    ctx.queue.write_buffer(&uniform, 0, &uniform_bytes(binning));
    let params = scratch.get(&ctx.device, Role::Params, param_slot_bytes(layout.size));
    let chunk = columns.piece_len(ctx, program, LANES, len);
    let mut source = Source::open(ctx, scratch, program, columns, chunk);
    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    for start in (0..len).step_by(chunk) {
        let n = chunk.min(len - start);
        if start > 0 {
            let done = std::mem::replace(&mut encoder, ctx.device.create_command_encoder(&Default::default()));
            source.submitted(ctx.submit([done.finish()]));
        }
        source.write(ctx, &mut encoder, start..start + n)?;
        // Queue order puts this write after the previous chunk's dispatch.
        ctx.queue.write_buffer(&params, 0, &layout.bytes(n as u32, start as u32, None, &program.consts));
        let mut inputs = source.bindings(start..start + n);
        inputs.extend([binding(&edges, 0, edge_bytes), binding(&uniform, 0, BINNING_BYTES)]);
        let launch = Launch {
            pipeline,
            params: binding(&params, 0, layout.size as u64),
            dst: binding(&global, 0, count_bytes),
            inputs,
            groups: n.div_ceil(LANES * HIST_ROWS),
        };
        launch.encode(ctx, &mut encoder, None);
    }
    Ok((encoder, global))
}

/// A new buffer of this job (wgpu fills it with zeros).
fn buffer(ctx: &Context, bytes: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
    let size = bytes.next_multiple_of(4);
    ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("swath histogram"),
        size,
        usage,
        mapped_at_creation: false,
    })
}

/// The type the estimate is computed in: f64 for f64 data, else f32.
fn estimate_type(data: DType) -> DType {
    match data {
        DType::F64 => DType::F64,
        _ => DType::F32,
    }
}

/// The `binning` uniform: `lo` and `scale` in the estimate type, the bins
/// that can hold a value, and `base` (integer data: the first counted
/// value, subtracted in `u32` so the estimate converts a small offset).
fn uniform_bytes<U: Element>(binning: &Binning<U>) -> Vec<u8> {
    let first = binning.edges[0];
    let (lo, base) = match U::DTYPE.is_float() {
        true => (binning.lo, [0; 4]),
        false => {
            let mut base = [0; 4];
            base.copy_from_slice(bytemuck::bytes_of(&first));
            (binning.lo - first.to_f64(), base)
        }
    };
    let mut bytes = Vec::with_capacity(BINNING_BYTES as usize);
    if estimate_type(U::DTYPE) == DType::F64 {
        bytes.extend(lo.to_le_bytes().into_iter().chain(binning.scale.to_le_bytes()));
    } else {
        bytes.extend((lo as f32).to_le_bytes().into_iter().chain((binning.scale as f32).to_le_bytes()));
    }
    bytes.extend((binning.reachable() as u32).to_le_bytes().into_iter().chain(base));
    bytes.resize(BINNING_BYTES as usize, 0);
    bytes
}

/// The declarations `shaders/histogram.wgsl` needs: its constants, the
/// thresholds and the `binning` uniform bound after the inputs, the NaN
/// test of the data's type and the estimate.
pub(super) fn header(structure: &Structure) -> String {
    let (data, slot) = (structure.output(), structure.inputs.len() + 2);
    let estimate = estimate_type(data);
    let mut header = format!("\nconst LOCAL_BINS: u32 = {LOCAL_BINS}u;\nconst HIST_ROWS: u32 = {HIST_ROWS}u;\n");
    let _ = writeln!(
        header,
        "struct Binning {{\n    lo: {estimate},\n    scale: {estimate},\n    bins: u32,\n    base: u32,\n}}"
    );
    let _ = writeln!(header, "@group(0) @binding({slot}) var<storage, read> edges: array<U>;");
    let _ = writeln!(header, "@group(0) @binding({}) var<uniform> binning: Binning;", slot + 1);
    let nan = match data {
        DType::F32 => "(bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u",
        // No 64-bit integers: narrowed to f32, a NaN stays a NaN.
        DType::F64 => "(bitcast<u32>(f32(x)) & 0x7fffffffu) > 0x7f800000u",
        DType::I32 | DType::U32 => "false",
    };
    let _ = writeln!(header, "fn is_nan_value(x: U) -> bool {{ return {nan}; }}");
    let offset = match data {
        DType::F32 | DType::F64 => "x - binning.lo",
        DType::I32 | DType::U32 => "f32(bitcast<u32>(x) - binning.base) - binning.lo",
    };
    let _ = writeln!(header, "fn estimate(x: U) -> {estimate} {{ return ({offset}) * binning.scale; }}");
    header
}
