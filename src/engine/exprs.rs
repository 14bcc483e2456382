//! Programs of expressions, compiled once per thread and kept: compiling
//! `x * x + 1` costs a few hundred nanoseconds, many times the work of a
//! job of ten elements, and a caller evaluating one expression again and
//! again (in a loop, over fresh data) should pay for it once.
//!
//! A program is found by its expression's structure, the names and types
//! of the inputs and the output type. The same `Expr` value is found by
//! its address without a walk; a kept entry holds its expression, so no
//! other tree can take that address while it is kept. An equal tree built
//! anew is found by comparing structure.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::expr::program::Program;
use crate::expr::Expr;
use crate::inputs::Inputs;
use crate::recent::Recent;
use std::cell::RefCell;
use std::rc::Rc;

/// Programs each thread keeps, the most recently used first: a bound, so
/// that a caller generating endless distinct expressions holds at most
/// this many.
const KEPT: usize = 16;

struct Entry {
    expr: Expr,
    inputs: Vec<(String, DType)>,
    output: DType,
    program: Rc<Program>,
}

impl Entry {
    fn reads(&self, inputs: &Inputs<'_>, output: DType) -> bool {
        self.output == output
            && self.inputs.len() == inputs.count()
            && self
                .inputs
                .iter()
                .zip(inputs.names.iter().zip(&inputs.columns))
                .all(|((name, dtype), (n, column))| name == n && *dtype == column.dtype())
    }
}

thread_local! {
    static PROGRAMS: RefCell<Recent<Entry>> = const { RefCell::new(Recent::new(KEPT)) };
}

/// The program of `expr` over `inputs` giving `output`, compiled on this
/// thread's first use (errors are not kept).
pub(super) fn compiled(expr: &Expr, inputs: &Inputs<'_>, output: DType) -> Result<Rc<Program>> {
    PROGRAMS.with_borrow_mut(|programs| {
        let find = |kept: &[Entry]| {
            let same = |e: &Entry| e.expr.same_node(expr) && e.reads(inputs, output);
            let equal = |e: &Entry| e.reads(inputs, output) && e.expr == *expr;
            kept.iter().position(same).or_else(|| kept.iter().position(equal))
        };
        let make = || {
            let program = Program::compile(expr, &inputs.types(), output)?;
            let inputs = inputs.types().into_iter().map(|(name, dtype)| (name.to_string(), dtype)).collect();
            Ok::<_, Error>(Entry { expr: expr.clone(), inputs, output, program: Rc::new(program) })
        };
        Ok(programs.find_or_make(find, make)?.program.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::var;

    #[test]
    fn a_program_is_found_by_structure_and_inputs() {
        let xs = [1.0f32, 2.0];
        let inputs = Inputs::new().with("x", &xs);
        let a = compiled(&(var("x") * 2.0), &inputs, DType::F32).unwrap();
        let b = compiled(&(var("x") * 2.0), &inputs, DType::F32).unwrap();
        assert!(Rc::ptr_eq(&a, &b), "an equal tree built anew finds the kept program");
        let c = compiled(&(var("x") * 3.0), &inputs, DType::F32).unwrap();
        assert!(!Rc::ptr_eq(&a, &c));
        let renamed = Inputs::new().with("y", &xs).with("x", &xs);
        let d = compiled(&(var("x") * 2.0), &renamed, DType::F32).unwrap();
        assert!(!Rc::ptr_eq(&a, &d), "the inputs are part of the key");
        assert_eq!(d.columns, [1]);
    }

    #[test]
    fn at_most_kept_programs_are_kept() {
        let xs = [1.0f32];
        let inputs = Inputs::new().with("x", &xs);
        for k in 0..3 * KEPT {
            compiled(&(var("x") + k as f64), &inputs, DType::F32).unwrap();
        }
        assert_eq!(PROGRAMS.with_borrow(Recent::len), KEPT);
    }
}
