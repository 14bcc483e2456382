//! [`Program`]: an expression type-checked against its inputs and flattened
//! into steps, the form both the WGSL and the CPU lowering start from.

use super::tree::{Binary, Expr, Node, Unary};
use crate::dtype::DType;
use crate::error::{excerpt, ExprError, Result};
use crate::op::Op;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
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

    /// The value as an `f64`, which holds every value of every type exactly.
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::F32(x) => x.into(),
            Scalar::F64(x) => x,
            Scalar::I32(x) => x.into(),
            Scalar::U32(x) => x.into(),
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
        let mut builder = Builder {
            inputs,
            steps: vec![],
            consts: vec![],
            const_types: vec![],
            columns: vec![],
            lowered: NodeMap::default(),
            naturals: RefCell::default(),
            root: expr,
            level: Cell::new(0),
        };
        let root = builder.lower(expr, Some(output))?;
        match builder.steps[root].ty {
            Ty::Num(dtype) if dtype == output => {}
            Ty::Num(found) => return Err(ExprError::OutputType { expr: excerpt(expr), found, expected: output }.into()),
            Ty::Bool => return Err(ExprError::ConditionResult { expr: excerpt(expr) }.into()),
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

    /// Checks that the program can run over `len` elements: the element
    /// index `i` is a `u32`, so a program that reads it covers at most
    /// 2^32 elements; past that `i` would wrap and give wrong answers.
    pub fn check_len(&self, len: usize) -> Result<()> {
        let reads_index = self.structure.steps.iter().any(|instr| instr.step == Step::Index);
        if reads_index && len as u64 > u64::from(u32::MAX) + 1 {
            return Err(ExprError::IndexRange { len }.into());
        }
        Ok(())
    }

    /// The identity over one input of `dtype` (the input's first column).
    pub fn identity(dtype: DType) -> Program {
        Program { structure: Arc::new(Structure::identity(dtype)), consts: vec![], columns: vec![0] }
    }

    /// The op this program applies to its one input (`Some(None)` for the
    /// identity), if it is exactly the lowering of an [`Op`] over an input
    /// of the output's type: the form [`Op::to_expr`] gives, whether the
    /// job was built from the op or from the same expression.
    pub fn as_op(&self) -> Option<Option<Op>> {
        let structure = &*self.structure;
        if structure.inputs != [structure.output()] {
            return None;
        }
        let scalar = |k: usize| self.consts[k].to_f64();
        // The longest op (clamp) has five steps; copied out, they match as a slice.
        let mut steps = [Step::Index; 5];
        let n = structure.steps.len();
        if n > steps.len() {
            return None;
        }
        structure.steps.iter().zip(&mut steps).for_each(|(instr, step)| *step = instr.step);
        match steps[..n] {
            [Step::Input(0)] => Some(None),
            [Step::Input(0), Step::Unary(op, 0)] => Op::of_unary(op).map(Some),
            [Step::Input(0), Step::Const(0), Step::Binary(op, 0, 1)] => Op::of_binary(op, scalar(0)).map(Some),
            [Step::Input(0), Step::Const(0), Step::Binary(Binary::Max, 0, 1), Step::Const(1), Step::Binary(Binary::Min, 2, 3)] => {
                Some(Some(Op::Clamp { lo: scalar(0), hi: scalar(1) }))
            }
            _ => None,
        }
    }
}

struct Builder<'a> {
    inputs: &'a [(&'a str, DType)],
    steps: Vec<Instr>,
    consts: Vec<Scalar>,
    const_types: Vec<DType>,
    /// Column of each input slot, in order of first use.
    columns: Vec<usize>,
    /// The step of each subtree already lowered, by node and type hint:
    /// a subtree shared in the tree (`let y = x * x; y + y`) is one step,
    /// so compiling costs time linear in the distinct nodes, not in the
    /// size of the tree written out, which can be exponential.
    lowered: NodeMap<(*const Node, Option<DType>), usize>,
    /// The natural type of each subtree already asked, by node.
    naturals: RefCell<NodeMap<*const Node, Option<Ty>>>,
    /// The whole expression, and how deep the walks are in it now: they
    /// recurse, so they stop at [`MAX_DEPTH`](super::MAX_DEPTH) levels.
    root: &'a Expr,
    level: Cell<usize>,
}

/// Maps keyed by node addresses: hashed by a multiply, not SipHash, as
/// compiling a small expression is on the path of every expression job.
type NodeMap<K, V> = HashMap<K, V, BuildHasherDefault<AddressHasher>>;

#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&b| self.write_u64(u64::from(b)));
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
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
        if !super::parse::is_input_name(name) {
            return Err(ExprError::InvalidName { name: crate::error::excerpt(name) }.into());
        }
        self.inputs.iter().position(|(n, _)| *n == name).ok_or_else(|| {
            let known = self.inputs.iter().map(|(n, _)| n.to_string()).collect();
            ExprError::UnknownInput { name: name.to_string(), known }.into()
        })
    }

    /// The type `e` has on its own, without context; `None` for an
    /// expression of literals only, which takes its type from its context.
    fn natural(&self, e: &Expr) -> Result<Option<Ty>> {
        if let Some(&ty) = self.naturals.borrow().get(&e.as_ptr()) {
            return Ok(ty);
        }
        let ty = self.descend(|| self.natural_of_node(e))?;
        self.naturals.borrow_mut().insert(e.as_ptr(), ty);
        Ok(ty)
    }

    /// Runs `walk` one level deeper in the tree: an error past
    /// [`MAX_DEPTH`](super::MAX_DEPTH) levels, before the stack could overflow.
    fn descend<R>(&self, walk: impl FnOnce() -> Result<R>) -> Result<R> {
        let level = self.level.get() + 1;
        if level > super::MAX_DEPTH + 1 {
            return Err(ExprError::TooDeep { depth: self.root.depth(), max: super::MAX_DEPTH }.into());
        }
        self.level.set(level);
        let result = walk();
        self.level.set(level - 1);
        result
    }

    fn natural_of_node(&self, e: &Expr) -> Result<Option<Ty>> {
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
            (Some(s), Some(t)) if s != t => {
                Err(ExprError::TypeMismatch { expr: excerpt(whole), left: name(s), right: name(t) }.into())
            }
            (Some(t), _) | (None, Some(t)) => Ok(t),
            (None, None) => Ok(Ty::Num(hint.unwrap_or(DType::F32))),
        }
    }

    /// Appends the steps of `e`; `hint` types the literals of an
    /// expression that has no type of its own. Returns the result's step.
    fn lower(&mut self, e: &Expr, hint: Option<DType>) -> Result<usize> {
        let key = (e.as_ptr(), hint);
        if let Some(&step) = self.lowered.get(&key) {
            return Ok(step);
        }
        let level = self.level.get() + 1;
        if level > super::MAX_DEPTH + 1 {
            return Err(ExprError::TooDeep { depth: self.root.depth(), max: super::MAX_DEPTH }.into());
        }
        self.level.set(level);
        let step = self.lower_node(e, hint);
        self.level.set(level - 1);
        let step = step?;
        self.lowered.insert(key, step);
        Ok(step)
    }

    fn lower_node(&mut self, e: &Expr, hint: Option<DType>) -> Result<usize> {
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
                let (a, b) = (self.lower(a, number(ty))?, self.lower(b, number(ty))?);
                // Two numbers of one type, or two conditions: numbers-only
                // operands take a condition's type as `f32`, so check both.
                let (s, t) = (self.steps[a].ty, self.steps[b].ty);
                if s != t {
                    return Err(ExprError::TypeMismatch { expr: excerpt(e), left: name(s), right: name(t) }.into());
                }
                Ok(self.push(Step::Select(c, a, b), s))
            }
            Node::Cast(dtype, a) => {
                let a = self.lower(a, Some(*dtype))?;
                if self.steps[a].ty == Ty::Num(*dtype) {
                    // A cast to the operand's own type changes no bits.
                    return Ok(a);
                }
                Ok(self.push(Step::Cast(a), Ty::Num(*dtype)))
            }
        }
    }

    fn literal(&mut self, value: f64, dtype: DType) -> Result<usize> {
        if !dtype.holds_exactly(value) {
            return Err(ExprError::LiteralRange { value, dtype }.into());
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
            return Err(ExprError::FloatOnly { function: op.name(), dtype, expr: excerpt(e) }.into());
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
        let dtype = self.numbers(e, a, b)?;
        if op == Binary::Pow && !dtype.is_float() {
            return Err(ExprError::FloatOnly { function: "pow", dtype, expr: excerpt(e) }.into());
        }
        let ty = if op.is_comparison() { Ty::Bool } else { Ty::Num(dtype) };
        Ok(self.push(Step::Binary(op, a, b), ty))
    }

    /// Lowers `e`, which must be a condition.
    fn condition(&mut self, e: &Expr) -> Result<usize> {
        let index = self.lower(e, None)?;
        match self.steps[index].ty {
            Ty::Bool => Ok(index),
            Ty::Num(dtype) => Err(ExprError::NotACondition { expr: excerpt(e), dtype }.into()),
        }
    }

    /// The number type steps `a` and `b` share: an error if either is a
    /// condition, or if they differ. Both are checked: an operand made of
    /// numbers only takes its type from the other, and when that is a
    /// condition the numbers default to `f32`, so checking one side alone
    /// would let `1 + (x > 0)` through.
    fn numbers(&self, whole: &Expr, a: usize, b: usize) -> Result<DType> {
        let (s, t) = (self.numeric(whole, a)?, self.numeric(whole, b)?);
        if s != t {
            return Err(ExprError::TypeMismatch { expr: excerpt(whole), left: s.name(), right: t.name() }.into());
        }
        Ok(s)
    }

    /// The number type of step `index`, an error if it is a condition.
    fn numeric(&self, whole: &Expr, index: usize) -> Result<DType> {
        match self.steps[index].ty {
            Ty::Num(dtype) => Ok(dtype),
            Ty::Bool => Err(ExprError::ArithmeticOnCondition { expr: excerpt(whole) }.into()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_is_recognised_in_its_own_program() {
        for dtype in DType::ALL {
            assert_eq!(Program::of_op(None, dtype).unwrap().as_op(), Some(None), "identity on {dtype}");
            for op in Op::ALL.into_iter().filter(|op| op.check(dtype).is_ok()) {
                let program = Program::of_op(Some(op), dtype).unwrap();
                assert_eq!(program.as_op(), Some(Some(op)), "{op} on {dtype}");
            }
        }
    }

    #[test]
    fn programs_that_are_no_single_op_are_not_recognised() {
        let f32_inputs = [("x", DType::F32), ("y", DType::F32)];
        for text in ["x * x", "x + y", "2 + x", "sq(x) + 1", "-sq(x)", "max(min(x, 1), 0)", "select(x > 0, x, 0)"] {
            let program = Program::compile(&text.parse().unwrap(), &f32_inputs, DType::F32).unwrap();
            assert_eq!(program.as_op(), None, "{text}");
        }
        let cast = Program::compile(&"f32(x)".parse().unwrap(), &[("x", DType::I32)], DType::F32).unwrap();
        assert_eq!(cast.as_op(), None, "a cast reads another type than it gives");
    }
}
