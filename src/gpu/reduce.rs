//! Canonical-order reduction on the GPU.
//!
//! Level one folds the input, piece by piece, into one partial per tile;
//! pieces (uploaded chunks or resident segments) hold whole tiles, so
//! cutting the input does not change the order. Later levels fold the
//! partials, ping-ponging between two buffers, in the same submission as
//! the last piece; only the final value leaves the partial buffers (or,
//! for a reduction shared with the CPU, level one's partials: see
//! [`first_level`]).

use super::kernel::{Kernel, Layout};
use super::profile::Stopwatch;
use super::resident::DeviceArray;
use super::scratch::{param_slot_bytes, read_back, Role, Scratch, PARAM_SLOTS};
use super::stream::Uploads;
use super::{binding, chunk_elements, widest, Context, KernelCache, Launch};
use crate::canonical::{tiles, TILE};
use crate::column::Column;
use crate::dtype::{DType, Element};
use crate::error::GpuError;
use crate::expr::program::{Program, Scalar};
use crate::op::Reduce;

/// Tiles per piece are a multiple of this, so each piece's partials start
/// at a storage-offset-aligned byte (256 bytes at most, 4 bytes a partial).
pub(super) const TILE_ALIGN: usize = 64;

/// What to reduce: `len` elements of `program(columns)`.
pub(super) struct ReduceTask<'a> {
    pub program: &'a Program,
    pub columns: &'a [Column<'a>],
    pub len: usize,
    pub reduce: Reduce,
}

/// Reduces host data, uploading it a chunk at a time.
pub(super) fn run<U: Element>(
    ctx: &Context,
    pipelines: &KernelCache,
    scratch: &mut Scratch,
    job: &ReduceTask<'_>,
    watch: &mut Stopwatch,
) -> Result<U, GpuError> {
    let identity = job.reduce.identity::<U>();
    if job.len == 0 {
        return Ok(identity);
    }
    let (kernels, mut levels, mut encoder) = fold_host(ctx, pipelines, scratch, job, watch)?;
    levels.fold_partials(&kernels, &mut encoder, 1, watch)?;
    let value = levels.read_partials::<U>(scratch, encoder, 1, watch)?;
    Ok(value.first().copied().unwrap_or(identity))
}

/// Level one of [`run`] alone: the partial of every tile of host data,
/// read back (none for no data), for a reduction whose other tiles are
/// folded elsewhere and whose later levels run on the host.
pub(super) fn first_level<U: Element>(
    ctx: &Context,
    pipelines: &KernelCache,
    scratch: &mut Scratch,
    job: &ReduceTask<'_>,
    watch: &mut Stopwatch,
) -> Result<Vec<U>, GpuError> {
    if job.len == 0 {
        return Ok(Vec::new());
    }
    let (_, mut levels, encoder) = fold_host(ctx, pipelines, scratch, job, watch)?;
    let partials = levels.partials;
    levels.read_partials(scratch, encoder, partials, watch)
}

/// Level one over host data (`job.len > 0`): the kernels, the partials
/// (in `src`), and the encoder holding the last chunk, not yet submitted.
fn fold_host<'a>(
    ctx: &'a Context,
    pipelines: &KernelCache,
    scratch: &mut Scratch,
    job: &ReduceTask<'_>,
    watch: &mut Stopwatch,
) -> Result<(Kernels, Levels<'a>, wgpu::CommandEncoder), GpuError> {
    let kernels = Kernels::new(ctx, pipelines, job.program, job.reduce)?;
    let params = scratch.get(&ctx.device, Role::Params, kernels.slot_bytes * PARAM_SLOTS);
    let mut levels = Levels::new(ctx, scratch, &kernels, params, PARAM_SLOTS as usize, job.len, job.reduce)?;
    let encoder = levels.fold_input(&kernels, scratch, job, watch)?;
    Ok((kernels, levels, encoder))
}

/// What to reduce on the device: `program(inputs)`.
pub(super) struct ResidentReduce<'a> {
    pub program: &'a Program,
    pub inputs: &'a [&'a DeviceArray],
    pub reduce: Reduce,
}

/// Encodes a reduction of arrays that live on the device, leaving the
/// value in `out` (one element). Nothing is submitted.
pub(super) fn encode_resident(
    ctx: &Context,
    pipelines: &KernelCache,
    scratch: &mut Scratch,
    encoder: &mut wgpu::CommandEncoder,
    job: &ResidentReduce<'_>,
    out: &DeviceArray,
) -> Result<(), GpuError> {
    let ResidentReduce { program, inputs, reduce } = *job;
    let size = program.structure.output().size() as u64;
    let len = inputs.first().map_or(0, |a| a.len);
    if len == 0 {
        // `out` is new, so this write cannot overtake anything encoded before.
        ctx.queue.write_buffer(out.segment(0), 0, &identity(reduce, program.structure.output()).to_le_bytes());
        return Ok(());
    }
    let kernels = Kernels::new(ctx, pipelines, program, reduce)?;
    let segments = len.div_ceil(DeviceArray::segment_len(ctx));
    let slots = segments + levels_after(tiles(len)) + 1;
    let params = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("swath stage parameters"),
        size: kernels.slot_bytes * slots as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut levels = Levels::new(ctx, scratch, &kernels, params, slots, len, reduce)?;
    let segment = DeviceArray::segment_len(ctx);
    for (index, start) in (0..len).step_by(segment).enumerate() {
        let n = segment.min(len - start);
        let slot = levels.params(index, &kernels.first_layout, n, start, &program.consts);
        let dispatch = Launch {
            pipeline: &kernels.first,
            params: levels.binding(slot),
            dst: binding(&levels.src, (start / TILE) as u64 * levels.size, tiles(n) as u64 * levels.size),
            inputs: inputs.iter().map(|a| a.binding(index, n)).collect(),
            groups: tiles(n),
        };
        dispatch.encode(ctx, encoder, None);
    }
    levels.fold_partials(&kernels, encoder, segments, &mut Stopwatch::off())?;
    // The caller submits the encoder after this, and nothing else in it
    // reads these parameters' buffer.
    levels.flush();
    encoder.copy_buffer_to_buffer(&levels.src, 0, out.segment(0), 0, size);
    Ok(())
}

/// How many later levels fold `partials` partials down to one.
fn levels_after(mut partials: usize) -> usize {
    let mut levels = 0;
    while partials > 1 {
        partials = tiles(partials);
        levels += 1;
    }
    levels
}

/// The two pipelines of a reduction: level one applies the program,
/// later levels fold partials of its output type.
struct Kernels {
    first: wgpu::ComputePipeline,
    first_layout: Layout,
    rest: wgpu::ComputePipeline,
    rest_layout: Layout,
    /// Bytes of one dispatch's parameters, for either kernel.
    slot_bytes: u64,
    output: DType,
}

impl Kernels {
    fn new(ctx: &Context, pipelines: &KernelCache, program: &Program, reduce: Reduce) -> Result<Kernels, GpuError> {
        let output = program.structure.output();
        let [first, rest] = Kernel::reduce_levels(&program.structure, reduce);
        let (first_layout, rest_layout) = (first.layout(), rest.layout());
        let slot_bytes = param_slot_bytes(first_layout.size.max(rest_layout.size));
        Ok(Kernels {
            first: pipelines.get(ctx, &first)?,
            first_layout,
            rest: pipelines.get(ctx, &rest)?,
            rest_layout,
            slot_bytes,
            output,
        })
    }
}

/// Where a dispatch's parameters are in [`Levels::params`]'s buffer.
#[derive(Clone, Copy)]
struct ParamSlot {
    offset: u64,
    bytes: u64,
}

/// The buffers of one reduction: `src` holds the current level's partials
/// (level one writes it), `dst` receives the next level's.
struct Levels<'a> {
    ctx: &'a Context,
    params: wgpu::Buffer,
    /// The parameters written so far, copied into `params` by one write
    /// before each submission ([`Levels::flush`]) rather than one write
    /// (and one wgpu staging allocation) per dispatch.
    staged: Vec<u8>,
    /// Bytes of `staged` written since the last flush (a prefix).
    unflushed: usize,
    /// Bytes of one dispatch's parameters in `params`.
    slot_bytes: u64,
    /// Dispatches `params` has room for.
    slots: usize,
    identity: Scalar,
    src: wgpu::Buffer,
    dst: wgpu::Buffer,
    /// Bytes of one partial.
    size: u64,
    /// Partials level one writes.
    partials: usize,
}

impl<'a> Levels<'a> {
    /// Partial buffers for a reduction of `len` elements, dispatch
    /// parameters in `params` (`slots` of them).
    fn new(
        ctx: &'a Context,
        scratch: &mut Scratch,
        kernels: &Kernels,
        params: wgpu::Buffer,
        slots: usize,
        len: usize,
        reduce: Reduce,
    ) -> Result<Levels<'a>, GpuError> {
        let size = kernels.output.size() as u64;
        let partials = tiles(len);
        if partials as u64 * size > ctx.info.max_binding_bytes {
            return Err(GpuError::Unsupported(format!(
                "{len} elements need more tile partials than one binding holds"
            )));
        }
        Ok(Levels {
            ctx,
            staged: vec![0; (params.size() as usize).min(slots * kernels.slot_bytes as usize)],
            unflushed: 0,
            params,
            slot_bytes: kernels.slot_bytes,
            slots,
            identity: identity(reduce, kernels.output),
            src: scratch.get(&ctx.device, Role::PartialsA, partials as u64 * size),
            dst: scratch.get(&ctx.device, Role::PartialsB, tiles(partials) as u64 * size),
            size,
            partials,
        })
    }

    /// Stages the parameters of a dispatch over `n` elements from element
    /// `offset` in `slot`, and returns their binding.
    fn params(&mut self, slot: usize, layout: &Layout, n: usize, offset: usize, consts: &[Scalar]) -> ParamSlot {
        let bytes = layout.bytes(n as u32, offset as u32, Some(self.identity), consts);
        let offset = slot * self.slot_bytes as usize;
        self.staged[offset..offset + bytes.len()].copy_from_slice(&bytes);
        self.unflushed = self.unflushed.max(offset + bytes.len());
        ParamSlot { offset: offset as u64, bytes: layout.size as u64 }
    }

    /// The binding of a staged slot.
    fn binding(&self, slot: ParamSlot) -> wgpu::BufferBinding<'_> {
        binding(&self.params, slot.offset, slot.bytes)
    }

    /// Writes the staged parameters into their buffer. Runs before every
    /// submission of dispatches that read them: queue order puts the write
    /// after all earlier submissions, which have read the slots it reuses.
    fn flush(&mut self) {
        if self.unflushed > 0 {
            // Uniform writes must be whole multiples of 4 bytes.
            let bytes = self.unflushed.next_multiple_of(4).min(self.staged.len());
            self.ctx.queue.write_buffer(&self.params, 0, &self.staged[..bytes]);
            self.unflushed = 0;
        }
    }

    /// Level one: uploads the inputs a chunk at a time and folds each
    /// chunk's tiles into `src`. Returns the encoder holding the last
    /// chunk's dispatch, not yet submitted, so later levels join its
    /// submission. Earlier chunks are submitted without waiting: the next
    /// chunk's upload overlaps their kernels. Every chunk uses parameter
    /// slot 0; queue order puts each write after the dispatch before it.
    fn fold_input(
        &mut self,
        kernels: &Kernels,
        scratch: &mut Scratch,
        job: &ReduceTask<'_>,
        watch: &mut Stopwatch,
    ) -> Result<wgpu::CommandEncoder, GpuError> {
        let ctx = self.ctx;
        let chunk = chunk_elements(ctx, widest(job.program), TILE * TILE_ALIGN).min(job.len.max(1));
        let mut uploads = Uploads::open(ctx, scratch, job.program, job.columns, chunk);
        let mut pending: Option<wgpu::CommandEncoder> = None;
        for start in (0..job.len).step_by(chunk) {
            if let Some(encoder) = pending.take() {
                self.flush();
                let encoder = watch.computed(ctx, encoder)?;
                uploads.submitted(ctx.submit([encoder.finish()]));
            }
            let n = chunk.min(job.len - start);
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            uploads.write(ctx, &mut encoder, start..start + n)?;
            let mut encoder = watch.uploaded(ctx, encoder)?;
            let slot = self.params(0, &kernels.first_layout, n, start, &job.program.consts);
            let dispatch = Launch {
                pipeline: &kernels.first,
                params: self.binding(slot),
                dst: binding(&self.src, (start / TILE) as u64 * self.size, tiles(n) as u64 * self.size),
                inputs: uploads.bindings(n),
                groups: tiles(n),
            };
            dispatch.encode(ctx, &mut encoder, watch.pass_writes(ctx));
            pending = Some(encoder);
        }
        Ok(pending.unwrap_or_else(|| ctx.device.create_command_encoder(&Default::default())))
    }

    /// Later levels: folds the partials in `src` until one is left there,
    /// swapping `src` and `dst` after each level; parameters from `slot` on.
    fn fold_partials(
        &mut self,
        kernels: &Kernels,
        encoder: &mut wgpu::CommandEncoder,
        mut slot: usize,
        watch: &mut Stopwatch,
    ) -> Result<(), GpuError> {
        let mut len = self.partials;
        while len > 1 {
            if slot >= self.slots {
                return Err(GpuError::Internal("too many reduction levels for one submission".into()));
            }
            let staged = self.params(slot, &kernels.rest_layout, len, 0, &[]);
            let dispatch = Launch {
                pipeline: &kernels.rest,
                params: self.binding(staged),
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

    /// Submits `encoder` with a copy of the first `count` partials in
    /// `src` and reads them back, counting the traffic.
    fn read_partials<U: Element>(
        &mut self,
        scratch: &mut Scratch,
        encoder: wgpu::CommandEncoder,
        count: usize,
        watch: &mut Stopwatch,
    ) -> Result<Vec<U>, GpuError> {
        debug_assert_eq!(self.size, size_of::<U>() as u64, "the partials' type is the program's output");
        let ctx = self.ctx;
        let bytes = (count * size_of::<U>()) as u64;
        let readback = scratch.get(&ctx.device, Role::Readback, bytes);
        self.flush();
        let mut encoder = watch.computed(ctx, encoder)?;
        encoder.copy_buffer_to_buffer(&self.src, 0, &readback, 0, bytes);
        let submission = ctx.submit([encoder.finish()]);
        let mut values = vec![U::default(); count];
        read_back(ctx, &readback, bytes, submission, |view| {
            bytemuck::cast_slice_mut::<U, u8>(&mut values).copy_from_slice(view)
        })?;
        ctx.counters.read_back(bytes);
        watch.read();
        Ok(values)
    }
}

/// The identity of `reduce` as a scalar of `dtype`.
pub(super) fn identity(reduce: Reduce, dtype: DType) -> Scalar {
    match dtype {
        DType::F32 => Scalar::of(reduce.identity::<f32>()),
        DType::F64 => Scalar::of(reduce.identity::<f64>()),
        DType::I32 => Scalar::of(reduce.identity::<i32>()),
        DType::U32 => Scalar::of(reduce.identity::<u32>()),
    }
}
