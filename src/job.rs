//! [`Job`]: one map, reduce, fused map-reduce or scan: a compiled program over
//! its inputs, whether it was described by an [`Op`] or an [`Expr`].

use crate::dtype::Element;
use crate::error::{excerpt, Error, ExprError, Result};
use crate::exec::Task;
use crate::expr::program::Program;
use crate::expr::{var, Expr};
use crate::extreme::Extreme;
use crate::inputs::Inputs;
use crate::op::{Op, Reduce, Scan};
use crate::schedule::ProgramShape;
use std::marker::PhantomData;

/// A unit of work producing `T`s: an element-wise map followed by an
/// optional [`Reduce`], over borrowed input. The map is an [`Op`] on one
/// slice of `T`, or an [`Expr`] over named [`Inputs`] of any types; either
/// way it is compiled once, when the job is built, into the one program
/// both the CPU and the GPU run.
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
    inputs: Inputs<'a>,
    expr: Expr,
    then: Then,
    /// `expr` compiled for a `T` result, or why it cannot run.
    program: Result<Program, Error>,
    output: PhantomData<fn() -> T>,
}

/// What a job makes of its map's values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Then {
    /// The values themselves: an array.
    Values,
    /// One value.
    Reduce(Reduce),
    /// An array of prefixes.
    Scan(Scan),
    /// The values where this condition (over the job's inputs) holds.
    Filter(Expr),
    /// The first extreme value and its index.
    Arg(Extreme),
    /// Counts of the values in equal-width bins over `[lo, hi]`.
    Histogram { bins: usize, lo: f64, hi: f64 },
}

impl<'a, T: Element> Job<'a, T> {
    /// An element-wise map; its result is an array as long as the input.
    pub fn map(input: &'a [T], op: Op) -> Self {
        Job::of_op(input, Some(op), None)
    }

    /// A reduction to one value.
    pub fn reduce(input: &'a [T], reduce: Reduce) -> Self {
        Job::of_op(input, None, Some(reduce))
    }

    /// A map fused into a reduction: one pass, no intermediate array.
    pub fn map_reduce(input: &'a [T], op: Op, reduce: Reduce) -> Self {
        Job::of_op(input, Some(op), Some(reduce))
    }

    /// `op` (or nothing) over `input`, read as `x`: the expression
    /// [`Op::to_expr`] gives, after the op's own checks.
    fn of_op(input: &'a [T], op: Option<Op>, reduce: Option<Reduce>) -> Self {
        let x = var("x");
        let expr = op.map_or(x.clone(), |op| op.to_expr(x));
        let program = match op.map(|op| op.check(T::DTYPE)) {
            Some(Err(e)) => Err(e),
            _ => Program::compile(&expr, &[("x", T::DTYPE)], T::DTYPE),
        };
        let then = reduce.map_or(Then::Values, Then::Reduce);
        Job { inputs: Inputs::new().with("x", input), expr, then, program, output: PhantomData }
    }

    /// `expr` over the zipped `inputs`, giving a `T` per element.
    pub fn expr(inputs: Inputs<'a>, expr: Expr) -> Self {
        let program = Program::compile(&expr, &inputs.types(), T::DTYPE);
        Job { inputs, expr, then: Then::Values, program, output: PhantomData }
    }

    /// `expr` over the zipped `inputs`, fused into `reduce`.
    pub fn expr_reduce(inputs: Inputs<'a>, expr: Expr, reduce: Reduce) -> Self {
        Job::expr(inputs, expr).reduced(reduce)
    }

    /// This job's map followed by `next`, fused into one expression (one
    /// kernel, one pass on either path). `next` reads exactly one input,
    /// whatever its name: the value of this job's map.
    ///
    /// An error if this job already reduces, scans or filters, or if
    /// `next` does not read exactly one input.
    pub fn then(self, next: Expr) -> Result<Self> {
        match self.then {
            Then::Values => {}
            Then::Reduce(reduce) => return Err(ExprError::MapAfterReduce { reduce }.into()),
            Then::Scan(scan) => return Err(ExprError::MapAfterScan { scan }.into()),
            Then::Filter(_) | Then::Arg(_) | Then::Histogram { .. } => return Err(ExprError::MapAfterFilter.into()),
        }
        let name = match next.inputs().as_slice() {
            [name] => name.to_string(),
            names => {
                let inputs = names.iter().map(|n| n.to_string()).collect();
                return Err(ExprError::ChainInputs { expr: excerpt(&next), inputs }.into());
            }
        };
        Ok(Job::expr(self.inputs, next.substitute(&name, &self.expr)))
    }

    /// The same map, fused into `reduce`; replaces any reduction or scan
    /// already set.
    pub fn reduced(self, reduce: Reduce) -> Self {
        Job { then: Then::Reduce(reduce), ..self }
    }

    /// A prefix scan of `input` (see [`Scan`]): its result is an array as
    /// long as the input.
    ///
    /// ```
    /// use swath::{Engine, Job, Op, Reduce, Scan};
    /// let xs = [1.0f32, 2.0, 3.0];
    /// let cumsum = Engine::cpu().run(&Job::scan(&xs, Scan::inclusive(Reduce::Sum)))?;
    /// assert_eq!(cumsum.value.array().unwrap(), [1.0, 3.0, 6.0]);
    /// let squares = Job::map(&xs, Op::Square).scanned(Scan::exclusive(Reduce::Sum));
    /// assert_eq!(Engine::cpu().run(&squares)?.value.array().unwrap(), [0.0, 1.0, 5.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn scan(input: &'a [T], scan: Scan) -> Self {
        Job::of_op(input, None, None).scanned(scan)
    }

    /// The same map, its values scanned (fused: one program, no
    /// intermediate array); replaces any reduction or scan already set.
    pub fn scanned(self, scan: Scan) -> Self {
        Job { then: Then::Scan(scan), ..self }
    }

    /// The scan, if any.
    pub fn scanning(&self) -> Option<Scan> {
        match self.then {
            Then::Scan(scan) => Some(scan),
            _ => None,
        }
    }

    /// The elements of `input` where `predicate` (a condition over `x`, the
    /// element, and `i`, its index) holds, in order: numpy's `x[x > 0.5]`.
    ///
    /// ```
    /// use swath::{expr::var, Engine, Job, Op};
    /// let xs = [0.5f32, -1.0, 2.0, -3.0];
    /// let kept = Engine::cpu().run(&Job::filter(&xs, var("x").gt(0.0)))?;
    /// assert_eq!(kept.value.array().unwrap(), [0.5, 2.0]);
    /// // Fused: the squares where the input is negative.
    /// let job = Job::map(&xs, Op::Square).filtered(var("x").lt(0.0));
    /// assert_eq!(Engine::cpu().run(&job)?.value.array().unwrap(), [1.0, 9.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn filter(input: &'a [T], predicate: Expr) -> Self {
        Job::of_op(input, None, None).filtered(predicate)
    }

    /// The same map's values where `predicate` (a condition over the
    /// job's inputs, not over the map's value) holds, in order; replaces
    /// any reduction, scan or filter already set.
    pub fn filtered(self, predicate: Expr) -> Self {
        Job { then: Then::Filter(predicate), ..self }
    }

    /// The index of the first smallest value of `input` and the value
    /// (see [`crate::Engine::argmin`]): a [`crate::Output::Located`].
    ///
    /// ```
    /// use swath::{Engine, Job, Op, Output};
    /// let xs = [3.0f32, -1.0, 2.0, -1.0];
    /// let Output::Located(at) = Engine::cpu().run(&Job::argmin(&xs))?.value else { unreachable!() };
    /// assert_eq!((at.index, at.value), (1, -1.0));
    /// // Fused: the index of the largest square.
    /// let job = Job::map(&xs, Op::Square).into_argmax();
    /// assert_eq!(Engine::cpu().run(&job)?.value.located().map(|at| at.index), Some(0));
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn argmin(input: &'a [T]) -> Self {
        Job::of_op(input, None, None).into_argmin()
    }

    /// The index of the first largest value of `input` and the value.
    pub fn argmax(input: &'a [T]) -> Self {
        Job::of_op(input, None, None).into_argmax()
    }

    /// The first smallest of this job's values and its index.
    pub fn into_argmin(self) -> Self {
        Job { then: Then::Arg(Extreme::Min), ..self }
    }

    /// The first largest of this job's values and its index.
    pub fn into_argmax(self) -> Self {
        Job { then: Then::Arg(Extreme::Max), ..self }
    }

    /// numpy's histogram of `input`: `bins` equal-width bins over
    /// `[lo, hi]` (see [`crate::Engine::histogram`]), a [`crate::Output::Counts`].
    ///
    /// ```
    /// use swath::{Engine, Job};
    /// let xs = [0.5f32, 1.5, 1.75, 3.0, 9.0];
    /// let counts = Engine::cpu().run(&Job::histogram(&xs, 3, 0.0, 3.0))?.value;
    /// assert_eq!(counts.counts(), Some(&[1, 2, 1][..]));
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn histogram(input: &'a [T], bins: usize, lo: f64, hi: f64) -> Self {
        Job::of_op(input, None, None).into_histogram(bins, lo, hi)
    }

    /// The histogram of this job's values.
    pub fn into_histogram(self, bins: usize, lo: f64, hi: f64) -> Self {
        Job { then: Then::Histogram { bins, lo, hi }, ..self }
    }

    /// The filter's predicate, if any.
    pub fn predicate(&self) -> Option<&Expr> {
        match &self.then {
            Then::Filter(predicate) => Some(predicate),
            _ => None,
        }
    }

    /// What the job makes of its values.
    pub(crate) fn consumer(&self) -> &Then {
        &self.then
    }

    /// The job's inputs.
    pub(crate) fn inputs(&self) -> &Inputs<'a> {
        &self.inputs
    }

    /// Number of elements, or an error if zipped inputs differ in length.
    pub fn try_len(&self) -> Result<usize> {
        self.inputs.common_len()
    }

    /// Number of elements (that of the first input when zipped inputs
    /// differ; running such a job is an error).
    pub fn len(&self) -> usize {
        let first = || self.inputs.columns.first().map_or(0, |c| c.len());
        self.inputs.common_len().unwrap_or_else(|_| first())
    }

    /// True if the job has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element-wise op, if the job's map is one [`Op`] over one input,
    /// however it was described.
    pub fn op(&self) -> Option<Op> {
        self.program.as_ref().ok()?.as_op().flatten()
    }

    /// The map, as an expression (an op's is [`Op::to_expr`]).
    pub fn expression(&self) -> Option<&Expr> {
        Some(&self.expr)
    }

    /// The reduction, if any.
    pub fn reduction(&self) -> Option<Reduce> {
        match self.then {
            Then::Reduce(reduce) => Some(reduce),
            _ => None,
        }
    }

    /// Bytes the job reads per element, over all its inputs.
    pub fn bytes_per_element(&self) -> usize {
        self.program.as_ref().map_or(T::DTYPE.size(), |p| ProgramShape::of(p).bytes_per_element)
    }

    /// The compiled program, or why the job cannot run.
    pub(crate) fn program(&self) -> Result<&Program> {
        self.program.as_ref().map_err(Clone::clone)
    }

    /// The job as a task over all its elements: an error if it cannot run.
    pub(crate) fn task(&self) -> Result<Task<'_>> {
        Ok(Task::new(self.program()?, &self.inputs.columns, self.try_len()?))
    }
}
