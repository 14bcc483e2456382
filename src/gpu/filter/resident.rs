//! Compaction of arrays that live on the device, with the result's
//! length kept there until the host needs it.
//!
//! The host path reads each chunk's tile counts back to place the tiles;
//! here the counts are scanned on the device instead ([`CountScan`]), so
//! a filter is one submission with no readback. Each input segment `k`
//! is counted, its counts' exclusive prefix copied into the write
//! kernel's tile offsets, and its kept values written from the start of
//! segment `k` of a staging array, its kept count into `counts[k]`.
//!
//! Where the kept values of segment `k` belong in the result depends on
//! the counts of every segment before it, which only the device knows,
//! and a kernel binds whole segments: so the result is left *staged*
//! ([`Compacted`]) until its length is needed. Then [`Gpu::resolve`]
//! reads the counts back (4 bytes a segment) and, where a segment before
//! the last kept fewer values than it holds, moves each segment's values
//! to their place with buffer copies on the device. An array of one
//! segment, the common case, is its staging array, cut short.

use super::{merge, Kernels};
use crate::canonical::tiles;
use crate::error::GpuError;
use crate::expr::program::{Program, Scalar};
use crate::gpu::kernel::filter::Merged;
use crate::gpu::kernel::Layout;
use crate::gpu::resident::{foreign, DeviceArray};
use crate::gpu::scan::CountScan;
use crate::gpu::scratch::{param_slot_bytes, read_back, Role};
use crate::gpu::{binding, Context, Gpu, KernelCache, Launch};

/// A compaction done on the device whose length the host has not read:
/// segment `k` of `staged` holds the kept values of input segment `k`
/// from its start, and `counts[k]` how many there are.
pub(crate) struct Compacted {
    staged: DeviceArray,
    counts: wgpu::Buffer,
}

impl Gpu {
    /// The values of `values` over `arrays` (on this GPU, `len` elements)
    /// where `predicate` is not 0, in order, left staged on the device.
    /// Submitted without waiting.
    pub fn filter_resident(
        &self,
        values: &Program,
        predicate: &Program,
        arrays: &[&DeviceArray],
        len: usize,
    ) -> Result<Compacted, GpuError> {
        self.check_resident(arrays, len)?;
        let merged = merge(values, predicate);
        let kernels = Kernels::of(&merged, predicate);
        for kernel in [kernels.count.clone(), kernels.write.clone()].into_iter().chain(CountScan::kernels()) {
            self.kernels.get(&self.ctx, &kernel)?;
        }
        self.job(|ctx, _| {
            let staged = DeviceArray::new(ctx, &self.pool, merged.program.structure.output(), len);
            let counts = ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("swath kept counts"),
                size: (staged.segment_count().max(1) * 4) as u64,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            let job = ResidentFilter { merged: &merged, predicate, kernels: &kernels, arrays, len };
            job.encode(ctx, &self.kernels, &staged, &counts)?;
            Ok(Compacted { staged, counts })
        })
    }

    /// The array a compaction left staged, with its length: reads the
    /// kept counts back and, if needed, moves the kept values together.
    pub fn resolve(&self, compacted: Compacted) -> Result<DeviceArray, GpuError> {
        let Compacted { staged, counts } = compacted;
        if !self.owns(&staged) {
            return Err(foreign());
        }
        let segments = staged.segment_count();
        if segments == 0 {
            return Ok(staged);
        }
        self.job(|ctx, scratch| {
            let bytes = (segments * 4) as u64;
            let readback = scratch.get(&ctx.device, Role::Readback, bytes);
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(&counts, 0, &readback, 0, bytes);
            let submission = ctx.submit([encoder.finish()]);
            let mut kept = vec![0u32; segments];
            read_back(ctx, &readback, bytes, submission, |view| {
                bytemuck::cast_slice_mut::<u32, u8>(&mut kept).copy_from_slice(view)
            })?;
            ctx.counters.read_back(bytes);
            let total = kept.iter().map(|&c| c as usize).sum();
            let segment = DeviceArray::segment_len(ctx);
            if kept[..segments - 1].iter().all(|&c| c as usize == segment) {
                return Ok(staged.truncated(total));
            }
            let out = DeviceArray::new(ctx, &self.pool, staged.dtype, total);
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            let size = staged.dtype.size() as u64;
            let mut at = 0;
            for (k, &count) in kept.iter().enumerate() {
                let mut from = 0;
                // A segment's values may straddle two segments of the result.
                while from < count as usize {
                    let (j, offset) = (at / segment, at % segment);
                    let n = (count as usize - from).min(segment - offset);
                    let (src, dst) = (from as u64 * size, offset as u64 * size);
                    encoder.copy_buffer_to_buffer(staged.segment(k), src, out.segment(j), dst, n as u64 * size);
                    (from, at) = (from + n, at + n);
                }
            }
            ctx.submit([encoder.finish()]);
            Ok(out)
        })
    }
}

/// One compaction of device arrays.
struct ResidentFilter<'a> {
    merged: &'a Merged,
    predicate: &'a Program,
    kernels: &'a Kernels,
    arrays: &'a [&'a DeviceArray],
    len: usize,
}

impl ResidentFilter<'_> {
    /// Encodes and submits the count, offsets and write of every segment
    /// (see the module's header).
    fn encode(
        &self,
        ctx: &Context,
        cache: &KernelCache,
        staged: &DeviceArray,
        counts: &wgpu::Buffer,
    ) -> Result<(), GpuError> {
        let segments = staged.segment_count();
        if segments == 0 {
            return Ok(());
        }
        let segment = DeviceArray::segment_len(ctx);
        let mut passes = Passes::open(ctx, cache, self.kernels, segments, tiles(segment.min(self.len)))?;
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        for k in 0..segments {
            let start = k * segment;
            let (n, slot) = (segment.min(self.len - start), 2 * k as u64 * passes.slot_bytes);
            let t = tiles(n);
            let params =
                passes.count_layout.bytes(n as u32, start as u32, Some(Scalar::U32(0)), &self.predicate.consts);
            ctx.queue.write_buffer(&passes.params, slot, &params);
            Launch {
                pipeline: &passes.count,
                params: binding(&passes.params, slot, passes.count_layout.size as u64),
                dst: binding(&passes.tile_counts, 0, t as u64 * 4),
                inputs: self.predicate.columns.iter().map(|&c| self.arrays[c].binding(k, n)).collect(),
                groups: t,
            }
            .encode(ctx, &mut encoder, None);
            passes.offsets(ctx, &mut encoder, t, (counts, k))?;
            let slot = slot + passes.slot_bytes;
            let params = passes.write_layout.bytes(n as u32, start as u32, None, &self.merged.program.consts);
            ctx.queue.write_buffer(&passes.params, slot, &params);
            let inputs = self.merged.program.columns.iter().map(|&c| self.arrays[c].binding(k, n));
            Launch {
                pipeline: &passes.write,
                params: binding(&passes.params, slot, passes.write_layout.size as u64),
                dst: staged.binding(k, n),
                inputs: inputs.chain([binding(&passes.offsets, 0, (t as u64 + 2) * 4)]).collect(),
                groups: t,
            }
            .encode(ctx, &mut encoder, None);
        }
        ctx.submit([encoder.finish()]);
        Ok(())
    }
}

/// The pipelines and buffers every segment of a compaction uses in turn
/// (commands of one encoder run in order), and a parameter slot per dispatch.
struct Passes {
    count: wgpu::ComputePipeline,
    count_layout: Layout,
    write: wgpu::ComputePipeline,
    write_layout: Layout,
    params: wgpu::Buffer,
    slot_bytes: u64,
    tile_counts: wgpu::Buffer,
    offsets: wgpu::Buffer,
    scan: CountScan,
}

impl Passes {
    /// For `segments` segments of at most `most_tiles` tiles.
    fn open(
        ctx: &Context,
        cache: &KernelCache,
        kernels: &Kernels,
        segments: usize,
        most_tiles: usize,
    ) -> Result<Passes, GpuError> {
        let buffer = |label, bytes: usize, usage| {
            let size = bytes.next_multiple_of(4) as u64;
            ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as Usage;
        let (count_layout, write_layout) = (kernels.count.layout(), kernels.write.layout());
        let slot_bytes = param_slot_bytes(count_layout.size.max(write_layout.size));
        Ok(Passes {
            count: cache.get(ctx, &kernels.count)?,
            count_layout,
            write: cache.get(ctx, &kernels.write)?,
            write_layout,
            params: buffer(
                "swath filter parameters",
                slot_bytes as usize * 2 * segments,
                Usage::UNIFORM | Usage::COPY_DST,
            ),
            slot_bytes,
            tile_counts: buffer("swath tile counts", most_tiles * 4, Usage::STORAGE | Usage::COPY_SRC),
            offsets: buffer("swath tile offsets", (most_tiles + 2) * 4, Usage::STORAGE | Usage::COPY_DST),
            scan: CountScan::new(ctx, cache, segments, most_tiles)?,
        })
    }

    /// Encodes the write kernel's offsets from the `tiles` counts of one
    /// segment: 0, the inclusive scan of the counts (whose last is the
    /// segment's kept count), then 0 (no rejected values are written);
    /// and copies the kept count into `counts[k]`.
    fn offsets(
        &mut self,
        ctx: &Context,
        encoder: &mut wgpu::CommandEncoder,
        tiles: usize,
        (counts, k): (&wgpu::Buffer, usize),
    ) -> Result<(), GpuError> {
        let scanned = self.scan.encode(ctx, encoder, self.tile_counts.clone(), tiles)?;
        encoder.clear_buffer(&self.offsets, 0, None);
        encoder.copy_buffer_to_buffer(&scanned, 0, &self.offsets, 4, tiles as u64 * 4);
        encoder.copy_buffer_to_buffer(&scanned, (tiles as u64 - 1) * 4, counts, k as u64 * 4, 4);
        Ok(())
    }
}
