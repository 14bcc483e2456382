//! Expressions: one element-wise job definition for both paths.
//!
//! ```
//! use swath::expr::{var, Expr};
//! use swath::{Engine, Inputs, Reduce};
//! let engine = Engine::new()?;
//! let (a, b) = (vec![1.0f32, 2.0, 3.0], vec![4.0f32, 5.0, 6.0]);
//! // Built from Rust, or parsed from text: the same tree.
//! let e = var("a") * var("b") + 1.0;
//! assert_eq!(e, Expr::parse("a * b + 1")?);
//! let inputs = Inputs::new().with("a", &a).with("b", &b);
//! assert_eq!(engine.eval::<f32>(&e, &inputs)?, [5.0, 11.0, 19.0]);
//! assert_eq!(engine.eval_reduce::<f32>(&e, &inputs, Reduce::Sum)?, 35.0);
//! # Ok::<(), swath::Error>(())
//! ```
//!
//! # Syntax
//! - Numbers (`1`, `2.5`, `.5`, `1.`, `1e-3`, `inf`, `nan`), inputs (any
//!   other name: `x`, `rate_2`), and `i`, the element's index (`u32`).
//! - Operators, loosest first: `||`; `&&`; `< <= > >= == !=`; `+ -`;
//!   `* / %`; prefix `-` and `!`. Parentheses group.
//! - Functions: `abs sq sqrt exp log sin cos tanh floor ceil round` of one argument,
//!   `min max pow` of two, `clamp(x, lo, hi)`, `select(cond, then, else)`,
//!   and the casts `f32(x) f64(x) i32(x) u32(x)`.
//! - Limits, so that no expression can overflow the stack: 200 levels of
//!   parentheses, calls and prefix operators in text, and trees
//!   [`MAX_DEPTH`] (1,000) deep, whether parsed or built from Rust.
//!
//! # Types
//! Inputs have their array's element type; `i` is `u32`; a number takes
//! the type of the other operand (and of the output at the top). The two
//! operands of an operator must have one type: write a cast where they
//! differ. Comparisons give a condition, used by `select`, `&&`, `||`, `!`
//! or a cast (true is 1). Integer arithmetic wraps; see [`Binary`] for
//! division and remainder.
//!
//! # Accuracy: what agrees between the CPU and the GPU
//! - Bit for bit: `+ - * sq`, comparisons, `min max abs select`,
//!   `floor ceil round` (ties to even), `%` on `f32` (C's `fmod`, exact,
//!   computed on the significands' bits on the GPU, so NaN, infinities
//!   and subnormals too; `%` on `f64` runs on the CPU), `%` and
//!   `/` on integers, and casts between integer types and from integers
//!   or `f64` to `f32`. Every rounded `f32` step passes through an
//!   optimisation barrier in the kernel, so no GPU compiler may fuse
//!   `a * b + c` into an FMA or reassociate `(a + b) - a`; `f64` steps have
//!   no such barrier (WGSL has no 64-bit bitcast), so a driver may fuse them.
//! - Within a bound, `|gpu - cpu| <= REL_BOUND * max(|cpu|, 1)`: `/` on
//!   floats (Vulkan allows 2.5 ULP), `sqrt exp log tanh pow` for arguments
//!   of moderate size (|x| <= 10 for `exp` and `tanh`, results below 2^24
//!   for `pow`). `sin` and `cos` on [-pi, pi] are within
//!   [`SIN_COS_ABS_BOUND`], Vulkan's bound. Measured on Mesa's lavapipe:
//!   at most 1.2e-6 (`pow`), 1.5e-7 (`tanh`, `log`), 0 (`sqrt`, `/`), and
//!   6e-8 for `sin`/`cos`. The bound holds because each side is close to
//!   the exact value: the CPU computes `exp log sin cos tanh pow` with its
//!   own vectorised functions, within 2 ULP of the exact value for every
//!   argument (`sin` and `cos` for `|x| <= 2^20`, beyond which the
//!   system libm computes them; `pow` for `x > 0` and normal results),
//!   the same bits whatever the chunking, thread count or vector width.
//! - NaN and infinities: WGSL lets a GPU compiler assume they never occur
//!   (Mesa folds `x - x` to 0 even for an infinite `x`), so the guarantees
//!   above are for finite values, and the sign of a zero may differ (Mesa
//!   folds `a + a - a` to `a`, which is `-0` where the CPU gives `+0`).
//!   `min`, `max`, `clamp` and the reductions
//!   test for NaN by its bits and propagate it on both paths; a NaN's sign
//!   and payload bits may differ.
//! - Unspecified on the GPU: `pow(x, y)` for `x <= 0`, and casts of NaN to integers (0 on the CPU). Out-of-range floats cast to
//!   integers saturate on both paths, at the largest value of the integer
//!   type that the float type holds (2147483520 for `i32(f32)`).

mod parse;
mod print;
pub(crate) mod program;
mod tree;
mod walk;
pub(crate) mod wgsl;

pub use tree::{index, lit, select, var, Binary, Expr, Unary};

use crate::error::{Error, Result};

/// Deepest expression swath runs, prints or parses: levels of operators
/// above the deepest leaf. Text deeper than this is a syntax error; a
/// tree built deeper from Rust is an [`ExprError::TooDeep`](crate::ExprError::TooDeep)
/// when checked or run (and prints as a short note), so no expression can
/// overflow the stack. Any depth can still be built, compared and dropped.
pub const MAX_DEPTH: usize = 1000;

/// Largest difference between the CPU and the GPU for the functions
/// computed within a bound (see the module docs), relative to the larger
/// of the CPU's value and 1: 2^-16.
pub const REL_BOUND: f64 = 1.0 / 65536.0;

/// Largest absolute difference between the CPU and the GPU for `sin` and
/// `cos` on [-pi, pi] (Vulkan's bound, 2^-11).
pub const SIN_COS_ABS_BOUND: f64 = 1.0 / 2048.0;

impl Expr {
    /// Parses an expression from text (see the [syntax](self#syntax)).
    ///
    /// A malformed text is an [`Error::Syntax`] with the line and column
    /// of the first character that could not be read.
    ///
    /// ```
    /// use swath::expr::Expr;
    /// let e = Expr::parse("select(x > 0, x, 0.01 * x)")?;
    /// assert_eq!(e.inputs(), ["x"]);
    /// let err = Expr::parse("x * (1 +").unwrap_err();
    /// assert!(matches!(err, swath::Error::Syntax { line: 1, column: 9, .. }), "{err}");
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Expr> {
        parse::parse(text)
    }
}

impl Expr {
    /// Checks that this expression can be computed over inputs of these
    /// names and types, giving `output`, without running it: the same
    /// checks a job makes before any work.
    ///
    /// ```
    /// use swath::{expr::Expr, DType};
    /// let e = Expr::parse("sqrt(x) + 1")?;
    /// assert!(e.check(&[("x", DType::F32)], DType::F32).is_ok());
    /// assert!(e.check(&[("x", DType::I32)], DType::I32).is_err()); // sqrt of an integer
    /// assert!(e.check(&[("y", DType::F32)], DType::F32).is_err()); // no input x
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn check(&self, inputs: &[(&str, crate::DType)], output: crate::DType) -> Result<()> {
        program::Program::compile(self, inputs, output).map(|_| ())
    }
}

impl std::str::FromStr for Expr {
    type Err = Error;

    fn from_str(text: &str) -> Result<Expr> {
        Expr::parse(text)
    }
}
