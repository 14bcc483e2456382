//! [`Job`]: one map, reduce, or fused map-reduce over a slice.

use crate::dtype::Element;
use crate::error::Result;
use crate::op::{Op, Reduce};

/// A unit of work: an optional element-wise [`Op`] followed by an optional
/// [`Reduce`] (at least one of the two), over borrowed input.
///
/// ```
/// use swath::{Engine, Job, Op, Reduce};
/// let engine = Engine::cpu();
/// let xs = [1.0f32, 2.0, 3.0];
/// let job = Job::map_reduce(&xs, Op::Square, Reduce::Sum);
/// println!("{}", engine.explain(&job));
/// assert_eq!(engine.run(&job)?.value.scalar(), Some(14.0));
/// # Ok::<(), swath::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Job<'a, T> {
    pub(crate) input: &'a [T],
    pub(crate) map: Option<Op>,
    pub(crate) reduce: Option<Reduce>,
}

impl<'a, T: Element> Job<'a, T> {
    /// An element-wise map; its result is an array as long as the input.
    pub fn map(input: &'a [T], op: Op) -> Self {
        Job { input, map: Some(op), reduce: None }
    }

    /// A reduction to one value.
    pub fn reduce(input: &'a [T], reduce: Reduce) -> Self {
        Job { input, map: None, reduce: Some(reduce) }
    }

    /// A map fused into a reduction: one pass, no intermediate array.
    pub fn map_reduce(input: &'a [T], op: Op, reduce: Reduce) -> Self {
        Job { input, map: Some(op), reduce: Some(reduce) }
    }

    /// Number of input elements.
    pub fn len(&self) -> usize {
        self.input.len()
    }

    /// True if the input is empty.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// The element-wise op, if any.
    pub fn op(&self) -> Option<Op> {
        self.map
    }

    /// The reduction, if any.
    pub fn reduction(&self) -> Option<Reduce> {
        self.reduce
    }

    /// Checks the job's arguments before any work is done.
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(op) = self.map {
            op.check(T::DTYPE)?;
        }
        Ok(())
    }
}
