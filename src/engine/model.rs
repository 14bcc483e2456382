//! The engine's cost model: explaining a job, measuring and caching the
//! model, and the decision for a job about to run.

use super::{calibrate, Engine};
use crate::dtype::Element;
use crate::gpu::Gpu;
use crate::job::Job;
use crate::schedule::{route_loaded, CacheKey, CostModel, Decision, Policy, Shape, SMALL_JOB};

impl Engine {
    /// Where `job` would run, and why, with the predicted time of each
    /// option; runs nothing. Measures the cost model first if the engine
    /// has none yet. (A job that cannot run at all, such as an expression
    /// naming a missing input, is explained as if it could; running it
    /// gives the error.)
    pub fn explain<T: Element>(&self, job: &Job<'_, T>) -> Decision {
        self.explain_shape(&self.shape(job))
    }

    /// Where a job of this shape would run, and why, without any data.
    ///
    /// ```
    /// use swath::{schedule::Shape, DType, Engine, Op};
    /// let decision = Engine::cpu().explain_shape(&Shape::map(DType::F32, 1 << 26, Op::Square));
    /// println!("{decision}");
    /// assert!(decision.predicted.is_some_and(|p| p.cpu_s > 0.0));
    /// ```
    pub fn explain_shape(&self, shape: &Shape) -> Decision {
        let model = self.cost_model();
        let traits = self.current_gpu().map(|gpu| gpu.traits());
        route_loaded(self.core.policy, traits, shape, Some(&model), self.core.costs.load())
    }

    /// The decision for a job about to run, and the model it was made
    /// with: like [`Engine::explain_shape`], but measures the cost model
    /// only where `auto` or `both` needs it to choose.
    pub(super) fn decide(&self, gpu: Option<&Gpu>, shape: &Shape) -> (Decision, Option<CostModel>) {
        let model = self.routing_model(gpu, shape.len >= SMALL_JOB);
        let decision =
            route_loaded(self.core.policy, gpu.map(Gpu::traits), shape, model.as_ref(), self.core.costs.load());
        (decision, model)
    }

    /// The model to route by: measured now if the policy chooses by it and
    /// there is a choice (a GPU, and a job the model decides), else the
    /// one at hand, if any, for predictions only.
    pub(crate) fn routing_model(&self, gpu: Option<&Gpu>, model_decides: bool) -> Option<CostModel> {
        let chooses = matches!(self.core.policy, Policy::Auto | Policy::Both);
        if gpu.is_some() && chooses && model_decides {
            Some(self.cost_model())
        } else {
            self.core.costs.ready()
        }
    }

    /// The cost model if one is at hand, without measuring one.
    pub(crate) fn ready_model(&self) -> Option<CostModel> {
        self.core.costs.ready()
    }

    /// The cost model the scheduler predicts with, with the corrections
    /// learnt from jobs so far. On first use it is read from the cache
    /// (see [`crate::schedule::ModelCache`]) or measured there and then
    /// (well under 200 ms on a desktop) and cached.
    pub fn cost_model(&self) -> CostModel {
        self.core.costs.get_or_make(|| {
            let key = self.cache_key();
            if let Some(model) = self.core.costs.cache.load(&key) {
                return model;
            }
            let model = self.measure_model();
            self.store_model(&key, &model);
            model
        })
    }

    /// Measures the cost model now, stores it in the cache and routes by
    /// it from now on, forgetting corrections learnt so far. Returns it.
    pub fn calibrate(&self) -> CostModel {
        let model = self.measure_model();
        self.store_model(&self.cache_key(), &model);
        self.core.costs.replace(model);
        model
    }

    /// What the cached model is valid for: this adapter, driver, CPU and pool.
    pub fn cache_key(&self) -> CacheKey {
        let gpu = self.gpu();
        CacheKey {
            swath: env!("CARGO_PKG_VERSION").into(),
            adapter: gpu.as_ref().map_or(String::new(), |g| format!("{} ({})", g.name, g.backend)),
            driver: gpu.map_or(String::new(), |g| g.driver),
            cpu: cpu_model_name(),
            threads: self.threads(),
            format: CostModel::FORMAT,
        }
    }

    fn measure_model(&self) -> CostModel {
        let gpu = self.current_gpu().filter(|gpu| gpu.unhealthy().is_none());
        calibrate::measure(self.threads(), |work| self.on_pool(&mut *work), gpu.as_deref())
    }

    fn store_model(&self, key: &CacheKey, model: &CostModel) {
        if let Err(e) = self.core.costs.cache.store(key, model) {
            log::info!("the measured cost model is not cached: {e}");
        }
    }
}

/// The CPU's model name, as the operating system reports it (on Linux);
/// else the architecture.
fn cpu_model_name() -> String {
    let reported = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|info| {
        let line = info.lines().find(|line| line.starts_with("model name"))?;
        Some(line.split_once(':')?.1.trim().to_string())
    });
    reported.unwrap_or_else(|| std::env::consts::ARCH.to_string())
}
