//! Stream compaction as [`Work`]: the values of a task where a predicate
//! holds ([`FilterWork`]), or all of them with those first
//! ([`PartitionWork`]). Each runs whole on one device: where an element
//! lands depends on every element before it, so a split would need the
//! GPU's count before the CPU could place anything.

use super::{infallible, CpuExec, Executor, GpuExec, Task, Work};
use crate::cpu;
use crate::dtype::Element;
use crate::error::{GpuError, Result};
use crate::expr::program::Program;
use crate::fresh::copy_bytes;
use std::marker::PhantomData;

/// The values of `task` where `predicate` (a `u32` program over the
/// task's columns) is nonzero, in order.
pub(crate) struct FilterWork<'t, U> {
    pub task: Task<'t>,
    pub predicate: &'t Program,
    pub out: PhantomData<U>,
}

impl<'t, U> FilterWork<'t, U> {
    pub fn new(task: Task<'t>, predicate: &'t Program) -> Self {
        FilterWork { task, predicate, out: PhantomData }
    }
}

impl<U: Element> Work for FilterWork<'_, U> {
    type Out = Result<Vec<U>>;

    fn len(&self) -> usize {
        self.task.len
    }

    fn on_cpu(&mut self, cpu: &CpuExec<'_>) -> Result<Vec<U>> {
        infallible(cpu.filter(self.task, self.predicate))
    }

    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> std::result::Result<Result<Vec<U>>, GpuError> {
        gpu.filter(self.task, self.predicate)
    }
}

/// [`FilterWork`] into the front of `out`, which has a place for every
/// element of the task; its result is how many were kept. On the GPU the
/// kept values are read back and copied into `out`.
pub(crate) struct FilterIntoWork<'t, 'o, U> {
    pub task: Task<'t>,
    pub predicate: &'t Program,
    pub out: &'o mut [U],
}

impl<U: Element> Work for FilterIntoWork<'_, '_, U> {
    type Out = Result<usize>;

    fn len(&self) -> usize {
        self.task.len
    }

    fn on_cpu(&mut self, cpu: &CpuExec<'_>) -> Result<usize> {
        let Self { task, predicate, ref mut out } = *self;
        Ok(cpu.install(|| cpu::filter::filter_into(task.program, predicate, task.columns, task.range(), out)))
    }

    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> std::result::Result<Result<usize>, GpuError> {
        Ok(gpu.filter::<U>(self.task, self.predicate)?.map(|kept| {
            copy_bytes(bytemuck::cast_slice_mut(&mut self.out[..kept.len()]), bytemuck::cast_slice(&kept));
            kept.len()
        }))
    }
}

/// The values of `task` where `predicate` is nonzero, then the others,
/// and how many are kept.
pub(crate) struct PartitionWork<'t, U> {
    pub task: Task<'t>,
    pub predicate: &'t Program,
    pub out: PhantomData<U>,
}

impl<'t, U> PartitionWork<'t, U> {
    pub fn new(task: Task<'t>, predicate: &'t Program) -> Self {
        PartitionWork { task, predicate, out: PhantomData }
    }
}

impl<U: Element> Work for PartitionWork<'_, U> {
    type Out = Result<(Vec<U>, usize)>;

    fn len(&self) -> usize {
        self.task.len
    }

    fn on_cpu(&mut self, cpu: &CpuExec<'_>) -> Result<(Vec<U>, usize)> {
        infallible(cpu.partition(self.task, self.predicate))
    }

    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> std::result::Result<Result<(Vec<U>, usize)>, GpuError> {
        gpu.partition(self.task, self.predicate)
    }
}
