//! Arrays and pipelines on the engine: where an array lives, and how a
//! pipeline's stages are checked, routed and run.

use super::Engine;
use crate::array::{evaluate, Array, HostData, Origin, Pipeline, Raw, StageSpec, Store};
use crate::dtype::{DType, Element};
use crate::error::{Error, GpuError, Result};
use crate::expr::program::Program;
use crate::gpu::{DeviceArray, Gpu, Source, Stage, Transfers};
use crate::op::Reduce;
use crate::schedule::{route, Device, Policy, Shape};
use std::sync::Arc;

/// A stage checked against the arrays before it.
struct Checked {
    name: String,
    /// Compiled with dense columns: slot `k` reads `reads[k]`.
    program: Program,
    /// Indices, among the inputs and earlier stages, of the arrays read.
    reads: Vec<usize>,
    /// Elements the stage evaluates (its output has one if it reduces).
    len: usize,
    reduce: Option<Reduce>,
    origin: Arc<Origin>,
}

impl Engine {
    /// `values` as an [`Array`]: uploaded once to the GPU if jobs on it
    /// would run there (the `gpu` policy, or `auto` with a hardware
    /// adapter), else kept in host memory. Takes a `Vec` without copying
    /// (a slice is copied).
    ///
    /// ```
    /// let engine = swath::Engine::new()?;
    /// let xs = engine.array(vec![1.5f32, 2.5]);
    /// println!("on the GPU: {}", xs.on_gpu());
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn array<T: Element>(&self, values: impl Into<Vec<T>>) -> Array<T> {
        let host = HostData::of(values.into());
        let len = host.column().len();
        let store = match self.gpu_for_arrays(T::DTYPE) {
            Some(gpu) => match gpu.upload(host.column()) {
                Ok(device) => Store::Device(device),
                Err(fault) => {
                    self.note_fault(fault);
                    Store::Host(host.clone())
                }
            },
            None => Store::Host(host.clone()),
        };
        let origin = Arc::new(Origin::Data(host));
        Array::from_raw(Raw { engine: self.clone(), dtype: T::DTYPE, len, store, origin })
    }

    /// A new, empty [`Pipeline`] on this engine.
    pub fn pipeline(&self) -> Pipeline<'_> {
        Pipeline::new(self)
    }

    /// Host–device traffic of this engine's GPU so far (zeros without one).
    pub fn transfers(&self) -> Transfers {
        self.core.gpu.as_ref().map(Gpu::transfers).unwrap_or_default()
    }

    /// The GPU new arrays of `dtype` go to, if any.
    fn gpu_for_arrays(&self, dtype: DType) -> Option<&Gpu> {
        let gpu = self.core.gpu.as_ref()?;
        let traits = gpu.traits();
        let wanted = match self.core.policy {
            Policy::Gpu => true,
            Policy::Auto => !traits.software,
            Policy::Cpu => false,
        };
        (wanted && traits.healthy && (dtype != DType::F64 || traits.shader_f64)).then_some(gpu)
    }

    /// Reads a device array of this engine into `out`.
    pub(crate) fn read_device(&self, array: &DeviceArray, out: &mut [u8]) -> Result<(), GpuError> {
        let gpu = self.core.gpu.as_ref().ok_or_else(|| GpuError::DeviceLost("the engine has no GPU".into()))?;
        gpu.read(array, out).map_err(|fault| self.note_fault(fault))
    }

    /// Runs `work` on the engine's CPU pool.
    pub(crate) fn on_cpu_pool<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        self.on_pool(work)
    }

    /// Checks, routes and runs a pipeline; returns the arrays named in `keep`.
    pub(crate) fn run_pipeline(
        &self,
        inputs: Vec<(String, Raw)>,
        stages: Vec<StageSpec>,
        keep: &[String],
    ) -> Result<Vec<(String, Raw)>> {
        let mut arrays: Vec<(String, DType, usize, Arc<Origin>)> =
            inputs.iter().map(|(name, raw)| (name.clone(), raw.dtype, raw.len, raw.origin.clone())).collect();
        let mut checked = Vec::with_capacity(stages.len());
        for spec in stages {
            let stage = check(&arrays, spec)?;
            let len = if stage.reduce.is_some() { 1 } else { stage.len };
            arrays.push((stage.name.clone(), stage.program.structure.output(), len, stage.origin.clone()));
            checked.push(stage);
        }
        if let Some(name) = keep.iter().find(|name| !checked.iter().any(|s| &s.name == *name)) {
            return Err(Error::Pipeline(format!("{name:?} is not a stage of this pipeline")));
        }
        let stores = match self.pipeline_gpu(&inputs, &checked) {
            Some(gpu) => match run_on_gpu(gpu, &inputs, &checked, keep) {
                Ok(stores) => stores,
                Err(fault) => {
                    self.note_fault(fault);
                    self.run_on_cpu(&inputs, &checked, keep)
                }
            },
            None => self.run_on_cpu(&inputs, &checked, keep),
        };
        let kept = checked.into_iter().zip(stores).filter(|(stage, _)| keep.contains(&stage.name));
        Ok(kept
            .filter_map(|(stage, store)| Some((stage, store?)))
            .map(|(stage, store)| {
                let dtype = stage.program.structure.output();
                let len = if stage.reduce.is_some() { 1 } else { stage.len };
                (stage.name, Raw { engine: self.clone(), dtype, len, store, origin: stage.origin })
            })
            .collect())
    }

    /// The GPU, if every array the pipeline reads lives on it and it has
    /// a kernel for every stage.
    fn pipeline_gpu(&self, inputs: &[(String, Raw)], stages: &[Checked]) -> Option<&Gpu> {
        let gpu = self.core.gpu.as_ref().filter(|_| self.core.policy != Policy::Cpu)?;
        let read = |k: usize| k >= inputs.len() || self.holds(&inputs[k].1);
        let resident = stages.iter().all(|stage| stage.reads.iter().all(|&k| read(k)));
        let runnable = stages.iter().all(|stage| {
            let dtype = stage.program.structure.output();
            let expr = Some(super::expr::routing_shape(&stage.program));
            let shape = Shape { dtype, len: stage.len, map: None, reduce: stage.reduce, expr };
            route(Policy::Gpu, Some(gpu.traits()), &shape, &self.core.model).device == Device::Gpu
        });
        (resident && runnable).then_some(gpu)
    }

    /// True if `raw` lives on this engine's GPU.
    fn holds(&self, raw: &Raw) -> bool {
        matches!(raw.store, Store::Device(_)) && Arc::ptr_eq(&raw.engine.core, &self.core)
    }

    /// Every stage on the CPU pool, over the host values of the inputs;
    /// the values of the stages in `keep`. Other stages' values are freed
    /// once no later stage reads them.
    fn run_on_cpu(&self, inputs: &[(String, Raw)], stages: &[Checked], keep: &[String]) -> Vec<Option<Store>> {
        let mut last_read: Vec<usize> = (0..inputs.len() + stages.len()).collect();
        for (j, stage) in stages.iter().enumerate() {
            stage.reads.iter().for_each(|&k| last_read[k] = last_read[k].max(inputs.len() + j));
        }
        let mut values: Vec<Option<HostData>> = vec![None; inputs.len()];
        // Values of finished stages, for later stages to write into.
        let mut spares: Vec<HostData> = vec![];
        for (j, stage) in stages.iter().enumerate() {
            for &k in &stage.reads {
                if values[k].is_none() {
                    values[k] = Some(inputs[k].1.host());
                }
            }
            let columns: Vec<_> =
                stage.reads.iter().filter_map(|&k| values[k].as_ref().map(HostData::column)).collect();
            let fits =
                |s: &HostData| s.column().len() == stage.len && s.column().dtype() == stage.program.structure.output();
            let spare = spares.iter().position(fits).map(|k| spares.swap_remove(k));
            let out = self.on_pool(|| evaluate(&stage.program, &columns, stage.len, stage.reduce, spare));
            drop(columns);
            values.push(Some(out));
            let done = |k: usize| {
                last_read[k] <= inputs.len() + j && (k < inputs.len() || !keep.contains(&stages[k - inputs.len()].name))
            };
            for (k, value) in values.iter_mut().enumerate() {
                if done(k) {
                    spares.extend(value.take().filter(|_| k >= inputs.len()));
                }
            }
        }
        values.split_off(inputs.len()).into_iter().map(|v| v.map(Store::Host)).collect()
    }
}

/// Every stage in one GPU submission; the stores of the stages in `keep`.
fn run_on_gpu(
    gpu: &Gpu,
    inputs: &[(String, Raw)],
    stages: &[Checked],
    keep: &[String],
) -> Result<Vec<Option<Store>>, GpuError> {
    let gpu_stages: Vec<Stage<'_>> = stages
        .iter()
        .map(|stage| Stage {
            program: &stage.program,
            sources: stage
                .reads
                .iter()
                .map(|&k| match inputs.get(k).map(|(_, raw)| &raw.store) {
                    Some(Store::Device(array)) => Source::Array(array),
                    _ => Source::Stage(k - inputs.len()),
                })
                .collect(),
            reduce: stage.reduce,
            keep: keep.contains(&stage.name),
        })
        .collect();
    Ok(gpu.run_stages(&gpu_stages)?.into_iter().map(|out| out.map(Store::Device)).collect())
}

/// Compiles `spec` against the `arrays` before it (name, type, length,
/// origin) and checks what it reads.
fn check(arrays: &[(String, DType, usize, Arc<Origin>)], spec: StageSpec) -> Result<Checked> {
    if arrays.iter().any(|(name, ..)| *name == spec.name) {
        return Err(Error::Pipeline(format!("two arrays are named {:?}", spec.name)));
    }
    let types: Vec<(&str, DType)> = arrays.iter().map(|(name, dtype, ..)| (name.as_str(), *dtype)).collect();
    let mut program = Program::compile(&spec.expr, &types, spec.dtype)?;
    let reads = std::mem::take(&mut program.columns);
    program.columns = (0..reads.len()).collect();
    let Some(&first) = reads.first() else {
        return Err(Error::Pipeline(format!(
            "stage {:?} reads no array, so it has no length; read one of its inputs",
            spec.name
        )));
    };
    let len = arrays[first].2;
    if reads.iter().any(|&k| arrays[k].2 != len) {
        let lengths = reads.iter().map(|&k| (arrays[k].0.clone(), arrays[k].2)).collect();
        return Err(Error::InputLengths { lengths });
    }
    if let Some(reduce) = spec.reduce {
        if len == 0 && !reduce.has_identity() {
            return Err(Error::EmptyReduction { reduce });
        }
    }
    let inputs = reads.iter().map(|&k| arrays[k].3.clone()).collect();
    let origin = Arc::new(Origin::Stage { program: program.clone(), inputs, len, reduce: spec.reduce });
    Ok(Checked { name: spec.name, program, reads, len, reduce: spec.reduce, origin })
}
