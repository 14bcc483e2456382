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
    let position = if value.is_nan() { first_where(tile, |x| x.is_nan()) } else { first_where(tile, |x| x == value) };
    // The fold's value is one of the tile's elements, so it is found;
    // the fallback only keeps a broken invariant from panicking.
    let k = position.unwrap_or(0);
    extreme.pick(best, Some(Located { index: first + k, value: tile[k] }))
}

/// The index of the first element of `tile` where `hit` holds. Each
/// group of [`GROUP`] is tested whole, with no early exit, which the
/// compiler vectorises; only the group that holds it is searched one by
/// one. A plain `position` runs one element a cycle: with every task's
/// first tile searched, a fifth of an argmax over 2^26 `f32`.
#[inline]
fn first_where<U: Element>(tile: &[U], hit: impl Fn(U) -> bool) -> Option<usize> {
    const GROUP: usize = 64;
    for (g, group) in tile.chunks(GROUP).enumerate() {
        if group.iter().fold(false, |any, &x| any | hit(x)) {
            return group.iter().position(|&x| hit(x)).map(|k| g * GROUP + k);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::first_where;

    #[test]
    fn the_first_hit_is_found_in_any_group() {
        for len in [1, 63, 64, 65, 200, 4096] {
            for at in [0, len / 2, len - 1] {
                let mut values = vec![0.5f32; len];
                values[at] = 1.0;
                values[len - 1] = 1.0;
                assert_eq!(first_where(&values, |x| x == 1.0), Some(at), "{len} values, first hit at {at}");
            }
        }
        assert_eq!(first_where(&[0.5f32; 100], |x| x == 1.0), None);
        assert_eq!(first_where::<f32>(&[], |x| x == 1.0), None);
    }
}
