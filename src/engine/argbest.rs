//! argmin and argmax on the engine: where the first extreme element is,
//! over a slice or over the values of any expression, fused (the values
//! are searched where they are computed, never stored).

use super::{exprs, ops, Engine, Outcome};
use crate::column::Column;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::exec::argbest::ArgBestWork;
use crate::exec::{infallible, CpuExec, Executor, Task};
use crate::expr::Expr;
use crate::extreme::{Extreme, Located};
use crate::inputs::Inputs;
use crate::schedule::{ProgramShape, Shape};

impl Engine {
    /// The index of the first minimum of `xs`, and its value. A NaN counts
    /// as smaller than any number, so the first NaN wins if there is one
    /// (as [`Reduce::Min`](crate::Reduce::Min) propagates NaN); among equal
    /// values (`-0.0` and `+0.0` too) the lowest index wins. The answer is
    /// the same on every thread count and device. Empty input is an error.
    ///
    /// ```
    /// use swath::{Engine, Located};
    /// let engine = Engine::cpu();
    /// assert_eq!(engine.argmin(&[3, -2, 5, -2])?, Located { index: 1, value: -2 });
    /// assert_eq!(engine.argmin(&[1.0, f64::NAN, 0.5])?.index, 1);
    /// assert!(engine.argmin::<f32>(&[]).is_err());
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn argmin<T: Element>(&self, xs: &[T]) -> Result<Located<T>> {
        self.argbest_of(xs, Extreme::Min)
    }

    /// The index of the first maximum of `xs`, and its value; NaN first,
    /// then the largest value, then the lowest index, as for
    /// [`Engine::argmin`].
    ///
    /// ```
    /// use swath::{Engine, Located};
    /// let engine = Engine::cpu();
    /// assert_eq!(engine.argmax(&[1.0f32, 7.0, 7.0, 2.0])?, Located { index: 1, value: 7.0 });
    /// assert_eq!(engine.argmax(&[5u32, 9, 9])?.index, 1);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn argmax<T: Element>(&self, xs: &[T]) -> Result<Located<T>> {
        self.argbest_of(xs, Extreme::Max)
    }

    /// [`Engine::argmin`] of `expr` over the zipped `inputs`, fused: the
    /// values are searched a tile at a time as they are computed, with no
    /// intermediate array. The expression's type must be `U`.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine, Inputs, Located};
    /// let (x, y) = (vec![1.0f32, 4.0, 2.0], vec![1.0f32, 0.0, 2.0]);
    /// let inputs = Inputs::new().with("x", &x).with("y", &y);
    /// let closest = Engine::new()?.eval_argmin::<f32>(&Expr::parse("abs(x - y)")?, &inputs)?;
    /// assert_eq!(closest, Located { index: 0, value: 0.0 });
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn eval_argmin<U: Element>(&self, expr: &Expr, inputs: &Inputs<'_>) -> Result<Located<U>> {
        self.eval_argbest(expr, inputs, Extreme::Min)
    }

    /// [`Engine::argmax`] of `expr` over the zipped `inputs`, fused as
    /// [`Engine::eval_argmin`] is.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine, Inputs};
    /// let (a, b) = (vec![1i32, 8, 3], vec![2i32, 1, 9]);
    /// let inputs = Inputs::new().with("a", &a).with("b", &b);
    /// let at = Engine::new()?.eval_argmax::<i32>(&Expr::parse("a * b")?, &inputs)?;
    /// assert_eq!((at.index, at.value), (2, 27));
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn eval_argmax<U: Element>(&self, expr: &Expr, inputs: &Inputs<'_>) -> Result<Located<U>> {
        self.eval_argbest(expr, inputs, Extreme::Max)
    }

    fn argbest_of<T: Element>(&self, xs: &[T], extreme: Extreme) -> Result<Located<T>> {
        let identity = ops::compiled(None, T::DTYPE)?;
        let columns = [Column::of(xs)];
        self.execute_argbest(Task::new(&identity.program, &columns, xs.len()), identity.shape, extreme)
    }

    fn eval_argbest<U: Element>(&self, expr: &Expr, inputs: &Inputs<'_>, extreme: Extreme) -> Result<Located<U>> {
        let program = exprs::compiled(expr, inputs, U::DTYPE)?;
        let task = Task::new(&program, &inputs.columns, inputs.common_len()?);
        self.execute_argbest(task, ProgramShape::of(&program), extreme)
    }

    /// `task`'s first extreme element, small tasks on the calling thread,
    /// others where the scheduler sends them (priced as the reduction that
    /// finds the extreme value, which reads the same data).
    fn execute_argbest<U: Element>(&self, task: Task<'_>, shape: ProgramShape, extreme: Extreme) -> Result<Located<U>> {
        if task.len == 0 {
            return Err(Error::EmptyArg { op: extreme.name() });
        }
        task.program.check_len(task.len)?;
        if self.small_on_cpu(task.len) {
            let found = infallible(CpuExec::new(None).argbest(task, extreme));
            return found.ok_or(Error::EmptyArg { op: extreme.name() });
        }
        Ok(self.routed_argbest(task, shape, extreme)?.value)
    }

    /// `task`'s first extreme element where the scheduler sends it.
    pub(crate) fn routed_argbest<U: Element>(
        &self,
        task: Task<'_>,
        shape: ProgramShape,
        extreme: Extreme,
    ) -> Result<Outcome<Located<U>>> {
        let empty = Error::EmptyArg { op: extreme.name() };
        if task.len == 0 {
            return Err(empty);
        }
        task.program.check_len(task.len)?;
        let route = self.route(&Shape::new(shape, task.len, Some(extreme.reduce())));
        let (outcome, found) = self.dispatch(route, &mut ArgBestWork::new(task, extreme)).take();
        Ok(outcome.with(found.ok_or(empty)?))
    }
}
