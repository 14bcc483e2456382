//! Arrays and pipelines on the engine: where an array lives, and how a
//! pipeline's stages are checked, routed and run.

use super::Engine;
use crate::array::{evaluate, Array, HostData, Origin, Pipeline, Raw, StageSpec, Store};
use crate::dtype::{DType, Element};
use crate::error::{Error, GpuError, Result};
use crate::expr::program::Program;
use crate::gpu::{DeviceArray, Gpu, Source, Stage, Transfers};
use crate::op::Reduce;
use crate::schedule::{route_chain, Decision, Device, Location, Policy, Shape, SMALL_JOB};
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
        let store = match self.gpu_for_arrays(T::DTYPE, len) {
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
        self.current_gpu().map(|gpu| gpu.transfers()).unwrap_or_default()
    }

    /// The GPU new arrays of `dtype` go to, if any: under `auto`, one
    /// whose kernels stream memory faster than the CPU pool, for arrays
    /// worth a launch.
    fn gpu_for_arrays(&self, dtype: DType, len: usize) -> Option<Arc<Gpu>> {
        let gpu = self.current_gpu()?;
        let traits = gpu.traits();
        let wanted = match self.core.policy {
            Policy::Gpu => true,
            Policy::Auto | Policy::Both if len >= SMALL_JOB => {
                let model = self.cost_model();
                model.gpu.is_some_and(|costs| costs.bytes_per_s > model.cpu.bytes_per_s)
            }
            _ => false,
        };
        (wanted && traits.healthy && (dtype != DType::F64 || traits.shader_f64)).then_some(gpu)
    }

    /// Reads a device array of this engine into `out`.
    pub(crate) fn read_device(&self, array: &DeviceArray, out: &mut [u8]) -> Result<(), GpuError> {
        let gpu = self.current_gpu().ok_or_else(|| GpuError::DeviceLost("the engine has no GPU".into()))?;
        gpu.read(array, out).map_err(|fault| self.note_fault(fault))
    }

    /// Runs `work` on the engine's CPU pool.
    pub(crate) fn on_cpu_pool<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        self.on_pool(work)
    }

    /// Checks, routes and runs a pipeline; returns the arrays named in
    /// `keep` and the routing decision.
    pub(crate) fn run_pipeline(
        &self,
        inputs: Vec<(String, Raw)>,
        stages: Vec<StageSpec>,
        keep: &[String],
    ) -> Result<(Vec<(String, Raw)>, Decision)> {
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
        let gpu = self.current_gpu();
        let decision = self.route_pipeline(gpu.as_deref(), &inputs, &checked);
        let stores = match (decision.device, gpu) {
            (Device::Gpu, Some(gpu)) => match run_on_gpu(&gpu, &inputs, &checked, keep) {
                Ok(stores) => stores,
                Err(fault) => {
                    self.note_fault(fault);
                    self.run_on_cpu(&inputs, &checked, keep)
                }
            },
            _ => {
                // With nothing queued, the predicted completion is the chain's own time.
                let running = self.core.costs.start(Device::Cpu, decision.predicted.map(|p| p.cpu_s));
                let stores = self.run_on_cpu(&inputs, &checked, keep);
                running.finished();
                stores
            }
        };
        let kept = checked.into_iter().zip(stores).filter(|(stage, _)| keep.contains(&stage.name));
        let arrays = kept
            .filter_map(|(stage, store)| Some((stage, store?)))
            .map(|(stage, store)| {
                let dtype = stage.program.structure.output();
                let len = if stage.reduce.is_some() { 1 } else { stage.len };
                (stage.name, Raw { engine: self.clone(), dtype, len, store, origin: stage.origin })
            })
            .collect();
        Ok((arrays, decision))
    }

    /// Where a pipeline runs: on the GPU if it can run every stage and,
    /// under `auto`, the cost model predicts it to finish first, given
    /// where the inputs live.
    fn route_pipeline(&self, gpu: Option<&Gpu>, inputs: &[(String, Raw)], stages: &[Checked]) -> Decision {
        let mut read = vec![false; inputs.len()];
        stages.iter().flat_map(|stage| &stage.reads).filter(|&&k| k < inputs.len()).for_each(|&k| read[k] = true);
        let on_gpu = |raw: &Raw| gpu.is_some_and(|gpu| self.holds(gpu, raw));
        let bytes = |on: bool| -> u64 {
            let read = inputs.iter().zip(&read).filter(|((_, raw), &read)| read && on_gpu(raw) == on);
            read.map(|((_, raw), _)| (raw.len * raw.dtype.size()) as u64).sum()
        };
        let shapes: Vec<Shape> = stages
            .iter()
            .map(|stage| {
                let expr = Some(super::expr::routing_shape(&stage.program));
                let dtype = stage.program.structure.output();
                Shape { dtype, len: stage.len, map: None, reduce: stage.reduce, expr, data: Location::Host }
            })
            .collect();
        // No chain is too small for the model: where the data is decides.
        let model = self.routing_model(gpu, true);
        let traits = gpu.map(Gpu::traits);
        route_chain(
            self.core.policy,
            traits,
            &shapes,
            (bytes(false), bytes(true)),
            model.as_ref(),
            self.core.costs.load(),
        )
    }

    /// True if `raw` lives on `gpu`, this engine's GPU.
    fn holds(&self, gpu: &Gpu, raw: &Raw) -> bool {
        matches!(&raw.store, Store::Device(array) if gpu.owns(array)) && Arc::ptr_eq(&raw.engine.core, &self.core)
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
    // Inputs in host memory (or on a GPU since replaced) are uploaded first.
    let read = |k: usize| stages.iter().any(|stage| stage.reads.contains(&k));
    let resident: Vec<Option<DeviceArray>> = inputs
        .iter()
        .enumerate()
        .map(|(k, (_, raw))| match &raw.store {
            Store::Device(array) if gpu.owns(array) => Ok(Some(array.clone())),
            _ if read(k) => gpu.upload(raw.host().column()).map(Some),
            _ => Ok(None),
        })
        .collect::<Result<_, _>>()?;
    let gpu_stages: Vec<Stage<'_>> = stages
        .iter()
        .map(|stage| Stage {
            program: &stage.program,
            sources: stage
                .reads
                .iter()
                .map(|&k| match resident.get(k) {
                    Some(Some(array)) => Source::Array(array),
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
