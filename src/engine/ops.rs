//! Programs of [`Op`]s, compiled once and kept: lowering an op to a
//! program costs about a microsecond, more than the work of a job of a
//! few thousand elements, and the op entry points (`map`, `reduce`,
//! `map_reduce`) are called again and again with the same few ops.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::expr::program::Program;
use crate::op::Op;
use crate::recent::Recent;
use crate::schedule::ProgramShape;
use std::cell::RefCell;
use std::rc::Rc;

/// Programs each thread keeps, the most recently used first. A short
/// list scanned without hashing costs a few nanoseconds; a caller
/// sweeping an op's scalar through many values only ever recompiles.
const KEPT: usize = 16;

/// An op, its scalars by their bits, and the element type.
type Key = (Option<&'static str>, [u64; 2], DType);

/// A compiled op and its shape for the scheduler.
pub(super) struct Compiled {
    pub program: Program,
    pub shape: ProgramShape,
}

thread_local! {
    static PROGRAMS: RefCell<Recent<(Key, Rc<Compiled>)>> = const { RefCell::new(Recent::new(KEPT)) };
}

/// The program of `op` (the identity for `None`) over one input of
/// `dtype`, compiled on this thread's first use. The op must have passed
/// [`Op::check`].
pub(super) fn compiled(op: Option<Op>, dtype: DType) -> Result<Rc<Compiled>> {
    let key: Key = (op.map(|op| op.name()), op.map_or([0.0; 2], |op| op.scalars()).map(f64::to_bits), dtype);
    PROGRAMS.with_borrow_mut(|programs| {
        let find = |kept: &[(Key, Rc<Compiled>)]| kept.iter().position(|(kept, _)| *kept == key);
        let make = || {
            let program = Program::of_op(op, dtype)?;
            Ok::<_, Error>((key, Rc::new(Compiled { shape: ProgramShape::of(&program), program })))
        };
        Ok(programs.find_or_make(find, make)?.1.clone())
    })
}
