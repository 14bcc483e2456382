//! [`ScanWork`]: a scan prepared for dispatch. Executors compute inclusive
//! scans; an exclusive one is written here once, for both, as the identity
//! followed by the inclusive scan of all but the last value.

use super::{infallible, CpuExec, Executor, GpuExec, Task, Work};
use crate::dtype::Element;
use crate::error::GpuError;
use crate::op::Scan;

/// A task's values scanned into `out` (as long as the task).
pub(crate) struct ScanWork<'t, 'o, U> {
    pub task: Task<'t>,
    pub scan: Scan,
    pub out: &'o mut [U],
}

impl<U: Element> ScanWork<'_, '_, U> {
    fn run<E: Executor>(&mut self, exec: &E) -> Result<(), E::Fault> {
        let Scan { reduce, exclusive } = self.scan;
        if !exclusive {
            return exec.scan(self.task, reduce, self.out);
        }
        match self.out.split_first_mut() {
            Some((first, rest)) => {
                *first = reduce.identity();
                exec.scan(self.task.part(0..rest.len()), reduce, rest)
            }
            None => Ok(()),
        }
    }
}

impl<U: Element> Work for ScanWork<'_, '_, U> {
    type Out = ();

    fn len(&self) -> usize {
        self.task.len
    }

    fn on_cpu(&mut self, cpu: &CpuExec<'_>) {
        infallible(self.run(cpu))
    }

    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> Result<(), GpuError> {
        self.run(gpu)
    }
}
