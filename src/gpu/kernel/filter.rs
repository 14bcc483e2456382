//! The structure and the functions of a filter's write kernel, which
//! needs two expressions at every element: the predicate, to place it,
//! and the value, to write it.
//!
//! Both become one [`Structure`], so that one pipeline key, one uniform
//! and one set of input bindings serve them: the predicate's steps
//! first, then the values' (their operands moved past the predicate's).
//! Inputs and constants are the values' slots followed by those only the
//! predicate has; a column both read is bound once. The kernel's source
//! splits the structure again into `fn kept(i: u32) -> u32` and the
//! usual `fn apply(i: u32) -> U`.

use crate::expr::program::{Instr, Program, Step, Structure};
use crate::expr::wgsl;
use std::sync::Arc;

/// A filter's values and predicate as one program (see the module's
/// header), and where the predicate's own slots went.
pub(crate) struct Merged {
    pub program: Program,
    /// Steps of the predicate, at the front of the structure.
    pub predicate_steps: usize,
    /// For each input slot of the predicate, its slot in the merged program.
    pub predicate_slots: Vec<usize>,
}

/// The values (any program) and the predicate (a `u32` program over the
/// same columns) as one program whose result is the values'.
pub(crate) fn merge(values: &Program, predicate: &Program) -> Merged {
    let mut columns = values.columns.clone();
    let mut inputs = values.structure.inputs.clone();
    let predicate_slots: Vec<usize> = predicate
        .columns
        .iter()
        .zip(&predicate.structure.inputs)
        .map(|(&column, &dtype)| match columns.iter().position(|&c| c == column) {
            Some(slot) => slot,
            None => {
                columns.push(column);
                inputs.push(dtype);
                columns.len() - 1
            }
        })
        .collect();
    let (predicate_steps, values_consts) = (predicate.structure.steps.len(), values.consts.len());
    let moved_predicate = predicate.structure.steps.iter().map(|instr| Instr {
        step: remap(instr.step, |a| a, |slot| predicate_slots[slot], |k| k + values_consts),
        ty: instr.ty,
    });
    let moved_values = values
        .structure
        .steps
        .iter()
        .map(|instr| Instr { step: remap(instr.step, |a| a + predicate_steps, |slot| slot, |k| k), ty: instr.ty });
    let structure = Structure {
        steps: moved_predicate.chain(moved_values).collect(),
        inputs,
        consts: values.structure.consts.iter().chain(&predicate.structure.consts).copied().collect(),
    };
    let consts = values.consts.iter().chain(&predicate.consts).copied().collect();
    let program = Program { structure: Arc::new(structure), consts, columns };
    Merged { program, predicate_steps, predicate_slots }
}

/// The write kernel's declarations after the header: the tile offsets'
/// binding (after the inputs), `fn kept` and `fn apply`.
pub(super) fn functions(structure: &Structure, predicate_steps: usize) -> String {
    let part = |steps: Vec<Instr>| Structure { steps, inputs: Vec::new(), consts: Vec::new() };
    let predicate = part(structure.steps[..predicate_steps].to_vec());
    let values = structure.steps[predicate_steps..]
        .iter()
        .map(|instr| Instr { step: remap(instr.step, |a| a - predicate_steps, |slot| slot, |k| k), ty: instr.ty });
    let offsets = 2 + structure.inputs.len();
    format!(
        "@group(0) @binding({offsets}) var<storage, read> tile_offsets: array<u32>;\n\n{}\n{}",
        wgsl::apply_fn(&predicate).replacen("fn apply(", "fn kept(", 1),
        wgsl::apply_fn(&part(values.collect())),
    )
}

/// `step` with its operands, input slots and constant slots renumbered.
fn remap(
    step: Step,
    operand: impl Fn(usize) -> usize,
    input: impl Fn(usize) -> usize,
    constant: impl Fn(usize) -> usize,
) -> Step {
    match step {
        Step::Input(slot) => Step::Input(input(slot)),
        Step::Index => Step::Index,
        Step::Const(slot) => Step::Const(constant(slot)),
        Step::Unary(op, a) => Step::Unary(op, operand(a)),
        Step::Binary(op, a, b) => Step::Binary(op, operand(a), operand(b)),
        Step::Select(c, a, b) => Step::Select(operand(c), operand(a), operand(b)),
        Step::Cast(a) => Step::Cast(operand(a)),
    }
}
