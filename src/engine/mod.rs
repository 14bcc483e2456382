//! [`Engine`]: the entry point. Owns the CPU pool and the GPU device, routes
//! each job, and reruns a failed GPU job on the CPU.

mod argbest;
mod builder;
mod calibrate;
mod costs;
mod device;
mod dispatch;
mod eval;
mod exprs;
mod filter;
mod histogram;
mod model;
mod ops;
mod outcome;
mod probe;
mod scan;
mod submit;
mod sync;

pub use builder::{EngineBuilder, DEFAULT_GPU_TIMEOUT};
pub use filter::Partition;
pub use outcome::{Outcome, Output};

pub(crate) use dispatch::Route;
use dispatch::Target;
pub(crate) use filter::{compaction_shape, predicate_program};
pub(crate) use histogram::{equal_width, key_binning};

use crate::column::Column;
use crate::cpu;
use crate::dtype::Element;
use crate::error::{Error, GpuError, Result};
use crate::exec::{GpuExec, MapWork, ReduceWork, Task, Work};
use crate::expr::program::Program;
use crate::fresh::result_vec;
use crate::gpu::{DeviceArray, Gpu, GpuInfo, GpuProfile, InjectedFault, Transfers};
use crate::job::{Job, Then};
use crate::op::{Op, Reduce};
use crate::schedule::{route, CostModel, Device, Policy, ProgramShape, Shape, SMALL_JOB};
use costs::Costs;
use device::{GpuOptions, GpuSlot};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A data-parallel engine: maps and reductions on the GPU or the CPU.
///
/// Create one and reuse it: it holds the GPU device, compiled pipelines and
/// scratch buffers. It is `Send + Sync`; jobs from several threads share it.
///
/// ```
/// use swath::{Engine, Op, Reduce};
/// let engine = Engine::new()?; // policy from SWATH_DEVICE, default auto
/// let xs: Vec<f32> = (1..=10).map(|i| i as f32).collect();
/// assert_eq!(engine.map(&xs, Op::Square)?[9], 100.0);
/// assert_eq!(engine.reduce(&xs, Reduce::Sum)?, 55.0);
/// assert_eq!(engine.map_reduce(&xs, Op::Square, Reduce::Sum)?, 385.0);
/// # Ok::<(), swath::Error>(())
/// ```
///
/// An `Engine` is a handle: clones share one device, pool and cache, so a
/// clone can move into another thread or a submitted job.
#[derive(Clone)]
pub struct Engine {
    core: Arc<Core>,
}

/// What every clone of an [`Engine`] shares.
struct Core {
    policy: Policy,
    gpu: GpuSlot,
    pool: Option<rayon::ThreadPool>,
    threads: usize,
    costs: Costs,
    /// Jobs rerun on the CPU, wholly or in part, after a GPU fault.
    fallbacks: AtomicU64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policy", &self.core.policy)
            .field("threads", &self.threads())
            .field("gpu", &self.gpu())
            .field("gpu_absent", &self.gpu_absent_reason())
            .finish()
    }
}

impl Engine {
    /// An engine with the policy of `SWATH_DEVICE` (default `auto`).
    pub fn new() -> Result<Engine> {
        Engine::builder().build()
    }

    /// A CPU-only engine on rayon's global pool; never fails.
    pub fn cpu() -> Engine {
        let threads = rayon::current_num_threads();
        let options = GpuOptions { timeout: DEFAULT_GPU_TIMEOUT, chunk_bytes: None };
        Engine::from_core(Core {
            policy: Policy::Cpu,
            gpu: GpuSlot::empty(options, "not opened: policy is cpu".into()),
            pool: None,
            threads,
            costs: Costs::fixed(CostModel { cpu: crate::schedule::CpuCosts::with_threads(threads), gpu: None }),
            fallbacks: AtomicU64::new(0),
        })
    }

    fn from_core(core: Core) -> Engine {
        Engine { core: Arc::new(core) }
    }

    /// A builder for a chosen policy and thread count.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// The routing policy.
    pub fn policy(&self) -> Policy {
        self.core.policy
    }

    /// Threads of the CPU pool.
    pub fn threads(&self) -> usize {
        self.core.threads
    }

    /// The GPU adapter in use, if one was opened.
    pub fn gpu(&self) -> Option<GpuInfo> {
        self.core.gpu.current().map(|gpu| gpu.info().clone())
    }

    /// The current GPU device, if one is open.
    pub(crate) fn current_gpu(&self) -> Option<Arc<Gpu>> {
        self.core.gpu.current()
    }

    /// True if a GPU is open and healthy. A GPU becomes unhealthy when its
    /// device is lost, when a job outlives the GPU timeout, or after
    /// several faults in a row; jobs then run on the CPU until
    /// [`Engine::reopen_gpu`] opens a new device.
    pub fn gpu_healthy(&self) -> bool {
        self.gpu_unhealthy_reason().is_none() && self.current_gpu().is_some()
    }

    /// Why the open GPU takes no jobs, if it does not.
    pub fn gpu_unhealthy_reason(&self) -> Option<String> {
        self.current_gpu().and_then(|gpu| gpu.unhealthy())
    }

    /// Opens a new GPU device in place of the current one, for instance
    /// after a device loss. Arrays that lived on the old device are
    /// recomputed from their inputs when next read. Running jobs finish on
    /// the device they started on.
    ///
    /// ```
    /// let engine = swath::Engine::new()?;
    /// if !engine.gpu_healthy() && engine.gpu().is_some() {
    ///     engine.reopen_gpu()?;
    /// }
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn reopen_gpu(&self) -> Result<()> {
        if self.core.policy == Policy::Cpu {
            let reason = "the engine's policy is cpu; build one with the auto or gpu policy to use a GPU".into();
            return Err(Error::NoGpu { reason });
        }
        self.core.gpu.reopen().map_err(|reason| Error::NoGpu { reason })?;
        self.core.costs.forget_gpu();
        Ok(())
    }

    /// Why no GPU is open (empty when one is).
    pub fn gpu_absent_reason(&self) -> String {
        self.core.gpu.absent()
    }

    /// Runs `job` and reports where it ran.
    pub fn run<T: Element>(&self, job: &Job<'_, T>) -> Result<Outcome<Output<T>>> {
        let start = Instant::now();
        let task = job.task()?;
        let shape = ProgramShape::of(task.program);
        let outcome = match job.consumer() {
            Then::Values => {
                let mut out = result_vec::<T>(task.len)?;
                self.execute_map(task, shape, &mut out, Target::New)?.with(Output::Array(out))
            }
            &Then::Reduce(reduce) => {
                let (outcome, value) = self.execute_reduce(task, shape, reduce)?.take();
                outcome.with(Output::Scalar(value))
            }
            &Then::Scan(scan) => {
                let mut out = result_vec::<T>(task.len)?;
                self.execute_scan(task, shape, scan, &mut out, Target::New)?.with(Output::Array(out))
            }
            Then::Filter(predicate) => {
                let predicate = filter::predicate_program(predicate, job.inputs())?;
                let (outcome, values) = self.execute_filter(task, &predicate)?.take();
                outcome.with(Output::Array(values?))
            }
            &Then::Arg(extreme) => {
                let (outcome, at) = self.routed_argbest(task, shape, extreme)?.take();
                outcome.with(Output::Located(at))
            }
            &Then::Histogram { bins, lo, hi } => {
                let binning = histogram::equal_width::<T>(bins, lo, hi)?;
                let (outcome, counts) = self.routed_histogram(task, shape, &binning)?.take();
                outcome.with(Output::Counts(counts))
            }
        };
        Ok(Outcome { elapsed: start.elapsed(), ..outcome })
    }

    /// `op` applied to every element, as a new vector.
    pub fn map<T: Element>(&self, input: &[T], op: Op) -> Result<Vec<T>> {
        let mut out = result_vec::<T>(input.len())?;
        self.map_to(input, &mut out, op, Target::New)?;
        Ok(out)
    }

    /// `op` applied to every element of `input`, written into `out` (no
    /// allocation on the CPU path). Returns where it ran.
    #[inline]
    pub fn map_into<T: Element>(&self, input: &[T], out: &mut [T], op: Op) -> Result<Device> {
        self.map_to(input, out, op, Target::Given)
    }

    /// [`Engine::map_into`], predicted as writing `target`. A small job
    /// with a compiled loop runs at once, inlined into the caller; the
    /// rest is a call, so that the fast path stays a few instructions.
    #[inline(always)]
    fn map_to<T: Element>(&self, input: &[T], out: &mut [T], op: Op, target: Target) -> Result<Device> {
        if self.small_on_cpu(input.len()) && input.len() == out.len() && cpu::has_loop(Some(op)) {
            op.check(T::DTYPE)?;
            cpu::map_into(input, out, op);
            return Ok(Device::Cpu);
        }
        self.map_routed(input, out, op, target)
    }

    /// [`Engine::map_to`] for a job that is routed.
    #[inline(never)]
    fn map_routed<T: Element>(&self, input: &[T], out: &mut [T], op: Op, target: Target) -> Result<Device> {
        op.check(T::DTYPE)?;
        let op = ops::compiled(Some(op), T::DTYPE)?;
        let columns = [Column::of(input)];
        Ok(self.execute_map(Task::new(&op.program, &columns, input.len()), op.shape, out, target)?.device)
    }

    /// `input` reduced to one value in the canonical order.
    #[inline]
    pub fn reduce<T: Element>(&self, input: &[T], reduce: Reduce) -> Result<T> {
        self.reduce_value(input, None, reduce)
    }

    /// `op` fused into `reduce`: one pass, no intermediate array.
    #[inline]
    pub fn map_reduce<T: Element>(&self, input: &[T], op: Op, reduce: Reduce) -> Result<T> {
        self.reduce_value(input, Some(op), reduce)
    }

    #[inline]
    fn reduce_value<T: Element>(&self, input: &[T], map: Option<Op>, reduce: Reduce) -> Result<T> {
        if let Some(op) = map {
            op.check(T::DTYPE)?;
        }
        let small = self.small_on_cpu(input.len()) && (reduce.has_identity() || !input.is_empty());
        if small && cpu::has_loop(map) {
            return Ok(cpu::map_reduce(input, map, reduce));
        }
        let op = ops::compiled(map, T::DTYPE)?;
        let columns = [Column::of(input)];
        Ok(self.execute_reduce(Task::new(&op.program, &columns, input.len()), op.shape, reduce)?.value)
    }

    /// True if a job of `len` elements runs serially on the calling thread
    /// without routing: what [`route`] decides for every small job outside
    /// the gpu policy, at the cost of one comparison, so that a 10-element
    /// job costs about a plain loop. The op entry points take it before
    /// lowering their op, which would cost more than the job.
    #[inline]
    fn small_on_cpu(&self, len: usize) -> bool {
        len < SMALL_JOB && self.core.policy != Policy::Gpu
    }

    /// Runs `job` on the GPU with its phases separated and timed: upload,
    /// kernel, readback. For benchmarks: the phases no longer overlap, so
    /// the job is slower than under [`Engine::run`], and a GPU fault is
    /// returned as an error instead of being rerun on the CPU.
    ///
    /// ```
    /// use swath::{Engine, Job, Op, Policy};
    /// let xs = vec![1.5f32; 1 << 16];
    /// if let Ok(engine) = Engine::builder().policy(Policy::Gpu).build() {
    ///     let (squares, profile) = engine.profile_gpu(&Job::map(&xs, Op::Square))?;
    ///     assert_eq!(squares.array().unwrap()[0], 2.25);
    ///     println!("upload {:?}, kernel {:?}, readback {:?}", profile.upload, profile.kernel, profile.readback);
    /// }
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn profile_gpu<T: Element>(&self, job: &Job<'_, T>) -> Result<(Output<T>, GpuProfile)> {
        let gpu = self.current_gpu().ok_or_else(|| Error::NoGpu { reason: self.gpu_absent_reason() })?;
        let task = job.task()?;
        let decision = route(Policy::Gpu, Some(gpu.traits()), &self.shape(job), None);
        if decision.device != Device::Gpu {
            return Err(GpuError::Unsupported(decision.reason.to_string()).into());
        }
        task.program.check_len(task.len)?;
        let exec = GpuExec::profiling(&gpu);
        if !matches!(job.consumer(), Then::Values | Then::Reduce(_)) {
            return Err(GpuError::Unsupported("only maps and reductions are profiled phase by phase".into()).into());
        }
        let value = match job.reduction() {
            None => {
                let mut out = result_vec::<T>(task.len)?;
                MapWork { task, out: &mut out }.on_gpu(&exec)?;
                Output::Array(out)
            }
            Some(reduce) if task.len == 0 && !reduce.has_identity() => {
                return Err(Error::EmptyReduction { reduce });
            }
            Some(reduce) => Output::Scalar(ReduceWork::new(task, reduce).on_gpu(&exec)?),
        };
        Ok((value, exec.profile().unwrap_or_default()))
    }

    /// The shape of `job` as [`Engine::run`] runs it: a map writes a new vector.
    fn shape<T: Element>(&self, job: &Job<'_, T>) -> Shape {
        let program = job.program().map_or_else(|_| Program::identity(T::DTYPE), Clone::clone);
        Shape::of(&program, job.len(), job.reduction()).with_new_output()
    }

    /// Host–device traffic of this engine's GPU so far (zeros without one,
    /// or before one is opened).
    pub fn transfers(&self) -> Transfers {
        self.core.gpu.opened().flatten().map(|gpu| gpu.transfers()).unwrap_or_default()
    }

    /// How many jobs on host data a GPU fault has sent back to the CPU,
    /// wholly or in part, since the engine was built. [`Engine::run`]
    /// names each job's fault in [`Outcome::fallback`]; this count also
    /// covers the methods that return only values (`map`, `reduce`,
    /// `filter`, `partition`, `histogram`, `bincount`, ...), so a caller
    /// can tell whether their results came from the GPU.
    ///
    /// ```
    /// use swath::{Engine, Policy};
    /// if let Ok(engine) = Engine::builder().policy(Policy::Gpu).build() {
    ///     let before = engine.gpu_fallbacks();
    ///     assert_eq!(engine.bincount(&[1u32, 3, 1, 0], 4)?, [1, 2, 0, 1]);
    ///     let on_gpu = engine.gpu_fallbacks() == before;
    ///     println!("counted on the {}", if on_gpu { "GPU" } else { "CPU, after a GPU fault" });
    /// }
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn gpu_fallbacks(&self) -> u64 {
        self.core.fallbacks.load(Ordering::Relaxed)
    }

    /// Counts a job that a GPU fault sent back to the CPU.
    pub(crate) fn count_fallback(&self) {
        self.core.fallbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads a device array of this engine's GPU into `out`; a fault is
    /// logged and returned, for the caller to recompute the values.
    pub(crate) fn read_device<T: Element>(&self, array: &DeviceArray, out: &mut [T]) -> Result<(), GpuError> {
        let gpu = self.current_gpu().ok_or_else(|| GpuError::DeviceLost("the engine has no GPU".into()))?;
        gpu.read(array, bytemuck::cast_slice_mut(out)).map_err(crate::exec::note_fault)
    }

    /// True if `other` is a clone of this engine (shares its devices).
    pub(crate) fn same_as(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.core, &other.core)
    }

    /// Predicted work now queued on each device.
    pub(crate) fn load(&self) -> crate::schedule::Load {
        self.core.costs.load()
    }

    /// True once the engine has tried to open its GPU: at once under the
    /// gpu policy, else on the first job that may run there.
    #[doc(hidden)]
    pub fn gpu_opened(&self) -> bool {
        self.core.gpu.opened().is_some()
    }

    /// GPU pipelines compiled so far (0 without a GPU), to test that
    /// pipelines are cached by an expression's structure.
    #[doc(hidden)]
    pub fn compiled_kernels(&self) -> usize {
        self.core.gpu.opened().flatten().map_or(0, |gpu| gpu.compiled_kernels())
    }

    /// Makes the next GPU job fail with `fault`, to test the fallback.
    /// Returns false (and does nothing) when no GPU is open.
    #[doc(hidden)]
    pub fn inject_gpu_fault(&self, fault: InjectedFault) -> bool {
        self.current_gpu().map(|gpu| gpu.inject(fault)).is_some()
    }

    /// Runs `work` on the engine's CPU pool.
    pub(crate) fn on_pool<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        self.cpu_exec().install(work)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn engine_is_shareable_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<super::Engine>();
    }
}
