//! Prefix scans on the engine: [`Engine::scan`] over a slice and
//! [`Engine::eval_scan`] over any expression, fused (no intermediate
//! array), both routed like a map and rerun on the CPU after a GPU fault.

use super::{exprs, ops, Engine, Outcome};
use crate::column::Column;
use crate::dtype::Element;
use crate::error::Result;
use crate::exec::{CpuExec, ScanWork, Task, Work};
use crate::expr::Expr;
use crate::fresh::result_vec;
use crate::inputs::Inputs;
use crate::op::Scan;
use crate::schedule::{ProgramShape, Shape};

impl Engine {
    /// The prefix scan of `input`: numpy's `cumsum` for
    /// `Scan::inclusive(Reduce::Sum)`. Every element has the same bits on
    /// any thread count and on CPU and GPU (see [`crate::canonical`]);
    /// integer scans wrap.
    ///
    /// ```
    /// use swath::{Engine, Reduce, Scan};
    /// let engine = Engine::new()?;
    /// let xs = [1.0f32, 2.0, 3.0, 4.0];
    /// assert_eq!(engine.scan(&xs, Scan::inclusive(Reduce::Sum))?, [1.0, 3.0, 6.0, 10.0]);
    /// assert_eq!(engine.scan(&xs, Scan::exclusive(Reduce::Product))?, [1.0, 1.0, 2.0, 6.0]);
    /// assert_eq!(engine.scan(&[2.0f32, f32::NAN, 1.0], Scan::inclusive(Reduce::Max))?[0], 2.0);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn scan<T: Element>(&self, input: &[T], scan: Scan) -> Result<Vec<T>> {
        let identity = ops::compiled(None, T::DTYPE)?;
        let columns = [Column::of(input)];
        let task = Task::new(&identity.program, &columns, input.len());
        self.scan_task(task, identity.shape, scan)
    }

    /// The prefix scan of `expr` over the zipped `inputs`, fused: each
    /// value is computed where it is scanned, never stored on its own.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine, Inputs, Reduce, Scan};
    /// let engine = Engine::new()?;
    /// let (price, qty) = ([2.0f64, 3.0, 5.0], [1.0f64, 2.0, 1.0]);
    /// let inputs = Inputs::new().with("price", &price).with("qty", &qty);
    /// let running = engine.eval_scan::<f64>(&Expr::parse("price * qty")?, &inputs, Scan::inclusive(Reduce::Sum))?;
    /// assert_eq!(running, [2.0, 8.0, 13.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn eval_scan<U: Element>(&self, expr: &Expr, inputs: &Inputs<'_>, scan: Scan) -> Result<Vec<U>> {
        let program = exprs::compiled(expr, inputs, U::DTYPE)?;
        let task = Task::new(&program, &inputs.columns, inputs.common_len()?);
        self.scan_task(task, ProgramShape::of(&program), scan)
    }

    /// `task` scanned into a new vector, small scans on the calling thread
    /// without routing.
    fn scan_task<U: Element>(&self, task: Task<'_>, shape: ProgramShape, scan: Scan) -> Result<Vec<U>> {
        if !self.small_on_cpu(task.len) {
            return Ok(self.execute_scan(task, shape, scan)?.value);
        }
        task.program.check_len(task.len)?;
        let mut out = result_vec::<U>(task.len)?;
        ScanWork { task, scan, out: &mut out }.on_cpu(&CpuExec::new(None));
        Ok(out)
    }

    /// `task` scanned into a new vector, where the scheduler sends it;
    /// `shape` is that of the task's program.
    pub(crate) fn execute_scan<U: Element>(
        &self,
        task: Task<'_>,
        shape: ProgramShape,
        scan: Scan,
    ) -> Result<Outcome<Vec<U>>> {
        task.program.check_len(task.len)?;
        let mut out = result_vec::<U>(task.len)?;
        // A scan reads its input twice and writes a new array: close
        // enough to a map into a new array for routing.
        let route = self.route(&Shape::new(shape, task.len, None).with_new_output());
        let (outcome, ()) = self.dispatch(route, &mut ScanWork { task, scan, out: &mut out }).take();
        Ok(outcome.with(out))
    }
}
