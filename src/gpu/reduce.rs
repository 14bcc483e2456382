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
    let identity = reduce.identity::<T>();
    if input.is_empty() {
        return Ok(identity);
    }
    let size = size_of::<T>() as u64;
    let partials = tiles(input.len());
    if partials as u64 * size > ctx.info.max_binding_bytes {
        return Err(GpuError::Unsupported(format!(
            "{} elements need more tile partials than one binding holds",
            input.len()
        )));
    }
    let mut levels = Levels {
        ctx,
        params: scratch.get(&ctx.device, Role::Params, 0),
        scalars: op.map_or([0.0; 2], |op| op.scalars()).map(T::from_f64),
        identity,
        src: scratch.get(&ctx.device, Role::PartialsA, partials as u64 * size),
        dst: scratch.get(&ctx.device, Role::PartialsB, tiles(partials) as u64 * size),
    };
    let first =
        pipelines.get(&ctx.device, Kernel { dtype: T::DTYPE, op: op.map(|op| op.kind()), reduce: Some(reduce) });
    let mut encoder = levels.fold_input(&first, scratch, input, watch)?;
    let rest = pipelines.get(&ctx.device, Kernel { dtype: T::DTYPE, op: None, reduce: Some(reduce) });
    levels.fold_partials(&rest, &mut encoder, partials, watch)?;

    let readback = scratch.get(&ctx.device, Role::Readback, size);
    let mut encoder = watch.computed(ctx, encoder)?;
    encoder.copy_buffer_to_buffer(&levels.src, 0, &readback, 0, size);
    let submission = ctx.queue.submit([encoder.finish()]);
    let mut value = identity;
    read_back(ctx, &readback, size, submission, |view| value = bytemuck::pod_read_unaligned(view))?;
    watch.read();
    Ok(value)
}

/// The buffers of one reduction: `src` holds the current level's partials
/// (level one writes it), `dst` receives the next level's.
struct Levels<'a, T> {
    ctx: &'a Context,
    params: wgpu::Buffer,
    scalars: [T; 2],
    identity: T,
    src: wgpu::Buffer,
    dst: wgpu::Buffer,
}

impl<T: Element> Levels<'_, T> {
    fn params(&self, slot: u64, n: usize) {
        let [a, b] = self.scalars;
        self.ctx.queue.write_buffer(&self.params, slot * PARAM_SLOT, &params_bytes(a, b, self.identity, n as u32));
    }

    /// Level one: uploads `input` a chunk at a time and folds each chunk's
    /// tiles into `src`. Returns the encoder holding the last chunk's
    /// dispatch, not yet submitted, so later levels join its submission.
    fn fold_input(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        scratch: &mut Scratch,
        input: &[T],
        watch: &mut Stopwatch,
    ) -> Result<wgpu::CommandEncoder, GpuError> {
        let ctx = self.ctx;
        let size = size_of::<T>() as u64;
        let chunk = chunk_elements::<T>(ctx, TILE * TILE_ALIGN);
        let mut pending: Option<wgpu::CommandEncoder> = None;
        for (index, part) in input.chunks(chunk).enumerate() {
            if let Some(encoder) = pending.take() {
                // This chunk reuses the upload buffer: the last one must be done.
                let encoder = watch.computed(ctx, encoder)?;
                ctx.wait(ctx.queue.submit([encoder.finish()]))?;
            }
            let bytes = size_of_val(part) as u64;
            let upload = scratch.get(&ctx.device, Role::Input, bytes);
            self.params(0, part.len());
            ctx.queue.write_buffer(&upload, 0, bytemuck::cast_slice(part));
            watch.uploaded(ctx)?;
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            let dispatch = Dispatch {
                pipeline,
                params: &self.params,
                slot: 0,
                src: binding(&upload, 0, bytes),
                dst: binding(&self.src, (index * chunk / TILE) as u64 * size, tiles(part.len()) as u64 * size),
                groups: tiles(part.len()),
            };
            dispatch.encode(ctx, &mut encoder, watch.pass_writes(ctx));
            pending = Some(encoder);
        }
        Ok(pending.unwrap_or_else(|| ctx.device.create_command_encoder(&Default::default())))
    }

    /// Later levels: folds the `len` partials in `src` until one is left
    /// there, swapping `src` and `dst` after each level.
    fn fold_partials(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        encoder: &mut wgpu::CommandEncoder,
        mut len: usize,
        watch: &mut Stopwatch,
    ) -> Result<(), GpuError> {
        let size = size_of::<T>() as u64;
        let mut slot = 1;
        while len > 1 {
            if slot >= PARAM_SLOTS {
                return Err(GpuError::Unsupported("too many reduction levels for one submission".into()));
            }
            self.params(slot, len);
            let dispatch = Dispatch {
                pipeline,
                params: &self.params,
                slot,
                src: binding(&self.src, 0, len as u64 * size),
                dst: binding(&self.dst, 0, tiles(len) as u64 * size),
                groups: tiles(len),
            };
            dispatch.encode(self.ctx, encoder, watch.pass_writes(self.ctx));
            std::mem::swap(&mut self.src, &mut self.dst);
            len = tiles(len);
            slot += 1;
        }
        Ok(())
    }
}
