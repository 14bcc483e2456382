//! Running one job where the scheduler sends it: the GPU, the CPU pool, or
//! both at once; a GPU fault reruns the GPU's part on the CPU. Written
//! once for every kind of [`Work`]: maps, reductions and pipelines.

use super::{Engine, Outcome};
use crate::canonical::TILE;
use crate::dtype::Element;
use crate::error::{Error, GpuError, Result};
use crate::exec::split::split_point;
use crate::exec::{note_fault, CpuExec, GpuExec, MapWork, ReduceWork, Task, Work};
use crate::gpu::Gpu;
use crate::op::Reduce;
use crate::schedule::{Decision, Device, Policy, Prediction, ProgramShape, Reason, Shape, SMALL_JOB, SPLIT_MIN};
use std::sync::Arc;
use std::time::Instant;

/// Where a map writes its result, as far as its cost goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The caller's buffer (`map_into`, `eval_into`), already in memory.
    Given,
    /// A vector allocated for this job, whose pages the first write faults in.
    New,
}

/// Where a job goes, decided before it runs: the GPU it may use (taken
/// once, so a reopened device never changes under a running job), the
/// decision, and the seconds predicted on each device (for the queues
/// that later routing reads, and to learn from the job's time).
pub(crate) struct Route {
    pub gpu: Option<Arc<Gpu>>,
    pub decision: Decision,
    pub cpu_s: Option<f64>,
    pub gpu_s: Option<f64>,
}

impl Engine {
    /// Routes a job of `shape` on the current GPU and queues.
    pub(crate) fn route(&self, shape: &Shape) -> Route {
        if let Some(route) = self.small_job_route(shape) {
            return route;
        }
        let gpu = self.current_gpu();
        let (decision, model) = self.decide(gpu.as_deref(), shape);
        let cpu_s = model.as_ref().map(|m| m.cpu_seconds(shape));
        let gpu_s = model.as_ref().and_then(|m| m.gpu_seconds(shape));
        Route { gpu, decision, cpu_s, gpu_s }
    }

    /// The route of a small job under `auto` or `both` while the GPU has
    /// not been opened: the CPU, whatever the GPU, so this job does not
    /// open it.
    fn small_job_route(&self, shape: &Shape) -> Option<Route> {
        if !self.leaves_gpu_closed(shape.len) {
            return None;
        }
        let model = self.ready_model();
        let predicted = model.map(|model| Prediction::of(&model, shape, self.core.costs.load(), false));
        let decision = Decision { device: Device::Cpu, reason: Reason::SmallJob, predicted };
        let cpu_s = model.map(|model| model.cpu_seconds(shape));
        Some(Route { gpu: None, decision, cpu_s, gpu_s: None })
    }

    /// True if a job of `len` elements runs on the CPU without opening a
    /// GPU not opened yet: a small job under `auto` or `both`, which the
    /// CPU runs whatever the GPU.
    pub(crate) fn leaves_gpu_closed(&self, len: usize) -> bool {
        let chooses = matches!(self.core.policy, Policy::Auto | Policy::Both);
        chooses && len < SMALL_JOB && self.core.gpu.opened().is_none()
    }

    /// The engine's CPU executor: its pool.
    pub(crate) fn cpu_exec(&self) -> CpuExec<'_> {
        CpuExec::new(self.core.pool.as_ref())
    }

    /// Runs `work` where `route` sends it. Counts the job on its device's
    /// queue while it runs and learns from its time; after a GPU fault the
    /// work reruns on the CPU and the outcome names the fault.
    pub(crate) fn dispatch<W: Work>(&self, route: Route, work: &mut W) -> Outcome<W::Out> {
        let start = Instant::now();
        let Route { gpu, decision, cpu_s, gpu_s } = route;
        let outcome = |value, device, fallback: Option<GpuError>| {
            if fallback.is_some() {
                self.count_fallback();
            }
            Outcome { value, decision, device, fallback, elapsed: start.elapsed() }
        };
        let cpu = self.cpu_exec();
        let mut fallback = None;
        match (split_device(&decision, work.len()), gpu.as_deref()) {
            (Device::Gpu, Some(gpu)) => {
                let running = self.core.costs.start(Device::Gpu, gpu_s);
                match work.on_gpu(&GpuExec::new(gpu)) {
                    Ok(value) => {
                        running.finished();
                        return outcome(value, Device::Gpu, None);
                    }
                    Err(fault) => fallback = Some(note_fault(fault)),
                }
            }
            (Device::Both, Some(gpu)) => {
                let k = gpu_part(&decision, work.len());
                let (value, fault) = work.split(&GpuExec::new(gpu), &cpu, k);
                let device = if fault.is_some() { Device::Cpu } else { Device::Both };
                return outcome(value, device, fault);
            }
            _ => {}
        }
        let running = self.core.costs.start(Device::Cpu, cpu_s);
        let value = work.on_cpu(&cpu);
        if fallback.is_none() {
            running.finished();
        }
        outcome(value, Device::Cpu, fallback)
    }

    /// `task` mapped into `out`, where the scheduler sends it; `shape`
    /// is that of the task's program, `target` says whether `out` was
    /// allocated for this job.
    pub(crate) fn execute_map<U: Element>(
        &self,
        task: Task<'_>,
        shape: ProgramShape,
        out: &mut [U],
        target: Target,
    ) -> Result<Outcome<()>> {
        if task.len != out.len() {
            return Err(Error::LengthMismatch { input: task.len, output: out.len() });
        }
        task.program.check_len(task.len)?;
        let shape = Shape::new(shape, task.len, None);
        let route = self.route(&match target {
            Target::Given => shape,
            Target::New => shape.with_new_output(),
        });
        Ok(self.dispatch(route, &mut MapWork { task, out }))
    }

    /// `task` reduced, where the scheduler sends it; `shape` is that of
    /// the task's program.
    pub(crate) fn execute_reduce<U: Element>(
        &self,
        task: Task<'_>,
        shape: ProgramShape,
        reduce: Reduce,
    ) -> Result<Outcome<U>> {
        if task.len == 0 && !reduce.has_identity() {
            return Err(Error::EmptyReduction { reduce });
        }
        task.program.check_len(task.len)?;
        let route = self.route(&Shape::new(shape, task.len, Some(reduce)));
        Ok(self.dispatch(route, &mut ReduceWork::new(task, reduce)))
    }
}

/// Where a job of `len` elements routed by `decision` runs: a split that
/// would leave one side nothing runs on the other alone.
fn split_device(decision: &Decision, len: usize) -> Device {
    match decision.device {
        Device::Both => match gpu_part(decision, len) {
            0 => Device::Cpu,
            k if k == len => Device::Gpu,
            _ => Device::Both,
        },
        device => device,
    }
}

/// The elements of a split job that the GPU takes: its predicted share
/// (half without a model) at a tile boundary, and at least a tile for
/// each device, so that a job routed to both runs on both. (The router
/// splits only jobs of [`SPLIT_MIN`] elements or more.)
fn gpu_part(decision: &Decision, len: usize) -> usize {
    let k = split_point(len, gpu_share(decision));
    match len {
        len if len >= SPLIT_MIN => k.clamp(TILE, len - TILE),
        _ => k,
    }
}

/// The share of a split job the GPU takes: as predicted, half without a model.
fn gpu_share(decision: &Decision) -> f64 {
    decision.predicted.and_then(|p| p.both).map_or(0.5, |split| split.gpu_share)
}
