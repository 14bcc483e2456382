//! Canonical-order scans of host data on the GPU (see
//! [`crate::canonical`], "Scans"), in two passes over the input as on the
//! CPU:
//!
//! 1. every chunk is uploaded and each of its tiles' totals written to a
//!    device array of all the totals;
//! 2. the totals are scanned on the device by the same two kernels over
//!    their own tiles, recursively (1/4096 of the input per level);
//! 3. every chunk's tiles are scanned again, offset by the scanned totals
//!    (the `carry` binding), and read back.
//!
//! An input that fits one chunk is uploaded once and the whole job is one
//! submission; a larger one is uploaded again for pass 3. Arrays already
//! on the device are read in place, segment by segment, and the result
//! is written into a new device array instead of being read back.

mod resident;

pub(super) use resident::CountScan;

use super::kernel::{Kernel, Kind, Layout};
use super::reduce::identity;
use super::scratch::{param_slot_bytes, Role, Scratch};
use super::source::{Columns, Source};
use super::stream::Reader;
use super::{binding, Context, KernelCache, Launch};
use crate::canonical::{tiles, TILE};
use crate::column::Column;
use crate::dtype::Element;
use crate::error::GpuError;
use crate::expr::program::{Program, Scalar, Structure};
use crate::op::Reduce;
use std::ops::Range;
use std::sync::Arc;

/// The kernels of a scan over `structure`: its tile totals and tile scans,
/// and the same two over the totals (an identity structure).
pub(super) fn kernels(structure: &Arc<Structure>, reduce: Reduce) -> [Kernel; 4] {
    let totals = Arc::new(Structure::identity(structure.output()));
    let of = |structure: &Arc<Structure>, kind| Kernel { structure: Arc::clone(structure), kind };
    [
        of(structure, Kind::ScanTotals(reduce)),
        of(structure, Kind::ScanApply(reduce)),
        of(&totals, Kind::ScanTotals(reduce)),
        of(&totals, Kind::ScanApply(reduce)),
    ]
}

/// One kernel's pipeline and parameter layout.
struct Pipeline {
    pipeline: wgpu::ComputePipeline,
    layout: Layout,
}

/// A scan's pipelines: over the input, and over tile totals.
struct Pipelines {
    input_totals: Pipeline,
    input_apply: Pipeline,
    level_totals: Pipeline,
    level_apply: Pipeline,
    /// Bytes of one element of the result.
    size: u64,
}

impl Pipelines {
    fn new(ctx: &Context, cache: &KernelCache, program: &Program, reduce: Reduce) -> Result<Pipelines, GpuError> {
        let get = |kernel: &Kernel| Ok(Pipeline { pipeline: cache.get(ctx, kernel)?, layout: kernel.layout() });
        let [a, b, c, d] = kernels(&program.structure, reduce);
        Ok(Pipelines {
            input_totals: get(&a)?,
            input_apply: get(&b)?,
            level_totals: get(&c)?,
            level_apply: get(&d)?,
            size: program.structure.output().size() as u64,
        })
    }
}

/// A uniform buffer with one parameter slot per dispatch of the job:
/// parameters written with the queue land before the next submission, so
/// dispatches of one submission must not share a slot.
struct Slots {
    buffer: wgpu::Buffer,
    slot_bytes: u64,
    used: u64,
    identity: Scalar,
}

impl Slots {
    fn new(ctx: &Context, pipelines: &Pipelines, dispatches: usize, identity: Scalar) -> Slots {
        let layouts =
            [&pipelines.input_totals, &pipelines.input_apply, &pipelines.level_totals, &pipelines.level_apply];
        let slot_bytes = param_slot_bytes(layouts.iter().map(|p| p.layout.size).max().unwrap_or(16));
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("swath scan parameters"),
            size: slot_bytes * dispatches.max(1) as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Slots { buffer, slot_bytes, used: 0, identity }
    }

    /// Writes the parameters of a dispatch over `n` elements from element
    /// `offset` into the next free slot and returns its binding.
    fn next(
        &mut self,
        ctx: &Context,
        layout: &Layout,
        n: usize,
        offset: usize,
        consts: &[Scalar],
    ) -> wgpu::BufferBinding<'_> {
        let at = self.used * self.slot_bytes;
        self.used += 1;
        ctx.queue.write_buffer(&self.buffer, at, &layout.bytes(n as u32, offset as u32, Some(self.identity), consts));
        binding(&self.buffer, at, layout.size as u64)
    }
}

/// Dispatches the scan of `m` tile totals needs, over all its levels.
fn level_dispatches(m: usize) -> usize {
    match m {
        0 | 1 => 0,
        m if m <= TILE => 1,
        m => 2 + level_dispatches(tiles(m)),
    }
}

/// A device array of `len` values of `size` bytes.
fn storage(ctx: &Context, len: usize, size: u64) -> wgpu::Buffer {
    ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("swath scan totals"),
        size: (len.max(1) as u64 * size).next_multiple_of(4),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    })
}

/// A scan in progress: its pipelines, parameter slots and input pieces.
struct ScanJob<'a> {
    pipelines: Pipelines,
    slots: Slots,
    source: Source<'a>,
    program: &'a Program,
    len: usize,
    /// Elements per piece of the input.
    piece: usize,
}

impl<'a> ScanJob<'a> {
    /// A scan of `len` elements (at least one) of `program(columns)`.
    fn open(
        ctx: &Context,
        cache: &KernelCache,
        scratch: &mut Scratch,
        program: &'a Program,
        columns: Columns<'a>,
        len: usize,
        reduce: Reduce,
    ) -> Result<ScanJob<'a>, GpuError> {
        let pipelines = Pipelines::new(ctx, cache, program, reduce)?;
        let piece = columns.piece_len(ctx, program, TILE, len);
        let dispatches = 2 * len.div_ceil(piece) + level_dispatches(tiles(len));
        let slots = Slots::new(ctx, &pipelines, dispatches, identity(reduce, program.structure.output()));
        let source = Source::open(ctx, scratch, program, columns, piece);
        Ok(ScanJob { pipelines, slots, source, program, len, piece })
    }

    /// Passes 1 and 2: encodes the totals of every tile and their scan.
    /// Returns the scanned totals (pass 3's carry) and the encoder holding
    /// the last piece's work, not yet submitted.
    fn totals(&mut self, ctx: &Context) -> Result<(wgpu::Buffer, wgpu::CommandEncoder), GpuError> {
        let size = self.pipelines.size;
        let totals = storage(ctx, tiles(self.len), size);
        let mut pending: Option<wgpu::CommandEncoder> = None;
        for start in (0..self.len).step_by(self.piece) {
            if let Some(encoder) = pending.take() {
                self.source.submitted(ctx.submit([encoder.finish()]));
            }
            let n = self.piece.min(self.len - start);
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            self.source.write(ctx, &mut encoder, start..start + n)?;
            let at = (start / TILE) as u64 * size;
            let totals_kernel = &self.pipelines.input_totals;
            Launch {
                pipeline: &totals_kernel.pipeline,
                params: self.slots.next(ctx, &totals_kernel.layout, n, start, &self.program.consts),
                dst: binding(&totals, at, tiles(n) as u64 * size),
                inputs: self.source.bindings(start..start + n),
                groups: tiles(n),
            }
            .encode(ctx, &mut encoder, None);
            pending = Some(encoder);
        }
        let mut encoder = pending.unwrap_or_else(|| ctx.device.create_command_encoder(&Default::default()));
        let carry = scan_totals(ctx, &self.pipelines, &mut self.slots, &mut encoder, totals, tiles(self.len))?;
        Ok((carry, encoder))
    }

    /// Pass 3 of the piece `range` (the one written last): encodes its
    /// tiles' scans, offset by the scanned totals in `carry`, into `dst`.
    fn apply(
        &mut self,
        ctx: &Context,
        encoder: &mut wgpu::CommandEncoder,
        carry: &wgpu::Buffer,
        range: Range<usize>,
        dst: wgpu::BufferBinding<'_>,
    ) {
        let mut inputs = self.source.bindings(range.clone());
        inputs.push(binding(carry, 0, carry.size()));
        let apply_kernel = &self.pipelines.input_apply;
        Launch {
            pipeline: &apply_kernel.pipeline,
            params: self.slots.next(ctx, &apply_kernel.layout, range.len(), range.start, &self.program.consts),
            dst,
            inputs,
            groups: tiles(range.len()),
        }
        .encode(ctx, encoder, None);
    }
}

/// Writes the inclusive scan of `program(columns)` into `out` (as long
/// as the columns).
pub(super) fn run<U: Element>(
    ctx: &Context,
    cache: &KernelCache,
    scratch: &mut Scratch,
    program: &Program,
    columns: &[Column<'_>],
    reduce: Reduce,
    out: &mut [U],
) -> Result<(), GpuError> {
    let len = out.len();
    if len == 0 {
        return Ok(());
    }
    let mut job = ScanJob::open(ctx, cache, scratch, program, Columns::Host(columns), len, reduce)?;
    let (carry, encoder) = job.totals(ctx)?;

    // Pass 3: every chunk again, read back through alternating buffers.
    let (chunk, size) = (job.piece, job.pipelines.size);
    let chunks = len.div_ceil(chunk);
    let chunk_bytes = chunk as u64 * size;
    let result = scratch.get(&ctx.device, Role::Output, chunk_bytes);
    let mut reader = Reader::new(ctx, scratch, chunk_bytes);
    let mut encoder = Some(encoder);
    if chunks > 1 {
        // The input buffers are rewritten below: pass 1 must be submitted first.
        job.source.submitted(ctx.submit([encoder.take().expect("pass 1 is encoded").finish()]));
    }
    for (index, dst) in bytemuck::cast_slice_mut::<U, u8>(out).chunks_mut(chunk_bytes as usize).enumerate() {
        let (start, n) = (index * chunk, dst.len() / size_of::<U>());
        let mut encoder = encoder.take().unwrap_or_else(|| ctx.device.create_command_encoder(&Default::default()));
        if chunks > 1 {
            job.source.write(ctx, &mut encoder, start..start + n)?;
        }
        job.apply(ctx, &mut encoder, &carry, start..start + n, binding(&result, 0, dst.len() as u64));
        encoder.copy_buffer_to_buffer(&result, 0, reader.target(), 0, dst.len() as u64);
        job.source.submitted(reader.submit(ctx, encoder, dst)?);
    }
    reader.finish(ctx)?;
    ctx.counters.read_back(len as u64 * size);
    Ok(())
}

/// Encodes the inclusive scan of the `m` values in `values` and returns
/// the array it will be in (`values` itself when `m` is 1).
fn scan_totals(
    ctx: &Context,
    pipelines: &Pipelines,
    slots: &mut Slots,
    encoder: &mut wgpu::CommandEncoder,
    values: wgpu::Buffer,
    m: usize,
) -> Result<wgpu::Buffer, GpuError> {
    if m <= 1 {
        return Ok(values);
    }
    let size = pipelines.size;
    let carry = if m <= TILE {
        // One tile: no carry is read, any valid binding will do.
        values.clone()
    } else {
        let totals = storage(ctx, tiles(m), size);
        Launch {
            pipeline: &pipelines.level_totals.pipeline,
            params: slots.next(ctx, &pipelines.level_totals.layout, m, 0, &[]),
            dst: binding(&totals, 0, tiles(m) as u64 * size),
            inputs: vec![binding(&values, 0, m as u64 * size)],
            groups: tiles(m),
        }
        .encode(ctx, encoder, None);
        scan_totals(ctx, pipelines, slots, encoder, totals, tiles(m))?
    };
    let scanned = storage(ctx, m, size);
    Launch {
        pipeline: &pipelines.level_apply.pipeline,
        params: slots.next(ctx, &pipelines.level_apply.layout, m, 0, &[]),
        dst: binding(&scanned, 0, m as u64 * size),
        inputs: vec![binding(&values, 0, m as u64 * size), binding(&carry, 0, carry.size())],
        groups: tiles(m),
    }
    .encode(ctx, encoder, None);
    Ok(scanned)
}
