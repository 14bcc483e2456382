//! The CPU lowering of a [`Program`]: evaluated a chunk at a time, one
//! step at a time, like numexpr, never as a tree walk per element.
//!
//! For `x * x + 1` over a chunk of [`CHUNK`] elements, the evaluator runs
//! one loop `r0[j] = x[j] * x[j]`, then one loop `out[j] = r0[j] + 1`.
//! Each loop is monomorphised for its operation, types and operand shapes
//! (slice or constant), so it vectorises as a hand-written loop does; the
//! choice of loop is made once per chunk. Inputs are read in place, the
//! last step writes the output, and the scratch registers in between are
//! allocated once per rayon task and stay in L1/L2 cache.
//!
//! The semantics are the GPU lowering's (wrapping integers, integer `/ 0`
//! giving the dividend, clamping float-to-integer casts): see [`num`].
//! Reductions evaluate one canonical tile at a time and fold it exactly
//! as [`crate::cpu`] does, so their bits match the CPU and GPU paths.

#[macro_use]
mod lane;
mod kernels;
mod layouts;
mod loops;
mod num;
mod pieces;
mod plan;
mod prefetch;
mod reg;
mod step;
#[cfg(test)]
mod tests;

use crate::canonical::{tiles, TILE};
use crate::column::Column;
use crate::cpu::{self, SERIAL_BELOW, TASK_ELEMENTS};
use crate::dtype::Element;
use crate::expr::program::Program;
use crate::op::Reduce;
pub(crate) use lane::Bank;
pub(crate) use pieces::for_each_piece;
pub(crate) use plan::Plan;
use rayon::prelude::*;
use std::ops::Range;

/// Elements per chunk of a map: registers of this many elements stay in
/// L1 cache while each step's loop is long enough to amortise its dispatch.
const CHUNK: usize = 2048;

/// Writes `program(columns)[i]` into `out[i]` for every `i`. The caller
/// checks that every column has `out.len()` elements and that the
/// program's output type is `U`.
#[cfg(test)]
pub(crate) fn map_into<U: Element>(program: &Program, columns: &[Column<'_>], out: &mut [U]) {
    map_at(program, columns, 0, out);
}

/// Writes `program(columns)[start + j]` into `out[j]`: a piece of a map,
/// with the columns whole so that elements keep their index `i`. The
/// caller checks that the columns hold `start + out.len()` elements at
/// least and that the program's output type is `U`.
pub(crate) fn map_at<U: Element>(program: &Program, columns: &[Column<'_>], start: usize, out: &mut [U]) {
    debug_assert_eq!(program.structure.output(), U::DTYPE);
    let plan = Plan::new(program, columns);
    let task = |start: usize, out: &mut [U]| {
        plan.with_bank(out.len().min(CHUNK), |bank| {
            for (k, out) in out.chunks_mut(CHUNK).enumerate() {
                plan.eval(columns, start + k * CHUNK, bank, out);
            }
        })
    };
    if out.len() < SERIAL_BELOW {
        task(start, out);
    } else {
        out.par_chunks_mut(TASK_ELEMENTS).enumerate().for_each(|(t, out)| task(start + t * TASK_ELEMENTS, out));
    }
}

/// Reduces `program(columns)` over `len` elements in the canonical order,
/// bit-identical to [`cpu::map_reduce`] over the mapped values; the
/// identity for `len == 0` (the caller rejects empty min and max).
#[cfg(test)]
pub(crate) fn map_reduce<U: Element>(program: &Program, columns: &[Column<'_>], len: usize, reduce: Reduce) -> U {
    cpu::finish(map_partials(program, columns, 0..len, reduce), reduce)
}

/// The first level of [`map_reduce`] over elements `range`: one partial
/// per tile, the tiles counted from `range.start` (so a piece of a larger
/// reduction starts on a tile boundary). Like [`cpu::map_partials`], the
/// partials of consecutive pieces concatenate to those of the whole. The
/// columns are whole, so elements keep their index `i`.
pub(crate) fn map_partials<U: Element>(
    program: &Program,
    columns: &[Column<'_>],
    range: Range<usize>,
    reduce: Reduce,
) -> Vec<U> {
    debug_assert_eq!(program.structure.output(), U::DTYPE);
    let plan = Plan::new(program, columns);
    let (base, len) = (range.start, range.len());
    // Each chunk is one tile, folded to its partial while it is in cache.
    let task = |first_tile: usize, partials: &mut [U]| {
        let start = first_tile * TILE;
        let end = len.min(start + partials.len() * TILE);
        let mut bank = plan.bank((end - start).min(TILE));
        let mut tile = vec![U::default(); (end - start).min(TILE)];
        for (k, partial) in partials.iter_mut().enumerate() {
            let from = start + k * TILE;
            let tile = &mut tile[..(end - from).min(TILE)];
            plan.eval(columns, base + from, &mut bank, tile);
            *partial = cpu::tile_partial(tile, reduce);
        }
    };
    let mut partials = vec![U::default(); tiles(len)];
    if len < SERIAL_BELOW {
        task(0, &mut partials);
    } else {
        const TILES_PER_TASK: usize = TASK_ELEMENTS / TILE;
        partials.par_chunks_mut(TILES_PER_TASK).enumerate().for_each(|(t, p)| task(t * TILES_PER_TASK, p));
    }
    partials
}
