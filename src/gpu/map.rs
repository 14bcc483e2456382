//! Element-wise map on the GPU, one binding-sized chunk at a time.

use super::kernel::Kernel;
use super::profile::Stopwatch;
use super::scratch::{params_bytes, read_back, Role, Scratch};
use super::{binding, chunk_elements, Context, Dispatch, Pipelines};
use crate::canonical::LANES;
use crate::dtype::Element;
use crate::error::GpuError;
use crate::op::Op;

pub(super) fn run<T: Element>(
    ctx: &Context,
    pipelines: &Pipelines,
    scratch: &mut Scratch,
    input: &[T],
    out: &mut [T],
    op: Op,
    watch: &mut Stopwatch,
) -> Result<(), GpuError> {
    let pipeline = pipelines.get(&ctx.device, Kernel { dtype: T::DTYPE, op: Some(op.kind()), reduce: None });
    let [a, b] = op.scalars().map(T::from_f64);
    let chunk = chunk_elements::<T>(ctx, LANES);
    for (src, dst) in input.chunks(chunk).zip(out.chunks_mut(chunk)) {
        let bytes = size_of_val(src) as u64;
        let params = scratch.get(&ctx.device, Role::Params, 0);
        let upload = scratch.get(&ctx.device, Role::Input, bytes);
        let result = scratch.get(&ctx.device, Role::Output, bytes);
        let readback = scratch.get(&ctx.device, Role::Readback, bytes);
        ctx.queue.write_buffer(&params, 0, &params_bytes(a, b, T::ZERO, src.len() as u32));
        ctx.queue.write_buffer(&upload, 0, bytemuck::cast_slice(src));
        watch.uploaded(ctx)?;

        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        let dispatch = Dispatch {
            pipeline: &pipeline,
            params: &params,
            slot: 0,
            src: binding(&upload, 0, bytes),
            dst: binding(&result, 0, bytes),
            groups: src.len().div_ceil(LANES),
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
