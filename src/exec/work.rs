//! [`Work`]: a job prepared for dispatch, which runs whole on either
//! executor or split between both. Map and reduce are written here once;
//! pipelines are another implementation (in [`crate::array`]).

use super::{infallible, split, CpuExec, Executor, GpuExec, Task};
use crate::dtype::Element;
use crate::error::GpuError;
use crate::op::Reduce;
use std::marker::PhantomData;

/// What the engine's dispatch runs: whole on the CPU or the GPU, or with
/// the GPU taking elements `[0, k)` and the CPU the rest.
pub(crate) trait Work {
    type Out;

    /// Elements, for choosing where to cut a split (0: never split).
    fn len(&self) -> usize;

    /// The whole job on the CPU, which cannot fail.
    fn on_cpu(&mut self, cpu: &CpuExec<'_>) -> Self::Out;

    /// The whole job on the GPU.
    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> Result<Self::Out, GpuError>;

    /// The job shared: the GPU takes `[0, k)`, the CPU the rest. After a
    /// GPU fault the CPU computes the GPU's part too, and the fault comes
    /// back beside the answer. Work that cannot be split runs on the CPU.
    fn split(&mut self, gpu: &GpuExec<'_>, cpu: &CpuExec<'_>, k: usize) -> (Self::Out, Option<GpuError>) {
        let _ = (gpu, k);
        (self.on_cpu(cpu), None)
    }
}

/// A task's values written into `out`.
pub(crate) struct MapWork<'t, 'o, U> {
    pub task: Task<'t>,
    pub out: &'o mut [U],
}

impl<U: Element> Work for MapWork<'_, '_, U> {
    type Out = ();

    fn len(&self) -> usize {
        self.task.len
    }

    fn on_cpu(&mut self, cpu: &CpuExec<'_>) {
        infallible(cpu.map(self.task, self.out))
    }

    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> Result<(), GpuError> {
        gpu.map(self.task, self.out)
    }

    fn split(&mut self, gpu: &GpuExec<'_>, cpu: &CpuExec<'_>, k: usize) -> ((), Option<GpuError>) {
        ((), split::map(gpu, cpu, self.task, self.out, k))
    }
}

/// A task's values reduced to one `U`.
pub(crate) struct ReduceWork<'t, U> {
    pub task: Task<'t>,
    pub reduce: Reduce,
    pub out: PhantomData<U>,
}

impl<'t, U> ReduceWork<'t, U> {
    pub fn new(task: Task<'t>, reduce: Reduce) -> Self {
        ReduceWork { task, reduce, out: PhantomData }
    }
}

impl<U: Element> Work for ReduceWork<'_, U> {
    type Out = U;

    fn len(&self) -> usize {
        self.task.len
    }

    fn on_cpu(&mut self, cpu: &CpuExec<'_>) -> U {
        infallible(cpu.reduce(self.task, self.reduce))
    }

    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> Result<U, GpuError> {
        gpu.reduce(self.task, self.reduce)
    }

    fn split(&mut self, gpu: &GpuExec<'_>, cpu: &CpuExec<'_>, k: usize) -> (U, Option<GpuError>) {
        split::reduce(gpu, cpu, self.task, self.reduce, k)
    }
}
