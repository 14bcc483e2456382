//! A per-element reference evaluator of a [`Program`], written from the
//! semantics in the brief rather than from the evaluator's code, and the
//! test data: edge values mixed with pseudo-random ones. The
//! transcendental functions are `cpu::math`'s scalar ones, element by
//! element (their accuracy is tested there), so the evaluator must give
//! their bits.

use crate::column::Column;
use crate::cpu::math::{Function, Transcendental};
use crate::dtype::DType;
use crate::expr::program::{Program, Scalar, Step, Ty};
use crate::expr::{Binary, Unary};
use std::cmp::Ordering;

/// One value of any step type.
#[derive(Debug, Clone, Copy)]
pub enum V {
    B(bool),
    F32(f32),
    F64(f64),
    I32(i32),
    U32(u32),
}

impl V {
    /// Same bits, or both NaN.
    pub fn same(self, other: V) -> bool {
        match (self, other) {
            (V::F32(a), V::F32(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (V::F64(a), V::F64(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (V::I32(a), V::I32(b)) => a == b,
            (V::U32(a), V::U32(b)) => a == b,
            _ => false,
        }
    }

    pub fn read(column: Column<'_>, i: usize) -> V {
        match column {
            Column::F32(xs) => V::F32(xs[i]),
            Column::F64(xs) => V::F64(xs[i]),
            Column::I32(xs) => V::I32(xs[i]),
            Column::U32(xs) => V::U32(xs[i]),
        }
    }
}

/// `program` at element `i`; `values` is scratch.
pub fn element(program: &Program, columns: &[Column<'_>], i: usize, values: &mut Vec<V>) -> V {
    values.clear();
    for instr in &program.structure.steps {
        let v = match instr.step {
            Step::Input(slot) => V::read(columns[program.columns[slot]], i),
            Step::Index => V::U32(i as u32),
            Step::Const(k) => match program.consts[k] {
                Scalar::F32(x) => V::F32(x),
                Scalar::F64(x) => V::F64(x),
                Scalar::I32(x) => V::I32(x),
                Scalar::U32(x) => V::U32(x),
            },
            Step::Unary(op, a) => unary(op, values[a]),
            Step::Binary(op, a, b) => binary(op, values[a], values[b]),
            Step::Select(c, a, b) => match values[c] {
                V::B(true) => values[a],
                V::B(false) => values[b],
                c => panic!("select on {c:?}"),
            },
            Step::Cast(a) => match instr.ty {
                Ty::Num(to) => cast(values[a], to),
                Ty::Bool => panic!("cast to a condition"),
            },
        };
        values.push(v);
    }
    values[values.len() - 1]
}

fn unary(op: Unary, v: V) -> V {
    match (op, v) {
        (Unary::Not, V::B(c)) => V::B(!c),
        (Unary::Square, v) => binary(Binary::Mul, v, v),
        (Unary::Neg, V::F32(x)) => V::F32(-x),
        (Unary::Neg, V::F64(x)) => V::F64(-x),
        (Unary::Neg, V::I32(x)) => V::I32(if x == i32::MIN { x } else { -x }),
        (Unary::Neg, V::U32(x)) => V::U32(0u32.wrapping_sub(x)),
        (Unary::Abs, V::F32(x)) => V::F32(x.abs()),
        (Unary::Abs, V::F64(x)) => V::F64(x.abs()),
        (Unary::Abs, V::I32(x)) => V::I32(if x == i32::MIN { x } else { x.abs() }),
        (Unary::Abs, V::U32(x)) => V::U32(x),
        (op, V::F32(x)) => V::F32(match op {
            Unary::Sqrt => x.sqrt(),
            Unary::Exp => x.apply(Function::Exp),
            Unary::Log => x.apply(Function::Ln),
            Unary::Sin => x.apply(Function::Sin),
            Unary::Cos => x.apply(Function::Cos),
            Unary::Tanh => x.apply(Function::Tanh),
            Unary::Floor => x.floor(),
            Unary::Ceil => x.ceil(),
            Unary::Round => x.round_ties_even(),
            _ => unreachable!(),
        }),
        (op, V::F64(x)) => V::F64(match op {
            Unary::Sqrt => x.sqrt(),
            Unary::Exp => x.apply(Function::Exp),
            Unary::Log => x.apply(Function::Ln),
            Unary::Sin => x.apply(Function::Sin),
            Unary::Cos => x.apply(Function::Cos),
            Unary::Tanh => x.apply(Function::Tanh),
            Unary::Floor => x.floor(),
            Unary::Ceil => x.ceil(),
            Unary::Round => x.round_ties_even(),
            _ => unreachable!(),
        }),
        (op, v) => panic!("{op:?} of {v:?}"),
    }
}

fn compare(op: Binary, order: Option<Ordering>) -> V {
    V::B(match op {
        Binary::Lt => order == Some(Ordering::Less),
        Binary::Le => matches!(order, Some(Ordering::Less | Ordering::Equal)),
        Binary::Gt => order == Some(Ordering::Greater),
        Binary::Ge => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
        Binary::Eq => order == Some(Ordering::Equal),
        Binary::Ne => order != Some(Ordering::Equal),
        _ => unreachable!(),
    })
}

macro_rules! float_binary {
    ($op:expr, $a:expr, $b:expr, $V:ident) => {{
        let (a, b) = ($a, $b);
        match $op {
            Binary::Add => V::$V(a + b),
            Binary::Sub => V::$V(a - b),
            Binary::Mul => V::$V(a * b),
            Binary::Div => V::$V(a / b),
            Binary::Rem => V::$V(a % b),
            Binary::Pow => V::$V(Transcendental::pow(a, b)),
            Binary::Min => V::$V(if a.is_nan() || a < b { a } else { b }),
            Binary::Max => V::$V(if a.is_nan() || a > b { a } else { b }),
            op => compare(op, a.partial_cmp(&b)),
        }
    }};
}

fn binary(op: Binary, a: V, b: V) -> V {
    match (a, b) {
        (V::B(a), V::B(b)) => V::B(if op == Binary::And { a && b } else { a || b }),
        (V::F32(a), V::F32(b)) => float_binary!(op, a, b, F32),
        (V::F64(a), V::F64(b)) => float_binary!(op, a, b, F64),
        (V::I32(a), V::I32(b)) => match op {
            Binary::Add => V::I32(a.wrapping_add(b)),
            Binary::Sub => V::I32(a.wrapping_sub(b)),
            Binary::Mul => V::I32(a.wrapping_mul(b)),
            Binary::Div if b == 0 => V::I32(a),
            Binary::Div if a == i32::MIN && b == -1 => V::I32(i32::MIN),
            Binary::Div => V::I32(a / b),
            Binary::Rem if b == 0 || (a == i32::MIN && b == -1) => V::I32(0),
            Binary::Rem => V::I32(a % b),
            Binary::Min => V::I32(a.min(b)),
            Binary::Max => V::I32(a.max(b)),
            op => compare(op, a.partial_cmp(&b)),
        },
        (V::U32(a), V::U32(b)) => match op {
            Binary::Add => V::U32(a.wrapping_add(b)),
            Binary::Sub => V::U32(a.wrapping_sub(b)),
            Binary::Mul => V::U32(a.wrapping_mul(b)),
            Binary::Div => V::U32(a.checked_div(b).unwrap_or(a)),
            Binary::Rem => V::U32(a.checked_rem(b).unwrap_or(0)),
            Binary::Min => V::U32(a.min(b)),
            Binary::Max => V::U32(a.max(b)),
            op => compare(op, a.partial_cmp(&b)),
        },
        (a, b) => panic!("{op:?} of {a:?} and {b:?}"),
    }
}

/// A float converted to an integer type as naga does: NaN is 0, else
/// clamped to `[lo, hi]` and truncated.
fn float_to_int(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.max(lo).min(hi).trunc()
    }
}

fn cast(v: V, to: DType) -> V {
    let one = |c: bool| if c { 1.0 } else { 0.0 };
    match (v, to) {
        (V::B(c), to) => cast(V::F64(one(c)), to),
        (V::F32(x), DType::F32) => V::F32(x),
        (V::F32(x), DType::F64) => V::F64(f64::from(x)),
        (V::F32(x), DType::I32) => V::I32(float_to_int(f64::from(x), -2147483648.0, 2147483520.0) as i32),
        (V::F32(x), DType::U32) => V::U32(float_to_int(f64::from(x), 0.0, 4294967040.0) as u32),
        (V::F64(x), DType::F32) => V::F32(x as f32),
        (V::F64(x), DType::F64) => V::F64(x),
        (V::F64(x), DType::I32) => V::I32(float_to_int(x, -2147483648.0, 2147483647.0) as i32),
        (V::F64(x), DType::U32) => V::U32(float_to_int(x, 0.0, 4294967295.0) as u32),
        (V::I32(x), DType::F32) => V::F32(x as f32),
        (V::I32(x), DType::F64) => V::F64(f64::from(x)),
        (V::I32(x), DType::I32) => V::I32(x),
        (V::I32(x), DType::U32) => V::U32(x as u32),
        (V::U32(x), DType::F32) => V::F32(x as f32),
        (V::U32(x), DType::F64) => V::F64(f64::from(x)),
        (V::U32(x), DType::I32) => V::I32(x as i32),
        (V::U32(x), DType::U32) => V::U32(x),
    }
}

/// An owned column of test data.
pub enum Data {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I32(Vec<i32>),
    U32(Vec<u32>),
}

impl Data {
    pub fn column(&self) -> Column<'_> {
        match self {
            Data::F32(xs) => Column::F32(xs),
            Data::F64(xs) => Column::F64(xs),
            Data::I32(xs) => Column::I32(xs),
            Data::U32(xs) => Column::U32(xs),
        }
    }
}

const F32_EDGES: [f32; 20] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -2.5,
    3.0,
    f32::MAX,
    f32::MIN,
    1e-40,
    2147483520.0,
    2147483648.0,
    -2147483904.0,
    4294967040.0,
    4294967296.0,
    -0.75,
    1e10,
];

const F64_EDGES: [f64; 20] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -2.5,
    3.0,
    f64::MAX,
    f64::MIN,
    1e-310,
    2147483647.5,
    2147483648.0,
    -2147483649.0,
    4294967295.5,
    4294967296.0,
    -0.75,
    1e300,
];

const I32_EDGES: [i32; 12] = [i32::MIN, i32::MIN + 1, -1, 0, 1, 2, -2, 7, -7, i32::MAX, i32::MAX - 1, 1 << 24];

const U32_EDGES: [u32; 12] = [0, 1, 2, 3, 7, u32::MAX, u32::MAX - 1, 1 << 31, (1 << 31) - 1, 1 << 24, 100, 65536];

/// `n` values of `dtype`: every third one an edge value (`slow` walks
/// the edges more slowly, so that two columns meet in every pair), the
/// others small numbers or random bits.
pub fn data(dtype: DType, n: usize, slow: bool) -> Data {
    let mut state = if slow { 0x2545_f491_4f6c_dd1d_u64 } else { 0x9e37_79b9_7f4a_7c15_u64 };
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // `Ok(edge index)` for every third element, else `Err(random bits)`.
    let mut pick = |i: usize, edges: usize| {
        let bits = next();
        let k = i / 3;
        let edge = if slow { (k / edges) % edges } else { k % edges };
        i.is_multiple_of(3).then_some(edge).ok_or(bits)
    };
    let small = |bits: u64| ((bits >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 16.0;
    match dtype {
        DType::F32 => Data::F32(
            (0..n)
                .map(|i| match pick(i, F32_EDGES.len()) {
                    Ok(e) => F32_EDGES[e],
                    Err(bits) if bits % 4 == 0 => f32::from_bits(bits as u32),
                    Err(bits) => small(bits) as f32,
                })
                .collect(),
        ),
        DType::F64 => Data::F64(
            (0..n)
                .map(|i| match pick(i, F64_EDGES.len()) {
                    Ok(e) => F64_EDGES[e],
                    Err(bits) if bits % 4 == 0 => f64::from_bits(bits),
                    Err(bits) => small(bits),
                })
                .collect(),
        ),
        DType::I32 => Data::I32(
            (0..n)
                .map(|i| match pick(i, I32_EDGES.len()) {
                    Ok(e) => I32_EDGES[e],
                    Err(bits) if bits % 4 == 0 => bits as i32,
                    Err(bits) => small(bits) as i32,
                })
                .collect(),
        ),
        DType::U32 => Data::U32(
            (0..n)
                .map(|i| match pick(i, U32_EDGES.len()) {
                    Ok(e) => U32_EDGES[e],
                    Err(bits) if bits % 4 == 0 => bits as u32,
                    Err(bits) => small(bits).abs() as u32,
                })
                .collect(),
        ),
    }
}
