//! [`Engine`]: the entry point. Owns the CPU pool and the GPU device, routes
//! each job, and reruns a failed GPU job on the CPU.

mod array;
mod builder;
mod expr;
mod outcome;
mod submit;

pub use builder::{EngineBuilder, DEFAULT_GPU_TIMEOUT};
pub use outcome::{Outcome, Output};

use crate::cpu;
use crate::dtype::Element;
use crate::error::{Error, GpuError, Result};
use crate::expr::program::Program;
use crate::gpu::{Gpu, GpuInfo, GpuProfile, InjectedFault, Stopwatch};
use crate::inputs::Column;
use crate::job::{Job, Source};
use crate::op::{Op, Reduce};
use crate::schedule::{route, CostModel, Decision, Device, Policy, Shape, SMALL_JOB};
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
    gpu: Option<Gpu>,
    gpu_absent: String,
    pool: Option<rayon::ThreadPool>,
    model: CostModel,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policy", &self.core.policy)
            .field("threads", &self.threads())
            .field("gpu", &self.gpu())
            .field("gpu_absent", &self.core.gpu_absent)
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
        Engine::from_core(Core {
            policy: Policy::Cpu,
            gpu: None,
            gpu_absent: "not opened: policy is cpu".into(),
            pool: None,
            model: CostModel::with_threads(rayon::current_num_threads()),
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
        self.core.model.cpu_threads
    }

    /// The GPU adapter in use, if one was opened.
    pub fn gpu(&self) -> Option<&GpuInfo> {
        self.core.gpu.as_ref().map(Gpu::info)
    }

    /// True if a GPU is open and has not been lost; once it is lost, jobs
    /// run on the CPU.
    pub fn gpu_healthy(&self) -> bool {
        self.core.gpu.as_ref().is_some_and(|gpu| gpu.traits().healthy)
    }

    /// Why no GPU is open (empty when one is).
    pub fn gpu_absent_reason(&self) -> &str {
        &self.core.gpu_absent
    }

    /// Where `job` would run, and why; runs nothing. (A job that cannot
    /// run at all, such as an expression naming a missing input, is
    /// explained as if it could; running it gives the error.)
    pub fn explain<T: Element>(&self, job: &Job<'_, T>) -> Decision {
        self.explain_shape(&self.shape(job))
    }

    /// Where a job of this shape would run, and why, without any data.
    ///
    /// ```
    /// use swath::{schedule::Shape, DType, Engine, Op};
    /// let shape = Shape { dtype: DType::F32, len: 1 << 26, map: Some(Op::Square), reduce: None, expr: None };
    /// println!("{}", Engine::cpu().explain_shape(&shape));
    /// ```
    pub fn explain_shape(&self, shape: &Shape) -> Decision {
        route(self.core.policy, self.core.gpu.as_ref().map(Gpu::traits), shape, &self.core.model)
    }

    /// Runs `job` and reports where it ran.
    pub fn run<T: Element>(&self, job: &Job<'_, T>) -> Result<Outcome<Output<T>>> {
        let start = Instant::now();
        let (value, decision, device, fallback) = match (&job.source, job.reduce) {
            (Source::Op { input, map: Some(op) }, None) => {
                let mut out = vec![T::default(); input.len()];
                let (decision, device, fallback) = self.execute_map(input, &mut out, *op)?;
                (Output::Array(out), decision, device, fallback)
            }
            (Source::Op { input, map }, Some(reduce)) => {
                let (x, decision, device, fallback) = self.execute_reduce(input, *map, reduce)?;
                (Output::Scalar(x), decision, device, fallback)
            }
            (Source::Op { map: None, .. }, None) => unreachable!("Job constructors always set a map or a reduction"),
            (Source::Expr { inputs, expr, .. }, None) => {
                let job = self.prepare::<T>(expr, inputs)?;
                let mut out = vec![T::default(); job.len];
                let (decision, device, fallback) = self.execute_expr_map(&job, &mut out)?;
                (Output::Array(out), decision, device, fallback)
            }
            (Source::Expr { inputs, expr, .. }, Some(reduce)) => {
                let job = self.prepare::<T>(expr, inputs)?;
                let (x, decision, device, fallback) = self.execute_expr_reduce(&job, reduce)?;
                (Output::Scalar(x), decision, device, fallback)
            }
        };
        Ok(Outcome { value, decision, device, fallback, elapsed: start.elapsed() })
    }

    /// `op` applied to every element, as a new vector.
    pub fn map<T: Element>(&self, input: &[T], op: Op) -> Result<Vec<T>> {
        let mut out = vec![T::default(); input.len()];
        self.map_into(input, &mut out, op)?;
        Ok(out)
    }

    /// `op` applied to every element of `input`, written into `out` (no
    /// allocation on the CPU path). Returns where it ran.
    #[inline]
    pub fn map_into<T: Element>(&self, input: &[T], out: &mut [T], op: Op) -> Result<Device> {
        if self.small_on_cpu(input.len()) && input.len() == out.len() {
            op.check(T::DTYPE)?;
            cpu::map_into(input, out, op);
            return Ok(Device::Cpu);
        }
        Ok(self.execute_map(input, out, op)?.1)
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
        if self.small_on_cpu(input.len()) && (reduce.has_identity() || !input.is_empty()) {
            if let Some(op) = map {
                op.check(T::DTYPE)?;
            }
            return Ok(cpu::map_reduce(input, map, reduce));
        }
        Ok(self.execute_reduce(input, map, reduce)?.0)
    }

    /// True if a job of `len` elements runs serially on the calling thread
    /// without routing: what [`route`] decides for every small job outside
    /// the gpu policy, at the cost of one comparison, so that a 10-element
    /// job costs about a plain loop.
    #[inline]
    fn small_on_cpu(&self, len: usize) -> bool {
        len < SMALL_JOB && self.core.policy != Policy::Gpu
    }

    fn execute_map<T: Element>(
        &self,
        input: &[T],
        out: &mut [T],
        op: Op,
    ) -> Result<(Decision, Device, Option<GpuError>)> {
        if input.len() != out.len() {
            return Err(Error::LengthMismatch { input: input.len(), output: out.len() });
        }
        op.check(T::DTYPE)?;
        let decision = self.explain(&Job::map(input, op));
        let ((), device, fallback) = self.dispatch(
            decision,
            out,
            |gpu, out| {
                // Compiled only for the GPU: the CPU runs the op's own loop.
                let program = Program::of_op(Some(op), T::DTYPE).map_err(|e| GpuError::Unsupported(e.to_string()))?;
                gpu.map(&program, &[Column::of(input)], out, &mut Stopwatch::off())
            },
            |out| cpu::map_into(input, out, op),
        );
        Ok((decision, device, fallback))
    }

    fn execute_reduce<T: Element>(
        &self,
        input: &[T],
        map: Option<Op>,
        reduce: Reduce,
    ) -> Result<(T, Decision, Device, Option<GpuError>)> {
        if let Some(op) = map {
            op.check(T::DTYPE)?;
        }
        if input.is_empty() && !reduce.has_identity() {
            return Err(Error::EmptyReduction { reduce });
        }
        let decision = self.explain(&Job { source: Source::Op { input, map }, reduce: Some(reduce) });
        let (x, device, fallback) = self.dispatch(
            decision,
            &mut (),
            |gpu, ()| self.gpu_reduce(gpu, input, map, reduce, &mut Stopwatch::off()),
            |()| cpu::map_reduce(input, map, reduce),
        );
        Ok((x, decision, device, fallback))
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
        let gpu =
            self.core.gpu.as_ref().ok_or_else(|| Error::NoGpu { detail: format!(": {}", self.core.gpu_absent) })?;
        let (program, columns, len) = match &job.source {
            Source::Op { input, map } => {
                if let Some(op) = map {
                    op.check(T::DTYPE)?;
                }
                (Program::of_op(*map, T::DTYPE)?, vec![Column::of(input)], input.len())
            }
            Source::Expr { inputs, expr, .. } => {
                let prepared = self.prepare::<T>(expr, inputs)?;
                (prepared.program, inputs.columns.clone(), prepared.len)
            }
        };
        let decision = route(Policy::Gpu, Some(gpu.traits()), &self.shape(job), &self.core.model);
        if decision.device != Device::Gpu {
            return Err(GpuError::Unsupported(decision.reason.to_string()).into());
        }
        let mut watch = Stopwatch::on();
        let value = match job.reduce {
            None => {
                let mut out = vec![T::default(); len];
                gpu.map(&program, &columns, &mut out, &mut watch)?;
                Output::Array(out)
            }
            Some(reduce) => {
                if len == 0 && !reduce.has_identity() {
                    return Err(Error::EmptyReduction { reduce });
                }
                Output::Scalar(gpu.map_reduce(&program, &columns, len, reduce, &mut watch)?)
            }
        };
        Ok((value, watch.profile().unwrap_or_default()))
    }

    /// Reduces `map(input)` on the GPU.
    fn gpu_reduce<T: Element>(
        &self,
        gpu: &Gpu,
        input: &[T],
        map: Option<Op>,
        reduce: Reduce,
        watch: &mut Stopwatch,
    ) -> Result<T, GpuError> {
        let program = Program::of_op(map, T::DTYPE).map_err(|e| GpuError::Unsupported(e.to_string()))?;
        gpu.map_reduce(&program, &[Column::of(input)], input.len(), reduce, watch)
    }

    fn shape<T: Element>(&self, job: &Job<'_, T>) -> Shape {
        let expr = match &job.source {
            Source::Op { .. } => None,
            Source::Expr { inputs, expr, .. } => {
                Program::compile(expr, &inputs.types(), T::DTYPE).ok().map(|p| expr::routing_shape(&p))
            }
        };
        Shape { dtype: T::DTYPE, len: job.len(), map: job.op(), reduce: job.reduce, expr }
    }

    /// GPU pipelines compiled so far (0 without a GPU), to test that
    /// pipelines are cached by an expression's structure.
    #[doc(hidden)]
    pub fn compiled_kernels(&self) -> usize {
        self.core.gpu.as_ref().map_or(0, Gpu::compiled_kernels)
    }

    /// Makes the next GPU job fail with `fault`, to test the fallback.
    /// Returns false (and does nothing) when no GPU is open.
    #[doc(hidden)]
    pub fn inject_gpu_fault(&self, fault: InjectedFault) -> bool {
        self.core.gpu.as_ref().map(|gpu| gpu.inject(fault)).is_some()
    }

    /// Runs `on_gpu` if `decision` chose the GPU, else (or if it fails)
    /// `on_cpu` on the engine's pool; both work on `state`, such as the
    /// output array. Returns the result, where it came from, and the GPU
    /// fault that sent it to the CPU, if any.
    fn dispatch<S: Send + ?Sized, R: Send>(
        &self,
        decision: Decision,
        state: &mut S,
        on_gpu: impl FnOnce(&Gpu, &mut S) -> Result<R, GpuError>,
        on_cpu: impl FnOnce(&mut S) -> R + Send,
    ) -> (R, Device, Option<GpuError>) {
        let fallback = match (decision.device, &self.core.gpu) {
            (Device::Gpu, Some(gpu)) => match on_gpu(gpu, state) {
                Ok(x) => return (x, Device::Gpu, None),
                Err(fault) => Some(self.note_fault(fault)),
            },
            _ => None,
        };
        (self.on_pool(|| on_cpu(state)), Device::Cpu, fallback)
    }

    /// Logs a GPU fault before the job reruns on the CPU.
    fn note_fault(&self, fault: GpuError) -> GpuError {
        log::warn!("GPU job failed, rerunning on the CPU: {fault}");
        fault
    }

    fn on_pool<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        match &self.core.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
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
