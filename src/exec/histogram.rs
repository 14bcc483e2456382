//! [`HistogramWork`]: the counts of a task's values per bin, prepared for
//! dispatch. It runs whole on one device (counts of parts would add up
//! exactly, but a histogram reads its data once: a split gains little).

use super::{infallible, CpuExec, Executor, GpuExec, Task, Work};
use crate::binning::Binning;
use crate::dtype::Element;
use crate::error::GpuError;

/// The counts of a task's values in the bins of `binning`.
pub(crate) struct HistogramWork<'t, 'b, U> {
    pub task: Task<'t>,
    pub binning: &'b Binning<U>,
}

impl<U: Element> Work for HistogramWork<'_, '_, U> {
    type Out = Vec<u32>;

    fn len(&self) -> usize {
        self.task.len
    }

    fn on_cpu(&mut self, cpu: &CpuExec<'_>) -> Vec<u32> {
        infallible(cpu.histogram(self.task, self.binning))
    }

    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> Result<Vec<u32>, GpuError> {
        gpu.histogram(self.task, self.binning)
    }
}
