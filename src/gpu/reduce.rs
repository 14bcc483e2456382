//! Canonical-order reduction on the GPU.
//!
//! Level one folds the input, chunk by chunk, into one partial per tile;
//! chunks hold whole tiles, so chunking does not change the order. Later
//! levels fold the partials, ping-ponging between two buffers, in the same
//! submission as the last chunk; only the final value is read back.

use super::kernel::Kernel;
use super::profile::Stopwatch;
use super::scratch::{params_bytes, read_back, Role, Scratch, PARAM_SLOT, PARAM_SLOTS};
use super::{binding, chunk_elements, Context, Dispatch, Pipelines};
use crate::canonical::{tiles, TILE};
use crate::dtype::Element;
use crate::error::GpuError;
use crate::op::{Op, Reduce};

/// Tiles per chunk are a multiple of this, so each chunk's partials start
/// at a storage-offset-aligned byte (256 bytes at most, 4 bytes a partial).
const TILE_ALIGN: usize = 64;

pub(super) fn run<T: Element>(
    ctx: &Context,
    pipelines: &Pipelines,
    scratch: &mut Scratch,
    input: &[T],
    op: Option<Op>,
    reduce: Reduce,
    watch: &mut Stopwatch,
) -> Result<T, GpuError> {
    let identity = identity::<T>(reduce);
    if input.is_empty() {
        return Ok(identity);
    }
    let size = size_of::<T>() as u64;
    let first =
        pipelines.get(&ctx.device, Kernel { dtype: T::DTYPE, op: op.map(|op| op.kind()), reduce: Some(reduce) });
    let rest = pipelines.get(&ctx.device, Kernel { dtype: T::DTYPE, op: None, reduce: Some(reduce) });
    let [a, b] = op.map_or([0.0; 2], |op| op.scalars()).map(T::from_f64);

    let partials = tiles(input.len());
    if partials as u64 * size > ctx.info.max_binding_bytes {
        return Err(GpuError::Unsupported(format!(
            "{} elements need more tile partials than one binding holds",
            input.len()
        )));
    }
    let mut src = scratch.get(&ctx.device, Role::PartialsA, partials as u64 * size);
    let mut dst = scratch.get(&ctx.device, Role::PartialsB, tiles(partials) as u64 * size);
    let params = scratch.get(&ctx.device, Role::Params, 0);
    let readback = scratch.get(&ctx.device, Role::Readback, size);

    let chunk = chunk_elements::<T>(ctx, TILE * TILE_ALIGN);
    let chunks = input.len().div_ceil(chunk);
    for (index, part) in input.chunks(chunk).enumerate() {
        let bytes = size_of_val(part) as u64;
        let upload = scratch.get(&ctx.device, Role::Input, bytes);
        ctx.queue.write_buffer(&params, 0, &params_bytes(a, b, identity, part.len() as u32));
        ctx.queue.write_buffer(&upload, 0, bytemuck::cast_slice(part));
        watch.uploaded(ctx)?;
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        let out_offset = (index * chunk / TILE) as u64 * size;
        let out_bytes = tiles(part.len()) as u64 * size;
        let dispatch = Dispatch {
            pipeline: &first,
            params: &params,
            slot: 0,
            src: binding(&upload, 0, bytes),
            dst: binding(&src, out_offset, out_bytes),
            groups: tiles(part.len()),
        };
        dispatch.encode(ctx, &mut encoder, watch.pass_writes(ctx));
        if index + 1 < chunks {
            // The next chunk reuses the upload buffer: wait before writing it.
            let encoder = watch.computed(ctx, encoder)?;
            ctx.wait(ctx.queue.submit([encoder.finish()]))?;
            continue;
        }
        let mut len = partials;
        let mut slot = 1;
        while len > 1 {
            if slot >= PARAM_SLOTS {
                return Err(GpuError::Unsupported("too many reduction levels for one submission".into()));
            }
            ctx.queue.write_buffer(&params, slot * PARAM_SLOT, &params_bytes(a, b, identity, len as u32));
            let (in_bytes, out_bytes) = (len as u64 * size, tiles(len) as u64 * size);
            let dispatch = Dispatch {
                pipeline: &rest,
                params: &params,
                slot,
                src: binding(&src, 0, in_bytes),
                dst: binding(&dst, 0, out_bytes),
                groups: tiles(len),
            };
            dispatch.encode(ctx, &mut encoder, watch.pass_writes(ctx));
            std::mem::swap(&mut src, &mut dst);
            len = tiles(len);
            slot += 1;
        }
        let mut encoder = watch.computed(ctx, encoder)?;
        encoder.copy_buffer_to_buffer(&src, 0, &readback, 0, size);
        let submission = ctx.queue.submit([encoder.finish()]);
        let mut value = identity;
        read_back(ctx, &readback, size, submission, |view| value = bytemuck::pod_read_unaligned(view))?;
        watch.read();
        return Ok(value);
    }
    Ok(identity)
}

fn identity<T: Element>(reduce: Reduce) -> T {
    match reduce {
        Reduce::Sum => T::ZERO,
        Reduce::Product => T::ONE,
        Reduce::Min => T::HIGHEST,
        Reduce::Max => T::LOWEST,
    }
}
