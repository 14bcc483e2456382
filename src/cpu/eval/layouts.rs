//! Layouts of recent programs, kept per thread: working out where each
//! step lives allocates a few small vectors, which costs more than
//! evaluating a program over ten elements. A program is recognised by
//! its structure (held, so its address names it while kept), constants
//! (by their bits: `-0` and `0` fold differently) and input columns.

use super::plan::Layout;
use crate::expr::program::{Program, Scalar, Structure};
use crate::recent::Recent;
use std::cell::RefCell;
use std::convert::Infallible;
use std::sync::Arc;

/// Layouts each thread keeps, the most recently used first.
const KEPT: usize = 16;

struct Entry {
    structure: Arc<Structure>,
    consts: Vec<Scalar>,
    columns: Vec<usize>,
    layout: Arc<Layout>,
}

impl Entry {
    fn lays_out(&self, program: &Program) -> bool {
        Arc::ptr_eq(&self.structure, &program.structure)
            && self.columns == program.columns
            && self.consts.len() == program.consts.len()
            && self.consts.iter().zip(&program.consts).all(|(a, b)| same_bits(*a, *b))
    }
}

fn same_bits(a: Scalar, b: Scalar) -> bool {
    match (a, b) {
        (Scalar::F32(a), Scalar::F32(b)) => a.to_bits() == b.to_bits(),
        (Scalar::F64(a), Scalar::F64(b)) => a.to_bits() == b.to_bits(),
        (Scalar::I32(a), Scalar::I32(b)) => a == b,
        (Scalar::U32(a), Scalar::U32(b)) => a == b,
        _ => false,
    }
}

thread_local! {
    static LAYOUTS: RefCell<Recent<Entry>> = const { RefCell::new(Recent::new(KEPT)) };
}

/// The layout of `program`: kept from an earlier job on this thread, or
/// made by `make` and kept.
pub(super) fn layout(program: &Program, make: impl FnOnce(&Program) -> Layout) -> Arc<Layout> {
    LAYOUTS.with_borrow_mut(|layouts| {
        let find = |kept: &[Entry]| kept.iter().position(|e| e.lays_out(program));
        let make = || {
            Ok::<_, Infallible>(Entry {
                structure: program.structure.clone(),
                consts: program.consts.clone(),
                columns: program.columns.clone(),
                layout: Arc::new(make(program)),
            })
        };
        match layouts.find_or_make(find, make) {
            Ok(entry) => entry.layout.clone(),
        }
    })
}
