//! [`EngineBuilder`]: an engine with a chosen policy, thread count and GPU timeout.

use super::costs::Costs;
use super::device::{GpuOptions, GpuSlot};
use super::{Core, Engine};
use crate::error::{Error, Result};
use crate::schedule::{CostModel, ModelCache, Policy};
use std::time::Duration;

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
    chunk_bytes: Option<u64>,
    cost_model: Option<CostModel>,
    model_cache: Option<ModelCache>,
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

    /// Routes by `model` as it is: nothing measured, cached or learnt from
    /// jobs. Without it, the model is read from the cache or measured on
    /// first use (see [`Engine::cost_model`]).
    ///
    /// ```
    /// use swath::{schedule::CostModel, Engine, Policy};
    /// let engine = Engine::builder().policy(Policy::Cpu).cost_model(CostModel::with_threads(4)).build()?;
    /// assert_eq!(engine.cost_model(), CostModel::with_threads(4));
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn cost_model(mut self, model: CostModel) -> Self {
        self.cost_model = Some(model);
        self
    }

    /// Where the measured cost model is cached; without it,
    /// [`ModelCache::from_env`].
    pub fn model_cache(mut self, cache: ModelCache) -> Self {
        self.model_cache = Some(cache);
        self
    }

    /// Cuts GPU transfers and resident arrays into pieces of at most
    /// `bytes` (a few MiB at least): lets tests stream many pieces through
    /// small inputs.
    #[doc(hidden)]
    pub fn chunk_bytes(mut self, bytes: u64) -> Self {
        self.chunk_bytes = Some(bytes);
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
        let options =
            GpuOptions { timeout: self.gpu_timeout.unwrap_or(DEFAULT_GPU_TIMEOUT), chunk_bytes: self.chunk_bytes };
        let gpu = match policy {
            Policy::Cpu => GpuSlot::empty(options, "not opened: policy is cpu".into()),
            // The gpu policy needs a device: say at once if there is none.
            Policy::Gpu => GpuSlot::open(options),
            Policy::Auto | Policy::Both => GpuSlot::lazy(options),
        };
        if policy == Policy::Gpu && gpu.current().is_none() {
            return Err(Error::NoGpu { reason: gpu.absent() });
        }
        let threads = pool.as_ref().map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
        let costs = match self.cost_model {
            Some(model) => Costs::fixed(model),
            None => Costs::measured(self.model_cache.unwrap_or_else(ModelCache::from_env)),
        };
        Ok(Engine::from_core(Core { policy, gpu, pool, threads, costs, fallbacks: Default::default() }))
    }
}
