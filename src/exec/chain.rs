//! Chains of stages (a [`crate::Pipeline`]) on either executor: on the
//! GPU every stage is encoded into one submission and the arrays stay on
//! the device; on the CPU the stages run one after another, each through
//! the CPU executor, writing into the arrays of stages no longer read.

use super::{infallible, CpuExec, Executor, GpuExec, Task};
use crate::column::{Column, ColumnMut, HostData};
use crate::dtype::{DType, Element};
use crate::error::GpuError;
use crate::expr::program::Program;
use crate::gpu::{DeviceArray, StageInput};
use crate::op::Reduce;

/// One stage, checked against the arrays before it.
pub(crate) struct Stage {
    /// Compiled with dense columns: slot `k` reads `reads[k]`.
    pub program: Program,
    /// Indices, among the chain's inputs and then its earlier stages, of
    /// the arrays read.
    pub reads: Vec<usize>,
    /// Elements the stage evaluates (its output has one if it reduces).
    pub len: usize,
    pub reduce: Option<Reduce>,
    /// The caller wants this stage's array; the others are freed (or
    /// recycled) after their last reader.
    pub keep: bool,
}

/// A chain input as the GPU takes it.
pub(crate) enum GpuInput<'a> {
    /// Already on this GPU.
    Resident(DeviceArray),
    /// In host memory: uploaded first.
    Host(Column<'a>),
    /// Read by no stage.
    Unread,
}

/// Every stage on the GPU, in one submission, over `inputs`: the arrays
/// of the kept stages.
pub(crate) fn on_gpu(
    gpu: &GpuExec<'_>,
    inputs: &[GpuInput<'_>],
    stages: &[Stage],
) -> Result<Vec<Option<DeviceArray>>, GpuError> {
    let resident: Vec<Option<DeviceArray>> = inputs
        .iter()
        .map(|input| match input {
            GpuInput::Resident(array) => Ok(Some(array.clone())),
            GpuInput::Host(column) => gpu.gpu.upload(*column).map(Some),
            GpuInput::Unread => Ok(None),
        })
        .collect::<Result<_, _>>()?;
    let gpu_stages: Vec<crate::gpu::Stage<'_>> = stages
        .iter()
        .map(|stage| crate::gpu::Stage {
            program: &stage.program,
            inputs: stage
                .reads
                .iter()
                .map(|&k| match resident.get(k) {
                    Some(Some(array)) => StageInput::Array(array),
                    _ => StageInput::Stage(k - inputs.len()),
                })
                .collect(),
            reduce: stage.reduce,
            keep: stage.keep,
        })
        .collect();
    gpu.gpu.run_stages(&gpu_stages)
}

/// Every stage on the CPU, over `inputs` (`None` for those no stage
/// reads): the values of the kept stages, but for those with a
/// destination in `dests` (one per stage), which are written there.
/// Other stages' values are freed once no later stage reads them, or
/// written over by a later stage.
pub(crate) fn on_cpu(
    cpu: &CpuExec<'_>,
    inputs: &[Option<Column<'_>>],
    stages: &[Stage],
    dests: &mut [Option<ColumnMut<'_>>],
) -> Vec<Option<HostData>> {
    debug_assert_eq!(dests.len(), stages.len());
    let first_stage = inputs.len();
    let mut last_read: Vec<usize> = (first_stage..first_stage + stages.len()).collect();
    for (j, stage) in stages.iter().enumerate() {
        for &k in &stage.reads {
            if let Some(s) = k.checked_sub(first_stage) {
                last_read[s] = last_read[s].max(first_stage + j);
            }
        }
    }
    let mut values: Vec<Option<HostData>> = Vec::with_capacity(stages.len());
    // Values of finished stages, for later stages to write into.
    let mut spares: Vec<HostData> = vec![];
    for (j, stage) in stages.iter().enumerate() {
        // A stage reads only earlier stages: those written are before `j`.
        let (written, dest) = dests.split_at_mut(j);
        let column = |k: usize| match k.checked_sub(first_stage) {
            None => inputs[k],
            Some(s) => match &written[s] {
                Some(dest) => Some(dest.read()),
                None => values[s].as_ref().map(HostData::column),
            },
        };
        let columns: Vec<Column<'_>> = stage.reads.iter().filter_map(|&k| column(k)).collect();
        let out = match &mut dest[0] {
            Some(dest) => {
                evaluate_into(cpu, &stage.program, &columns, stage.len, stage.reduce, dest);
                None
            }
            None => {
                let output = stage.program.structure.output();
                let fits = |s: &HostData| s.column().len() == stage.len && s.column().dtype() == output;
                let spare = spares.iter().position(fits).map(|k| spares.swap_remove(k));
                Some(evaluate(cpu, &stage.program, &columns, stage.len, stage.reduce, spare))
            }
        };
        drop(columns);
        values.push(out);
        let done = |s: usize| last_read[s] <= first_stage + j && !stages[s].keep;
        for (s, value) in values.iter_mut().enumerate() {
            if done(s) {
                spares.extend(value.take());
            }
        }
    }
    values
}

/// `program(columns)` over `len` elements on the CPU executor, written
/// into `dest`: the map, or with `reduce` its one value. The caller
/// checks that `dest` has the program's type and the result's length.
fn evaluate_into(
    cpu: &CpuExec<'_>,
    program: &Program,
    columns: &[Column<'_>],
    len: usize,
    reduce: Option<Reduce>,
    dest: &mut ColumnMut<'_>,
) {
    fn typed<U: Element>(cpu: &CpuExec<'_>, task: Task<'_>, reduce: Option<Reduce>, dest: &mut ColumnMut<'_>) {
        let Some(out) = dest.typed::<U>() else { unreachable!("the pipeline checks each destination's type") };
        match reduce {
            Some(reduce) => out[0] = infallible(cpu.reduce::<U>(task, reduce)),
            None => infallible(cpu.map(task, out)),
        }
    }
    let task = Task::new(program, columns, len);
    match program.structure.output() {
        DType::F32 => typed::<f32>(cpu, task, reduce, dest),
        DType::F64 => typed::<f64>(cpu, task, reduce, dest),
        DType::I32 => typed::<i32>(cpu, task, reduce, dest),
        DType::U32 => typed::<u32>(cpu, task, reduce, dest),
    }
}

/// `program(columns)` over `len` elements on the CPU executor: the array,
/// or with `reduce` its one-element reduction. A map writes into `spare`
/// if it is an unshared array of the right type and length, which saves
/// allocating and first touching a new one.
pub(crate) fn evaluate(
    cpu: &CpuExec<'_>,
    program: &Program,
    columns: &[Column<'_>],
    len: usize,
    reduce: Option<Reduce>,
    spare: Option<HostData>,
) -> HostData {
    fn typed<U: Element>(
        cpu: &CpuExec<'_>,
        task: Task<'_>,
        reduce: Option<Reduce>,
        spare: Option<HostData>,
    ) -> HostData {
        if let Some(reduce) = reduce {
            return HostData::of(vec![infallible(cpu.reduce::<U>(task, reduce))]);
        }
        let mut out =
            spare.filter(|s| s.column().len() == task.len).unwrap_or_else(|| HostData::zeroed(U::DTYPE, task.len));
        match out.values_mut::<U>() {
            Some(values) => infallible(cpu.map(task, values)),
            None => {
                let mut values = vec![U::default(); task.len];
                infallible(cpu.map(task, &mut values));
                out = HostData::of(values);
            }
        }
        out
    }
    let task = Task::new(program, columns, len);
    let spare = spare.filter(|s| s.column().dtype() == program.structure.output());
    match program.structure.output() {
        DType::F32 => typed::<f32>(cpu, task, reduce, spare),
        DType::F64 => typed::<f64>(cpu, task, reduce, spare),
        DType::I32 => typed::<i32>(cpu, task, reduce, spare),
        DType::U32 => typed::<u32>(cpu, task, reduce, spare),
    }
}
