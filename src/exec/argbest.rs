//! [`ArgBestWork`]: argmin or argmax of a task's values, prepared for
//! dispatch. It runs whole on one device: the answer is a single element,
//! so a split would gain little over the GPU alone.

use super::{infallible, CpuExec, Executor, GpuExec, Task, Work};
use crate::dtype::Element;
use crate::error::GpuError;
use crate::extreme::{Extreme, Located};
use std::marker::PhantomData;

/// The first extreme element of a task's values (`None` when it has none).
pub(crate) struct ArgBestWork<'t, U> {
    pub task: Task<'t>,
    pub extreme: Extreme,
    pub out: PhantomData<U>,
}

impl<'t, U> ArgBestWork<'t, U> {
    pub fn new(task: Task<'t>, extreme: Extreme) -> Self {
        ArgBestWork { task, extreme, out: PhantomData }
    }
}

impl<U: Element> Work for ArgBestWork<'_, U> {
    type Out = Option<Located<U>>;

    fn len(&self) -> usize {
        self.task.len
    }

    fn on_cpu(&mut self, cpu: &CpuExec<'_>) -> Option<Located<U>> {
        infallible(cpu.argbest(self.task, self.extreme))
    }

    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> Result<Option<Located<U>>, GpuError> {
        gpu.argbest(self.task, self.extreme)
    }
}
