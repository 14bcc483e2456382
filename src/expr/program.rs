//! [`Program`]: an expression type-checked against its inputs and flattened
//! into steps, the form both the WGSL and the CPU lowering start from.

use super::tree::{Binary, Expr, Node, Unary};
use crate::dtype::DType;
use crate::error::{Error, Result};
use std::sync::Arc;

/// The type of a step's value: a number or a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ty {
    Bool,
    Num(DType),
}

/// One step; operands are indices of earlier steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Step {
    /// Input slot `k` at the current element.
    Input(usize),
    /// The element's index.
    Index,
    /// Constant slot `k`.
    Const(usize),
    Unary(Unary, usize),
    Binary(Binary, usize, usize),
    /// `select(cond, then, otherwise)`.
    Select(usize, usize, usize),
    /// Conversion of the operand to this step's type.
    Cast(usize),
}

/// A step and the type of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Instr {
    pub step: Step,
    pub ty: Ty,
}

/// What a compiled kernel depends on: the steps and the types of inputs
/// and constants, but not the constants' values. Two expressions that
/// differ only in constants share a structure, and so a GPU pipeline.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Structure {
    /// Steps in evaluation order; the last is the result.
    pub steps: Vec<Instr>,
    /// Element type of each input slot.
    pub inputs: Vec<DType>,
    /// Type of each constant slot.
    pub consts: Vec<DType>,
}

impl Structure {
    /// The type of the result.
    pub fn output(&self) -> DType {
        match self.steps.last().map(|n| n.ty) {
            Some(Ty::Num(dtype)) => dtype,
            _ => unreachable!("Program::compile checks that the result is a number"),
        }
    }

    /// The identity map over one input of `dtype`, as a structure.
    pub fn identity(dtype: DType) -> Structure {
        Structure {
            steps: vec![Instr { step: Step::Input(0), ty: Ty::Num(dtype) }],
            inputs: vec![dtype],
            consts: vec![],
        }
    }
}

/// A constant, converted to the type it is used at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scalar {
    F32(f32),
    F64(f64),
    I32(i32),
    U32(u32),
}

impl Scalar {
    /// The value's bytes as WGSL stores it (little-endian).
    pub fn to_le_bytes(self) -> Vec<u8> {
        match self {
            Scalar::F32(x) => x.to_le_bytes().to_vec(),
            Scalar::F64(x) => x.to_le_bytes().to_vec(),
            Scalar::I32(x) => x.to_le_bytes().to_vec(),
            Scalar::U32(x) => x.to_le_bytes().to_vec(),
        }
    }

    /// `x` as a scalar of its own type.
    pub fn of<T: crate::Element>(x: T) -> Scalar {
        // `T::DTYPE` names `T` exactly (the trait is sealed), so each cast
        // is between a type and itself.
        let bytes = bytemuck::bytes_of(&x);
        match T::DTYPE {
            DType::F32 => Scalar::F32(bytemuck::pod_read_unaligned(bytes)),
            DType::F64 => Scalar::F64(bytemuck::pod_read_unaligned(bytes)),
            DType::I32 => Scalar::I32(bytemuck::pod_read_unaligned(bytes)),
            DType::U32 => Scalar::U32(bytemuck::pod_read_unaligned(bytes)),
        }
    }

    fn new(value: f64, dtype: DType) -> Scalar {
        match dtype {
            DType::F32 => Scalar::F32(value as f32),
            DType::F64 => Scalar::F64(value),
            DType::I32 => Scalar::I32(value as i32),
            DType::U32 => Scalar::U32(value as u32),
        }
    }
}

/// A type-checked expression, ready to lower to either path.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    pub structure: Arc<Structure>,
    /// Value of each constant slot.
    pub consts: Vec<Scalar>,
    /// For each input slot, the index of its column in the job's inputs.
    pub columns: Vec<usize>,
}

impl Program {
    /// Type-checks `expr` over inputs named and typed by `inputs`, for a
    /// result of type `output`, and flattens it.
    pub fn compile(expr: &Expr, inputs: &[(&str, DType)], output: DType) -> Result<Program> {
        let mut builder = Builder { inputs, steps: vec![], consts: vec![], const_types: vec![], columns: vec![] };
        let root = builder.lower(expr, Some(output))?;
        match builder.steps[root].ty {
            Ty::Num(dtype) if dtype == output => {}
            Ty::Num(dtype) => {
                return Err(Error::Expr(format!(
                    "`{expr}` gives {dtype} but the output is {output}; convert it with {output}(...)"
                )))
            }
            Ty::Bool => {
                return Err(Error::Expr(format!("`{expr}` is a condition, not a number; write select({expr}, 1, 0)")))
            }
        }
        let inputs = builder.slot_types();
        let structure = Structure { steps: builder.steps, inputs, consts: builder.const_types };
        Ok(Program { structure: Arc::new(structure), consts: builder.consts, columns: builder.columns })
    }

    /// `op` (the identity for `None`) over one input of `dtype`, giving `dtype`.
    /// The op must have passed [`crate::Op::check`] for `dtype`.
    pub fn of_op(op: Option<crate::Op>, dtype: DType) -> Result<Program> {
        match op {
            Some(op) => Program::compile(&op.to_expr(super::var("x")), &[("x", dtype)], dtype),
            None => Ok(Program::identity(dtype)),
        }
    }

    /// The identity over one input of `dtype` (the input's first column).
    pub fn identity(dtype: DType) -> Program {
        Program { structure: Arc::new(Structure::identity(dtype)), consts: vec![], columns: vec![0] }
    }
}

struct Builder<'a> {
    inputs: &'a [(&'a str, DType)],
    steps: Vec<Instr>,
    consts: Vec<Scalar>,
    const_types: Vec<DType>,
    /// Column of each input slot, in order of first use.
    columns: Vec<usize>,
}

impl Builder<'_> {
    fn slot_types(&self) -> Vec<DType> {
        self.columns.iter().map(|&c| self.inputs[c].1).collect()
    }

    fn push(&mut self, step: Step, ty: Ty) -> usize {
        self.steps.push(Instr { step, ty });
        self.steps.len() - 1
    }

    fn column(&self, name: &str) -> Result<usize> {
        self.inputs.iter().position(|(n, _)| *n == name).ok_or_else(|| {
            let known: Vec<&str> = self.inputs.iter().map(|(n, _)| *n).collect();
            let known = if known.is_empty() { "there are none".to_string() } else { known.join(", ") };
            Error::Expr(format!("unknown input `{name}`; the inputs are: {known}"))
        })
    }

    /// The type `e` has on its own, without context; `None` for an
    /// expression of literals only, which takes its type from its context.
    fn natural(&self, e: &Expr) -> Result<Option<Ty>> {
        Ok(match e.node() {
            Node::Input(name) => Some(Ty::Num(self.inputs[self.column(name)?].1)),
            Node::Index => Some(Ty::Num(DType::U32)),
            Node::Literal(_) => None,
            Node::Unary(Unary::Not, _) => Some(Ty::Bool),
            Node::Unary(_, a) => self.natural(a)?,
            Node::Binary(op, _, _) if op.is_comparison() || op.is_logical() => Some(Ty::Bool),
            Node::Binary(_, a, b) | Node::Select(_, a, b) => self.natural(a)?.or(self.natural(b)?),
            Node::Cast(dtype, _) => Some(Ty::Num(*dtype)),
        })
    }

    /// The type the operands of `a op b` share, `hint` if neither has one.
    fn common(&self, whole: &Expr, a: &Expr, b: &Expr, hint: Option<DType>) -> Result<Ty> {
        match (self.natural(a)?, self.natural(b)?) {
            (Some(s), Some(t)) if s != t => Err(Error::Expr(format!(
                "the operands of `{whole}` differ in type ({} and {}); convert one, e.g. f32(...)",
                name(s),
                name(t)
            ))),
            (Some(t), _) | (None, Some(t)) => Ok(t),
            (None, None) => Ok(Ty::Num(hint.unwrap_or(DType::F32))),
        }
    }

    /// Appends the steps of `e`; `hint` types the literals of an
    /// expression that has no type of its own. Returns the result's step.
    fn lower(&mut self, e: &Expr, hint: Option<DType>) -> Result<usize> {
        match e.node() {
            Node::Input(name) => {
                let column = self.column(name)?;
                let slot = match self.columns.iter().position(|&c| c == column) {
                    Some(slot) => slot,
                    None => {
                        self.columns.push(column);
                        self.columns.len() - 1
                    }
                };
                Ok(self.push(Step::Input(slot), Ty::Num(self.inputs[column].1)))
            }
            Node::Index => Ok(self.push(Step::Index, Ty::Num(DType::U32))),
            Node::Literal(value) => self.literal(*value, hint.unwrap_or(DType::F32)),
            Node::Unary(op, a) => self.unary(e, *op, a, hint),
            Node::Binary(op, a, b) => self.binary(e, *op, a, b, hint),
            Node::Select(c, a, b) => {
                let c = self.condition(c)?;
                let ty = self.common(e, a, b, hint)?;
                let a = self.lower(a, number(ty))?;
                let b = self.lower(b, number(ty))?;
                Ok(self.push(Step::Select(c, a, b), ty))
            }
            Node::Cast(dtype, a) => {
                let a = self.lower(a, Some(*dtype))?;
                Ok(self.push(Step::Cast(a), Ty::Num(*dtype)))
            }
        }
    }

    fn literal(&mut self, value: f64, dtype: DType) -> Result<usize> {
        if !dtype.holds_exactly(value) {
            return Err(Error::Expr(format!("the number {value} is used as {dtype}, which cannot hold it")));
        }
        self.consts.push(Scalar::new(value, dtype));
        self.const_types.push(dtype);
        Ok(self.push(Step::Const(self.consts.len() - 1), Ty::Num(dtype)))
    }

    fn unary(&mut self, e: &Expr, op: Unary, a: &Expr, hint: Option<DType>) -> Result<usize> {
        if op == Unary::Not {
            let a = self.condition(a)?;
            return Ok(self.push(Step::Unary(op, a), Ty::Bool));
        }
        let index = self.lower(a, hint)?;
        let dtype = self.numeric(e, index)?;
        if op.is_float_only() && !dtype.is_float() {
            return Err(Error::Expr(format!("{} is defined for floats only, not {dtype}: `{e}`", op.name())));
        }
        Ok(self.push(Step::Unary(op, index), Ty::Num(dtype)))
    }

    fn binary(&mut self, e: &Expr, op: Binary, a: &Expr, b: &Expr, hint: Option<DType>) -> Result<usize> {
        if op.is_logical() {
            let (a, b) = (self.condition(a)?, self.condition(b)?);
            return Ok(self.push(Step::Binary(op, a, b), Ty::Bool));
        }
        // A comparison's operands take no type from its (boolean) context.
        let hint = if op.is_comparison() { None } else { hint };
        let ty = self.common(e, a, b, hint)?;
        let (a, b) = (self.lower(a, number(ty))?, self.lower(b, number(ty))?);
        let dtype = self.numeric(e, a)?;
        if op == Binary::Pow && !dtype.is_float() {
            return Err(Error::Expr(format!("pow is defined for floats only, not {dtype}: `{e}`")));
        }
        let ty = if op.is_comparison() { Ty::Bool } else { Ty::Num(dtype) };
        Ok(self.push(Step::Binary(op, a, b), ty))
    }

    /// Lowers `e`, which must be a condition.
    fn condition(&mut self, e: &Expr) -> Result<usize> {
        let index = self.lower(e, None)?;
        match self.steps[index].ty {
            Ty::Bool => Ok(index),
            Ty::Num(dtype) => {
                Err(Error::Expr(format!("`{e}` is a {dtype}, not a condition; compare it, e.g. {e} > 0")))
            }
        }
    }

    /// The number type of step `index`, an error if it is a condition.
    fn numeric(&self, whole: &Expr, index: usize) -> Result<DType> {
        match self.steps[index].ty {
            Ty::Num(dtype) => Ok(dtype),
            Ty::Bool => {
                Err(Error::Expr(format!("`{whole}` does arithmetic on a condition; use select(cond, 1, 0) or a cast")))
            }
        }
    }
}

fn number(ty: Ty) -> Option<DType> {
    match ty {
        Ty::Num(dtype) => Some(dtype),
        Ty::Bool => None,
    }
}

fn name(ty: Ty) -> &'static str {
    match ty {
        Ty::Num(dtype) => dtype.name(),
        Ty::Bool => "condition",
    }
}
