//! Reductions in the canonical order of [`crate::canonical`].
//!
//! Each level folds whole tiles into one partial per tile; tiles are
//! independent, so rayon may run them on any thread without changing a bit
//! of the result.

use super::closures::{with_map, with_reduce, MapVisitor, ReduceVisitor};
use super::{SERIAL_BELOW, TASK_ELEMENTS};
use crate::canonical::{tiles, LANES, ROWS, TILE};
use crate::dtype::Element;
use crate::op::{Op, Reduce};
use rayon::prelude::*;

/// Reduces `map(input)` in canonical order; the identity for empty input.
/// The caller rejects empty min/max; the op must have passed [`Op::check`].
pub(crate) fn map_reduce<T: Element>(input: &[T], op: Option<Op>, reduce: Reduce) -> T {
    finish(map_partials(input, op, reduce), reduce)
}

/// The first level of [`map_reduce`]: one partial per tile of `input`
/// ([`tiles`]`(input.len())` of them, none for empty input). Partials of
/// consecutive tile-aligned pieces, concatenated, are the partials of the
/// whole, so pieces reduced apart (on other devices) [`finish`] to the
/// same bits. The op must have passed [`Op::check`].
pub(crate) fn map_partials<T: Element>(input: &[T], op: Option<Op>, reduce: Reduce) -> Vec<T> {
    with_map(op, ChooseReduce { input, reduce })
}

struct ChooseReduce<'a, T> {
    input: &'a [T],
    reduce: Reduce,
}

impl<T: Element> MapVisitor<T> for ChooseReduce<'_, T> {
    type Out = Vec<T>;

    fn visit<F: Fn(T) -> T + Copy + Send + Sync>(self, map: F) -> Vec<T> {
        with_reduce(self.reduce, FirstLevel { input: self.input, map })
    }
}

struct FirstLevel<'a, T, F> {
    input: &'a [T],
    map: F,
}

impl<T: Element, F: Fn(T) -> T + Copy + Send + Sync> ReduceVisitor<T> for FirstLevel<'_, T, F> {
    type Out = Vec<T>;

    fn visit<C: Fn(T, T) -> T + Copy + Send + Sync>(self, identity: T, combine: C) -> Vec<T> {
        level(self.input, identity, self.map, combine)
    }
}

/// The canonical partial of one tile (at most [`TILE`] elements): what the
/// first level of [`map_reduce`] computes for it, so an evaluator that
/// produces values a tile at a time can fold them while they are in cache.
pub(crate) fn tile_partial<T: Element>(tile: &[T], reduce: Reduce) -> T {
    with_reduce(reduce, TilePartial { tile })
}

struct TilePartial<'a, T> {
    tile: &'a [T],
}

impl<T: Element> ReduceVisitor<T> for TilePartial<'_, T> {
    type Out = T;

    fn visit<C: Fn(T, T) -> T + Copy + Send + Sync>(self, identity: T, combine: C) -> T {
        let mut partial = [identity];
        wide::fold_tiles(self.tile, &mut partial, identity, |x| x, combine);
        partial[0]
    }
}

/// The levels above the first, as [`map_reduce`] runs them: the result
/// from one partial per tile. A single partial is the result as it is;
/// none gives the identity.
pub(crate) fn finish<T: Element>(partials: Vec<T>, reduce: Reduce) -> T {
    with_reduce(reduce, Finish { partials })
}

struct Finish<T> {
    partials: Vec<T>,
}

impl<T: Element> ReduceVisitor<T> for Finish<T> {
    type Out = T;

    fn visit<C: Fn(T, T) -> T + Copy + Send + Sync>(self, identity: T, combine: C) -> T {
        let mut partials = self.partials;
        while partials.len() > 1 {
            partials = level(&partials, identity, |x| x, combine);
        }
        partials.first().copied().unwrap_or(identity)
    }
}

/// One level: the partial of every tile of `input`.
fn level<T, F, C>(input: &[T], identity: T, map: F, combine: C) -> Vec<T>
where
    T: Element,
    F: Fn(T) -> T + Copy + Send + Sync,
    C: Fn(T, T) -> T + Copy + Send + Sync,
{
    let mut partials = vec![identity; tiles(input.len())];
    let fold_tiles = |input: &[T], partials: &mut [T]| wide::fold_tiles(input, partials, identity, map, combine);
    if input.len() < SERIAL_BELOW {
        fold_tiles(input, &mut partials);
    } else {
        const TILES_PER_TASK: usize = TASK_ELEMENTS / TILE;
        input
            .par_chunks(TASK_ELEMENTS)
            .zip(partials.par_chunks_mut(TILES_PER_TASK))
            .for_each(|(input, partials)| fold_tiles(input, partials));
    }
    partials
}

/// Folds consecutive tiles of `input` into `partials`, one per tile.
#[inline(always)]
fn fold_tiles<T, F, C>(input: &[T], partials: &mut [T], identity: T, map: F, combine: C)
where
    T: Element,
    F: Fn(T) -> T + Copy,
    C: Fn(T, T) -> T + Copy,
{
    for (tile, partial) in input.chunks(TILE).zip(partials) {
        *partial = fold_tile(tile, identity, map, combine);
    }
}

/// The tile loops compiled for the widest vectors the CPU has, chosen at
/// run time. The arithmetic is the same IEEE operations in the same order
/// (Rust never contracts a multiply and an add), so the bits do not change.
mod wide {
    use crate::dtype::Element;

    #[inline]
    pub(super) fn fold_tiles<T, F, C>(input: &[T], partials: &mut [T], identity: T, map: F, combine: C)
    where
        T: Element,
        F: Fn(T) -> T + Copy,
        C: Fn(T, T) -> T + Copy,
    {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vl") {
            // SAFETY: the CPU has AVX-512 F and VL, checked just above.
            return unsafe { fold_tiles_avx512(input, partials, identity, map, combine) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { fold_tiles_avx2(input, partials, identity, map, combine) };
        }
        super::fold_tiles(input, partials, identity, map, combine)
    }

    /// With AVX-512's mask registers, the masked stores a `min` or `max`
    /// folded in place compiles to (only the lanes that change are
    /// stored) are plain stores under a mask. AVX2's `vmaskmovps` store
    /// is many times slower on AMD's Zen cores: there `max` over 2^26
    /// `f32` took twice as long as `sum`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512vl")]
    unsafe fn fold_tiles_avx512<T, F, C>(input: &[T], partials: &mut [T], identity: T, map: F, combine: C)
    where
        T: Element,
        F: Fn(T) -> T + Copy,
        C: Fn(T, T) -> T + Copy,
    {
        super::fold_tiles(input, partials, identity, map, combine)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn fold_tiles_avx2<T, F, C>(input: &[T], partials: &mut [T], identity: T, map: F, combine: C)
    where
        T: Element,
        F: Fn(T) -> T + Copy,
        C: Fn(T, T) -> T + Copy,
    {
        super::fold_tiles(input, partials, identity, map, combine)
    }
}

/// Folds one tile (at most [`TILE`] elements) as a GPU workgroup does.
/// Rows are read in memory order: a single stream per core keeps the
/// hardware prefetcher at full speed (folding several rows per visit of
/// the lanes is faster in cache but slower from memory).
#[inline(always)]
fn fold_tile<T, F, C>(tile: &[T], identity: T, map: F, combine: C) -> T
where
    T: Element,
    F: Fn(T) -> T + Copy,
    C: Fn(T, T) -> T + Copy,
{
    let mut lanes = [identity; LANES];
    if tile.len() == TILE {
        // Full tile: fixed-size rows, so the lane loop vectorises.
        for row in tile.chunks_exact(LANES) {
            for (lane, &x) in lanes.iter_mut().zip(row) {
                *lane = combine(*lane, map(x));
            }
        }
    } else {
        for row in tile.chunks(LANES) {
            for (lane, &x) in lanes.iter_mut().zip(row) {
                *lane = combine(*lane, map(x));
            }
        }
    }
    debug_assert!(tile.len() <= LANES * ROWS);
    let mut width = LANES / 2;
    while width > 0 {
        let (low, high) = lanes.split_at_mut(width);
        for (a, &b) in low.iter_mut().zip(&high[..width]) {
            *a = combine(*a, b);
        }
        width /= 2;
    }
    lanes[0]
}
