//! Stream compaction of host data on the GPU, a chunk at a time.
//!
//! Each chunk is uploaded once and run in two submissions:
//!
//! 1. Count: the reduction's first level over the `u32` predicate with
//!    [`Reduce::Sum`] gives exactly the kept elements of each tile. The
//!    counts come back (4 bytes a tile) and the host takes their
//!    exclusive prefix: each tile's first place in the chunk's result.
//! 2. Write: one workgroup per tile flags its elements again, places each
//!    kept one by a prefix sum over its lanes, and writes its value at
//!    the tile's offset plus that place (`shaders/filter.wgsl`). Only the
//!    chunk's kept values come back.
//!
//! A partition is the same job: the write kernel also places each
//! rejected element after all the chunk's kept ones, at the count of
//! rejected elements before it (its index less the kept ones before it),
//! so the whole chunk comes back partitioned in one readback. Its kept
//! values go to the front of the result; its rejected ones after every
//! kept value, which the host knows only after the last chunk, so those
//! of all but the last chunk wait in a buffer, and the last chunk's, the
//! result's tail, go straight to their place.
//!
//! The result's length is known only once the counts are back, so the
//! host reads the counts before the write, and chunks run one after
//! another; every place is an integer count, so the result is exact and
//! the same as the CPU's. Arrays already on the device are compacted
//! without a readback, by the child module [`resident`].

mod resident;

pub(crate) use resident::Compacted;

use super::kernel::filter::{merge, Merged};
use super::kernel::{Kernel, Kind};
use super::scratch::{param_slot_bytes, read_back, Role, Scratch};
use super::stream::Uploads;
use super::{binding, chunk_elements, widest, Context, Gpu, KernelCache, Launch};
use crate::canonical::{tiles, TILE};
use crate::column::Column;
use crate::dtype::Element;
use crate::error::GpuError;
use crate::expr::program::{Program, Scalar};
use crate::op::Reduce;

impl Gpu {
    /// The values of `values` over `columns` (`len` elements) where
    /// `predicate` (a `u32` program over the same columns) is not 0, in
    /// order. Element indices (`i`) count from the columns' first element.
    pub fn filter<U: Element>(
        &self,
        values: &Program,
        predicate: &Program,
        columns: &[Column<'_>],
        len: usize,
    ) -> Result<Vec<U>, GpuError> {
        Ok(self.compact(values, predicate, columns, len, false)?.0)
    }

    /// The values of `values` over `columns` (`len` elements) where
    /// `predicate` is not 0, then the others, both in order, and how many
    /// are kept.
    pub fn partition<U: Element>(
        &self,
        values: &Program,
        predicate: &Program,
        columns: &[Column<'_>],
        len: usize,
    ) -> Result<(Vec<U>, usize), GpuError> {
        self.compact(values, predicate, columns, len, true)
    }

    /// A filter, or with `partition` a partition (see the module's header).
    fn compact<U: Element>(
        &self,
        values: &Program,
        predicate: &Program,
        columns: &[Column<'_>],
        len: usize,
        partition: bool,
    ) -> Result<(Vec<U>, usize), GpuError> {
        let merged = merge(values, predicate);
        let kernels = Kernels::of(&merged, predicate);
        for kernel in [&kernels.count, &kernels.write] {
            self.kernels.get(&self.ctx, kernel)?;
        }
        self.job(|ctx, scratch| {
            let job = FilterJob { merged: &merged, predicate, columns, len, kernels: &kernels, partition };
            job.run(ctx, &self.kernels, scratch)
        })
    }
}

/// The two kernels of a filter: the predicate's tile counts, and the write.
struct Kernels {
    count: Kernel,
    write: Kernel,
}

impl Kernels {
    fn of(merged: &Merged, predicate: &Program) -> Kernels {
        let count = Kernel { structure: predicate.structure.clone(), kind: Kind::Reduce(Reduce::Sum) };
        let kind = Kind::Filter { predicate_steps: merged.predicate_steps };
        Kernels { count, write: Kernel { structure: merged.program.structure.clone(), kind } }
    }
}

/// One filter of host data.
struct FilterJob<'a> {
    merged: &'a Merged,
    predicate: &'a Program,
    columns: &'a [Column<'a>],
    len: usize,
    kernels: &'a Kernels,
    /// Whether the rejected values are written and read back too.
    partition: bool,
}

impl FilterJob<'_> {
    fn run<U: Element>(
        &self,
        ctx: &Context,
        pipelines: &KernelCache,
        scratch: &mut Scratch,
    ) -> Result<(Vec<U>, usize), GpuError> {
        // A filter's kept values; a partition's whole result, whose kept
        // values fill the front as chunks finish.
        let mut out = if self.partition { vec![U::default(); self.len] } else { Vec::new() };
        // The rejected values of a partition's chunks before the last.
        let mut rest: Vec<U> = Vec::new();
        let mut total = 0;
        if self.len == 0 {
            return Ok((out, 0));
        }
        let program = &self.merged.program;
        let chunk = chunk_elements(ctx, widest(program), TILE).min(self.len);
        let (count_layout, write_layout) = (self.kernels.count.layout(), self.kernels.write.layout());
        let slot_bytes = param_slot_bytes(count_layout.size.max(write_layout.size));
        let buffers = Buffers {
            params: scratch.get(&ctx.device, Role::Params, 2 * slot_bytes),
            counts: scratch.get(&ctx.device, Role::PartialsA, (tiles(chunk) * 4) as u64),
            values: scratch.get(&ctx.device, Role::Output, (chunk * size_of::<U>()) as u64),
            readback: scratch.get(&ctx.device, Role::Readback, (chunk * size_of::<U>()).max(tiles(chunk) * 4) as u64),
            offsets: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("swath filter tile offsets"),
                size: ((tiles(chunk) + 2) * 4) as u64,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
        };
        let count_pipeline = pipelines.get(ctx, &self.kernels.count)?;
        let write_pipeline = pipelines.get(ctx, &self.kernels.write)?;
        let mut uploads = Uploads::open(ctx, scratch, program, self.columns, chunk);
        for start in (0..self.len).step_by(chunk) {
            let n = chunk.min(self.len - start);
            let tile_bytes = (tiles(n) * 4) as u64;

            // Pass 1: upload the chunk, count each tile's kept elements.
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            uploads.write(ctx, &mut encoder, start..start + n)?;
            let params = count_layout.bytes(n as u32, start as u32, Some(Scalar::U32(0)), &self.predicate.consts);
            ctx.queue.write_buffer(&buffers.params, 0, &params);
            let inputs = uploads.bindings(n);
            let predicate_inputs = self.merged.predicate_slots.iter().map(|&slot| inputs[slot].clone()).collect();
            Launch {
                pipeline: &count_pipeline,
                params: binding(&buffers.params, 0, count_layout.size as u64),
                dst: binding(&buffers.counts, 0, tile_bytes),
                inputs: predicate_inputs,
                groups: tiles(n),
            }
            .encode(ctx, &mut encoder, None);
            encoder.copy_buffer_to_buffer(&buffers.counts, 0, &buffers.readback, 0, tile_bytes);
            let submission = ctx.submit([encoder.finish()]);
            uploads.submitted(submission.clone());
            let mut offsets = vec![0u32; tiles(n) + 2];
            read_back(ctx, &buffers.readback, tile_bytes, submission, |view| {
                bytemuck::cast_slice_mut::<u32, u8>(&mut offsets[..tiles(n)]).copy_from_slice(view)
            })?;
            ctx.counters.read_back(tile_bytes);
            let kept = exclusive_prefix(&mut offsets[..tiles(n)]);
            // After the offsets: the chunk's kept count, where its rejected
            // values start, and whether to write them.
            offsets[tiles(n)] = kept as u32;
            offsets[tiles(n) + 1] = u32::from(self.partition);
            let written = if self.partition { n } else { kept };
            if written == 0 {
                continue;
            }

            // Pass 2: each tile writes its kept values from its offset
            // (and a partition's rejected ones after the chunk's kept ones).
            ctx.queue.write_buffer(&buffers.offsets, 0, bytemuck::cast_slice(&offsets));
            let inputs = uploads.bindings(n);
            let params = write_layout.bytes(n as u32, start as u32, None, &program.consts);
            ctx.queue.write_buffer(&buffers.params, slot_bytes, &params);
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            let written_bytes = (written * size_of::<U>()) as u64;
            Launch {
                pipeline: &write_pipeline,
                params: binding(&buffers.params, slot_bytes, write_layout.size as u64),
                dst: binding(&buffers.values, 0, (n * size_of::<U>()) as u64),
                inputs: inputs.into_iter().chain([binding(&buffers.offsets, 0, tile_bytes + 8)]).collect(),
                groups: tiles(n),
            }
            .encode(ctx, &mut encoder, None);
            encoder.copy_buffer_to_buffer(&buffers.values, 0, &buffers.readback, 0, written_bytes);
            let submission = ctx.submit([encoder.finish()]);
            if !self.partition {
                out.reserve_exact(kept);
                out.resize(total + kept, U::default());
            }
            // The last chunk's rejected values are the result's tail.
            let last = start + n == self.len;
            let at = rest.len();
            if self.partition && !last {
                rest.resize(at + n - kept, U::default());
            }
            let front_len = if last && self.partition { self.len - (n - kept) } else { out.len() };
            let (front, tail) = out.split_at_mut(front_len);
            let rejected = if last { tail } else { &mut rest[at..] };
            read_back(ctx, &buffers.readback, written_bytes, submission, |view| {
                let (kept_bytes, rest_bytes) = view.split_at(kept * size_of::<U>());
                bytemuck::cast_slice_mut::<U, u8>(&mut front[total..total + kept]).copy_from_slice(kept_bytes);
                bytemuck::cast_slice_mut::<U, u8>(rejected).copy_from_slice(rest_bytes);
            })?;
            ctx.counters.read_back(written_bytes);
            total += kept;
        }
        if self.partition {
            out[total..total + rest.len()].copy_from_slice(&rest);
        }
        Ok((out, total))
    }
}

/// The device buffers of one filter.
struct Buffers {
    params: wgpu::Buffer,
    /// The tile counts of a chunk.
    counts: wgpu::Buffer,
    /// The exclusive prefix of the counts.
    offsets: wgpu::Buffer,
    /// A chunk's kept values.
    values: wgpu::Buffer,
    readback: wgpu::Buffer,
}

/// Replaces `counts` by their exclusive prefix sums; returns their total.
fn exclusive_prefix(counts: &mut [u32]) -> usize {
    let mut total = 0usize;
    for count in counts {
        let here = *count as usize;
        *count = total as u32;
        total += here;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_the_exclusive_prefix() {
        let mut counts = [3, 0, 4096, 1];
        assert_eq!(exclusive_prefix(&mut counts), 4100);
        assert_eq!(counts, [0, 3, 3, 4099]);
    }
}
