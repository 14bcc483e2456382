//! Element-wise map of host data on the GPU, streamed one binding-sized
//! chunk at a time: the upload of chunk k+1 and the readback of chunk k-1
//! overlap the kernel of chunk k.

use super::kernel::Kernel;
use super::profile::Stopwatch;
use super::scratch::{param_slot_bytes, Role, Scratch};
use super::stream::{Reader, Uploads};
use super::{binding, chunk_elements, widest, Context, KernelCache, Launch};
use crate::canonical::LANES;
use crate::column::Column;
use crate::dtype::Element;
use crate::error::GpuError;
use crate::expr::program::Program;

/// Parameter slots the chunks of one map cycle through. Queue order makes
/// one slot enough; two keep a write away from the dispatch just submitted.
const SLOTS: u64 = 2;

pub(super) fn run<U: Element>(
    ctx: &Context,
    pipelines: &KernelCache,
    scratch: &mut Scratch,
    program: &Program,
    columns: &[Column<'_>],
    out: &mut [U],
    watch: &mut Stopwatch,
) -> Result<(), GpuError> {
    let kernel = Kernel::map(&program.structure);
    let layout = kernel.layout();
    let pipeline = pipelines.get(ctx, &kernel)?;
    let chunk = chunk_elements(ctx, widest(program), LANES).min(out.len().max(1));
    let (slot_bytes, chunk_bytes) = (param_slot_bytes(layout.size), (chunk * size_of::<U>()) as u64);
    let params = scratch.get(&ctx.device, Role::Params, slot_bytes * SLOTS);
    let result = scratch.get(&ctx.device, Role::Output, chunk_bytes);
    let mut uploads = Uploads::open(ctx, scratch, program, columns, chunk);
    let mut reader = Reader::new(ctx, scratch, chunk_bytes);
    let total_bytes = size_of_val(out) as u64;
    for (index, dst) in bytemuck::cast_slice_mut::<U, u8>(out).chunks_mut(chunk_bytes as usize).enumerate() {
        let (start, n) = (index * chunk, dst.len() / size_of::<U>());
        let slot = index as u64 % SLOTS * slot_bytes;
        ctx.queue.write_buffer(&params, slot, &layout.bytes(n as u32, start as u32, None, &program.consts));
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        uploads.write(ctx, &mut encoder, start..start + n)?;
        let mut encoder = watch.uploaded(ctx, encoder)?;
        let dispatch = Launch {
            pipeline: &pipeline,
            params: binding(&params, slot, layout.size as u64),
            dst: binding(&result, 0, dst.len() as u64),
            inputs: uploads.bindings(n),
            groups: n.div_ceil(LANES),
        };
        dispatch.encode(ctx, &mut encoder, watch.pass_writes(ctx));
        let mut encoder = watch.computed(ctx, encoder)?;
        encoder.copy_buffer_to_buffer(&result, 0, reader.target(), 0, dst.len() as u64);
        uploads.submitted(reader.submit(ctx, encoder, dst)?);
        if watch.is_on() {
            reader.finish(ctx)?;
            watch.read();
        }
    }
    reader.finish(ctx)?;
    watch.read();
    watch.copied(reader.copying());
    ctx.counters.read_back(total_bytes);
    Ok(())
}
