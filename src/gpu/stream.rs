//! Double-buffered transfers for data that crosses in several pieces.
//!
//! [`Reader`] copies pieces back through two alternating readback buffers:
//! while the host copies piece k out of one, the GPU already fills the
//! other with piece k+1. [`Uploads`] does the same for inputs through two
//! host-mappable staging buffers per input, reused for every piece rather
//! than a fresh staging allocation per copy.

use super::context::Context;
use super::scratch::{Role, Scratch};
use crate::column::Column;
use crate::error::GpuError;
use crate::expr::program::Program;
use std::ops::Range;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The readback half of a stream.
pub(super) struct Reader<'o> {
    buffers: [wgpu::Buffer; 2],
    /// Pieces submitted so far; piece k uses buffer `k % 2`.
    pieces: usize,
    pending: Option<Pending<'o>>,
    /// Time spent copying out of mapped memory so far.
    copying: Duration,
}

/// A piece submitted but not yet copied to the host.
struct Pending<'o> {
    buffer: wgpu::Buffer,
    bytes: u64,
    submission: wgpu::SubmissionIndex,
    mapped: mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
    dst: &'o mut [u8],
}

impl<'o> Reader<'o> {
    /// A reader for pieces of at most `bytes` bytes.
    pub fn new(ctx: &Context, scratch: &mut Scratch, bytes: u64) -> Reader<'o> {
        let buffers = [Role::Readback, Role::ReadbackB].map(|role| scratch.get(&ctx.device, role, bytes));
        Reader { buffers, pieces: 0, pending: None, copying: Duration::ZERO }
    }

    /// The buffer the next piece must be copied into.
    pub fn target(&self) -> &wgpu::Buffer {
        &self.buffers[self.pieces % 2]
    }

    /// Submits `encoder`, which copies the next piece (`dst.len()` bytes)
    /// into [`Reader::target`], then finishes the previous piece while the
    /// GPU works on this one.
    pub fn submit(
        &mut self,
        ctx: &Context,
        encoder: wgpu::CommandEncoder,
        dst: &'o mut [u8],
    ) -> Result<wgpu::SubmissionIndex, GpuError> {
        let buffer = self.target().clone();
        let bytes = dst.len() as u64;
        let submission = ctx.submit([encoder.finish()]);
        let (sender, mapped) = mpsc::channel();
        buffer.map_async(wgpu::MapMode::Read, ..bytes, move |result| {
            let _ = sender.send(result);
        });
        self.pieces += 1;
        let previous = self.pending.replace(Pending { buffer, bytes, submission: submission.clone(), mapped, dst });
        if let Some(piece) = previous {
            self.copying += piece.finish(ctx)?;
        }
        Ok(submission)
    }

    /// Waits for the last piece and copies it out.
    pub fn finish(&mut self, ctx: &Context) -> Result<(), GpuError> {
        if let Some(piece) = self.pending.take() {
            self.copying += piece.finish(ctx)?;
        }
        Ok(())
    }

    /// Time spent copying out of mapped memory so far.
    pub fn copying(&self) -> Duration {
        self.copying
    }
}

impl Pending<'_> {
    /// Waits for the piece and copies it out; returns the copy's time.
    fn finish(self, ctx: &Context) -> Result<Duration, GpuError> {
        let Pending { buffer, bytes, submission, mapped, dst } = self;
        let waited = ctx.wait(submission);
        let result = waited.and_then(|()| match mapped.try_recv() {
            // The callback has run by the end of a successful wait.
            Ok(Ok(())) => {
                let view = buffer.get_mapped_range(..bytes).map_err(|e| GpuError::Validation(e.to_string()))?;
                let start = Instant::now();
                crate::fresh::copy_bytes(dst, &view);
                Ok(start.elapsed())
            }
            Ok(Err(e)) => Err(GpuError::Validation(format!("readback mapping failed: {e}"))),
            Err(_) => Err(GpuError::Validation("readback mapping never completed".into())),
        });
        // Also cancels a mapping still pending after a failed wait.
        buffer.unmap();
        result
    }
}

/// The upload half of a stream: each input read by a program, a piece at
/// a time, through two staging buffers per input into one device buffer.
pub(super) struct Uploads<'c> {
    /// The columns the program reads, in its input-slot order.
    columns: Vec<Column<'c>>,
    /// The device buffer of each input slot, rewritten piece by piece
    /// (queue order keeps a write behind the dispatch that read before).
    inputs: Vec<wgpu::Buffer>,
    /// `staging[slot][k % 2]` carries piece k of that input.
    staging: Vec<[wgpu::Buffer; 2]>,
    /// The submission that last read each pair member.
    last_use: [Option<wgpu::SubmissionIndex>; 2],
    pieces: usize,
}

impl<'c> Uploads<'c> {
    /// Buffers for pieces of up to `chunk` elements of every column
    /// `program` reads. Counts one upload per column.
    pub fn open(ctx: &Context, scratch: &mut Scratch, program: &Program, columns: &[Column<'c>], chunk: usize) -> Self {
        let columns: Vec<Column<'c>> = program.columns.iter().map(|&c| columns[c]).collect();
        let mut inputs = Vec::with_capacity(columns.len());
        let mut staging = Vec::with_capacity(columns.len());
        for (slot, column) in columns.iter().enumerate() {
            let bytes = (chunk.min(column.len()) * column.dtype().size()) as u64;
            inputs.push(scratch.get(&ctx.device, Role::Input(slot), bytes));
            staging.push([0, 1].map(|parity| scratch.get(&ctx.device, Role::Staging(slot, parity), bytes)));
            ctx.counters.uploaded(column.bytes().len() as u64);
        }
        Uploads { columns, inputs, staging, last_use: [None, None], pieces: 0 }
    }

    /// Copies elements `range` of every input into its staging buffer
    /// and records, in `encoder`, the copies from there to the device.
    pub fn write(
        &mut self,
        ctx: &Context,
        encoder: &mut wgpu::CommandEncoder,
        range: Range<usize>,
    ) -> Result<(), GpuError> {
        let parity = self.pieces % 2;
        let mut mapped = Vec::with_capacity(self.columns.len());
        for (column, pair) in self.columns.iter().zip(&self.staging) {
            let bytes = (range.len() * column.dtype().size()) as u64;
            let (sender, receiver) = mpsc::channel();
            pair[parity].map_async(wgpu::MapMode::Write, ..bytes, move |result| {
                let _ = sender.send(result);
            });
            mapped.push(receiver);
        }
        // Two pieces on, the submission that read this staging is usually
        // done already (the reader waited for it): the map is immediate.
        match &self.last_use[parity] {
            Some(submission) => ctx.wait(submission.clone())?,
            None => {
                let _ = ctx.device.poll(wgpu::PollType::Poll);
            }
        }
        for (slot, receiver) in mapped.iter().enumerate() {
            let piece = self.columns[slot].slice(range.clone());
            let bytes = piece.bytes();
            let staging = &self.staging[slot][parity];
            match receiver.try_recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(GpuError::Validation(format!("staging mapping failed: {e}"))),
                Err(_) => return Err(GpuError::Validation("staging mapping never completed".into())),
            }
            let mut view =
                staging.get_mapped_range_mut(..bytes.len() as u64).map_err(|e| GpuError::Validation(e.to_string()))?;
            write_mapped(view.slice(..), bytes);
            drop(view);
            staging.unmap();
            encoder.copy_buffer_to_buffer(staging, 0, &self.inputs[slot], 0, bytes.len() as u64);
        }
        Ok(())
    }

    /// Records that `submission` read the piece written last.
    pub fn submitted(&mut self, submission: wgpu::SubmissionIndex) {
        self.last_use[self.pieces % 2] = Some(submission);
        self.pieces += 1;
    }

    /// The device buffers, bound to the first `n` elements of each input.
    pub fn bindings(&self, n: usize) -> Vec<wgpu::BufferBinding<'_>> {
        let sizes = self.columns.iter().map(|c| (n * c.dtype().size()) as u64);
        self.inputs.iter().zip(sizes).map(|(buffer, bytes)| super::binding(buffer, 0, bytes)).collect()
    }
}

/// Copies `src` into mapped memory (of the same length), in pieces on the
/// current rayon pool when large, as [`crate::fresh::copy_bytes`] does for
/// host memory: one core may write mapped memory slower than the link.
pub(super) fn write_mapped(view: wgpu::WriteOnly<'_, [u8]>, src: &[u8]) {
    use crate::fresh::{COPY_PIECE, PARALLEL_COPY_FROM};
    use rayon::prelude::*;
    if src.len() < PARALLEL_COPY_FROM {
        let mut view = view;
        view.copy_from_slice(src);
        return;
    }
    // Fixed-size pieces: a view of an array may go to another thread, a
    // view of a slice may not.
    let (pieces, mut tail) = view.into_chunks::<COPY_PIECE>();
    let pieces: Vec<wgpu::WriteOnly<'_, [u8; COPY_PIECE]>> = pieces.into_iter().collect();
    let sources = src.chunks_exact(COPY_PIECE);
    tail.copy_from_slice(sources.remainder());
    pieces.into_par_iter().zip(src.par_chunks_exact(COPY_PIECE)).for_each(|(to, from)| {
        let mut to: wgpu::WriteOnly<'_, [u8]> = to.into();
        to.copy_from_slice(from);
    });
}
