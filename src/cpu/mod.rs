//! The CPU backend: rayon loops for maps and canonical-order reductions.
//!
//! Two ways to run a program: [`eval`], the chunked evaluator of any
//! program, and the loops monomorphised for one [`crate::Op`] over one
//! input ([`map_into`], [`map_reduce`]), which the executor picks when a
//! program is exactly one op. Both split work the same way: below
//! [`SERIAL_BELOW`] elements they run a plain loop on the calling thread,
//! so a small job pays nothing for parallelism. The transcendental
//! functions are [`math`]'s own, vectorised.

pub(crate) mod argbest;
mod closures;
mod compress;
pub(crate) mod eval;
pub(crate) mod filter;
pub(crate) mod histogram;
mod map;
pub(crate) mod math;
pub(crate) mod prefetch;
mod reduce;
pub(crate) mod scan;

pub(crate) use closures::has_loop;
pub(crate) use map::map_into;
pub(crate) use reduce::{finish, map_partials, map_reduce, tile_partial};

/// Inputs shorter than this run serially on the calling thread.
pub const SERIAL_BELOW: usize = 1 << 15;

/// Elements per rayon task: large enough to amortise a task (a few us of
/// work), small enough to balance over cores. A multiple of the tile size,
/// so reduction tasks hold whole tiles.
pub(crate) const TASK_ELEMENTS: usize = 1 << 16;
