//! Where a GPU job reads its input columns: host columns, uploaded a
//! piece at a time through [`Uploads`], or arrays already on the device,
//! read in place a segment at a time. The primitives (scans, argmin and
//! argmax, histograms) walk their input in pieces through a [`Source`],
//! so one implementation of each serves host slices and resident arrays.
//!
//! Device arrays are cut into segments that hold whole tiles, a multiple
//! of every piece size the primitives ask for, so a primitive's pieces
//! of a resident array are its segments and the canonical orders hold.

use super::resident::{foreign, DeviceArray};
use super::scratch::Scratch;
use super::stream::Uploads;
use super::{chunk_elements, widest, Context, Gpu};
use crate::column::Column;
use crate::error::GpuError;
use crate::expr::program::Program;
use std::ops::Range;

/// A job's input columns, in the order its program's columns index.
#[derive(Clone, Copy)]
pub(crate) enum Columns<'a> {
    /// In host memory.
    Host(&'a [Column<'a>]),
    /// On this GPU, all of one length.
    Device(&'a [&'a DeviceArray]),
}

impl Columns<'_> {
    /// Elements per piece of a job over `len` elements of these columns:
    /// host columns are cut into chunks of a multiple of `multiple`
    /// elements that one binding holds, device arrays at their segments.
    pub fn piece_len(&self, ctx: &Context, program: &Program, multiple: usize, len: usize) -> usize {
        let piece = match self {
            Columns::Host(_) => chunk_elements(ctx, widest(program), multiple),
            Columns::Device(_) => DeviceArray::segment_len(ctx),
        };
        piece.min(len).max(1)
    }
}

/// The pieces of a job's input, one after another.
pub(super) enum Source<'a> {
    Host(Uploads<'a>),
    /// The arrays `program` reads, in its input-slot order, and their
    /// segment length.
    Device {
        arrays: Vec<&'a DeviceArray>,
        segment: usize,
    },
}

impl<'a> Source<'a> {
    /// The source of the columns `program` reads, in pieces of `piece`
    /// elements (from [`Columns::piece_len`]).
    pub fn open(ctx: &Context, scratch: &mut Scratch, program: &Program, columns: Columns<'a>, piece: usize) -> Self {
        match columns {
            Columns::Host(columns) => Source::Host(Uploads::open(ctx, scratch, program, columns, piece)),
            Columns::Device(arrays) => Source::Device {
                arrays: program.columns.iter().map(|&c| arrays[c]).collect(),
                segment: DeviceArray::segment_len(ctx),
            },
        }
    }

    /// Makes elements `range` (one piece) readable by the commands that
    /// follow in `encoder`: uploads host data, nothing for device arrays.
    pub fn write(
        &mut self,
        ctx: &Context,
        encoder: &mut wgpu::CommandEncoder,
        range: Range<usize>,
    ) -> Result<(), GpuError> {
        match self {
            Source::Host(uploads) => uploads.write(ctx, encoder, range),
            Source::Device { .. } => Ok(()),
        }
    }

    /// Records that `submission` read the piece written last.
    pub fn submitted(&mut self, submission: wgpu::SubmissionIndex) {
        if let Source::Host(uploads) = self {
            uploads.submitted(submission);
        }
    }

    /// The bindings of elements `range`, the piece written last, in the
    /// program's input-slot order.
    pub fn bindings(&self, range: Range<usize>) -> Vec<wgpu::BufferBinding<'_>> {
        match self {
            Source::Host(uploads) => uploads.bindings(range.len()),
            Source::Device { arrays, segment } => {
                debug_assert_eq!(range.start % segment, 0, "a piece of a device array is a segment");
                arrays.iter().map(|array| array.binding(range.start / segment, range.len())).collect()
            }
        }
    }
}

impl Gpu {
    /// The fault of reading `arrays` unless all live on this GPU, and are
    /// `len` elements long.
    pub(super) fn check_resident(&self, arrays: &[&DeviceArray], len: usize) -> Result<(), GpuError> {
        if !arrays.iter().all(|array| self.owns(array)) {
            return Err(foreign());
        }
        match arrays.iter().find(|array| array.len != len) {
            Some(array) => Err(GpuError::Internal(format!("a job of {len} elements reads an array of {}", array.len))),
            None => Ok(()),
        }
    }
}
