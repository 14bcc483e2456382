//! Stream compaction on the engine: [`Engine::filter`] and friends keep
//! the elements where a condition holds, in order, as numpy's
//! `x[x > 0.5]`, `np.flatnonzero` and a stable partition do.
//!
//! A predicate is compiled to a `u32` program, 1 where it holds; each job
//! is routed like a map over the values and the predicate together and
//! dispatched as one [`Work`](crate::exec::Work), so a GPU fault reruns
//! it on the CPU. The result is a count of integers and a copy: the same
//! on every thread count and on both devices.

use super::{exprs, Engine, Outcome};
use crate::column::Column;
use crate::dtype::{DType, Element};
use crate::error::{excerpt, Error, ExprError, Result};
use crate::exec::{infallible, CpuExec, Executor, FilterIntoWork, FilterWork, PartitionWork, Task, Work};
use crate::expr::program::Program;
use crate::expr::{index, var, Expr};
use crate::inputs::Inputs;
use crate::schedule::{ProgramShape, Shape};
use std::rc::Rc;

/// The elements of a partition: kept ones first, then the rest, each in order.
///
/// ```
/// use swath::{expr::Expr, Engine, Partition};
/// let xs = [3.0f32, -1.0, 4.0, -1.5];
/// let parts = Engine::cpu().partition(&xs, &Expr::parse("x > 0")?)?;
/// assert_eq!(parts, Partition { values: vec![3.0, 4.0, -1.0, -1.5], kept: 2 });
/// assert_eq!(parts.kept(), [3.0, 4.0]);
/// assert_eq!(parts.rest(), [-1.0, -1.5]);
/// # Ok::<(), swath::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Partition<T> {
    /// Every element: the kept ones, then the others.
    pub values: Vec<T>,
    /// How many elements were kept: they are `values[..kept]`.
    pub kept: usize,
}

impl<T> Partition<T> {
    /// The elements where the predicate holds, in order.
    ///
    /// ```
    /// use swath::Partition;
    /// let parts = Partition { values: vec![1u32, 2, 3], kept: 1 };
    /// assert_eq!(parts.kept(), [1]);
    /// ```
    pub fn kept(&self) -> &[T] {
        &self.values[..self.kept]
    }

    /// The elements where the predicate does not hold, in order.
    ///
    /// ```
    /// use swath::Partition;
    /// let parts = Partition { values: vec![1u32, 2, 3], kept: 1 };
    /// assert_eq!(parts.rest(), [2, 3]);
    /// ```
    pub fn rest(&self) -> &[T] {
        &self.values[self.kept..]
    }
}

impl Engine {
    /// The elements of `xs` where `predicate` holds, in order: numpy's
    /// `x[x > 0.5]`. The predicate is a condition (a comparison, `&&`,
    /// `||`, `!`) over `x`, the element, and may read `i`, its index.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine};
    /// let engine = Engine::new()?;
    /// let xs = [0.2f32, 0.9, f32::NAN, 0.7, 0.1];
    /// assert_eq!(engine.filter(&xs, &Expr::parse("x > 0.5")?)?, [0.9, 0.7]);
    /// assert_eq!(engine.filter(&[7u32, 8, 9, 10], &Expr::parse("i % 2 == 0")?)?, [7, 9]);
    /// // A number is not a condition.
    /// assert!(engine.filter(&xs, &Expr::parse("x * 2")?).is_err());
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn filter<T: Element>(&self, xs: &[T], predicate: &Expr) -> Result<Vec<T>> {
        self.eval_filter(&var("x"), predicate, &Inputs::new().with("x", xs))
    }

    /// [`Engine::filter`] into the front of `out`, a buffer the caller
    /// keeps, which must have a place for every element of `xs` (all may
    /// be kept); returns how many were kept, in `out[..kept]`. The rest of
    /// `out` is left as it was. A reused buffer spares the call the first
    /// touch of a new vector's pages, which at 2^26 elements costs about as
    /// much as the filter; on the GPU the kept values are read back and
    /// copied in.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine};
    /// let engine = Engine::new()?;
    /// let xs = [0.2f32, 0.9, f32::NAN, 0.7, 0.1];
    /// let mut out = vec![0.0f32; xs.len()];
    /// let kept = engine.filter_into(&xs, &Expr::parse("x > 0.5")?, &mut out)?;
    /// assert_eq!(&out[..kept], [0.9, 0.7]);
    /// // A buffer shorter than the input is refused before any work.
    /// assert!(engine.filter_into(&xs, &Expr::parse("x > 0.5")?, &mut out[..4]).is_err());
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn filter_into<T: Element>(&self, xs: &[T], predicate: &Expr, out: &mut [T]) -> Result<usize> {
        let inputs = Inputs::new().with("x", xs);
        let values = exprs::compiled(&var("x"), &inputs, T::DTYPE)?;
        let predicate = predicate_program(predicate, &inputs)?;
        let task = Task::new(&values, &inputs.columns, xs.len());
        if out.len() < task.len {
            return Err(Error::LengthMismatch { input: task.len, output: out.len() });
        }
        check_len(&task, &predicate)?;
        let mut work = FilterIntoWork { task, predicate: &predicate, out };
        if self.small_on_cpu(task.len) {
            return work.on_cpu(&CpuExec::new(None));
        }
        let shape = compaction_shape(task.program, &predicate, &[T::DTYPE], task.len);
        self.dispatch(self.route(&shape), &mut work).value
    }

    /// The general, fused form of [`Engine::filter`]: the values of
    /// `values` (any expression over the zipped `inputs`, of type `U`)
    /// where `predicate` (a condition over the same inputs) holds, in
    /// order. No intermediate array: each value is computed where it is
    /// kept.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine, Inputs};
    /// let (a, b) = (vec![1.0f32, 2.0, 3.0, 4.0], vec![4.0f32, 3.0, 2.0, 1.0]);
    /// let inputs = Inputs::new().with("a", &a).with("b", &b);
    /// let out = Engine::new()?.eval_filter::<f32>(&Expr::parse("a * b")?, &Expr::parse("a < b")?, &inputs)?;
    /// assert_eq!(out, [4.0, 6.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn eval_filter<U: Element>(&self, values: &Expr, predicate: &Expr, inputs: &Inputs<'_>) -> Result<Vec<U>> {
        let values = exprs::compiled(values, inputs, U::DTYPE)?;
        let predicate = predicate_program(predicate, inputs)?;
        let task = Task::new(&values, &inputs.columns, inputs.common_len()?);
        if self.small_on_cpu(task.len) {
            check_len(&task, &predicate)?;
            return infallible(CpuExec::new(None).filter(task, &predicate));
        }
        self.execute_filter(task, &predicate)?.value
    }

    /// `task`'s values where `predicate` (a `u32` program over the same
    /// columns) holds, where the scheduler sends it. The inner result is
    /// the allocation of the values.
    pub(crate) fn execute_filter<U: Element>(
        &self,
        task: Task<'_>,
        predicate: &Program,
    ) -> Result<Outcome<Result<Vec<U>>>> {
        check_len(&task, predicate)?;
        let route = self.route(&shape(&task, predicate));
        Ok(self.dispatch(route, &mut FilterWork::new(task, predicate)))
    }

    /// The `u32` indices where `predicate` (a condition over the zipped
    /// `inputs`, which may read `i`) holds, in order: numpy's
    /// `np.flatnonzero`. Indices are `u32`, so a job has at most 2^32
    /// elements.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine, Inputs};
    /// let xs = [5i32, -2, 7, 0, 9];
    /// let engine = Engine::new()?;
    /// let at = engine.filter_indices(&Expr::parse("x > 4")?, &Inputs::new().with("x", &xs))?;
    /// assert_eq!(at, [0, 2, 4]);
    /// let thirds = engine.filter_indices(&Expr::parse("i % 3 == 0")?, &Inputs::new().with_len(7))?;
    /// assert_eq!(thirds, [0, 3, 6]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn filter_indices(&self, predicate: &Expr, inputs: &Inputs<'_>) -> Result<Vec<u32>> {
        // The index program reads `i`, so its length check rejects a job
        // of more than 2^32 elements, whose indices would wrap.
        self.eval_filter(&index(), predicate, inputs)
    }

    /// The elements of `xs` where `predicate` holds, then the others,
    /// both in order, and how many were kept: a stable partition. The
    /// predicate is a condition over `x` (and `i`), as for
    /// [`Engine::filter`].
    ///
    /// ```
    /// use swath::{expr::Expr, Engine};
    /// let xs = [4u32, 9, 2, 7, 1];
    /// let parts = Engine::new()?.partition(&xs, &Expr::parse("x >= 5")?)?;
    /// assert_eq!(parts.values, [9, 7, 4, 2, 1]);
    /// assert_eq!(parts.kept, 2);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn partition<T: Element>(&self, xs: &[T], predicate: &Expr) -> Result<Partition<T>> {
        let inputs = Inputs::new().with("x", xs);
        let values = exprs::compiled(&var("x"), &inputs, T::DTYPE)?;
        let kept = predicate_program(predicate, &inputs)?;
        let columns = [Column::of(xs)];
        let task = Task::new(&values, &columns, xs.len());
        check_len(&task, &kept)?;
        let (values, kept) = if self.small_on_cpu(task.len) {
            infallible(CpuExec::new(None).partition(task, &kept))?
        } else {
            let route = self.route(&shape(&task, &kept));
            self.dispatch(route, &mut PartitionWork::new(task, &kept)).value?
        };
        Ok(Partition { values, kept })
    }
}

/// The `u32` program of `predicate` over `inputs`: 1 where it holds, 0
/// elsewhere. A number is not a predicate: [`ExprError::NotACondition`].
pub(crate) fn predicate_program(predicate: &Expr, inputs: &Inputs<'_>) -> Result<Rc<Program>> {
    // A condition cannot be a program's result: that error is the sign
    // that the predicate is one, and its cast to u32 (true is 1) compiles.
    let not_a_condition = |dtype| Error::Expr(ExprError::NotACondition { expr: excerpt(predicate), dtype });
    match exprs::compiled(predicate, inputs, DType::U32) {
        Err(Error::Expr(ExprError::ConditionResult { .. })) => {
            exprs::compiled(&predicate.cast(DType::U32), inputs, DType::U32)
        }
        Ok(_) => Err(not_a_condition(DType::U32)),
        Err(Error::Expr(ExprError::OutputType { found, .. })) => Err(not_a_condition(found)),
        Err(error) => Err(error),
    }
}

/// Checks that both programs can run over the task's elements.
fn check_len(task: &Task<'_>, predicate: &Program) -> Result<()> {
    task.program.check_len(task.len)?;
    predicate.check_len(task.len)
}

/// The shape routing sees: a map over the values and the predicate
/// together, which read the union of their inputs, and the tile offsets
/// the GPU's write kernel binds besides.
fn shape(task: &Task<'_>, predicate: &Program) -> Shape {
    let dtypes: Vec<DType> = task.columns.iter().map(Column::dtype).collect();
    compaction_shape(task.program, predicate, &dtypes, task.len).with_new_output()
}

/// [`shape`] of a compaction of `len` elements of `values` where
/// `predicate` holds, over columns of the types `dtypes`, into a buffer
/// the caller has (a new result is `.with_new_output()`).
pub(crate) fn compaction_shape(values: &Program, predicate: &Program, dtypes: &[DType], len: usize) -> Shape {
    let (shape, kept) = (ProgramShape::of(values), ProgramShape::of(predicate));
    let mut columns: Vec<usize> = values.columns.iter().chain(&predicate.columns).copied().collect();
    columns.sort_unstable();
    columns.dedup();
    let program = ProgramShape {
        output: shape.output,
        inputs: columns.len() + 1,
        steps: shape.steps + kept.steps,
        bytes_per_element: columns.iter().map(|&c| dtypes[c].size()).sum(),
        calls: shape.calls + kept.calls,
        uses_f64: shape.uses_f64 || kept.uses_f64,
        no_gpu_kernel: shape.no_gpu_kernel.or(kept.no_gpu_kernel),
    };
    Shape::new(program, len, None)
}
