//! [`GpuExec`]: tasks on the engine's wgpu device. The GPU numbers the
//! elements of a job from its first one, so it takes a task that starts
//! at element 0 (a whole job, or the GPU's prefix of a split one).

use super::{Executor, Task};
use crate::binning::Binning;
use crate::column::Column;
use crate::dtype::Element;
use crate::error::GpuError;
use crate::expr::program::Program;
use crate::extreme::{Extreme, Located};
use crate::gpu::{Gpu, GpuProfile, Stopwatch};
use crate::op::Reduce;
use std::borrow::Cow;
use std::sync::Mutex;

/// The GPU executor, timing each phase when profiling.
pub(crate) struct GpuExec<'g> {
    pub gpu: &'g Gpu,
    watch: Mutex<Stopwatch>,
}

impl<'g> GpuExec<'g> {
    pub fn new(gpu: &'g Gpu) -> GpuExec<'g> {
        GpuExec { gpu, watch: Mutex::new(Stopwatch::off()) }
    }

    /// An executor that runs the phases of each job one after another
    /// and times them (see [`crate::Engine::profile_gpu`]).
    pub fn profiling(gpu: &'g Gpu) -> GpuExec<'g> {
        GpuExec { gpu, watch: Mutex::new(Stopwatch::on()) }
    }

    /// The phases timed so far, when profiling.
    pub fn profile(&self) -> Option<GpuProfile> {
        self.watch().profile()
    }

    fn watch(&self) -> std::sync::MutexGuard<'_, Stopwatch> {
        self.watch.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The task's columns cut to its elements, which must start at 0.
fn prefix<'t>(task: &Task<'t>) -> Result<Cow<'t, [Column<'t>]>, GpuError> {
    if task.start != 0 {
        return Err(GpuError::Internal(format!("the GPU was given elements from {}, not from 0", task.start)));
    }
    if task.columns.iter().all(|c| c.len() == task.len) {
        return Ok(Cow::Borrowed(task.columns));
    }
    Ok(Cow::Owned(task.columns.iter().map(|c| c.slice(0..task.len)).collect()))
}

impl Executor for GpuExec<'_> {
    type Fault = GpuError;

    fn map<U: Element>(&self, task: Task<'_>, out: &mut [U]) -> Result<(), GpuError> {
        self.gpu.map(task.program, &prefix(&task)?, out, &mut self.watch())
    }

    fn partials<U: Element>(&self, task: Task<'_>, reduce: Reduce) -> Result<Vec<U>, GpuError> {
        self.gpu.map_reduce_partials(task.program, &prefix(&task)?, task.len, reduce)
    }

    fn reduce<U: Element>(&self, task: Task<'_>, reduce: Reduce) -> Result<U, GpuError> {
        self.gpu.map_reduce(task.program, &prefix(&task)?, task.len, reduce, &mut self.watch())
    }

    fn scan<U: Element>(&self, task: Task<'_>, reduce: Reduce, out: &mut [U]) -> Result<(), GpuError> {
        self.gpu.scan(task.program, &prefix(&task)?, reduce, out)
    }

    fn filter<U: Element>(&self, task: Task<'_>, predicate: &Program) -> Result<crate::Result<Vec<U>>, GpuError> {
        Ok(Ok(self.gpu.filter(task.program, predicate, &prefix(&task)?, task.len)?))
    }

    fn partition<U: Element>(
        &self,
        task: Task<'_>,
        predicate: &Program,
    ) -> Result<crate::Result<(Vec<U>, usize)>, GpuError> {
        Ok(Ok(self.gpu.partition(task.program, predicate, &prefix(&task)?, task.len)?))
    }

    fn argbest<U: Element>(&self, task: Task<'_>, extreme: Extreme) -> Result<Option<Located<U>>, GpuError> {
        self.gpu.argbest(task.program, &prefix(&task)?, task.len, extreme)
    }

    fn histogram<U: Element>(&self, task: Task<'_>, binning: &Binning<U>) -> Result<Vec<u32>, GpuError> {
        self.gpu.histogram(task.program, &prefix(&task)?, task.len, binning)
    }
}
