//! What the engine knows about costs: the cost model (given, cached on
//! disk or measured on first use), corrections learnt from the jobs it
//! ran, and the predicted work now queued on each device.

use crate::schedule::{CostModel, Device, Load, ModelCache};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

/// How far one observed job moves a correction factor, geometrically: a
/// few jobs correct a wrong model, one odd job does not.
const LEARNING_RATE: f64 = 0.25;

/// A correction factor stays within this factor of the measured model.
const MAX_CORRECTION: f64 = 8.0;

/// Jobs shorter than this teach nothing: timer and scheduling noise.
const MIN_OBSERVED_S: f64 = 200e-6;

pub(super) struct Costs {
    /// The model, once given or measured.
    model: RwLock<Option<CostModel>>,
    /// Held while measuring, so that one thread measures and the others wait.
    measuring: Mutex<()>,
    /// False for a model given to the builder: it is used as it is.
    learns: bool,
    pub cache: ModelCache,
    /// Observed over predicted time, per device: CPU, GPU.
    factors: Mutex<[f64; 2]>,
    /// Predicted nanoseconds of the jobs running or waiting, per device.
    queued_ns: [AtomicU64; 2],
}

impl Costs {
    /// Costs to be measured on first use and cached in `cache`.
    pub fn measured(cache: ModelCache) -> Costs {
        Costs::new(None, true, cache)
    }

    /// Costs fixed to `model`: no measuring, no learning.
    pub fn fixed(model: CostModel) -> Costs {
        Costs::new(Some(model), false, ModelCache::disabled())
    }

    fn new(model: Option<CostModel>, learns: bool, cache: ModelCache) -> Costs {
        Costs {
            model: RwLock::new(model),
            measuring: Mutex::new(()),
            learns,
            cache,
            factors: Mutex::new([1.0; 2]),
            queued_ns: Default::default(),
        }
    }

    /// The model with what was learnt applied, if there is one yet.
    pub fn ready(&self) -> Option<CostModel> {
        let model = (*self.model.read().unwrap_or_else(|p| p.into_inner()))?;
        let [cpu, gpu] = *lock(&self.factors);
        Some(model.scaled(cpu, gpu))
    }

    /// The model, made by `make` if there is none yet (once, whatever
    /// the number of threads asking).
    pub fn get_or_make(&self, make: impl FnOnce() -> CostModel) -> CostModel {
        if let Some(model) = self.ready() {
            return model;
        }
        let _measuring = lock(&self.measuring);
        if let Some(model) = self.ready() {
            return model;
        }
        self.replace(make());
        self.ready().expect("a model was just stored")
    }

    /// Replaces the model and forgets what was learnt about the old one.
    pub fn replace(&self, model: CostModel) {
        *self.model.write().unwrap_or_else(|p| p.into_inner()) = Some(model);
        *lock(&self.factors) = [1.0; 2];
    }

    /// Forgets what was learnt about the GPU (a new device was opened).
    pub fn forget_gpu(&self) {
        lock(&self.factors)[1] = 1.0;
    }

    /// The work queued on each device now.
    pub fn load(&self) -> Load {
        let seconds = |k: usize| self.queued_ns[k].load(Ordering::Relaxed) as f64 * 1e-9;
        Load { cpu_s: seconds(0), gpu_s: seconds(1) }
    }

    /// Counts a job predicted to take `predicted_s` on `device` as queued
    /// until the returned guard is finished or dropped.
    pub fn start(&self, device: Device, predicted_s: Option<f64>) -> Running<'_> {
        let slot = slot(device);
        let ns = predicted_s.filter(|s| s.is_finite() && *s > 0.0).map_or(0, |s| (s * 1e9) as u64);
        let alone = slot.is_some_and(|k| self.queued_ns[k].load(Ordering::Relaxed) == 0);
        if let Some(k) = slot {
            self.queued_ns[k].fetch_add(ns, Ordering::Relaxed);
        }
        Running { costs: self, slot, ns, predicted_s, alone, start: Instant::now() }
    }

    /// Moves `device`'s correction towards `observed_s / predicted_s`.
    fn learn(&self, k: usize, predicted_s: f64, observed_s: f64) {
        if !self.learns || observed_s < MIN_OBSERVED_S || predicted_s.is_nan() || predicted_s <= 0.0 {
            return;
        }
        let mut factors = lock(&self.factors);
        let ratio = (observed_s / predicted_s).clamp(1.0 / MAX_CORRECTION, MAX_CORRECTION);
        factors[k] = (factors[k] * ratio.powf(LEARNING_RATE)).clamp(1.0 / MAX_CORRECTION, MAX_CORRECTION);
    }
}

/// A job counted as queued on a device.
pub(super) struct Running<'a> {
    costs: &'a Costs,
    slot: Option<usize>,
    ns: u64,
    /// Predicted seconds with the corrections of when it started.
    predicted_s: Option<f64>,
    /// Nothing else was queued on the device when it started, so its wall
    /// time is its own.
    alone: bool,
    start: Instant,
}

impl Running<'_> {
    /// The job finished where it was routed: learn from its time.
    pub fn finished(self) {
        if let (Some(k), Some(predicted_s), true) = (self.slot, self.predicted_s, self.alone) {
            self.costs.learn(k, predicted_s, self.start.elapsed().as_secs_f64());
        }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.slot {
            self.costs.queued_ns[k].fetch_sub(self.ns, Ordering::Relaxed);
        }
    }
}

/// The queue of `device`; a split job counts on neither (it is short-lived
/// and its halves were predicted together).
fn slot(device: Device) -> Option<usize> {
    match device {
        Device::Cpu => Some(0),
        Device::Gpu => Some(1),
        Device::Both => None,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Shape;
    use crate::{DType, Op};

    fn shape() -> Shape {
        Shape::map(DType::F32, 1 << 24, Op::Square)
    }

    /// Runs `jobs` jobs that each take `slower` times the prediction of
    /// the base model; returns the corrected prediction over the truth.
    fn after_jobs(costs: &Costs, jobs: usize, slower: f64) -> f64 {
        let truth = CostModel::with_threads(4).cpu_seconds(&shape()) * slower;
        for _ in 0..jobs {
            let predicted = costs.ready().unwrap().cpu_seconds(&shape());
            costs.learn(0, predicted, truth);
        }
        costs.ready().unwrap().cpu_seconds(&shape()) / truth
    }

    #[test]
    fn observed_times_pull_predictions_towards_them() {
        let costs = Costs::measured(ModelCache::disabled());
        costs.replace(CostModel::with_threads(4));
        let first = after_jobs(&costs, 1, 3.0);
        assert!(first > 1.0 / 3.0 && first < 0.5, "one job moves the prediction part of the way: {first}");
        let later = after_jobs(&costs, 30, 3.0);
        assert!((later - 1.0).abs() < 0.02, "many jobs agree with the observations: {later}");
        assert_eq!(lock(&costs.factors)[1], 1.0, "the GPU's correction is untouched");
    }

    #[test]
    fn a_fixed_model_learns_nothing_and_short_jobs_teach_nothing() {
        let fixed = Costs::fixed(CostModel::with_threads(4));
        assert_eq!(after_jobs(&fixed, 10, 3.0), 1.0 / 3.0);
        let learning = Costs::measured(ModelCache::disabled());
        learning.replace(CostModel::with_threads(4));
        learning.learn(0, 1e-6, 50e-6);
        assert_eq!(*lock(&learning.factors), [1.0; 2]);
    }

    #[test]
    fn running_jobs_count_as_queued_until_done() {
        let costs = Costs::fixed(CostModel::with_threads(4));
        let first = costs.start(Device::Gpu, Some(0.5));
        let second = costs.start(Device::Gpu, Some(0.25));
        assert!((costs.load().gpu_s - 0.75).abs() < 1e-6 && costs.load().cpu_s == 0.0);
        drop(first);
        second.finished();
        assert_eq!(costs.load(), Load::IDLE);
    }
}
