//! What a finished job hands back: [`Outcome`] and [`Output`].

use crate::error::GpuError;
use crate::extreme::Located;
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

/// The value of a [`Job`](crate::Job): an array for a map, a scan or a
/// filter, a scalar for a reduction, a position for argmin and argmax,
/// counts for a histogram.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Output<T> {
    /// Result of a map, a scan or a filter.
    Array(Vec<T>),
    /// Result of a reduction or map-reduce.
    Scalar(T),
    /// Result of argmin or argmax.
    Located(Located<T>),
    /// Result of a histogram: a count per bin.
    Counts(Vec<u32>),
}

impl<T: Copy> Output<T> {
    /// The scalar, if this is a reduction's result.
    pub fn scalar(&self) -> Option<T> {
        match self {
            Output::Scalar(x) => Some(*x),
            _ => None,
        }
    }

    /// The array, if this is a map's, a scan's or a filter's result.
    pub fn array(&self) -> Option<&[T]> {
        match self {
            Output::Array(xs) => Some(xs),
            _ => None,
        }
    }

    /// The position and value, if this is argmin's or argmax's result.
    pub fn located(&self) -> Option<Located<T>> {
        match self {
            Output::Located(at) => Some(*at),
            _ => None,
        }
    }

    /// The counts, if this is a histogram's result.
    pub fn counts(&self) -> Option<&[u32]> {
        match self {
            Output::Counts(counts) => Some(counts),
            _ => None,
        }
    }
}
