//! [`Pipeline`]: stages over arrays, submitted as one unit.

use super::run::{run_pipeline, Named};
use super::slices::{Dest, Input, Source};
use super::Array;
use crate::column::{Column, ColumnMut};
use crate::dtype::{DType, Element};
use crate::engine::{Engine, Outcome};
use crate::error::{GpuError, PipelineError, Result};
use crate::expr::Expr;
use crate::op::Reduce;
use crate::schedule::{Decision, Device};

/// A sequence of stages over named arrays, run as one unit: on the GPU,
/// every stage is encoded into one command submission, and consecutive
/// stages pass their arrays on the device with no host round trip.
///
/// Each stage is an expression over the pipeline's inputs and earlier
/// stages, by name, and is itself named. The run keeps the last stage and
/// every stage named in [`Pipeline::output`]. A stage that is not kept is
/// fused into the stages that read it: a chain of maps is one pass over
/// memory (one kernel on the GPU), with the bits of the stages run one by
/// one. A stage read by two stages that are kept or reduce is computed
/// once into an intermediate array, freed as soon as the device is done
/// with it; a stage nothing reads is not computed.
///
/// ```
/// use swath::{expr::Expr, Engine, Reduce};
/// let engine = Engine::new()?;
/// let prices = engine.array(vec![10.0f32, 20.0, 30.0]);
/// let units = engine.array(vec![1.0f32, 2.0, 3.0]);
/// let out = engine
///     .pipeline()
///     .input("price", &prices)
///     .input("units", &units)
///     .map::<f32>("revenue", &Expr::parse("price * units")?)
///     .map::<f32>("taxed", &Expr::parse("revenue * 1.25")?)
///     .reduce::<f32>("total", &Expr::parse("taxed")?, Reduce::Sum)
///     .output("taxed")
///     .run()?;
/// assert_eq!(out.scalar::<f32>("total")?, 175.0);
/// assert_eq!(out.array::<f32>("taxed")?.to_vec()?, [12.5, 50.0, 112.5]);
/// # Ok::<(), swath::Error>(())
/// ```
#[must_use = "a pipeline does nothing until `run`"]
pub struct Pipeline<'e> {
    engine: &'e Engine,
    inputs: Vec<Input<'e>>,
    stages: Vec<StageSpec>,
    keep: Vec<String>,
    dests: Vec<Dest<'e>>,
}

/// One stage as the caller described it.
pub(crate) struct StageSpec {
    pub name: String,
    pub expr: Expr,
    pub dtype: DType,
    pub reduce: Option<Reduce>,
}

impl<'e> Pipeline<'e> {
    pub(crate) fn new(engine: &'e Engine) -> Self {
        Pipeline { engine, inputs: vec![], stages: vec![], keep: vec![], dests: vec![] }
    }

    /// Makes `array` readable by later stages as `name`.
    pub fn input<T: Element>(mut self, name: &str, array: &Array<T>) -> Self {
        self.inputs.push(Input { name: name.to_string(), source: Source::Array(array.raw().clone()) });
        self
    }

    /// Makes `values` readable by later stages as `name`, for this run:
    /// on the CPU they are read in place, with no copy into an array. A
    /// pipeline over a large slice saves that copy (a pass over memory).
    /// Where the run may go to the GPU, the values are copied into an
    /// array first, as [`Engine::array`] would, so that results left on
    /// the device can be recomputed if it fails.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine};
    /// let engine = Engine::new()?;
    /// let xs = [1.0f32, 2.0, 3.0];
    /// let out = engine.pipeline().input_slice("x", &xs).map::<f32>("y", &Expr::parse("x * x + 1")?).run()?;
    /// assert_eq!(out.array::<f32>("y")?.into_vec()?, [2.0, 5.0, 10.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn input_slice<T: Element>(mut self, name: &str, values: &'e [T]) -> Self {
        self.inputs.push(Input { name: name.to_string(), source: Source::Lent(Column::of(values)) });
        self
    }

    /// A stage named `name`: `expr` at every element of the arrays it
    /// reads (which must be of one length), as an array of `U`.
    pub fn map<U: Element>(mut self, name: &str, expr: &Expr) -> Self {
        let stage = StageSpec { name: name.to_string(), expr: expr.clone(), dtype: U::DTYPE, reduce: None };
        self.stages.push(stage);
        self
    }

    /// A stage named `name`: `expr` over the arrays it reads, fused into
    /// `reduce`; the stage is a one-element array of `U`.
    pub fn reduce<U: Element>(mut self, name: &str, expr: &Expr, reduce: Reduce) -> Self {
        let stage = StageSpec { name: name.to_string(), expr: expr.clone(), dtype: U::DTYPE, reduce: Some(reduce) };
        self.stages.push(stage);
        self
    }

    /// Keeps the stage `name` in the outputs (the last stage always is).
    pub fn output(mut self, name: &str) -> Self {
        self.keep.push(name.to_string());
        self
    }

    /// Writes the stage `name` into `out`, a slice of the stage's type
    /// and length (one element for a reduction), instead of a new array,
    /// like numpy's and numexpr's `out=`: a pipeline from slices to
    /// slices allocates nothing for its results, and on the CPU writes
    /// them straight into `out`. On the GPU the stage is read back into
    /// `out`. The stage is not among the [`Outputs`]' arrays; a wrong
    /// name, type or length is an error before any work is done.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine};
    /// let engine = Engine::new()?;
    /// let (xs, mut ys) = ([1.0f32, 2.0, 3.0], [0.0f32; 3]);
    /// engine
    ///     .pipeline()
    ///     .input_slice("x", &xs)
    ///     .map::<f32>("y", &Expr::parse("x * x + 1")?)
    ///     .output_into("y", &mut ys)
    ///     .run()?;
    /// assert_eq!(ys, [2.0, 5.0, 10.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn output_into<T: Element>(mut self, name: &str, out: &'e mut [T]) -> Self {
        self.dests.push(Dest { name: name.to_string(), slice: ColumnMut::of(out) });
        self
    }

    /// Checks and runs every stage. Errors in the description (an unknown
    /// name, a type mismatch, arrays of different lengths) come before
    /// any work is done.
    pub fn run(self) -> Result<Outputs> {
        let mut keep = self.keep;
        if let Some(last) = self.stages.last() {
            keep.push(last.name.clone());
        }
        keep.extend(self.dests.iter().map(|dest| dest.name.clone()));
        let (arrays, outcome) = run_pipeline(self.engine, self.inputs, self.stages, &keep, self.dests)?;
        Ok(Outputs { arrays, outcome })
    }
}

/// The arrays a [`Pipeline`] kept, by stage name, and how it ran.
pub struct Outputs {
    arrays: Vec<Named>,
    outcome: Outcome<()>,
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.arrays.iter().map(|n| (&n.name, n.raw.dtype, n.raw.len()))).finish()
    }
}

impl Outputs {
    /// Where the pipeline was routed and why, with the predicted time of
    /// each device where a cost model was at hand. Where it really ran is
    /// [`Outputs::device`].
    pub fn decision(&self) -> Decision {
        self.outcome.decision
    }

    /// Where the stages ran: the CPU after a GPU fault.
    pub fn device(&self) -> Device {
        self.outcome.device
    }

    /// The GPU fault that made the stages rerun on the CPU, if any.
    pub fn fallback(&self) -> Option<&GpuError> {
        self.outcome.fallback.as_ref()
    }

    /// The stage `name`, which must have type `T`.
    pub fn array<T: Element>(&self, name: &str) -> Result<Array<T>> {
        let Some(named) = self.arrays.iter().find(|n| n.name == name) else {
            let kept = self.arrays.iter().map(|n| n.name.clone()).collect();
            return Err(PipelineError::NoOutput { name: name.to_string(), kept }.into());
        };
        if named.raw.dtype != T::DTYPE {
            let (name, dtype, asked) = (name.to_string(), named.raw.dtype, T::DTYPE);
            return Err(PipelineError::OutputType { name, dtype, asked }.into());
        }
        Ok(Array::from_raw(named.raw.clone()))
    }

    /// The value of the one-element stage `name` (a reduction).
    pub fn scalar<T: Element>(&self, name: &str) -> Result<T> {
        self.array::<T>(name)?.item()
    }
}
