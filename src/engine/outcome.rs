//! What a finished job hands back: [`Outcome`] and [`Output`].

use crate::error::GpuError;
use crate::schedule::{Decision, Device};
use std::time::Duration;

/// A finished job: its value and where and how it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<V> {
    /// The job's result.
    pub value: V,
    /// The scheduler's decision before the job ran.
    pub decision: Decision,
    /// Where the result was computed (the CPU after a GPU fault).
    pub device: Device,
    /// The GPU fault that made the job rerun on the CPU, if any.
    pub fallback: Option<GpuError>,
    /// Wall time of the whole job, transfers included.
    pub elapsed: Duration,
}

impl<V> Outcome<V> {
    /// The same outcome with another value.
    pub(crate) fn with<W>(self, value: W) -> Outcome<W> {
        Outcome { value, decision: self.decision, device: self.device, fallback: self.fallback, elapsed: self.elapsed }
    }

    /// The value, and the outcome without it.
    pub(crate) fn take(self) -> (Outcome<()>, V) {
        let Outcome { value, decision, device, fallback, elapsed } = self;
        (Outcome { value: (), decision, device, fallback, elapsed }, value)
    }
}

/// The value of a [`Job`](crate::Job): an array for a map, a scalar for a reduction.
#[derive(Debug, Clone, PartialEq)]
pub enum Output<T> {
    /// Result of a map.
    Array(Vec<T>),
    /// Result of a reduction or map-reduce.
    Scalar(T),
}

impl<T: Copy> Output<T> {
    /// The scalar, if this is a reduction's result.
    pub fn scalar(&self) -> Option<T> {
        match self {
            Output::Scalar(x) => Some(*x),
            Output::Array(_) => None,
        }
    }

    /// The array, if this is a map's result.
    pub fn array(&self) -> Option<&[T]> {
        match self {
            Output::Array(xs) => Some(xs),
            Output::Scalar(_) => None,
        }
    }
}
