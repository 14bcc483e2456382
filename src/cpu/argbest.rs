//! argmin and argmax on the CPU: the first extreme element, by the rule
//! of [`crate::extreme`].
//!
//! Each tile is searched in two passes while it is in L1 cache: the
//! reduction's vectorised fold finds the extreme value (NaN propagating),
//! then a scan finds its first position (the first NaN if the value is
//! NaN; `-0.0 == +0.0`, so the first zero of either sign). Tiles run in
//! rayon tasks; their winners are compared by the same total order, so
//! the answer does not depend on the number of threads.

use super::eval::for_each_piece;
use super::{tile_partial, SERIAL_BELOW, TASK_ELEMENTS};
use crate::canonical::TILE;
use crate::column::Column;
use crate::dtype::Element;
use crate::expr::program::Program;
use crate::extreme::{Extreme, Located};
use rayon::prelude::*;
use std::ops::Range;

/// The first extreme element of `input`, its index counted from `base`;
/// `None` for empty input.
pub(crate) fn locate_in<U: Element>(input: &[U], base: usize, extreme: Extreme) -> Option<Located<U>> {
    let task = |first: usize, part: &[U]| -> Option<Located<U>> {
        let tiles = part.chunks(TILE).enumerate();
        tiles.fold(None, |best, (k, tile)| tile_best(tile, first + k * TILE, best, extreme))
    };
    if input.len() < SERIAL_BELOW {
        return task(base, input);
    }
    let parts = input.par_chunks(TASK_ELEMENTS).enumerate();
    parts.map(|(t, part)| task(base + t * TASK_ELEMENTS, part)).reduce(|| None, |a, b| extreme.pick(a, b))
}

/// The first extreme element of `program(columns)` over elements `range`
/// (whole-job indices), evaluated a tile at a time; `None` for an empty range.
pub(crate) fn locate<U: Element>(
    program: &Program,
    columns: &[Column<'_>],
    range: Range<usize>,
    extreme: Extreme,
) -> Option<Located<U>> {
    let task = |part: Range<usize>| {
        let mut best = None;
        for_each_piece(program, columns, part, TILE, |first, tile: &[U]| {
            best = tile_best(tile, first, best, extreme);
        });
        best
    };
    if range.len() < SERIAL_BELOW {
        return task(range);
    }
    let parts = range.len().div_ceil(TASK_ELEMENTS);
    let part = |t: usize| range.start + t * TASK_ELEMENTS..(range.start + (t + 1) * TASK_ELEMENTS).min(range.end);
    (0..parts).into_par_iter().map(|t| task(part(t))).reduce(|| None, |a, b| extreme.pick(a, b))
}

/// The better of `best`, found before, and the first extreme element of
/// a non-empty tile whose first element has index `first`. A tile whose
/// extreme only ties `best` cannot win (it comes later), so its position
/// is looked for only when it is strictly better: in most tiles of a long
/// input it is not, and the search costs one vectorised fold.
#[inline]
fn tile_best<U: Element>(tile: &[U], first: usize, best: Option<Located<U>>, extreme: Extreme) -> Option<Located<U>> {
    let value = tile_partial(tile, extreme.reduce());
    if best.is_some_and(|best| !extreme.improves(value, best.value)) {
        return best;
    }
    let position =
        if value.is_nan() { tile.iter().position(|x| x.is_nan()) } else { tile.iter().position(|&x| x == value) };
    // The fold's value is one of the tile's elements, so it is found;
    // the fallback only keeps a broken invariant from panicking.
    let k = position.unwrap_or(0);
    extreme.pick(best, Some(Located { index: first + k, value: tile[k] }))
}
