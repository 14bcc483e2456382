//! Element-wise map on the GPU, one binding-sized chunk at a time.

use super::kernel::Kernel;
use super::profile::Stopwatch;
use super::scratch::{param_slot_bytes, read_back, Role, Scratch};
use super::{binding, chunk_elements, widest, Context, Dispatch, Pipelines};
use crate::canonical::LANES;
use crate::dtype::Element;
use crate::error::GpuError;
use crate::expr::program::Program;
use crate::inputs::Column;

pub(super) fn run<U: Element>(
    ctx: &Context,
    pipelines: &Pipelines,
    scratch: &mut Scratch,
    program: &Program,
    columns: &[Column<'_>],
    out: &mut [U],
    watch: &mut Stopwatch,
) -> Result<(), GpuError> {
    let kernel = Kernel { structure: program.structure.clone(), reduce: None };
    let layout = kernel.layout();
    let pipeline = pipelines.get(&ctx.device, &kernel);
    let chunk = chunk_elements(ctx, widest(program), LANES);
    for (index, dst) in out.chunks_mut(chunk).enumerate() {
        let start = index * chunk;
        let bytes = size_of_val(dst) as u64;
        let params = scratch.get(&ctx.device, Role::Params, param_slot_bytes(layout.size));
        ctx.queue.write_buffer(&params, 0, &layout.bytes(dst.len() as u32, start as u32, None, &program.consts));
        let uploads = upload(ctx, scratch, program, columns, start..start + dst.len());
        let result = scratch.get(&ctx.device, Role::Output, bytes);
        let readback = scratch.get(&ctx.device, Role::Readback, bytes);
        watch.uploaded(ctx)?;

        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        let dispatch = Dispatch {
            pipeline: &pipeline,
            params: binding(&params, 0, layout.size as u64),
            dst: binding(&result, 0, bytes),
            inputs: uploads.iter().map(|(buffer, bytes)| binding(buffer, 0, *bytes)).collect(),
            groups: dst.len().div_ceil(LANES),
        };
        dispatch.encode(ctx, &mut encoder, watch.pass_writes(ctx));
        let mut encoder = watch.computed(ctx, encoder)?;
        encoder.copy_buffer_to_buffer(&result, 0, &readback, 0, bytes);
        let submission = ctx.queue.submit([encoder.finish()]);
        read_back(ctx, &readback, bytes, submission, |view| dst.copy_from_slice(bytemuck::cast_slice(view)))?;
        watch.read();
    }
    Ok(())
}

/// Writes elements `range` of each column the program reads into its
/// input buffer; returns the buffers and the bytes written to each.
pub(super) fn upload(
    ctx: &Context,
    scratch: &mut Scratch,
    program: &Program,
    columns: &[Column<'_>],
    range: std::ops::Range<usize>,
) -> Vec<(wgpu::Buffer, u64)> {
    let mut uploads = Vec::with_capacity(program.columns.len());
    for (slot, &column) in program.columns.iter().enumerate() {
        let part = columns[column].slice(range.clone());
        let bytes = part.bytes();
        let buffer = scratch.get(&ctx.device, Role::Input(slot), bytes.len() as u64);
        ctx.queue.write_buffer(&buffer, 0, bytes);
        uploads.push((buffer, bytes.len() as u64));
    }
    uploads
}
