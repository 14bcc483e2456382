//! argmin and argmax on the GPU: one workgroup per canonical tile writes
//! the tile's first extreme value and its index (`shaders/argbest.wgsl`);
//! the host compares the tiles' winners by the rule of
//! [`crate::extreme`], whose order has no ties, so the answer is the
//! CPU's. Host data streams through uploads a chunk at a time, resident
//! arrays are read a segment at a time (see [`Source`]); each piece's
//! winners land at their tiles' places, so one readback at the end
//! serves every piece.

use super::kernel::{Kernel, Kind};
use super::reduce::TILE_ALIGN;
use super::resident::DeviceArray;
use super::scratch::{param_slot_bytes, read_back, Role, Scratch};
use super::source::{Columns, Source};
use super::{binding, Context, Gpu, Launch};
use crate::canonical::{tiles, TILE};
use crate::column::Column;
use crate::dtype::{DType, Element};
use crate::error::GpuError;
use crate::expr::program::{Program, Scalar, Structure};
use crate::extreme::{Extreme, Located};
use std::fmt::Write;
use std::sync::Arc;

impl Gpu {
    /// The first extreme element of `program(columns)`, `len` elements
    /// (`None` for none). Indices are `u32` on the device, so a job of
    /// more than `u32::MAX` elements is refused (and runs on the CPU).
    pub fn argbest<U: Element>(
        &self,
        program: &Program,
        columns: &[Column<'_>],
        len: usize,
        extreme: Extreme,
    ) -> Result<Option<Located<U>>, GpuError> {
        self.argbest_of(program, Columns::Host(columns), len, extreme)
    }

    /// [`Gpu::argbest`] of arrays on this GPU, read in place.
    pub fn argbest_resident<U: Element>(
        &self,
        program: &Program,
        arrays: &[&DeviceArray],
        len: usize,
        extreme: Extreme,
    ) -> Result<Option<Located<U>>, GpuError> {
        self.check_resident(arrays, len)?;
        self.argbest_of(program, Columns::Device(arrays), len, extreme)
    }

    fn argbest_of<U: Element>(
        &self,
        program: &Program,
        columns: Columns<'_>,
        len: usize,
        extreme: Extreme,
    ) -> Result<Option<Located<U>>, GpuError> {
        if len == 0 {
            return Ok(None);
        }
        if len > u32::MAX as usize {
            return Err(GpuError::Unsupported(format!("argbest of {len} elements: GPU indices are u32")));
        }
        let kernel = kernel(&program.structure, extreme);
        let pipeline = self.kernels.get(&self.ctx, &kernel)?;
        self.job(|ctx, scratch| {
            let layout = kernel.layout();
            let (size, partials) = (U::DTYPE.size() as u64, tiles(len));
            let values = scratch.get(&ctx.device, Role::PartialsA, partials as u64 * size);
            let indices = scratch.get(&ctx.device, Role::PartialsB, partials as u64 * 4);
            let params = scratch.get(&ctx.device, Role::Params, param_slot_bytes(layout.size));
            let chunk = columns.piece_len(ctx, program, TILE * TILE_ALIGN, len);
            let mut source = Source::open(ctx, scratch, program, columns, chunk);
            let identity = Some(Scalar::of(extreme.reduce().identity::<U>()));
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            for start in (0..len).step_by(chunk) {
                let n = chunk.min(len - start);
                if start > 0 {
                    let done = std::mem::replace(&mut encoder, ctx.device.create_command_encoder(&Default::default()));
                    source.submitted(ctx.submit([done.finish()]));
                }
                source.write(ctx, &mut encoder, start..start + n)?;
                // Queue order puts this write after the previous chunk's dispatch.
                ctx.queue.write_buffer(&params, 0, &layout.bytes(n as u32, start as u32, identity, &program.consts));
                let first_tile = (start / TILE) as u64;
                let mut inputs = source.bindings(start..start + n);
                inputs.push(binding(&indices, first_tile * 4, tiles(n) as u64 * 4));
                let launch = Launch {
                    pipeline: &pipeline,
                    params: binding(&params, 0, layout.size as u64),
                    dst: binding(&values, first_tile * size, tiles(n) as u64 * size),
                    inputs,
                    groups: tiles(n),
                };
                launch.encode(ctx, &mut encoder, None);
            }
            read_winners(ctx, scratch, encoder, (&values, &indices), partials, extreme)
        })
    }
}

/// Submits `encoder` with a copy of the `partials` tile winners (values
/// and indices) and picks the first extreme one among them.
fn read_winners<U: Element>(
    ctx: &Context,
    scratch: &mut Scratch,
    mut encoder: wgpu::CommandEncoder,
    (values, indices): (&wgpu::Buffer, &wgpu::Buffer),
    partials: usize,
    extreme: Extreme,
) -> Result<Option<Located<U>>, GpuError> {
    let (value_bytes, index_bytes) = (partials as u64 * U::DTYPE.size() as u64, partials as u64 * 4);
    let readback = scratch.get(&ctx.device, Role::Readback, value_bytes + index_bytes);
    encoder.copy_buffer_to_buffer(values, 0, &readback, 0, value_bytes);
    encoder.copy_buffer_to_buffer(indices, 0, &readback, value_bytes, index_bytes);
    let submission = ctx.submit([encoder.finish()]);
    let mut best = None;
    read_back(ctx, &readback, value_bytes + index_bytes, submission, |view| {
        let (values, indices) = view.split_at(value_bytes as usize);
        let mut winners = (vec![U::default(); partials], vec![0u32; partials]);
        bytemuck::cast_slice_mut::<U, u8>(&mut winners.0).copy_from_slice(values);
        bytemuck::cast_slice_mut::<u32, u8>(&mut winners.1).copy_from_slice(indices);
        let (values, indices) = winners;
        for (&value, &index) in values.iter().zip(&indices) {
            best = extreme.pick(best, Some(Located { index: index as usize, value }));
        }
    })?;
    ctx.counters.read_back(value_bytes + index_bytes);
    Ok(best)
}

/// The first-level kernel of argmin or argmax over `structure`.
pub(super) fn kernel(structure: &Arc<Structure>, extreme: Extreme) -> Kernel {
    Kernel { structure: Arc::clone(structure), kind: Kind::ArgBest(extreme) }
}

/// The declarations `shaders/argbest.wgsl` needs: the index output, bound
/// after the inputs, the NaN test of the output type and the comparison.
pub(super) fn header(structure: &Structure, extreme: Extreme) -> String {
    let output = structure.output();
    let mut header = String::new();
    let slot = structure.inputs.len() + 2;
    let _ = writeln!(header, "\n@group(0) @binding({slot}) var<storage, read_write> best_index: array<u32>;");
    // The float helpers are in the header already: the kind's reduction is a min or a max.
    let nan = match output {
        DType::F32 | DType::F64 => format!("is_nan_{output}(x)"),
        DType::I32 | DType::U32 => "false".into(),
    };
    let _ = writeln!(header, "fn is_nan_value(x: U) -> bool {{ return {nan}; }}");
    let op = match extreme {
        Extreme::Min => "<",
        Extreme::Max => ">",
    };
    let _ = writeln!(header, "fn beats(a: U, b: U) -> bool {{ return a {op} b; }}");
    header
}
