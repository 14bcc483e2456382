//! Expression jobs on the engine: [`Engine::eval`] and friends, each a
//! compiled program over zipped inputs, run through the one dispatch.

use super::dispatch::Target;
use super::{exprs, Engine};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::exec::{infallible, CpuExec, Executor, Task};
use crate::expr::Expr;
use crate::fresh::result_vec;
use crate::inputs::Inputs;
use crate::op::Reduce;
use crate::schedule::{Device, ProgramShape};

impl Engine {
    /// `expr` evaluated at every element of the zipped `inputs`, as a new
    /// vector of `U` (the expression's type must be `U`).
    ///
    /// ```
    /// use swath::{expr::Expr, Engine, Inputs};
    /// let engine = Engine::new()?;
    /// let (a, b, c) = (vec![1.0f32, 2.0], vec![3.0f32, 4.0], vec![0.5f32, 0.5]);
    /// let inputs = Inputs::new().with("a", &a).with("b", &b).with("c", &c);
    /// let out = engine.eval::<f32>(&Expr::parse("max(a * b, c) + f32(i)")?, &inputs)?;
    /// assert_eq!(out, [3.0, 9.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn eval<U: Element>(&self, expr: &Expr, inputs: &Inputs<'_>) -> Result<Vec<U>> {
        let program = exprs::compiled(expr, inputs, U::DTYPE)?;
        let task = Task::new(&program, &inputs.columns, inputs.common_len()?);
        let mut out = result_vec::<U>(task.len)?;
        self.map_task(task, &mut out, Target::New)?;
        Ok(out)
    }

    /// `expr` over the zipped `inputs`, written into `out` (as long as the
    /// inputs). Returns where it ran.
    pub fn eval_into<U: Element>(&self, expr: &Expr, inputs: &Inputs<'_>, out: &mut [U]) -> Result<Device> {
        let program = exprs::compiled(expr, inputs, U::DTYPE)?;
        let task = Task::new(&program, &inputs.columns, inputs.common_len()?);
        if out.len() != task.len {
            return Err(Error::LengthMismatch { input: task.len, output: out.len() });
        }
        self.map_task(task, out, Target::Given)
    }

    /// `expr` over the zipped `inputs`, fused into `reduce`: one pass, no
    /// intermediate array.
    ///
    /// ```
    /// use swath::{expr::var, Engine, Inputs, Reduce};
    /// let xs: Vec<f32> = (1..=4).map(|i| i as f32).collect();
    /// let sum_of_squares = Engine::new()?.eval_reduce::<f32>(&var("x").sq(), &Inputs::new().with("x", &xs), Reduce::Sum)?;
    /// assert_eq!(sum_of_squares, 30.0);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn eval_reduce<U: Element>(&self, expr: &Expr, inputs: &Inputs<'_>, reduce: Reduce) -> Result<U> {
        let program = exprs::compiled(expr, inputs, U::DTYPE)?;
        let task = Task::new(&program, &inputs.columns, inputs.common_len()?);
        if self.small_on_cpu(task.len) && (task.len > 0 || reduce.has_identity()) {
            return Ok(infallible(CpuExec::new(None).reduce(task, reduce)));
        }
        Ok(self.execute_reduce(task, ProgramShape::of(task.program), reduce)?.value)
    }

    /// Maps `task` into `out` (as long as the task, and allocated for it
    /// if `target` says so), small ones on the calling thread without
    /// routing.
    fn map_task<U: Element>(&self, task: Task<'_>, out: &mut [U], target: Target) -> Result<Device> {
        if self.small_on_cpu(task.len) {
            infallible(CpuExec::new(None).map(task, out));
            return Ok(Device::Cpu);
        }
        Ok(self.execute_map(task, ProgramShape::of(task.program), out, target)?.device)
    }
}
