//! [`Engine`]: the entry point. Owns the CPU pool and the GPU device, routes
//! each job, and reruns a failed GPU job on the CPU.

use crate::cpu;
use crate::dtype::Element;
use crate::error::{Error, GpuError, Result};
use crate::gpu::{Gpu, GpuInfo, InjectedFault};
use crate::job::Job;
use crate::op::{Op, Reduce};
use crate::schedule::{route, CostModel, Decision, Device, Policy, Shape, SMALL_JOB};
use std::time::{Duration, Instant};

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
pub struct Engine {
    policy: Policy,
    gpu: Option<Gpu>,
    gpu_absent: String,
    pool: Option<rayon::ThreadPool>,
    model: CostModel,
}

/// Builds an [`Engine`] with a chosen policy and thread count.
///
/// ```
/// use swath::{Engine, Policy};
/// let engine = Engine::builder().policy(Policy::Cpu).threads(2).build()?;
/// assert_eq!(engine.threads(), 2);
/// # Ok::<(), swath::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct EngineBuilder {
    policy: Option<Policy>,
    threads: Option<usize>,
    gpu_timeout: Option<Duration>,
}

/// How long one GPU submission may take before it counts as a fault and
/// the job reruns on the CPU; long enough for a software adapter to
/// process a full chunk.
pub const DEFAULT_GPU_TIMEOUT: Duration = Duration::from_secs(120);

impl EngineBuilder {
    /// Where jobs may run; without it, [`Policy::from_env`].
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// A dedicated rayon pool of `threads` threads; without it, rayon's
    /// global pool (`RAYON_NUM_THREADS`).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// How long one GPU submission may run before it is treated as a fault
    /// (default [`DEFAULT_GPU_TIMEOUT`]).
    pub fn gpu_timeout(mut self, timeout: Duration) -> Self {
        self.gpu_timeout = Some(timeout);
        self
    }

    /// Creates the engine. With [`Policy::Gpu`] and no usable adapter this
    /// is [`Error::NoGpu`]; with [`Policy::Auto`] the engine then uses the CPU.
    pub fn build(self) -> Result<Engine> {
        let policy = match self.policy {
            Some(policy) => policy,
            None => Policy::from_env()?,
        };
        let pool = match self.threads {
            Some(threads) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .map_err(|e| Error::ThreadPool(e.to_string()))?,
            ),
            None => None,
        };
        let (gpu, gpu_absent) = match policy {
            Policy::Cpu => (None, "not opened: policy is cpu".to_string()),
            _ => match Gpu::open(self.gpu_timeout.unwrap_or(DEFAULT_GPU_TIMEOUT)) {
                Ok(gpu) => (Some(gpu), String::new()),
                Err(why) if policy == Policy::Gpu => return Err(Error::NoGpu { detail: format!(": {why}") }),
                Err(why) => (None, why),
            },
        };
        let threads = pool.as_ref().map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
        Ok(Engine { policy, gpu, gpu_absent, pool, model: CostModel::with_threads(threads) })
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policy", &self.policy)
            .field("threads", &self.threads())
            .field("gpu", &self.gpu())
            .field("gpu_absent", &self.gpu_absent)
            .finish()
    }
}

/// A finished job: its value and where and how it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<V> {
    /// The job's result.
    pub value: V,
    /// The scheduler's decision before the job ran.
    pub decision: Decision,
    /// Where the result was computed (the CPU after a GPU fault).
    pub device: Device,
    /// The GPU fault that made the job rerun on the CPU, if any.
    pub fallback: Option<GpuError>,
    /// Wall time of the whole job, transfers included.
    pub elapsed: Duration,
}

/// The value of a [`Job`]: an array for a map, a scalar for a reduction.
#[derive(Debug, Clone, PartialEq)]
pub enum Output<T> {
    /// Result of a map.
    Array(Vec<T>),
    /// Result of a reduction or map-reduce.
    Scalar(T),
}

impl<T: Copy> Output<T> {
    /// The scalar, if this is a reduction's result.
    pub fn scalar(&self) -> Option<T> {
        match self {
            Output::Scalar(x) => Some(*x),
            Output::Array(_) => None,
        }
    }

    /// The array, if this is a map's result.
    pub fn array(&self) -> Option<&[T]> {
        match self {
            Output::Array(xs) => Some(xs),
            Output::Scalar(_) => None,
        }
    }
}

impl Engine {
    /// An engine with the policy of `SWATH_DEVICE` (default `auto`).
    pub fn new() -> Result<Engine> {
        Engine::builder().build()
    }

    /// A CPU-only engine on rayon's global pool; never fails.
    pub fn cpu() -> Engine {
        Engine {
            policy: Policy::Cpu,
            gpu: None,
            gpu_absent: "not opened: policy is cpu".into(),
            pool: None,
            model: CostModel::with_threads(rayon::current_num_threads()),
        }
    }

    /// A builder for a chosen policy and thread count.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// The routing policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Threads of the CPU pool.
    pub fn threads(&self) -> usize {
        self.model.cpu_threads
    }

    /// The GPU adapter in use, if one was opened.
    pub fn gpu(&self) -> Option<&GpuInfo> {
        self.gpu.as_ref().map(Gpu::info)
    }

    /// Why no GPU is open (empty when one is).
    pub fn gpu_absent_reason(&self) -> &str {
        &self.gpu_absent
    }

    /// Where `job` would run, and why; runs nothing.
    pub fn explain<T: Element>(&self, job: &Job<'_, T>) -> Decision {
        let shape = Shape { dtype: T::DTYPE, len: job.len(), map: job.map, reduce: job.reduce };
        route(self.policy, self.gpu.as_ref().map(Gpu::traits), &shape, &self.model)
    }

    /// Runs `job` and reports where it ran.
    pub fn run<T: Element>(&self, job: &Job<'_, T>) -> Result<Outcome<Output<T>>> {
        let start = Instant::now();
        let (value, decision, device, fallback) = match (job.map, job.reduce) {
            (Some(op), None) => {
                let mut out = vec![T::default(); job.len()];
                let (decision, device, fallback) = self.execute_map(job.input, &mut out, op)?;
                (Output::Array(out), decision, device, fallback)
            }
            (map, Some(reduce)) => {
                let (x, decision, device, fallback) = self.execute_reduce(job.input, map, reduce)?;
                (Output::Scalar(x), decision, device, fallback)
            }
            (None, None) => unreachable!("Job constructors always set a map or a reduction"),
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
        len < SMALL_JOB && self.policy != Policy::Gpu
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
        let job = Job::map(input, op);
        job.check()?;
        let decision = self.explain(&job);
        let fallback = match (decision.device, &self.gpu) {
            (Device::Gpu, Some(gpu)) => match gpu.map(input, out, op) {
                Ok(()) => return Ok((decision, Device::Gpu, None)),
                Err(fault) => Some(self.note_fault(fault)),
            },
            _ => None,
        };
        self.on_pool(|| cpu::map_into(input, out, op));
        Ok((decision, Device::Cpu, fallback))
    }

    fn execute_reduce<T: Element>(
        &self,
        input: &[T],
        map: Option<Op>,
        reduce: Reduce,
    ) -> Result<(T, Decision, Device, Option<GpuError>)> {
        let job = Job { input, map, reduce: Some(reduce) };
        job.check()?;
        if input.is_empty() && !reduce.has_identity() {
            return Err(Error::EmptyReduction { reduce });
        }
        let decision = self.explain(&job);
        let fallback = match (decision.device, &self.gpu) {
            (Device::Gpu, Some(gpu)) => match gpu.map_reduce(input, map, reduce) {
                Ok(x) => return Ok((x, decision, Device::Gpu, None)),
                Err(fault) => Some(self.note_fault(fault)),
            },
            _ => None,
        };
        let x = self.on_pool(|| cpu::map_reduce(input, map, reduce));
        Ok((x, decision, Device::Cpu, fallback))
    }

    /// Makes the next GPU job fail with `fault`, to test the fallback.
    /// Returns false (and does nothing) when no GPU is open.
    #[doc(hidden)]
    pub fn inject_gpu_fault(&self, fault: InjectedFault) -> bool {
        self.gpu.as_ref().map(|gpu| gpu.inject(fault)).is_some()
    }

    /// Logs a GPU fault before the job reruns on the CPU.
    fn note_fault(&self, fault: GpuError) -> GpuError {
        log::warn!("GPU job failed, rerunning on the CPU: {fault}");
        fault
    }

    fn on_pool<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
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
