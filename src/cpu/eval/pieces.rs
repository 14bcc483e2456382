//! A program's values handed over a piece at a time, for the primitives
//! that consume values where they are made (argmin, histograms): each
//! piece is evaluated into a buffer that stays in cache and is consumed
//! at once, so no array of all the values ever exists.

use super::plan::Plan;
use crate::column::Column;
use crate::dtype::Element;
use crate::expr::program::Program;
use std::ops::Range;

/// Calls `each(first, values)` for consecutive pieces of at most `piece`
/// elements of `program(columns)` over elements `range` (indices of the
/// whole job; `first` is the index of `values[0]`). Runs on the calling
/// thread: callers split a job into ranges for rayon themselves. The
/// caller checks that the columns hold the range and that the program's
/// output type is `U`.
pub(crate) fn for_each_piece<U: Element>(
    program: &Program,
    columns: &[Column<'_>],
    range: Range<usize>,
    piece: usize,
    mut each: impl FnMut(usize, &[U]),
) {
    debug_assert_eq!(program.structure.output(), U::DTYPE);
    if range.is_empty() {
        return;
    }
    let plan = Plan::new(program, columns);
    let size = range.len().min(piece);
    let mut bank = plan.bank(size);
    let mut values = vec![U::default(); size];
    for first in range.clone().step_by(piece) {
        let values = &mut values[..(range.end - first).min(piece)];
        plan.eval(columns, first, &mut bank, values);
        each(first, values);
    }
}
