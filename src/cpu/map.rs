//! Element-wise maps into a preallocated output.

use super::closures::{with_map, MapVisitor};
use super::{SERIAL_BELOW, TASK_ELEMENTS};
use crate::dtype::Element;
use crate::op::Op;
use rayon::prelude::*;

/// Writes `op(input[i])` into `out[i]`. Lengths must match and the op must
/// have passed [`Op::check`].
pub(crate) fn map_into<T: Element>(input: &[T], out: &mut [T], op: Op) {
    debug_assert_eq!(input.len(), out.len());
    with_map(Some(op), MapInto { input, out });
}

struct MapInto<'a, T> {
    input: &'a [T],
    out: &'a mut [T],
}

impl<T: Element> MapVisitor<T> for MapInto<'_, T> {
    type Out = ();

    fn visit<F: Fn(T) -> T + Copy + Send + Sync>(self, f: F) {
        let serial = |input: &[T], out: &mut [T]| {
            for (y, &x) in out.iter_mut().zip(input) {
                *y = f(x);
            }
        };
        if self.input.len() < SERIAL_BELOW {
            serial(self.input, self.out);
        } else {
            self.input
                .par_chunks(TASK_ELEMENTS)
                .zip(self.out.par_chunks_mut(TASK_ELEMENTS))
                .for_each(|(input, out)| serial(input, out));
        }
    }
}
