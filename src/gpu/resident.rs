//! Arrays that stay on the device between jobs, and pipelines of stages
//! over them, encoded into one submission.
//!
//! A device array is cut into segments of [`DeviceArray::segment_len`]
//! elements, the same for every element type, so any two arrays of one
//! length line up segment by segment and a stage binds one segment of
//! each per dispatch. Segments hold whole reduction tiles, so reductions
//! keep the canonical order.

use super::early_read::EarlyRead;
use super::kernel::Kernel;
use super::pool::{Pool, Pooled};
use super::reduce::{encode_resident, ResidentReduce, TILE_ALIGN};
use super::scratch::{param_slot_bytes, Scratch};
use super::stream::Reader;
use super::{binding, elements_within, Context, Gpu, KernelCache, Launch};
use crate::canonical::{LANES, TILE};
use crate::column::Column;
use crate::dtype::DType;
use crate::error::GpuError;
use crate::expr::program::Program;
use crate::op::Reduce;
use std::ops::Range;
use std::sync::Arc;

/// An array in device memory.
#[derive(Clone)]
pub(crate) struct DeviceArray {
    pub dtype: DType,
    pub len: usize,
    segments: Arc<Pooled>,
    /// A copy of a one-element result made in the submission that
    /// computed it, so reading it needs no submission of its own.
    early: Option<Arc<EarlyRead>>,
}

impl DeviceArray {
    /// Elements per segment on this device: one binding of the widest
    /// (8-byte) type, in whole reduction pieces.
    pub(super) fn segment_len(ctx: &Context) -> usize {
        elements_within(ctx.info.max_binding_bytes.min(ctx.segment_bytes), 8, TILE * TILE_ALIGN)
    }

    /// An array whose contents the next commands will write, in buffers
    /// drawn from `pool`.
    pub(super) fn new(ctx: &Context, pool: &Arc<Pool>, dtype: DType, len: usize) -> DeviceArray {
        let buffers = Self::pieces(ctx, dtype, len).map(|range| pool.take(&ctx.device, range.len() as u64)).collect();
        DeviceArray { dtype, len, segments: Arc::new(Pooled::new(buffers, pool)), early: None }
    }

    /// An array holding `column`'s values.
    fn upload(ctx: &Context, pool: &Arc<Pool>, column: Column<'_>) -> Result<DeviceArray, GpuError> {
        let bytes = column.bytes();
        let buffers = Self::pieces(ctx, column.dtype(), column.len())
            .map(|range| {
                let buffer = Pool::create(&ctx.device, range.len() as u64, true);
                let mut view = buffer.get_mapped_range_mut(..).map_err(|e| GpuError::Validation(e.to_string()))?;
                super::stream::write_mapped(view.slice(..), &bytes[range]);
                drop(view);
                buffer.unmap();
                Ok(buffer)
            })
            .collect::<Result<_, GpuError>>()?;
        let segments = Arc::new(Pooled::new(buffers, pool));
        Ok(DeviceArray { dtype: column.dtype(), len: column.len(), segments, early: None })
    }

    /// The byte range of each segment of `len` elements of `dtype`.
    fn pieces(ctx: &Context, dtype: DType, len: usize) -> impl Iterator<Item = Range<usize>> {
        let segment = Self::segment_len(ctx);
        (0..len)
            .step_by(segment)
            .map(move |start| start * dtype.size()..(start + segment.min(len - start)) * dtype.size())
    }

    pub(super) fn segment(&self, k: usize) -> &wgpu::Buffer {
        &self.segments.buffers[k]
    }

    pub(super) fn segment_count(&self) -> usize {
        self.segments.buffers.len()
    }

    /// The first `n` elements of segment `k`, as a binding.
    pub(super) fn binding(&self, k: usize, n: usize) -> wgpu::BufferBinding<'_> {
        binding(&self.segments.buffers[k], 0, (n * self.dtype.size()) as u64)
    }

    /// Bytes the array holds.
    pub fn bytes(&self) -> u64 {
        (self.len * self.dtype.size()) as u64
    }

    /// The first `len` elements of this array, in its buffers: a
    /// compaction's result, whose kept values fill its segments from the
    /// first one on.
    pub(super) fn truncated(self, len: usize) -> DeviceArray {
        debug_assert!(len <= self.len);
        DeviceArray { len, ..self }
    }

    /// True if the array's buffers came from `pool` (each GPU has its own).
    pub(super) fn pool_is(&self, pool: &Arc<Pool>) -> bool {
        self.segments.is_from(pool)
    }
}

/// The fault of using an array on a GPU it does not live on.
pub(super) fn foreign() -> GpuError {
    GpuError::DeviceLost("the array lives on a GPU that was lost and replaced".into())
}

/// One stage of a pipeline: `program` over the arrays its columns name,
/// mapped to a new array or, with `reduce`, reduced to one element.
pub(crate) struct Stage<'a> {
    pub program: &'a Program,
    /// One source per column the program was compiled against.
    pub inputs: Vec<StageInput<'a>>,
    pub reduce: Option<Reduce>,
    /// False if the caller needs the output only as later stages' input:
    /// its buffers are then recycled within the pipeline after last use.
    pub keep: bool,
}

/// Where a stage's column comes from.
#[derive(Clone, Copy)]
pub(crate) enum StageInput<'a> {
    /// An array that already exists.
    Array(&'a DeviceArray),
    /// The output of an earlier stage of the same pipeline.
    Stage(usize),
}

impl Gpu {
    /// Copies `column` into a new device array.
    pub fn upload(&self, column: Column<'_>) -> Result<DeviceArray, GpuError> {
        self.job(|ctx, _| {
            let array = DeviceArray::upload(ctx, &self.pool, column)?;
            // wgpu copies a buffer written at creation into device memory
            // with the next submission: an empty one starts that copy now,
            // while the caller prepares its job, instead of inside the
            // job's own submission. (Not a job's submission: not counted.)
            ctx.queue.submit([]);
            ctx.counters.uploaded(array.bytes());
            Ok(array)
        })
    }

    /// Copies `array` into `out` (exactly its bytes), a chunk at a time
    /// through alternating readback buffers: host-visible memory is scarcer
    /// than device memory, so pieces are chunks, not whole segments.
    pub fn read(&self, array: &DeviceArray, out: &mut [u8]) -> Result<(), GpuError> {
        if out.len() as u64 != array.bytes() {
            return Err(GpuError::Internal(format!("reading {} bytes into {}", array.bytes(), out.len())));
        }
        if !self.owns(array) {
            return Err(foreign());
        }
        self.job(|ctx, scratch| {
            if let Some(early) = &array.early {
                if early.read(ctx, out)? {
                    ctx.counters.read_back(array.bytes());
                    return Ok(());
                }
            }
            let segment_bytes = DeviceArray::segment_len(ctx) * array.dtype.size();
            // Whole elements, and a multiple of wgpu's copy alignment (4 bytes).
            let piece_bytes = (ctx.chunk_bytes.min(segment_bytes as u64) as usize / 8).max(1) * 8;
            let mut reader = Reader::new(ctx, scratch, (piece_bytes as u64).min(array.bytes()));
            for (k, segment) in out.chunks_mut(segment_bytes).enumerate() {
                for (j, dst) in segment.chunks_mut(piece_bytes).enumerate() {
                    let mut encoder = ctx.device.create_command_encoder(&Default::default());
                    let offset = (j * piece_bytes) as u64;
                    encoder.copy_buffer_to_buffer(array.segment(k), offset, reader.target(), 0, dst.len() as u64);
                    reader.submit(ctx, encoder, dst)?;
                }
            }
            reader.finish(ctx)?;
            ctx.counters.read_back(array.bytes());
            Ok(())
        })
    }

    /// Encodes every stage into one command buffer and submits it, without
    /// waiting: returns each kept stage's output array. A reading of any
    /// output waits for the work (and reports a fault that happened
    /// meanwhile).
    pub fn run_stages(&self, stages: &[Stage<'_>]) -> Result<Vec<Option<DeviceArray>>, GpuError> {
        let last_use = last_uses(stages);
        let arrays = stages.iter().flat_map(|stage| &stage.inputs).filter_map(|source| match source {
            StageInput::Array(array) => Some(array),
            StageInput::Stage(_) => None,
        });
        if !arrays.into_iter().all(|array| self.owns(array)) {
            return Err(foreign());
        }
        for stage in stages {
            self.compile(&stage.program.structure, stage.reduce)?;
        }
        self.job(|ctx, scratch| {
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            let mut outputs: Vec<Option<DeviceArray>> = Vec::with_capacity(stages.len());
            for (j, stage) in stages.iter().enumerate() {
                let arrays: Vec<DeviceArray> = stage
                    .program
                    .columns
                    .iter()
                    .map(|&c| match stage.inputs[c] {
                        StageInput::Array(array) => Some(array.clone()),
                        StageInput::Stage(k) => outputs[k].clone(),
                    })
                    .collect::<Option<_>>()
                    .ok_or_else(|| GpuError::Internal("a stage reads an array freed before".into()))?;
                let inputs: Vec<&DeviceArray> = arrays.iter().collect();
                let mut output = encode_stage(ctx, &self.pool, &self.kernels, scratch, &mut encoder, stage, &inputs)?;
                if stage.keep && stage.reduce.is_some() {
                    output.early =
                        Some(Arc::new(EarlyRead::encode(ctx, &mut encoder, output.segment(0), output.bytes())));
                }
                outputs.push(Some(output));
                // Arrays no later stage reads go back to the pool now, so
                // the next stages write into them instead of new buffers.
                for (k, out) in outputs.iter_mut().enumerate() {
                    if !stages[k].keep && last_use[k] <= j {
                        *out = None;
                    }
                }
            }
            let submission = ctx.submit([encoder.finish()]);
            for early in outputs.iter().flatten().filter_map(|output| output.early.as_ref()) {
                early.submitted(submission.clone());
            }
            Ok(outputs)
        })
    }
}

/// For each stage, the last stage that reads its output (itself if none).
fn last_uses(stages: &[Stage<'_>]) -> Vec<usize> {
    let mut last: Vec<usize> = (0..stages.len()).collect();
    for (j, stage) in stages.iter().enumerate() {
        for source in &stage.inputs {
            if let StageInput::Stage(k) = *source {
                last[k] = last[k].max(j);
            }
        }
    }
    last
}

/// Encodes one stage over `inputs` (in the program's slot order).
fn encode_stage(
    ctx: &Context,
    pool: &Arc<Pool>,
    pipelines: &KernelCache,
    scratch: &mut Scratch,
    encoder: &mut wgpu::CommandEncoder,
    stage: &Stage<'_>,
    inputs: &[&DeviceArray],
) -> Result<DeviceArray, GpuError> {
    let len = inputs.first().map(|a| a.len).ok_or_else(|| GpuError::Internal("a stage reads no array".into()))?;
    if inputs.iter().any(|a| a.len != len) {
        return Err(GpuError::Internal("a stage's arrays differ in length".into()));
    }
    let dtype = stage.program.structure.output();
    match stage.reduce {
        Some(reduce) => {
            let out = DeviceArray::new(ctx, pool, dtype, 1);
            let job = ResidentReduce { program: stage.program, inputs, reduce };
            encode_resident(ctx, pipelines, scratch, encoder, &job, &out)?;
            Ok(out)
        }
        None => {
            let out = DeviceArray::new(ctx, pool, dtype, len);
            encode_map(ctx, pipelines, encoder, stage.program, inputs, &out)?;
            Ok(out)
        }
    }
}

/// Encodes `out = program(inputs)`, one dispatch per segment.
fn encode_map(
    ctx: &Context,
    pipelines: &KernelCache,
    encoder: &mut wgpu::CommandEncoder,
    program: &Program,
    inputs: &[&DeviceArray],
    out: &DeviceArray,
) -> Result<(), GpuError> {
    let kernel = Kernel::map(&program.structure);
    let layout = kernel.layout();
    let pipeline = pipelines.get(ctx, &kernel)?;
    let slot_bytes = param_slot_bytes(layout.size);
    let params = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("swath stage parameters"),
        size: slot_bytes * out.segment_count().max(1) as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let segment = DeviceArray::segment_len(ctx);
    // Every segment's parameters in one write: each write_buffer costs wgpu
    // a staging allocation of its own.
    let mut staged = vec![0u8; params.size() as usize];
    for k in 0..out.segment_count() {
        let start = k * segment;
        let bytes = layout.bytes((segment.min(out.len - start)) as u32, start as u32, None, &program.consts);
        let slot = k * slot_bytes as usize;
        staged[slot..slot + bytes.len()].copy_from_slice(&bytes);
    }
    ctx.queue.write_buffer(&params, 0, &staged);
    for k in 0..out.segment_count() {
        let start = k * segment;
        let n = segment.min(out.len - start);
        let slot = k as u64 * slot_bytes;
        let dispatch = Launch {
            pipeline: &pipeline,
            params: binding(&params, slot, layout.size as u64),
            dst: out.binding(k, n),
            inputs: inputs.iter().map(|a| a.binding(k, n)).collect(),
            groups: n.div_ceil(LANES),
        };
        dispatch.encode(ctx, encoder, None);
    }
    Ok(())
}
