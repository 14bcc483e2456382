//! Chains of stages (a [`crate::Pipeline`]) on either executor: on the
//! GPU every stage is encoded into one submission and the arrays stay on
//! the device; on the CPU the stages run one after another, each through
//! the CPU executor, writing into the arrays of stages no longer read.

use super::{infallible, CpuExec, Executor, GpuExec, Task};
use crate::column::{Column, HostData};
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
pub(crate) enum GpuInput {
    /// Already on this GPU.
    Resident(DeviceArray),
    /// In host memory: uploaded first.
    Host(HostData),
    /// Read by no stage.
    Unread,
}

/// Every stage on the GPU, in one submission, over `inputs`: the arrays
/// of the kept stages.
pub(crate) fn on_gpu(
    gpu: &GpuExec<'_>,
    inputs: &[GpuInput],
    stages: &[Stage],
) -> Result<Vec<Option<DeviceArray>>, GpuError> {
    let resident: Vec<Option<DeviceArray>> = inputs
        .iter()
        .map(|input| match input {
            GpuInput::Resident(array) => Ok(Some(array.clone())),
            GpuInput::Host(data) => gpu.gpu.upload(data.column()).map(Some),
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
/// reads): the values of the kept stages. Other stages' values are freed
/// once no later stage reads them, or written over by a later stage.
pub(crate) fn on_cpu(cpu: &CpuExec<'_>, inputs: Vec<Option<HostData>>, stages: &[Stage]) -> Vec<Option<HostData>> {
    let first_stage = inputs.len();
    let mut last_read: Vec<usize> = (0..first_stage + stages.len()).collect();
    for (j, stage) in stages.iter().enumerate() {
        stage.reads.iter().for_each(|&k| last_read[k] = last_read[k].max(first_stage + j));
    }
    let mut values = inputs;
    // Values of finished stages, for later stages to write into.
    let mut spares: Vec<HostData> = vec![];
    for (j, stage) in stages.iter().enumerate() {
        let columns: Vec<Column<'_>> =
            stage.reads.iter().filter_map(|&k| values[k].as_ref().map(HostData::column)).collect();
        let fits =
            |s: &HostData| s.column().len() == stage.len && s.column().dtype() == stage.program.structure.output();
        let spare = spares.iter().position(fits).map(|k| spares.swap_remove(k));
        let out = evaluate(cpu, &stage.program, &columns, stage.len, stage.reduce, spare);
        drop(columns);
        values.push(Some(out));
        let done = |k: usize| last_read[k] <= first_stage + j && (k < first_stage || !stages[k - first_stage].keep);
        for (k, value) in values.iter_mut().enumerate() {
            if done(k) {
                spares.extend(value.take().filter(|_| k >= first_stage));
            }
        }
    }
    values.split_off(first_stage)
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
