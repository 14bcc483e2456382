//! Arrays and pipelines on the engine: where a new array lives, and how a
//! pipeline's stages are checked, routed and dispatched like any job.

use super::fuse::fuse;
use super::slices::{check_dests, Dest, Input, Source};
use super::{Array, ArrayValues, Origin, Raw, StageSpec, Store, MAX_LINEAGE};
use crate::column::{Column, ColumnMut, HostData};
use crate::dtype::{DType, Element};
use crate::engine::{Engine, Outcome, Route};
use crate::error::{Error, GpuError, PipelineError, Result};
use crate::exec::chain::{self, GpuInput, Stage};
use crate::exec::{CpuExec, GpuExec, Work};
use crate::expr::program::Program;
use crate::fresh::{self, PARALLEL_COPY_FROM};
use crate::gpu::Gpu;
use crate::schedule::{route_chain, Decision, Device, Policy, Reason, Shape, SMALL_JOB};
use std::sync::Arc;

/// An array under a name: a pipeline's output.
#[derive(Clone)]
pub(crate) struct Named {
    pub name: String,
    pub raw: Raw,
}

/// An array a stage may read, as checking sees it.
pub(crate) struct Known {
    pub name: String,
    pub dtype: DType,
    pub len: usize,
    /// How to make it again; `None` if it reads lent values.
    pub origin: Option<Arc<Origin>>,
}

impl Engine {
    /// `values` as an [`Array`]: uploaded once to the GPU if jobs on it
    /// would run there (the `gpu` policy, or `auto` with a hardware GPU whose
    /// kernels stream memory faster than the CPU pool), else kept in host
    /// memory. Takes a `Vec` without copying; a slice is copied, in
    /// parallel on the engine's pool when large (see [`ArrayValues`]).
    ///
    /// ```
    /// let engine = swath::Engine::new()?;
    /// let xs = engine.array(vec![1.5f32, 2.5]);
    /// println!("on the GPU: {}", xs.on_gpu());
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn array<T: Element>(&self, values: impl ArrayValues<T>) -> Array<T> {
        let host = HostData::of(values.into_values(&|values| self.copy_values(values)));
        let len = host.column().len();
        let store = match self.gpu_for_arrays(T::DTYPE, len) {
            Some(gpu) => match gpu.upload(host.column()) {
                Ok(device) => Store::Device(device),
                Err(fault) => {
                    crate::exec::note_fault(fault);
                    Store::Host(host.clone())
                }
            },
            None => Store::Host(host.clone()),
        };
        let origin = Arc::new(Origin::Data(host));
        Array::from_raw(Raw::new(self.clone(), T::DTYPE, len, store, origin))
    }

    /// `values` in a new vector: for a large slice, a parallel copy into
    /// huge pages (see [`crate::fresh`]), or `to_vec` where that
    /// allocation fails, as a copy always did.
    fn copy_values<T: Element>(&self, values: &[T]) -> Vec<T> {
        if std::mem::size_of_val(values) < PARALLEL_COPY_FROM {
            return values.to_vec();
        }
        self.on_pool(|| fresh::copy_of(values)).unwrap_or_else(|_| values.to_vec())
    }

    /// A new, empty [`crate::Pipeline`] on this engine.
    pub fn pipeline(&self) -> crate::Pipeline<'_> {
        crate::Pipeline::new(self)
    }

    /// The GPU new arrays of `dtype` go to, if any: under `auto`, a
    /// hardware one whose kernels stream memory faster than the CPU pool,
    /// for arrays worth a launch.
    fn gpu_for_arrays(&self, dtype: DType, len: usize) -> Option<Arc<Gpu>> {
        // Checked first: a small array under `auto` does not open the GPU.
        let may_want = match self.policy() {
            Policy::Gpu => true,
            Policy::Auto | Policy::Both => len >= SMALL_JOB,
            Policy::Cpu => false,
        };
        if !may_want {
            return None;
        }
        let gpu = self.current_gpu()?;
        let traits = gpu.traits();
        // A software adapter computes on the pool's own cores: under `auto`
        // an array placed there only adds an upload, and a readback for
        // every job the CPU then runs on it.
        let wanted = self.policy() == Policy::Gpu
            || !traits.software && {
                let model = self.cost_model();
                // A map over the array reads and writes it: from the caches or from memory.
                let streamed = (2 * len * dtype.size()) as f64;
                model.gpu.is_some_and(|costs| costs.bytes_per_s > model.cpu.pool_bytes_per_s(streamed))
            };
        (wanted && traits.healthy && (dtype != DType::F64 || traits.shader_f64)).then_some(gpu)
    }
}

/// Checks, routes and runs a pipeline on `engine`; returns the stages
/// whose `keep` is set, by name, and how the pipeline ran.
pub(crate) fn run_pipeline(
    engine: &Engine,
    inputs: Vec<Input<'_>>,
    specs: Vec<StageSpec>,
    keep: &[String],
    into: Vec<Dest<'_>>,
) -> Result<(Vec<Named>, Outcome<()>)> {
    let mut known: Vec<Known> = inputs
        .iter()
        .map(|n| Known { name: n.name.clone(), dtype: n.dtype(), len: n.len(), origin: n.origin() })
        .collect();
    let mut stages = Vec::with_capacity(specs.len());
    let mut names = Vec::with_capacity(specs.len());
    for spec in &specs {
        let (stage, origin) = check(&known, spec, keep.contains(&spec.name))?;
        let len = if stage.reduce.is_some() { 1 } else { stage.len };
        known.push(Known { name: spec.name.clone(), dtype: stage.program.structure.output(), len, origin });
        stages.push(stage);
        names.push(&spec.name);
    }
    if let Some(name) = keep.iter().find(|name| !names.contains(name)) {
        return Err(PipelineError::UnknownStage { name: name.clone() }.into());
    }
    let into_stages = check_dests(&known[inputs.len()..], &into)?;
    let fused = fuse(&known, &specs, stages)?;
    let route = route_pipeline(engine, &inputs, &fused.stages);
    let may_use_gpu = route.gpu.is_some() && route.decision.device != Device::Cpu;
    let arrays_kept = keep.iter().any(|name| !into.iter().any(|into| &into.name == name));
    if may_use_gpu && arrays_kept && inputs.iter().any(|input| input.origin().is_none()) {
        // A result left on the GPU must be able to recompute itself from
        // its source, which a lent slice does not stay: own the values.
        let inputs = inputs.into_iter().map(|input| input.owned(engine)).collect::<Result<_>>()?;
        return run_pipeline(engine, inputs, specs, keep, into);
    }
    let mut dests: Vec<Option<ColumnMut>> = (0..fused.stages.len()).map(|_| None).collect();
    for (into, j) in into.into_iter().zip(into_stages) {
        let Some(run) = fused.runs[j] else { unreachable!("a stage written into a slice is kept, so it runs") };
        dests[run] = Some(into.slice);
    }
    let mut work = ChainWork { engine, inputs: &inputs, stages: &fused.stages, dests };
    let mut outcome = engine.dispatch(route, &mut work);
    let mut stores = std::mem::take(&mut outcome.value);
    let stores = fused.runs.iter().map(|run| run.and_then(|k| stores[k].take()));
    let arrays = known.split_off(inputs.len()).into_iter().zip(stores);
    let kept = arrays
        .filter_map(|(array, store)| Some((array, store?)))
        .map(|(array, store)| {
            let origin = match (array.origin, &store) {
                (Some(origin), _) => origin,
                // Collapsed to this anyway (see `collapse_lineage`).
                (None, Store::Host(data)) => Arc::new(Origin::Data(data.clone())),
                (None, Store::Device(_)) => unreachable!("a pipeline that may run on the GPU owns its inputs"),
            };
            let raw = Raw::new(engine.clone(), array.dtype, array.len, store, origin);
            Named { name: array.name, raw: collapse_lineage(raw) }
        })
        .collect();
    Ok((kept, outcome.with(())))
}

/// `raw` with no more lineage than it needs: values in host memory are
/// their own origin, and an array on the GPU more than [`MAX_LINEAGE`]
/// stages from its source data is read back once to be its own.
pub(super) fn collapse_lineage(raw: Raw) -> Raw {
    // A length still on the device stays there unless the lineage is too long.
    let checkpoint = match raw.settled() {
        Some((_, Store::Host(data))) => Some(data.clone()),
        _ if raw.origin.depth() > MAX_LINEAGE => Some(raw.host()),
        _ => None,
    };
    match checkpoint {
        Some(data) => Raw { origin: Arc::new(Origin::Data(data)), ..raw },
        None => raw,
    }
}

/// Where a pipeline runs: on the GPU if it can run every stage and,
/// under `auto`, the cost model predicts it to finish first, given where
/// the inputs live.
fn route_pipeline(engine: &Engine, inputs: &[Input<'_>], stages: &[Stage]) -> Route {
    let longest = stages.iter().map(|stage| stage.len).max().unwrap_or(0);
    if engine.leaves_gpu_closed(longest) {
        let shapes: Vec<Shape> = stages.iter().map(|s| Shape::of(&s.program, s.len, s.reduce)).collect();
        let cpu_s = engine.ready_model().map(|model| model.cpu_chain_seconds(&shapes, 0));
        let decision = Decision::new(Device::Cpu, Reason::SmallJob);
        return Route { gpu: None, decision, cpu_s, gpu_s: None };
    }
    let gpu = engine.current_gpu();
    let read = |k: usize| stages.iter().any(|stage| stage.reads.contains(&k));
    let on_gpu = |input: &Input| match &input.source {
        Source::Array(raw) => gpu.as_deref().is_some_and(|gpu| holds(engine, gpu, raw)),
        Source::Lent(_) => false,
    };
    let bytes = |on: bool| -> u64 {
        let read = inputs.iter().enumerate().filter(|&(k, input)| read(k) && on_gpu(input) == on);
        read.map(|(_, input)| (input.len() * input.dtype().size()) as u64).sum()
    };
    let bytes = (bytes(false), bytes(true));
    let shapes: Vec<Shape> = stages.iter().map(|stage| Shape::of(&stage.program, stage.len, stage.reduce)).collect();
    route_shapes(engine, gpu, &shapes, bytes)
}

/// The route of work of `shapes` on `gpu` (the engine's current one)
/// that reads `host_bytes` of arrays in host memory and `device_bytes`
/// of arrays on the GPU.
pub(super) fn route_shapes(
    engine: &Engine,
    gpu: Option<Arc<Gpu>>,
    shapes: &[Shape],
    (host_bytes, device_bytes): (u64, u64),
) -> Route {
    // No chain is too small for the model: where the data is decides.
    let model = engine.routing_model(gpu.as_deref(), true);
    let traits = gpu.as_deref().map(Gpu::traits);
    let load = engine.load();
    let decision = route_chain(engine.policy(), traits, shapes, (host_bytes, device_bytes), model.as_ref(), load);
    let cpu_s = model.as_ref().map(|m| m.cpu_chain_seconds(shapes, device_bytes));
    let gpu_s = model.as_ref().and_then(|m| m.gpu_chain_seconds(shapes, host_bytes));
    Route { gpu, decision, cpu_s, gpu_s }
}

/// True if `raw` lives on `gpu`, `engine`'s GPU.
pub(super) fn holds(engine: &Engine, gpu: &Gpu, raw: &Raw) -> bool {
    matches!(raw.store(), Store::Device(array) if gpu.owns(array)) && raw.engine.same_as(engine)
}

/// A checked pipeline, ready for dispatch: the store of each stage
/// (`None` for those not kept).
struct ChainWork<'w> {
    engine: &'w Engine,
    inputs: &'w [Input<'w>],
    stages: &'w [Stage],
    /// Per stage, the caller's slice to write it into.
    dests: Vec<Option<ColumnMut<'w>>>,
}

impl ChainWork<'_> {
    fn read(&self, k: usize) -> bool {
        self.stages.iter().any(|stage| stage.reads.contains(&k))
    }
}

impl Work for ChainWork<'_> {
    type Out = Vec<Option<Store>>;

    fn len(&self) -> usize {
        0
    }

    fn on_cpu(&mut self, cpu: &CpuExec<'_>) -> Vec<Option<Store>> {
        let read = |k: usize| self.read(k);
        let hosts: Vec<Option<HostData>> = (self.inputs.iter().enumerate())
            .map(|(k, input)| match &input.source {
                Source::Array(raw) if read(k) => Some(raw.host()),
                _ => None,
            })
            .collect();
        let columns: Vec<Option<Column<'_>>> = (self.inputs.iter().zip(&hosts).enumerate())
            .map(|(k, (input, host))| match (&input.source, host) {
                (Source::Lent(column), _) if read(k) => Some(*column),
                (_, host) => host.as_ref().map(HostData::column),
            })
            .collect();
        let values = chain::on_cpu(cpu, &columns, self.stages, &mut self.dests);
        values.into_iter().map(|v| v.map(Store::Host)).collect()
    }

    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> Result<Vec<Option<Store>>, GpuError> {
        // Inputs in host memory (or on a GPU since replaced) are uploaded first.
        let hosts: Vec<Option<HostData>> = (self.inputs.iter().enumerate())
            .map(|(k, input)| match &input.source {
                Source::Array(raw) if self.read(k) && !holds(self.engine, gpu.gpu, raw) => Some(raw.host()),
                _ => None,
            })
            .collect();
        let inputs: Vec<GpuInput> = (self.inputs.iter().zip(&hosts).enumerate())
            .map(|(k, (input, host))| match (&input.source, host) {
                (_, Some(host)) => GpuInput::Host(host.column()),
                (Source::Array(raw), None) if self.read(k) => match raw.store() {
                    Store::Device(array) => GpuInput::Resident(array.clone()),
                    Store::Host(data) => GpuInput::Host(data.column()),
                },
                (Source::Lent(column), None) if self.read(k) => GpuInput::Host(*column),
                _ => GpuInput::Unread,
            })
            .collect();
        let mut arrays = chain::on_gpu(gpu, &inputs, self.stages)?;
        // A stage written into a slice is read back there, not kept.
        for (array, dest) in arrays.iter_mut().zip(&mut self.dests) {
            if let (Some(dest), Some(values)) = (dest.as_mut(), array.as_ref()) {
                gpu.gpu.read(values, dest.bytes())?;
                *array = None;
            }
        }
        Ok(arrays.into_iter().map(|a| a.map(Store::Device)).collect())
    }
}

/// Compiles `spec` against the `known` arrays before it and checks what
/// it reads; the stage and how to make its array again.
fn check(known: &[Known], spec: &StageSpec, keep: bool) -> Result<(Stage, Option<Arc<Origin>>)> {
    if known.iter().any(|k| k.name == spec.name) {
        return Err(PipelineError::DuplicateName { name: spec.name.clone() }.into());
    }
    let types: Vec<(&str, DType)> = known.iter().map(|k| (k.name.as_str(), k.dtype)).collect();
    let mut program = Program::compile(&spec.expr, &types, spec.dtype)?;
    let reads = std::mem::take(&mut program.columns);
    program.columns = (0..reads.len()).collect();
    let Some(&first) = reads.first() else {
        return Err(PipelineError::ReadsNoArray { stage: spec.name.clone() }.into());
    };
    let len = known[first].len;
    if reads.iter().any(|&k| known[k].len != len) {
        let lengths = reads.iter().map(|&k| (known[k].name.clone(), known[k].len)).collect();
        return Err(Error::InputLengths { lengths });
    }
    program.check_len(len)?;
    if let Some(reduce) = spec.reduce {
        if len == 0 && !reduce.has_identity() {
            return Err(Error::EmptyReduction { reduce });
        }
    }
    let inputs: Option<Vec<Arc<Origin>>> = reads.iter().map(|&k| known[k].origin.clone()).collect();
    let origin = inputs.map(|inputs| {
        let depth = 1 + inputs.iter().map(|origin| origin.depth()).max().unwrap_or(0);
        Arc::new(Origin::Stage { program: program.clone(), inputs, len, reduce: spec.reduce, depth })
    });
    Ok((Stage { program, reads, len, reduce: spec.reduce, keep }, origin))
}
