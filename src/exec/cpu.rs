//! [`CpuExec`]: tasks on the engine's rayon pool. A program that is one
//! [`Op`](crate::Op) over one input runs the loop compiled for that op;
//! any other runs on the chunked evaluator. Both give the same bits.

use super::{Executor, Task};
use crate::binning::Binning;
use crate::cpu;
use crate::dtype::Element;
use crate::expr::program::Program;
use crate::extreme::{Extreme, Located};
use crate::op::{Op, Reduce};
use std::convert::Infallible;

/// The CPU executor: runs on `pool`, or on the calling thread's pool.
#[derive(Clone, Copy)]
pub(crate) struct CpuExec<'p> {
    pool: Option<&'p rayon::ThreadPool>,
}

impl<'p> CpuExec<'p> {
    pub fn new(pool: Option<&'p rayon::ThreadPool>) -> CpuExec<'p> {
        CpuExec { pool }
    }

    /// Runs `work` on this executor's pool.
    pub fn install<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        match self.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }

    /// The task's input slice and op (`None`: the identity), if its
    /// program is one op over one input of the output's type `U`.
    fn op_fast_path<'t, U: Element>(task: &Task<'t>) -> Option<(&'t [U], Option<Op>)> {
        let op = task.program.as_op().filter(|&op| cpu::has_loop(op))?;
        let input = task.columns[task.program.columns[0]].typed::<U>()?;
        Some((&input[task.range()], op))
    }
}

impl Executor for CpuExec<'_> {
    type Fault = Infallible;

    fn map<U: Element>(&self, task: Task<'_>, out: &mut [U]) -> Result<(), Infallible> {
        self.install(|| match Self::op_fast_path::<U>(&task) {
            Some((input, Some(op))) => cpu::map_into(input, out, op),
            _ => cpu::eval::map_at(task.program, task.columns, task.start, out),
        });
        Ok(())
    }

    fn partials<U: Element>(&self, task: Task<'_>, reduce: Reduce) -> Result<Vec<U>, Infallible> {
        Ok(self.install(|| match Self::op_fast_path::<U>(&task) {
            Some((input, op)) => cpu::map_partials(input, op, reduce),
            None => cpu::eval::map_partials(task.program, task.columns, task.range(), reduce),
        }))
    }

    fn reduce<U: Element>(&self, task: Task<'_>, reduce: Reduce) -> Result<U, Infallible> {
        let partials = self.partials(task, reduce)?;
        Ok(self.install(|| cpu::finish(partials, reduce)))
    }

    fn scan<U: Element>(&self, task: Task<'_>, reduce: Reduce, out: &mut [U]) -> Result<(), Infallible> {
        self.install(|| cpu::scan::scan(task.program, task.columns, task.start, reduce, out));
        Ok(())
    }

    fn filter<U: Element>(&self, task: Task<'_>, predicate: &Program) -> Result<crate::Result<Vec<U>>, Infallible> {
        Ok(self.install(|| cpu::filter::filter(task.program, predicate, task.columns, task.range())))
    }

    fn partition<U: Element>(
        &self,
        task: Task<'_>,
        predicate: &Program,
    ) -> Result<crate::Result<(Vec<U>, usize)>, Infallible> {
        Ok(self.install(|| cpu::filter::partition(task.program, predicate, task.columns, task.range())))
    }

    fn argbest<U: Element>(&self, task: Task<'_>, extreme: Extreme) -> Result<Option<Located<U>>, Infallible> {
        Ok(self.install(|| match Self::op_fast_path::<U>(&task) {
            Some((input, None)) => cpu::argbest::locate_in(input, task.start, extreme),
            _ => cpu::argbest::locate(task.program, task.columns, task.range(), extreme),
        }))
    }

    fn histogram<U: Element>(&self, task: Task<'_>, binning: &Binning<U>) -> Result<Vec<u32>, Infallible> {
        Ok(self.install(|| match Self::op_fast_path::<U>(&task) {
            Some((input, None)) => cpu::histogram::count_in(input, binning),
            _ => cpu::histogram::count(task.program, task.columns, task.range(), binning),
        }))
    }
}
