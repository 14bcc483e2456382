//! Prefix scans on the engine: [`Engine::scan`] over a slice and
//! [`Engine::eval_scan`] over any expression, fused (no intermediate
//! array), both routed like a map, and their `_into` forms into a
//! buffer the caller keeps; all and rerun on the CPU after a GPU fault.

use super::dispatch::Target;
use super::{exprs, ops, Engine, Outcome};
use crate::column::Column;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::exec::{CpuExec, ScanWork, Task, Work};
use crate::expr::Expr;
use crate::fresh::result_vec;
use crate::inputs::Inputs;
use crate::op::Scan;
use crate::schedule::{Device, ProgramShape, Shape};

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
        self.scan_new(task, identity.shape, scan)
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
        self.scan_new(task, ProgramShape::of(&program), scan)
    }

    /// [`Engine::scan`] into `out`, a buffer the caller keeps (as long as
    /// `input`): numpy's `np.cumsum(x, out=out)`. The bits are those of
    /// [`Engine::scan`]; a reused buffer spares the call the first touch
    /// of a new vector's pages, which at 2^26 elements costs more than the
    /// scan. Returns where it ran.
    ///
    /// ```
    /// use swath::{Engine, Reduce, Scan};
    /// let engine = Engine::new()?;
    /// let mut out = vec![0i32; 4];
    /// engine.scan_into(&[3i32, 1, 4, 1], Scan::inclusive(Reduce::Max), &mut out)?;
    /// assert_eq!(out, [3, 3, 4, 4]);
    /// // `out` must be as long as the input.
    /// assert!(engine.scan_into(&[1i32, 2], Scan::inclusive(Reduce::Sum), &mut out).is_err());
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn scan_into<T: Element>(&self, input: &[T], scan: Scan, out: &mut [T]) -> Result<Device> {
        let identity = ops::compiled(None, T::DTYPE)?;
        let columns = [Column::of(input)];
        let task = Task::new(&identity.program, &columns, input.len());
        self.scan_task(task, identity.shape, scan, out, Target::Given)
    }

    /// [`Engine::eval_scan`] into `out`, a buffer the caller keeps (as
    /// long as the inputs). Returns where it ran.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine, Inputs, Reduce, Scan};
    /// let xs = [1.0f32, 2.0, 3.0];
    /// let mut out = [0.0f32; 3];
    /// let squares = Expr::parse("x * x")?;
    /// Engine::new()?.eval_scan_into(&squares, &Inputs::new().with("x", &xs), Scan::exclusive(Reduce::Sum), &mut out)?;
    /// assert_eq!(out, [0.0, 1.0, 5.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn eval_scan_into<U: Element>(
        &self,
        expr: &Expr,
        inputs: &Inputs<'_>,
        scan: Scan,
        out: &mut [U],
    ) -> Result<Device> {
        let program = exprs::compiled(expr, inputs, U::DTYPE)?;
        let task = Task::new(&program, &inputs.columns, inputs.common_len()?);
        self.scan_task(task, ProgramShape::of(&program), scan, out, Target::Given)
    }

    /// `task` scanned into a new vector.
    fn scan_new<U: Element>(&self, task: Task<'_>, shape: ProgramShape, scan: Scan) -> Result<Vec<U>> {
        task.program.check_len(task.len)?;
        let mut out = result_vec::<U>(task.len)?;
        self.scan_task(task, shape, scan, &mut out, Target::New)?;
        Ok(out)
    }

    /// `task` scanned into `out`, small scans on the calling thread
    /// without routing; `target` says whether `out` is new.
    fn scan_task<U: Element>(
        &self,
        task: Task<'_>,
        shape: ProgramShape,
        scan: Scan,
        out: &mut [U],
        target: Target,
    ) -> Result<Device> {
        if out.len() != task.len {
            return Err(Error::LengthMismatch { input: task.len, output: out.len() });
        }
        task.program.check_len(task.len)?;
        if self.small_on_cpu(task.len) {
            ScanWork { task, scan, out }.on_cpu(&CpuExec::new(None));
            return Ok(Device::Cpu);
        }
        Ok(self.execute_scan(task, shape, scan, out, target)?.device)
    }

    /// `task` scanned into `out`, where the scheduler sends it; `shape` is
    /// that of the task's program.
    pub(crate) fn execute_scan<U: Element>(
        &self,
        task: Task<'_>,
        shape: ProgramShape,
        scan: Scan,
        out: &mut [U],
        target: Target,
    ) -> Result<Outcome<()>> {
        task.program.check_len(task.len)?;
        // A scan reads its input twice and writes an array: close enough
        // to a map for routing.
        let shape = Shape::new(shape, task.len, None);
        let shape = match target {
            Target::New => shape.with_new_output(),
            Target::Given => shape,
        };
        Ok(self.dispatch(self.route(&shape), &mut ScanWork { task, scan, out }))
    }
}
