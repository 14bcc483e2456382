//! [`Expr`]: the expression tree, and how Rust code builds one.

use crate::dtype::DType;
use std::sync::Arc;

/// An element-wise expression over named input arrays.
///
/// Built from Rust with operators and methods, or parsed from text with
/// [`Expr::parse`]; both give the same tree, and printing a tree
/// (`Display`) gives text that parses back to it.
///
/// ```
/// use swath::expr::{select, var, Expr};
/// let x = var("x");
/// let relu = select(x.gt(0.0), &x, 0.0);
/// assert_eq!(relu.to_string(), "select(x > 0, x, 0)");
/// let (a, b, c) = (var("a"), var("b"), var("c"));
/// let fma = a * b + c;
/// assert_eq!(fma, Expr::parse("a * b + c")?);
/// # Ok::<(), swath::Error>(())
/// ```
///
/// Cloning is cheap (subtrees are shared), and `Expr` is `Send + Sync`.
#[derive(Clone)]
pub struct Expr(pub(crate) Arc<Node>);

/// One node of the tree. Private so that every tree is built by the
/// constructors below, which keep one spelling per tree: a negative
/// literal is a literal, never `Neg` of one, so text round-trips.
#[derive(Debug)]
pub(crate) enum Node {
    /// A named input array, read at the current element.
    Input(Arc<str>),
    /// `i`: the index of the current element (`u32`).
    Index,
    /// A number; its type comes from where it is used.
    Literal(f64),
    Unary(Unary, Expr),
    Binary(Binary, Expr, Expr),
    /// `select(cond, then, otherwise)`.
    Select(Expr, Expr, Expr),
    /// `f32(x)`, `f64(x)`, `i32(x)`, `u32(x)`.
    Cast(DType, Expr),
}

/// Functions and operators of one operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unary {
    /// `-x` (wraps for integers; `0 - x` for `u32`).
    Neg,
    /// `!c`, logical not of a comparison.
    Not,
    /// `abs(x)` (wraps: `abs(i32::MIN) == i32::MIN`).
    Abs,
    /// `sq(x)`: `x * x`, without writing `x` twice.
    Square,
    /// `sqrt(x)` (floats only).
    Sqrt,
    /// `exp(x)` (floats only).
    Exp,
    /// `log(x)`, the natural logarithm (floats only).
    Log,
    /// `sin(x)` (floats only).
    Sin,
    /// `cos(x)` (floats only).
    Cos,
    /// `tanh(x)` (floats only).
    Tanh,
    /// `floor(x)`, the largest integer not above `x` (floats only).
    Floor,
    /// `ceil(x)`, the smallest integer not below `x` (floats only).
    Ceil,
    /// `round(x)`, the nearest integer, ties to even (floats only).
    Round,
}

/// Functions and operators of two operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binary {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`. Integers: truncates, `a / 0 == a`, `MIN / -1 == MIN`.
    Div,
    /// `a % b`, with the sign of `a` (C's `fmod` for floats). Integers:
    /// `a % 0 == 0`, `MIN % -1 == 0`.
    Rem,
    /// `pow(a, b)`, defined for `a > 0` (floats only).
    Pow,
    /// `min(a, b)`, NaN-propagating like [`crate::Op::Min`].
    Min,
    /// `max(a, b)`, NaN-propagating like [`crate::Op::Max`].
    Max,
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
    /// `a > b`.
    Gt,
    /// `a >= b`.
    Ge,
    /// `a == b`.
    Eq,
    /// `a != b`.
    Ne,
    /// `c && d` of two comparisons.
    And,
    /// `c || d` of two comparisons.
    Or,
}

impl Unary {
    /// Every unary function or operator.
    pub const ALL: [Unary; 13] = [
        Unary::Neg,
        Unary::Not,
        Unary::Abs,
        Unary::Square,
        Unary::Sqrt,
        Unary::Exp,
        Unary::Log,
        Unary::Sin,
        Unary::Cos,
        Unary::Tanh,
        Unary::Floor,
        Unary::Ceil,
        Unary::Round,
    ];

    /// The name in text: the function name, or the operator symbol.
    pub fn name(self) -> &'static str {
        match self {
            Unary::Neg => "-",
            Unary::Not => "!",
            Unary::Abs => "abs",
            Unary::Square => "sq",
            Unary::Sqrt => "sqrt",
            Unary::Exp => "exp",
            Unary::Log => "log",
            Unary::Sin => "sin",
            Unary::Cos => "cos",
            Unary::Tanh => "tanh",
            Unary::Floor => "floor",
            Unary::Ceil => "ceil",
            Unary::Round => "round",
        }
    }

    /// True for functions defined on floats only.
    pub fn is_float_only(self) -> bool {
        self.is_transcendental() || matches!(self, Unary::Sqrt | Unary::Floor | Unary::Ceil | Unary::Round)
    }

    /// True for `exp log sin cos tanh`: computed within a bound, not
    /// exactly, and with no GPU code for `f64` (Vulkan's GLSL.std.450
    /// defines them for 16- and 32-bit floats only).
    pub fn is_transcendental(self) -> bool {
        matches!(self, Unary::Exp | Unary::Log | Unary::Sin | Unary::Cos | Unary::Tanh)
    }

    /// True if the result is correctly rounded on every path, so the CPU
    /// and the GPU agree bit for bit (see the contract in [`crate::expr`]).
    pub fn is_exact(self) -> bool {
        !(self.is_transcendental() || self == Unary::Sqrt)
    }

    /// What one call costs in units of one `exp`, for the scheduler:
    /// arithmetic is free next to memory traffic, a square root is a
    /// fraction of a call.
    pub(crate) fn calls(self) -> f64 {
        match self {
            Unary::Sqrt => 0.1,
            Unary::Exp | Unary::Log | Unary::Tanh => 1.0,
            Unary::Sin | Unary::Cos => 1.5,
            _ => 0.0,
        }
    }
}

impl Binary {
    /// What one call costs in units of one `exp` (see [`Unary::calls`]):
    /// `pow` is an `exp` and a `log`.
    pub(crate) fn calls(self) -> f64 {
        match self {
            Binary::Pow => 2.0,
            _ => 0.0,
        }
    }

    /// Every binary function or operator.
    pub const ALL: [Binary; 16] = [
        Binary::Add,
        Binary::Sub,
        Binary::Mul,
        Binary::Div,
        Binary::Rem,
        Binary::Pow,
        Binary::Min,
        Binary::Max,
        Binary::Lt,
        Binary::Le,
        Binary::Gt,
        Binary::Ge,
        Binary::Eq,
        Binary::Ne,
        Binary::And,
        Binary::Or,
    ];

    /// The name in text: the operator symbol, or the function name.
    pub fn name(self) -> &'static str {
        match self {
            Binary::Add => "+",
            Binary::Sub => "-",
            Binary::Mul => "*",
            Binary::Div => "/",
            Binary::Rem => "%",
            Binary::Pow => "pow",
            Binary::Min => "min",
            Binary::Max => "max",
            Binary::Lt => "<",
            Binary::Le => "<=",
            Binary::Gt => ">",
            Binary::Ge => ">=",
            Binary::Eq => "==",
            Binary::Ne => "!=",
            Binary::And => "&&",
            Binary::Or => "||",
        }
    }

    /// True for `pow`, `min` and `max`, written as calls; false for infix operators.
    pub fn is_function(self) -> bool {
        matches!(self, Binary::Pow | Binary::Min | Binary::Max)
    }

    /// True for the comparisons, whose result is a condition.
    pub fn is_comparison(self) -> bool {
        matches!(self, Binary::Lt | Binary::Le | Binary::Gt | Binary::Ge | Binary::Eq | Binary::Ne)
    }

    /// True for `&&` and `||`, which combine conditions.
    pub fn is_logical(self) -> bool {
        matches!(self, Binary::And | Binary::Or)
    }
}

/// The input array called `name`: `var("x")`.
///
/// A name is an identifier (letters, digits, `_`, not starting with a
/// digit) other than `i`, `inf`, `nan` and the function names, so that
/// every expression prints as text that reads back. A job whose
/// expression reads another name fails with [`ExprError::InvalidName`](crate::ExprError::InvalidName).
///
/// ```
/// let y = swath::expr::var("x").sq() + 1.0;
/// assert_eq!(y.to_string(), "sq(x) + 1");
/// ```
pub fn var(name: &str) -> Expr {
    Expr::new(Node::Input(name.into()))
}

/// `i`, the index of the current element, as a `u32`.
///
/// ```
/// use swath::expr::{index, Expr};
/// use swath::DType;
/// let ramp = index().cast(DType::F32) * 0.5;
/// assert_eq!(ramp, Expr::parse("f32(i) * 0.5")?);
/// # Ok::<(), swath::Error>(())
/// ```
pub fn index() -> Expr {
    Expr::new(Node::Index)
}

/// A number; it takes the type of the expression it is used in. A NaN
/// keeps its sign but not its payload, so every tree prints as text.
pub fn lit(value: f64) -> Expr {
    let value = if value.is_nan() { f64::NAN.copysign(value) } else { value };
    Expr::new(Node::Literal(value))
}

/// `select(cond, then, otherwise)`: `then` where `cond` holds, else `otherwise`.
///
/// ```
/// use swath::expr::{select, var};
/// let x = var("x");
/// let relu = select(x.gt(0), &x, 0);
/// assert_eq!(relu.to_string(), "select(x > 0, x, 0)");
/// ```
pub fn select(cond: impl Into<Expr>, then: impl Into<Expr>, otherwise: impl Into<Expr>) -> Expr {
    Expr::new(Node::Select(cond.into(), then.into(), otherwise.into()))
}

impl Expr {
    pub(crate) fn new(node: Node) -> Expr {
        Expr(Arc::new(node))
    }

    /// Levels of operators above the deepest leaf (0 for a leaf). A
    /// subtree shared in several places counts once, so this costs time
    /// linear in the distinct nodes.
    ///
    /// ```
    /// use swath::expr::{var, MAX_DEPTH};
    /// let mut e = var("x");
    /// for _ in 0..MAX_DEPTH + 1 {
    ///     e = e + 1.0;
    /// }
    /// assert_eq!(e.depth(), MAX_DEPTH + 1);
    /// assert!(e.check(&[("x", swath::DType::F32)], swath::DType::F32).is_err()); // too deep to run
    /// ```
    pub fn depth(&self) -> usize {
        super::walk::depth(self)
    }

    /// Distinct nodes: a subtree shared in several places counts once, as
    /// it compiles once.
    pub(crate) fn nodes(&self) -> usize {
        let mut nodes = 0;
        super::walk::visit(self, &mut |_| nodes += 1);
        nodes
    }

    /// True if `self` and `other` are one tree (not only equal ones).
    pub(crate) fn same_node(&self, other: &Expr) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The root node's address: the identity of a shared subtree.
    pub(crate) fn as_ptr(&self) -> *const Node {
        Arc::as_ptr(&self.0)
    }

    pub(crate) fn node(&self) -> &Node {
        &self.0
    }

    /// `op` of this expression. `Neg` of a literal folds into the literal,
    /// so `-1` has one tree whether built or parsed.
    pub fn unary(&self, op: Unary) -> Expr {
        match (op, self.node()) {
            (Unary::Neg, Node::Literal(value)) => lit(-value),
            _ => Expr::new(Node::Unary(op, self.clone())),
        }
    }

    /// `op` of this expression and `other`.
    pub fn binary(&self, op: Binary, other: impl Into<Expr>) -> Expr {
        Expr::new(Node::Binary(op, self.clone(), other.into()))
    }

    /// This expression converted to `dtype`: `f32(x)`.
    pub fn cast(&self, dtype: DType) -> Expr {
        Expr::new(Node::Cast(dtype, self.clone()))
    }

    /// `sq(x)`, i.e. `x * x`.
    pub fn sq(&self) -> Expr {
        self.unary(Unary::Square)
    }

    /// `abs(x)`.
    pub fn abs(&self) -> Expr {
        self.unary(Unary::Abs)
    }

    /// `sqrt(x)`.
    pub fn sqrt(&self) -> Expr {
        self.unary(Unary::Sqrt)
    }

    /// `exp(x)`.
    pub fn exp(&self) -> Expr {
        self.unary(Unary::Exp)
    }

    /// `log(x)`, the natural logarithm.
    pub fn log(&self) -> Expr {
        self.unary(Unary::Log)
    }

    /// `sin(x)`.
    pub fn sin(&self) -> Expr {
        self.unary(Unary::Sin)
    }

    /// `cos(x)`.
    pub fn cos(&self) -> Expr {
        self.unary(Unary::Cos)
    }

    /// `floor(x)`.
    pub fn floor(&self) -> Expr {
        self.unary(Unary::Floor)
    }

    /// `ceil(x)`.
    pub fn ceil(&self) -> Expr {
        self.unary(Unary::Ceil)
    }

    /// `round(x)`, ties to even.
    pub fn round(&self) -> Expr {
        self.unary(Unary::Round)
    }

    /// `tanh(x)`.
    pub fn tanh(&self) -> Expr {
        self.unary(Unary::Tanh)
    }

    /// `pow(x, e)`, defined for `x > 0`.
    pub fn pow(&self, e: impl Into<Expr>) -> Expr {
        self.binary(Binary::Pow, e)
    }

    /// `min(x, other)`.
    pub fn min(&self, other: impl Into<Expr>) -> Expr {
        self.binary(Binary::Min, other)
    }

    /// `max(x, other)`.
    pub fn max(&self, other: impl Into<Expr>) -> Expr {
        self.binary(Binary::Max, other)
    }

    /// `min(max(x, lo), hi)`: `clamp(x, lo, hi)` in text.
    pub fn clamp(&self, lo: impl Into<Expr>, hi: impl Into<Expr>) -> Expr {
        self.max(lo).min(hi)
    }

    /// `x < other`.
    pub fn lt(&self, other: impl Into<Expr>) -> Expr {
        self.binary(Binary::Lt, other)
    }

    /// `x <= other`.
    pub fn le(&self, other: impl Into<Expr>) -> Expr {
        self.binary(Binary::Le, other)
    }

    /// `x > other`.
    pub fn gt(&self, other: impl Into<Expr>) -> Expr {
        self.binary(Binary::Gt, other)
    }

    /// `x >= other`.
    pub fn ge(&self, other: impl Into<Expr>) -> Expr {
        self.binary(Binary::Ge, other)
    }

    /// `x == other`.
    pub fn equals(&self, other: impl Into<Expr>) -> Expr {
        self.binary(Binary::Eq, other)
    }

    /// `x != other`.
    pub fn not_equals(&self, other: impl Into<Expr>) -> Expr {
        self.binary(Binary::Ne, other)
    }

    /// `c && other` of two conditions.
    pub fn and(&self, other: impl Into<Expr>) -> Expr {
        self.binary(Binary::And, other)
    }

    /// `c || other` of two conditions.
    pub fn or(&self, other: impl Into<Expr>) -> Expr {
        self.binary(Binary::Or, other)
    }

    /// The names of the inputs this expression reads, each once, in order
    /// of first appearance (left to right).
    ///
    /// ```
    /// let e = swath::expr::Expr::parse("b * a + b")?;
    /// assert_eq!(e.inputs(), ["b", "a"]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn inputs(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        super::walk::visit(self, &mut |node| {
            if let Node::Input(name) = node {
                if !names.contains(&&**name) {
                    names.push(name);
                }
            }
        });
        names
    }

    /// Every occurrence of the input `name` replaced by `value`: how a
    /// chain of maps fuses into one expression.
    ///
    /// ```
    /// use swath::expr::{var, Expr};
    /// let f = var("x").sq();
    /// let g = var("x") + 1.0;
    /// assert_eq!(g.substitute("x", &f), Expr::parse("sq(x) + 1")?);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn substitute(&self, name: &str, value: &Expr) -> Expr {
        super::walk::substitute(self, name, value)
    }
}

impl Drop for Node {
    /// Iterative, so that dropping a tree of any depth cannot overflow the stack.
    fn drop(&mut self) {
        super::walk::drop_operands(self);
    }
}

impl PartialEq for Expr {
    /// Structural equality; literals compare by bits, so `nan == nan` and
    /// `-0 != 0`, which is what a round trip through text must keep.
    fn eq(&self, other: &Expr) -> bool {
        super::walk::equal(self, other)
    }
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({self})")
    }
}

impl From<&Expr> for Expr {
    fn from(e: &Expr) -> Expr {
        e.clone()
    }
}

macro_rules! literal_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Expr {
            fn from(value: $t) -> Expr {
                lit(value as f64)
            }
        }
    )*};
}
literal_from!(f64, f32, i32, u32);

macro_rules! operator {
    ($trait:ident, $method:ident, $op:expr) => {
        impl<R: Into<Expr>> std::ops::$trait<R> for Expr {
            type Output = Expr;
            fn $method(self, other: R) -> Expr {
                self.binary($op, other)
            }
        }
        impl<R: Into<Expr>> std::ops::$trait<R> for &Expr {
            type Output = Expr;
            fn $method(self, other: R) -> Expr {
                self.binary($op, other)
            }
        }
        operator!(@literal $trait, $method, $op, f64, f32, i32, u32);
    };
    (@literal $trait:ident, $method:ident, $op:expr, $($t:ty),*) => {$(
        impl std::ops::$trait<Expr> for $t {
            type Output = Expr;
            fn $method(self, other: Expr) -> Expr {
                Expr::from(self).binary($op, other)
            }
        }
        impl std::ops::$trait<&Expr> for $t {
            type Output = Expr;
            fn $method(self, other: &Expr) -> Expr {
                Expr::from(self).binary($op, other)
            }
        }
    )*};
}
operator!(Add, add, Binary::Add);
operator!(Sub, sub, Binary::Sub);
operator!(Mul, mul, Binary::Mul);
operator!(Div, div, Binary::Div);
operator!(Rem, rem, Binary::Rem);

impl std::ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        self.unary(Unary::Neg)
    }
}

impl std::ops::Neg for &Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        self.unary(Unary::Neg)
    }
}

impl std::ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        self.unary(Unary::Not)
    }
}
