//! The WGSL lowering of a [`Structure`]: one `let` per step, from a fixed
//! table of snippets. Only type names, step numbers and slot numbers reach
//! the source; constants are read from the uniform (`params.c3`), so no
//! user text and no value is ever pasted into a shader.

use super::program::{Instr, Step, Structure, Ty};
use super::tree::{Binary, Unary};
use crate::dtype::DType;
use std::fmt::Write;

/// `fn apply(i: u32) -> U`: the value of the structure at element `i` of
/// the current chunk. Reads input slot `k` from `in{k}` and constant `k`
/// from `params.c{k}`; `params.offset` is the chunk's first element.
pub(crate) fn apply_fn(structure: &Structure) -> String {
    let output = structure.output().wgsl();
    let mut code = format!("fn apply(i: u32) -> {output} {{\n");
    for (index, instr) in structure.steps.iter().enumerate() {
        let value = step(structure, instr);
        let value = if rounds_f32(instr) { format!("keep_f32({value})") } else { value };
        let _ = writeln!(code, "    let v{index}: {} = {value};", ty(instr.ty));
    }
    let _ = writeln!(code, "    return v{};\n}}", structure.steps.len() - 1);
    code
}

/// True for an `f32` step whose result is rounded: the compiler must see
/// it through `keep_f32`, or it may reassociate it with the next step
/// (`(a + b) - a` to `b`) or fuse a product into a sum (an FMA), and the
/// GPU would no longer round as the CPU does.
fn rounds_f32(instr: &Instr) -> bool {
    let rounded = matches!(
        instr.step,
        Step::Binary(Binary::Add | Binary::Sub | Binary::Mul | Binary::Div, _, _) | Step::Unary(Unary::Square, _)
    );
    rounded && instr.ty == Ty::Num(DType::F32)
}

fn ty(ty: Ty) -> &'static str {
    match ty {
        Ty::Bool => "bool",
        Ty::Num(dtype) => dtype.wgsl(),
    }
}

/// The WGSL expression of one step over earlier steps `v{n}`.
fn step(structure: &Structure, instr: &Instr) -> String {
    let dtype = |index: usize| match structure.steps[index].ty {
        Ty::Num(dtype) => Some(dtype),
        Ty::Bool => None,
    };
    match instr.step {
        Step::Input(slot) => format!("in{slot}[i]"),
        Step::Index => "params.offset + i".into(),
        Step::Const(slot) => format!("params.c{slot}"),
        Step::Unary(op, a) => unary(op, a, dtype(a)),
        Step::Binary(op, a, b) => binary(op, a, b, dtype(a)),
        // WGSL's select takes the false value first.
        Step::Select(c, a, b) => format!("select(v{b}, v{a}, v{c})"),
        Step::Cast(a) => format!("{}(v{a})", ty(instr.ty)),
    }
}

fn unary(op: Unary, a: usize, dtype: Option<DType>) -> String {
    match (op, dtype) {
        (Unary::Neg, Some(DType::U32)) => format!("0u - v{a}"),
        (Unary::Neg, _) => format!("-v{a}"),
        (Unary::Not, _) => format!("!v{a}"),
        (Unary::Abs, Some(DType::U32)) => format!("v{a}"),
        (Unary::Square, _) => format!("v{a} * v{a}"),
        // WGSL's `round` rounds ties to even, as the CPU does.
        (Unary::Abs | Unary::Sqrt | Unary::Floor | Unary::Ceil | Unary::Round, _) => format!("{}(v{a})", op.name()),
        (op, _) if op.is_transcendental() => format!("{}(v{a})", op.name()),
        (op, _) => unreachable!("no WGSL for {op:?}"),
    }
}

fn binary(op: Binary, a: usize, b: usize, dtype: Option<DType>) -> String {
    let float = dtype.filter(|d| d.is_float());
    match (op, float) {
        // NaN-propagating min and max, written in the shared float helpers.
        (Binary::Min | Binary::Max, Some(f)) => format!("{}_nan_{f}(v{a}, v{b})", op.name()),
        (Binary::Min | Binary::Max | Binary::Pow, _) => format!("{}(v{a}, v{b})", op.name()),
        // naga emits an ordered not-equal, false when either side is NaN;
        // IEEE (and the CPU) say NaN != x is true.
        (Binary::Ne, Some(_)) => format!("!(v{a} == v{b})"),
        // Exact, as the CPU's; f64 has no GPU code (see `unsupported`).
        (Binary::Rem, Some(DType::F32)) => format!("fmod_f32(v{a}, v{b})"),
        _ => format!("v{a} {} v{b}", op.name()),
    }
}

/// True if the structure holds an `f64` anywhere: it then needs an adapter
/// with `SHADER_F64`.
pub(crate) fn uses_f64(structure: &Structure) -> bool {
    structure.inputs.contains(&DType::F64)
        || structure.consts.contains(&DType::F64)
        || structure.steps.iter().any(|s| s.ty == Ty::Num(DType::F64))
}

/// The first function with no GPU code on its type, if any: Vulkan's
/// GLSL.std.450 defines the transcendental functions for 16- and 32-bit
/// floats only, so their `f64` forms run on the CPU, as does the `f64`
/// remainder.
pub(crate) fn unsupported(structure: &Structure) -> Option<(&'static str, DType)> {
    structure.steps.iter().find_map(|instr| match (instr.step, instr.ty) {
        (Step::Unary(op, _), Ty::Num(DType::F64)) if op.is_transcendental() => Some((op.name(), DType::F64)),
        (Step::Binary(Binary::Pow, _, _), Ty::Num(DType::F64)) => Some(("pow", DType::F64)),
        // The exact remainder is written with the bits of an f32, and WGSL
        // has no 64-bit integers to do the same for an f64.
        (Step::Binary(Binary::Rem, _, _), Ty::Num(DType::F64)) => Some(("%", DType::F64)),
        _ => None,
    })
}

/// True if the structure takes the remainder of f32s: its code calls
/// `fmod_f32`.
pub(crate) fn uses_fmod_f32(structure: &Structure) -> bool {
    structure.steps.iter().any(|s| matches!(s.step, Step::Binary(Binary::Rem, _, _)) && s.ty == Ty::Num(DType::F32))
}

/// Float types whose NaN-aware helpers the code calls (for `min`/`max`).
pub(crate) fn float_min_max(structure: &Structure) -> Vec<DType> {
    let mut types = Vec::new();
    for instr in &structure.steps {
        if let (Step::Binary(Binary::Min | Binary::Max, _, _), Ty::Num(t)) = (instr.step, instr.ty) {
            if t.is_float() && !types.contains(&t) {
                types.push(t);
            }
        }
    }
    types
}
