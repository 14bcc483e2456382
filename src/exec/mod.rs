//! The executor seam: every job reaches a device through it.
//!
//! A job is one compiled [`Program`] over its input columns ([`Task`]).
//! An [`Executor`] runs tasks on one device; there are two, [`CpuExec`]
//! (the rayon pool) and [`GpuExec`] (the wgpu device), and everything
//! above them — the engine's dispatch and fallback, splitting a job
//! between both devices ([`split`]), pipelines, profiling — is written
//! once against this trait. A new primitive is one more method here and
//! one implementation per backend, not a new path through the engine.
//!
//! ```text
//! caller -> Job (program + inputs) -> schedule (route) -> Work -> Executor -> cpu:: / gpu::
//! ```

pub(crate) mod argbest;
pub(crate) mod chain;
mod cpu;
mod filter;
mod gpu;
pub(crate) mod histogram;
mod scan;
pub(crate) mod split;
mod work;

pub(crate) use cpu::CpuExec;
pub(crate) use filter::{FilterIntoWork, FilterWork, PartitionWork};
pub(crate) use gpu::GpuExec;
pub(crate) use scan::ScanWork;
pub(crate) use work::{MapWork, ReduceWork, Work};

use crate::binning::Binning;
use crate::column::Column;
use crate::dtype::Element;
use crate::expr::program::Program;
use crate::extreme::{Extreme, Located};
use crate::op::Reduce;
use std::ops::Range;

/// A compiled program over its input columns, restricted to a range of
/// its elements: what an executor runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Task<'t> {
    pub program: &'t Program,
    /// Every input column, whole: element `i` of the job reads element
    /// `i` of each, so an element keeps its index `i` in any part.
    pub columns: &'t [Column<'t>],
    /// First element to compute.
    pub start: usize,
    /// Elements to compute.
    pub len: usize,
}

impl<'t> Task<'t> {
    /// All `len` elements of `program` over `columns`.
    pub fn new(program: &'t Program, columns: &'t [Column<'t>], len: usize) -> Task<'t> {
        Task { program, columns, start: 0, len }
    }

    /// The elements `range` of this task (counted from its start).
    pub fn part(self, range: Range<usize>) -> Task<'t> {
        debug_assert!(range.end <= self.len);
        Task { start: self.start + range.start, len: range.len(), ..self }
    }

    /// The elements this task computes, as indices of the whole job.
    pub fn range(&self) -> Range<usize> {
        self.start..self.start + self.len
    }
}

/// Runs tasks on one device. `Fault` is what can go wrong there: nothing
/// on the CPU ([`std::convert::Infallible`]), a [`crate::GpuError`] on the GPU.
pub(crate) trait Executor: Sync {
    type Fault: Send;

    /// Writes the task's values into `out` (`task.len` elements).
    fn map<U: Element>(&self, task: Task<'_>, out: &mut [U]) -> Result<(), Self::Fault>;

    /// One canonical partial per tile of the task (which starts on a tile
    /// boundary): the first level of [`Executor::reduce`]. Partials of
    /// consecutive parts, concatenated, are those of the whole, so parts
    /// reduced on different devices finish to the same bits.
    fn partials<U: Element>(&self, task: Task<'_>, reduce: Reduce) -> Result<Vec<U>, Self::Fault>;

    /// The task's values reduced in the canonical order.
    fn reduce<U: Element>(&self, task: Task<'_>, reduce: Reduce) -> Result<U, Self::Fault>;

    /// Writes the inclusive scan of the task's values, in the canonical
    /// order, into `out` (`task.len` elements).
    fn scan<U: Element>(&self, task: Task<'_>, reduce: Reduce, out: &mut [U]) -> Result<(), Self::Fault>;

    /// The task's values where `predicate` (a `u32` program over the same
    /// columns: nonzero keeps an element) holds, in order. The inner
    /// result is the allocation of the result, which may fail anywhere.
    fn filter<U: Element>(&self, task: Task<'_>, predicate: &Program) -> Result<crate::Result<Vec<U>>, Self::Fault>;

    /// The task's values where `predicate` holds, then the others, both
    /// in order, and how many are kept.
    fn partition<U: Element>(
        &self,
        task: Task<'_>,
        predicate: &Program,
    ) -> Result<crate::Result<(Vec<U>, usize)>, Self::Fault>;

    /// The task's first extreme element (see [`crate::extreme`]), its
    /// index counted in the whole job; `None` for an empty task.
    fn argbest<U: Element>(&self, task: Task<'_>, extreme: Extreme) -> Result<Option<Located<U>>, Self::Fault>;

    /// The counts of the task's values in the bins of `binning`.
    fn histogram<U: Element>(&self, task: Task<'_>, binning: &Binning<U>) -> Result<Vec<u32>, Self::Fault>;
}

/// The value of an executor that cannot fail.
pub(crate) fn infallible<R>(result: Result<R, std::convert::Infallible>) -> R {
    match result {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// Logs a GPU fault before its work reruns on the CPU.
pub(crate) fn note_fault(fault: crate::error::GpuError) -> crate::error::GpuError {
    log::warn!("GPU job failed, rerunning on the CPU: {fault}");
    fault
}
