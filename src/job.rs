//! [`Job`]: one map, reduce, or fused map-reduce, over one slice with an
//! [`Op`] or over several named arrays with an [`Expr`].

use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::inputs::Inputs;
use crate::op::{Op, Reduce};
use std::marker::PhantomData;

/// A unit of work producing `T`s: an element-wise map followed by an
/// optional [`Reduce`], over borrowed input. The map is an [`Op`] on one
/// slice of `T`, or an [`Expr`] over named [`Inputs`] of any types.
///
/// ```
/// use swath::{expr::var, Engine, Inputs, Job, Op, Reduce};
/// let engine = Engine::cpu();
/// let xs = [1.0f32, 2.0, 3.0];
/// let job = Job::map_reduce(&xs, Op::Square, Reduce::Sum);
/// println!("{}", engine.explain(&job));
/// assert_eq!(engine.run(&job)?.value.scalar(), Some(14.0));
///
/// // Chained maps fuse into one expression: one pass, no intermediate array.
/// let chain = Job::<f32>::map(&xs, Op::Square).then(var("y") + 1.0)?.then(var("z").sqrt())?;
/// assert_eq!(engine.run(&chain)?.value.array().unwrap(), [2f32.sqrt(), 5f32.sqrt(), 10f32.sqrt()]);
/// # Ok::<(), swath::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Job<'a, T> {
    pub(crate) source: Source<'a, T>,
    pub(crate) reduce: Option<Reduce>,
}

/// Where a job's values come from.
#[derive(Debug, Clone)]
pub(crate) enum Source<'a, T> {
    /// An op (or nothing) over one slice: the CPU runs it with a loop
    /// compiled for that op.
    Op { input: &'a [T], map: Option<Op> },
    /// An expression over named arrays, giving `T`s.
    Expr { inputs: Inputs<'a>, expr: Expr, output: PhantomData<T> },
}

impl<'a, T: Element> Job<'a, T> {
    /// An element-wise map; its result is an array as long as the input.
    pub fn map(input: &'a [T], op: Op) -> Self {
        Job { source: Source::Op { input, map: Some(op) }, reduce: None }
    }

    /// A reduction to one value.
    pub fn reduce(input: &'a [T], reduce: Reduce) -> Self {
        Job { source: Source::Op { input, map: None }, reduce: Some(reduce) }
    }

    /// A map fused into a reduction: one pass, no intermediate array.
    pub fn map_reduce(input: &'a [T], op: Op, reduce: Reduce) -> Self {
        Job { source: Source::Op { input, map: Some(op) }, reduce: Some(reduce) }
    }

    /// `expr` over the zipped `inputs`, giving a `T` per element.
    pub fn expr(inputs: Inputs<'a>, expr: Expr) -> Self {
        Job { source: Source::Expr { inputs, expr, output: PhantomData }, reduce: None }
    }

    /// `expr` over the zipped `inputs`, fused into `reduce`.
    pub fn expr_reduce(inputs: Inputs<'a>, expr: Expr, reduce: Reduce) -> Self {
        Job { reduce: Some(reduce), ..Job::expr(inputs, expr) }
    }

    /// This job's map followed by `next`, fused into one expression (one
    /// kernel, one pass on either path). `next` reads exactly one input,
    /// whatever its name: the value of this job's map.
    ///
    /// An error if this job already reduces, or if `next` does not read
    /// exactly one input.
    pub fn then(self, next: Expr) -> Result<Self> {
        if let Some(reduce) = self.reduce {
            return Err(Error::Expr(format!("cannot map after {reduce}: chain maps first, then reduce")));
        }
        let name = match next.inputs().as_slice() {
            [name] => name.to_string(),
            names => {
                return Err(Error::Expr(format!(
                    "a chained map reads one input, the previous map's value; `{next}` reads {}",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                )))
            }
        };
        let (inputs, current) = match self.source {
            Source::Op { input, map } => {
                let x = crate::expr::var("x");
                (Inputs::new().with("x", input), map.map_or(x.clone(), |op| op.to_expr(x)))
            }
            Source::Expr { inputs, expr, .. } => (inputs, expr),
        };
        Ok(Job::expr(inputs, next.substitute(&name, &current)))
    }

    /// The same map, fused into `reduce`; replaces any reduction already set.
    pub fn reduced(self, reduce: Reduce) -> Self {
        Job { reduce: Some(reduce), ..self }
    }

    /// Number of elements, or an error if zipped inputs differ in length.
    pub fn try_len(&self) -> Result<usize> {
        match &self.source {
            Source::Op { input, .. } => Ok(input.len()),
            Source::Expr { inputs, .. } => inputs.common_len(),
        }
    }

    /// Number of elements (that of the first input when zipped inputs
    /// differ; running such a job is an error).
    pub fn len(&self) -> usize {
        match &self.source {
            Source::Op { input, .. } => input.len(),
            Source::Expr { inputs, .. } => {
                inputs.common_len().unwrap_or_else(|_| inputs.columns.first().map_or(0, |c| c.len()))
            }
        }
    }

    /// True if the job has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element-wise op, if the job maps one slice by an [`Op`].
    pub fn op(&self) -> Option<Op> {
        match &self.source {
            Source::Op { map, .. } => *map,
            Source::Expr { .. } => None,
        }
    }

    /// The expression, if the job maps by an [`Expr`].
    pub fn expression(&self) -> Option<&Expr> {
        match &self.source {
            Source::Op { .. } => None,
            Source::Expr { expr, .. } => Some(expr),
        }
    }

    /// The reduction, if any.
    pub fn reduction(&self) -> Option<Reduce> {
        self.reduce
    }

    /// Bytes the job reads per element, over all its inputs.
    pub fn bytes_per_element(&self) -> usize {
        match &self.source {
            Source::Op { .. } => T::DTYPE.size(),
            Source::Expr { inputs, expr, .. } => {
                let used = expr.inputs();
                inputs.types().iter().filter(|(name, _)| used.contains(name)).map(|(_, t)| t.size()).sum()
            }
        }
    }
}
