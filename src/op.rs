//! What a job computes: an element-wise [`Op`] and a [`Reduce`].
//!
//! ```
//! use swath::{Op, Reduce};
//! let op: Op = "clamp:0:1".parse()?;
//! assert_eq!(op, Op::Clamp { lo: 0.0, hi: 1.0 });
//! assert_eq!("sum".parse::<Reduce>()?, Reduce::Sum);
//! # Ok::<(), swath::Error>(())
//! ```
//!
//! # Semantics, the same on every path
//! - Integer arithmetic wraps on overflow (`i32::MAX + 1 == i32::MIN`), and
//!   `neg`/`abs` wrap too (`abs(i32::MIN) == i32::MIN`, `neg` of a `u32`
//!   is `0 - x`).
//! - Float `min`/`max` (as ops, as `clamp`, and as reductions) propagate NaN:
//!   if either operand is NaN the result is NaN. Otherwise `min(a, b)` is
//!   `a` when `a < b` and `b` else, so between `-0.0` and `+0.0` the second
//!   operand wins.
//! - `sqrt`, `exp`, `log`, `sin`, `cos` are defined for floats only.

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::expr::{Binary, Unary};
use std::fmt;
use std::str::FromStr;

/// An element-wise operation, applied to every element independently.
///
/// Scalars are given as `f64` and converted to the element type when the job
/// runs; a scalar that the type cannot hold exactly (`Add(1.5)` on `i32`)
/// is an [`Error::InvalidScalar`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// `x * x`.
    Square,
    /// `|x|`.
    Abs,
    /// `-x`.
    Neg,
    /// Square root (floats only).
    Sqrt,
    /// `e^x` (floats only).
    Exp,
    /// Natural logarithm (floats only).
    Log,
    /// Sine (floats only).
    Sin,
    /// Cosine (floats only).
    Cos,
    /// The largest integer not above `x` (floats only).
    Floor,
    /// The smallest integer not below `x` (floats only).
    Ceil,
    /// The nearest integer, ties to even (floats only).
    Round,
    /// `x + s`.
    Add(f64),
    /// `x * s`.
    Mul(f64),
    /// `min(x, s)`.
    Min(f64),
    /// `max(x, s)`.
    Max(f64),
    /// `min(max(x, lo), hi)`; `lo > hi` is an [`Error::InvalidClamp`].
    Clamp {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
}

impl Op {
    /// Every op with example scalars, for tests and benchmarks.
    pub const ALL: [Op; 16] = [
        Op::Square,
        Op::Abs,
        Op::Neg,
        Op::Sqrt,
        Op::Exp,
        Op::Log,
        Op::Sin,
        Op::Cos,
        Op::Floor,
        Op::Ceil,
        Op::Round,
        Op::Add(3.0),
        Op::Mul(3.0),
        Op::Min(0.5),
        Op::Max(0.5),
        Op::Clamp { lo: -1.0, hi: 2.0 },
    ];

    /// The op's name as the CLI spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Square => "square",
            Op::Abs => "abs",
            Op::Neg => "neg",
            Op::Sqrt => "sqrt",
            Op::Exp => "exp",
            Op::Log => "log",
            Op::Sin => "sin",
            Op::Cos => "cos",
            Op::Floor => "floor",
            Op::Ceil => "ceil",
            Op::Round => "round",
            Op::Add(_) => "add",
            Op::Mul(_) => "mul",
            Op::Min(_) => "min",
            Op::Max(_) => "max",
            Op::Clamp { .. } => "clamp",
        }
    }

    /// True for ops that exist only on floats.
    pub fn is_float_only(&self) -> bool {
        self.unary().is_some_and(Unary::is_float_only)
    }

    /// True for ops whose float result is correctly rounded on every path
    /// (and so bit-identical between CPU and GPU).
    pub fn is_exact(&self) -> bool {
        self.unary().is_none_or(Unary::is_exact)
    }

    /// The expression function an op of one operand is.
    pub(crate) fn unary(&self) -> Option<Unary> {
        Some(match self {
            Op::Square => Unary::Square,
            Op::Abs => Unary::Abs,
            Op::Neg => Unary::Neg,
            Op::Sqrt => Unary::Sqrt,
            Op::Exp => Unary::Exp,
            Op::Log => Unary::Log,
            Op::Sin => Unary::Sin,
            Op::Cos => Unary::Cos,
            Op::Floor => Unary::Floor,
            Op::Ceil => Unary::Ceil,
            Op::Round => Unary::Round,
            _ => return None,
        })
    }

    /// The op that is the expression function `f`, if one is.
    pub(crate) fn of_unary(f: Unary) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.unary() == Some(f))
    }

    /// The op `x f s` (or `f(x, s)`) for a scalar `s`, if one is.
    pub(crate) fn of_binary(f: Binary, s: f64) -> Option<Op> {
        Some(match f {
            Binary::Add => Op::Add(s),
            Binary::Mul => Op::Mul(s),
            Binary::Min => Op::Min(s),
            Binary::Max => Op::Max(s),
            _ => return None,
        })
    }

    /// This op applied to `x`, as an expression: the same values on both
    /// paths as the op itself.
    ///
    /// ```
    /// use swath::{expr::var, Op};
    /// assert_eq!(Op::Clamp { lo: 0.0, hi: 1.0 }.to_expr(var("x")).to_string(), "min(max(x, 0), 1)");
    /// ```
    pub fn to_expr(&self, x: crate::expr::Expr) -> crate::expr::Expr {
        if let Some(f) = self.unary() {
            return x.unary(f);
        }
        match *self {
            Op::Add(s) => x + s,
            Op::Mul(s) => x * s,
            Op::Min(s) => x.min(s),
            Op::Max(s) => x.max(s),
            Op::Clamp { lo, hi } => x.clamp(lo, hi),
            _ => unreachable!("ops of one operand return above"),
        }
    }

    /// The op's scalars, padded with zeros: `(s, 0)` or `(lo, hi)`.
    pub(crate) fn scalars(&self) -> [f64; 2] {
        match *self {
            Op::Add(s) | Op::Mul(s) | Op::Min(s) | Op::Max(s) => [s, 0.0],
            Op::Clamp { lo, hi } => [lo, hi],
            _ => [0.0, 0.0],
        }
    }

    /// Checks that this op can run on `dtype`, before any work is done.
    #[inline]
    pub fn check(&self, dtype: DType) -> Result<()> {
        let scalar = |value: f64| {
            if dtype.holds_exactly(value) {
                Ok(())
            } else {
                Err(Error::InvalidScalar { op: self.name(), value, dtype })
            }
        };
        match *self {
            _ if self.is_float_only() && !dtype.is_float() => Err(Error::Unsupported { op: self.name(), dtype }),
            Op::Add(s) | Op::Mul(s) | Op::Min(s) | Op::Max(s) => scalar(s),
            Op::Clamp { lo, hi } if lo > hi => Err(Error::InvalidClamp { lo, hi }),
            Op::Clamp { lo, hi } => scalar(lo).and_then(|()| scalar(hi)),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Add(s) | Op::Mul(s) | Op::Min(s) | Op::Max(s) => write!(f, "{}:{s}", self.name()),
            Op::Clamp { lo, hi } => write!(f, "clamp:{lo}:{hi}"),
            _ => f.write_str(self.name()),
        }
    }
}

const OP_SYNTAX: &str =
    "square, abs, neg, sqrt, exp, log, sin, cos, floor, ceil, round, add:S, mul:S, min:S, max:S or clamp:LO:HI";

impl FromStr for Op {
    type Err = Error;

    /// Parses the CLI spelling: `square`, `add:2.5`, `clamp:0:1`.
    fn from_str(text: &str) -> Result<Self> {
        let bad = || Error::Parse { what: "op", input: text.to_string(), expected: OP_SYNTAX.to_string() };
        let mut parts = text.trim().split(':');
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let scalars: Vec<f64> = parts.map(|p| p.trim().parse().map_err(|_| bad())).collect::<Result<_>>()?;
        let op = match (name.as_str(), scalars.as_slice()) {
            (name, []) => Op::ALL.into_iter().find(|op| op.unary().is_some() && op.name() == name).ok_or_else(bad)?,
            ("add", [s]) => Op::Add(*s),
            ("mul", [s]) => Op::Mul(*s),
            ("min", [s]) => Op::Min(*s),
            ("max", [s]) => Op::Max(*s),
            ("clamp", [lo, hi]) => Op::Clamp { lo: *lo, hi: *hi },
            _ => return Err(bad()),
        };
        Ok(op)
    }
}

/// A reduction that folds an array into one value.
///
/// Every path reduces in one canonical order (see [`crate::canonical`]), so
/// a float sum gives the same bits for any thread count and on the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reduce {
    /// Sum; the empty sum is 0. Integers wrap.
    Sum,
    /// Product; the empty product is 1. Integers wrap.
    Product,
    /// Smallest element (NaN if any element is NaN); empty input is an error.
    Min,
    /// Largest element (NaN if any element is NaN); empty input is an error.
    Max,
}

impl Reduce {
    /// Every reduction.
    pub const ALL: [Reduce; 4] = [Reduce::Sum, Reduce::Product, Reduce::Min, Reduce::Max];

    /// The reduction's name as the CLI spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Reduce::Sum => "sum",
            Reduce::Product => "product",
            Reduce::Min => "min",
            Reduce::Max => "max",
        }
    }

    /// The value every lane starts from: 0, 1, the largest value (min) or
    /// the smallest (max). The same on every path.
    pub(crate) fn identity<T: crate::Element>(self) -> T {
        match self {
            Reduce::Sum => T::ZERO,
            Reduce::Product => T::ONE,
            Reduce::Min => T::HIGHEST,
            Reduce::Max => T::LOWEST,
        }
    }

    /// True if the reduction of an empty array is defined (sum and product).
    pub fn has_identity(&self) -> bool {
        matches!(self, Reduce::Sum | Reduce::Product)
    }
}

impl fmt::Display for Reduce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Reduce {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Reduce::ALL.into_iter().find(|r| r.name().eq_ignore_ascii_case(text.trim())).ok_or_else(|| Error::Parse {
            what: "reduction",
            input: text.to_string(),
            expected: "sum, product, min or max".to_string(),
        })
    }
}

/// A prefix scan: element `i` of the result combines the values `0..=i`
/// (inclusive) or `0..i` (exclusive, which starts at the reduction's
/// identity), in the canonical order of [`crate::canonical`], so every
/// element has the same bits on any thread count and on CPU and GPU.
///
/// ```
/// use swath::{Engine, Reduce, Scan};
/// let engine = Engine::cpu();
/// assert_eq!(engine.scan(&[1u32, 2, 3, 4], Scan::inclusive(Reduce::Sum))?, [1, 3, 6, 10]);
/// assert_eq!(engine.scan(&[1u32, 2, 3, 4], Scan::exclusive(Reduce::Sum))?, [0, 1, 3, 6]);
/// assert_eq!(engine.scan(&[3i32, 1, 2], Scan::inclusive(Reduce::Min))?, [3, 1, 1]);
/// # Ok::<(), swath::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scan {
    /// How values combine.
    pub reduce: Reduce,
    /// True if element `i` leaves out value `i`.
    pub exclusive: bool,
}

impl Scan {
    /// Element `i` combines the values `0..=i` (numpy's `cumsum` for a sum).
    pub fn inclusive(reduce: Reduce) -> Scan {
        Scan { reduce, exclusive: false }
    }

    /// Element `i` combines the values `0..i`; element 0 is the identity
    /// (0 for a sum, 1 for a product, the largest value for min, the
    /// smallest for max).
    pub fn exclusive(reduce: Reduce) -> Scan {
        Scan { reduce, exclusive: true }
    }
}

impl fmt::Display for Scan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.exclusive { "exclusive" } else { "inclusive" };
        write!(f, "{kind} {} scan", self.reduce)
    }
}
