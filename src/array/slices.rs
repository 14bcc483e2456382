//! What a pipeline reads and writes besides arrays: host slices lent
//! for one run ([`crate::Pipeline::input_slice`]) and the caller's slices
//! that stages are written into ([`crate::Pipeline::output_into`]).

use super::run::Known;
use super::{Origin, Raw, Store};
use crate::column::{Column, ColumnMut, HostData};
use crate::dtype::DType;
use crate::engine::Engine;
use crate::error::{PipelineError, Result};
use std::sync::Arc;

/// A pipeline input under a name.
pub(crate) struct Input<'a> {
    pub name: String,
    pub source: Source<'a>,
}

/// A stage to write into a slice of the caller's.
pub(crate) struct Dest<'a> {
    pub name: String,
    pub slice: ColumnMut<'a>,
}

/// Where a pipeline input's values are.
pub(crate) enum Source<'a> {
    Array(Raw),
    /// Host values the caller lends for the run, read in place.
    Lent(Column<'a>),
}

impl Input<'_> {
    pub fn dtype(&self) -> DType {
        match &self.source {
            Source::Array(raw) => raw.dtype,
            Source::Lent(column) => column.dtype(),
        }
    }

    pub fn len(&self) -> usize {
        match &self.source {
            Source::Array(raw) => raw.len(),
            Source::Lent(column) => column.len(),
        }
    }

    /// How to make the input again: `None` for lent values, which the
    /// pipeline does not keep.
    pub fn origin(&self) -> Option<Arc<Origin>> {
        match &self.source {
            Source::Array(raw) => Some(raw.origin.clone()),
            Source::Lent(_) => None,
        }
    }

    /// The input as an array of its own: lent values are copied.
    pub fn owned(self, engine: &Engine) -> Result<Input<'static>> {
        let raw = match self.source {
            Source::Array(raw) => raw,
            Source::Lent(column) => {
                let data = engine.on_pool(|| HostData::copied(column))?;
                let origin = Arc::new(Origin::Data(data.clone()));
                Raw::new(engine.clone(), column.dtype(), column.len(), Store::Host(data), origin)
            }
        };
        Ok(Input { name: self.name, source: Source::Array(raw) })
    }
}

/// Checks each stage to write into a slice against the checked `stages`
/// (their arrays as known): it exists, once, and has the slice's type
/// and length. Gives the index of each among the stages.
pub(super) fn check_dests(stages: &[Known], dests: &[Dest<'_>]) -> Result<Vec<usize>> {
    let mut found = Vec::with_capacity(dests.len());
    for (k, dest) in dests.iter().enumerate() {
        let name = dest.name.clone();
        let Some(j) = stages.iter().position(|stage| stage.name == dest.name) else {
            return Err(PipelineError::UnknownStage { name }.into());
        };
        if dests[..k].iter().any(|other| other.name == dest.name) {
            return Err(PipelineError::DuplicateName { name }.into());
        }
        let (stage, slice) = (&stages[j], dest.slice.read());
        if slice.dtype() != stage.dtype {
            return Err(PipelineError::OutputType { name, dtype: stage.dtype, asked: slice.dtype() }.into());
        }
        if slice.len() != stage.len {
            return Err(PipelineError::IntoLength { name, len: stage.len, slice: slice.len() }.into());
        }
        found.push(j);
    }
    Ok(found)
}
