//! Canonical-order reduction on the GPU.
//!
//! Level one folds the input, chunk by chunk, into one partial per tile;
//! chunks hold whole tiles, so chunking does not change the order. Later
//! levels fold the partials, ping-ponging between two buffers, in the same
//! submission as the last chunk; only the final value is read back.

use super::kernel::{Kernel, Layout};
use super::map::upload;
use super::profile::Stopwatch;
use super::scratch::{param_slot_bytes, read_back, Role, Scratch, PARAM_SLOTS};
use super::{binding, chunk_elements, widest, Context, Dispatch, Pipelines};
use crate::canonical::{tiles, TILE};
use crate::dtype::Element;
use crate::error::GpuError;
use crate::expr::program::{Program, Scalar, Structure};
use crate::inputs::Column;
use crate::op::Reduce;
use std::sync::Arc;

/// Tiles per chunk are a multiple of this, so each chunk's partials start
/// at a storage-offset-aligned byte (256 bytes at most, 4 bytes a partial).
const TILE_ALIGN: usize = 64;

/// What to reduce: `len` elements of `program(columns)`.
pub(super) struct Job<'a> {
    pub program: &'a Program,
    pub columns: &'a [Column<'a>],
    pub len: usize,
    pub reduce: Reduce,
}

pub(super) fn run<U: Element>(
    ctx: &Context,
    pipelines: &Pipelines,
    scratch: &mut Scratch,
    job: &Job<'_>,
    watch: &mut Stopwatch,
) -> Result<U, GpuError> {
    let identity = job.reduce.identity::<U>();
    if job.len == 0 {
        return Ok(identity);
    }
    let size = size_of::<U>() as u64;
    let partials = tiles(job.len);
    if partials as u64 * size > ctx.info.max_binding_bytes {
        return Err(GpuError::Unsupported(format!(
            "{} elements need more tile partials than one binding holds",
            job.len
        )));
    }
    let first = Kernel { structure: job.program.structure.clone(), reduce: Some(job.reduce) };
    let rest = Kernel { structure: Arc::new(Structure::identity(U::DTYPE)), reduce: Some(job.reduce) };
    let (first_layout, rest_layout) = (first.layout(), rest.layout());
    let slot_bytes = param_slot_bytes(first_layout.size.max(rest_layout.size));
    let mut levels = Levels {
        ctx,
        params: scratch.get(&ctx.device, Role::Params, slot_bytes * PARAM_SLOTS),
        slot_bytes,
        identity: Scalar::of(identity),
        src: scratch.get(&ctx.device, Role::PartialsA, partials as u64 * size),
        dst: scratch.get(&ctx.device, Role::PartialsB, tiles(partials) as u64 * size),
        size,
    };
    let mut encoder = levels.fold_input(&pipelines.get(&ctx.device, &first), &first_layout, scratch, job, watch)?;
    levels.fold_partials(&pipelines.get(&ctx.device, &rest), &rest_layout, &mut encoder, partials, watch)?;

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
struct Levels<'a> {
    ctx: &'a Context,
    params: wgpu::Buffer,
    /// Bytes of one dispatch's parameters in `params`.
    slot_bytes: u64,
    identity: Scalar,
    src: wgpu::Buffer,
    dst: wgpu::Buffer,
    /// Bytes of one partial.
    size: u64,
}

impl Levels<'_> {
    /// Writes the parameters of a dispatch over `n` elements from element
    /// `offset` into `slot`, and returns their binding.
    fn params(
        &self,
        slot: u64,
        layout: &Layout,
        n: usize,
        offset: usize,
        consts: &[Scalar],
    ) -> wgpu::BufferBinding<'_> {
        let bytes = layout.bytes(n as u32, offset as u32, Some(self.identity), consts);
        self.ctx.queue.write_buffer(&self.params, slot * self.slot_bytes, &bytes);
        binding(&self.params, slot * self.slot_bytes, layout.size as u64)
    }

    /// Level one: uploads the inputs a chunk at a time and folds each
    /// chunk's tiles into `src`. Returns the encoder holding the last
    /// chunk's dispatch, not yet submitted, so later levels join its
    /// submission.
    fn fold_input(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        layout: &Layout,
        scratch: &mut Scratch,
        job: &Job<'_>,
        watch: &mut Stopwatch,
    ) -> Result<wgpu::CommandEncoder, GpuError> {
        let ctx = self.ctx;
        let chunk = chunk_elements(ctx, widest(job.program), TILE * TILE_ALIGN);
        let mut pending: Option<wgpu::CommandEncoder> = None;
        for start in (0..job.len).step_by(chunk) {
            if let Some(encoder) = pending.take() {
                // This chunk reuses the upload buffers: the last one must be done.
                let encoder = watch.computed(ctx, encoder)?;
                ctx.wait(ctx.queue.submit([encoder.finish()]))?;
            }
            let n = chunk.min(job.len - start);
            let uploads = upload(ctx, scratch, job.program, job.columns, start..start + n);
            watch.uploaded(ctx)?;
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            let dispatch = Dispatch {
                pipeline,
                params: self.params(0, layout, n, start, &job.program.consts),
                dst: binding(&self.src, (start / TILE) as u64 * self.size, tiles(n) as u64 * self.size),
                inputs: uploads.iter().map(|(buffer, bytes)| binding(buffer, 0, *bytes)).collect(),
                groups: tiles(n),
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
        layout: &Layout,
        encoder: &mut wgpu::CommandEncoder,
        mut len: usize,
        watch: &mut Stopwatch,
    ) -> Result<(), GpuError> {
        let mut slot = 1;
        while len > 1 {
            if slot >= PARAM_SLOTS {
                return Err(GpuError::Unsupported("too many reduction levels for one submission".into()));
            }
            let dispatch = Dispatch {
                pipeline,
                params: self.params(slot, layout, len, 0, &[]),
                dst: binding(&self.dst, 0, tiles(len) as u64 * self.size),
                inputs: vec![binding(&self.src, 0, len as u64 * self.size)],
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
