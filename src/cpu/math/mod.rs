//! `exp ln sin cos tanh pow` for `f32` and `f64`, written so that a loop
//! over a slice vectorises.
//!
//! # Why our own
//! The system libm works one element per call, behind a function call
//! LLVM cannot see into: a loop of `f32::sin` runs one lane at a time.
//! These functions are range reduction plus a polynomial, with every
//! special case (NaN, infinities, zeros, negative arguments, overflow,
//! underflow, subnormals) handled by selects rather than branches. They
//! inline into the loops of [`slices`], which LLVM turns into 8 `f32` or
//! 4 `f64` lanes per instruction, for the widest vectors the CPU has
//! (AVX2, detected at run time like the reductions in [`crate::cpu`]).
//! No SIMD crate is needed: plain loops and `#[target_feature]` suffice,
//! and a scalar call runs the very same code.
//!
//! # Same bits everywhere
//! An element's result depends only on its value: the scalar functions
//! (the evaluator's constant folding and any caller of one element) and
//! the slice functions (vector body or tail, AVX2 or not, any chunking or
//! thread count) run the same IEEE operations in the same order. There is
//! no FMA anywhere (`mul_add` would be a libm call without it), and the
//! integer tricks are exact. The one branch is `sin`/`cos` past 2^20,
//! where both paths hand the element to the libm (see [`trig`]).
//!
//! # Accuracy
//! Bounds against the exact value, as measured: over every `f32` (`sin`
//! and `cos` up to 2^20) against the libm's `f64` functions, and over
//! two million random `f64`s against the libm (itself within about half
//! an ULP); the tests hold every function to 2 ULP.
//! - `exp`: `f32` 0.96 ULP, `f64` 1 ULP from the libm. Overflow gives inf
//!   and underflow rounds once to a subnormal or 0; exp(-inf) = 0.
//! - `ln`: `f32` 0.84 ULP, `f64` 1 ULP from the libm, on every positive
//!   value, subnormals included; ln(0) = -inf, ln(negative) = NaN.
//! - `sin`, `cos`: `f32` 0.92 ULP, `f64` 1 ULP from the libm, for
//!   `|x| <= 2^20`; beyond that they are the libm's; sin(inf) = NaN.
//! - `tanh`: `f32` 0.5 ULP (computed in `f64`), `f64` 1.02 ULP from the
//!   exact value (2 from the libm); tanh(+-inf) = +-1.
//! - `pow`: `f32` 0.5 ULP (computed in `f64`), `f64` 1 ULP from the libm,
//!   for positive `x` and normal results. The special values are C99's
//!   (`pow(x, 0) = 1`, `pow(1, y) = 1`, signs of odd integer powers of
//!   negative numbers, NaN for a negative base and a non-integer
//!   exponent, ...).
//! - NaN in gives NaN out (its sign and payload unspecified).

mod exact;
mod exp_log;
#[macro_use]
mod slices;
mod tanh_pow;
#[cfg(test)]
mod tests;
mod trig;

/// A function of one float argument computed here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    Exp,
    Ln,
    Sin,
    Cos,
    Tanh,
}

/// The functions for one float type, per element and over slices; an
/// element gives the same bits either way.
pub(crate) trait Transcendental: Copy {
    /// `f(self)`.
    fn apply(self, f: Function) -> Self;
    /// `self` to the power `y`.
    fn pow(self, y: Self) -> Self;
    /// `out[i] = f(xs[i])`; the lengths must match.
    fn apply_slice(f: Function, xs: &[Self], out: &mut [Self]);
    /// `out[i] = pow(xs[i], ys[i])`; the lengths must match.
    fn pow_slices(xs: &[Self], ys: &[Self], out: &mut [Self]);
    /// `out[i] = pow(xs[i], y)`.
    fn pow_slice_scalar(xs: &[Self], y: Self, out: &mut [Self]);
    /// `out[i] = pow(x, ys[i])`.
    fn pow_scalar_slice(x: Self, ys: &[Self], out: &mut [Self]);
}

macro_rules! transcendental {
    ($t:ident, $exp:path, $ln:path, $sin:path, $cos:path, $sin_near:path, $cos_near:path, $tanh:path, $pow:path) => {
        impl Transcendental for $t {
            #[inline(always)]
            fn apply(self, f: Function) -> Self {
                match f {
                    Function::Exp => $exp(self),
                    Function::Ln => $ln(self),
                    Function::Sin => $sin(self),
                    Function::Cos => $cos(self),
                    Function::Tanh => $tanh(self),
                }
            }
            #[inline(always)]
            fn pow(self, y: Self) -> Self {
                $pow(self, y)
            }
            fn apply_slice(f: Function, xs: &[Self], out: &mut [Self]) {
                debug_assert_eq!(xs.len(), out.len());
                // Past FAR (and for infinities) the scalar function takes
                // the libm's branch; the kernels' results there are replaced.
                let far = |x: $t| f64::from(x.abs()) > trig::FAR;
                match f {
                    Function::Exp => slices::map(xs, out, $exp),
                    Function::Ln => slices::map(xs, out, $ln),
                    Function::Tanh => slices::map(xs, out, $tanh),
                    Function::Sin => {
                        slices::map(xs, out, $sin_near);
                        slices::patch(xs, out, far, $sin);
                    }
                    Function::Cos => {
                        slices::map(xs, out, $cos_near);
                        slices::patch(xs, out, far, $cos);
                    }
                }
            }
            fn pow_slices(xs: &[Self], ys: &[Self], out: &mut [Self]) {
                #[inline(always)]
                fn each(xs: &[$t], ys: &[$t], out: &mut [$t]) {
                    for (o, (&x, &y)) in out.iter_mut().zip(xs.iter().zip(ys)) {
                        *o = $pow(x, y);
                    }
                }
                avx2_or_baseline!(each(xs: &[$t], ys: &[$t], out: &mut [$t]))
            }
            fn pow_slice_scalar(xs: &[Self], y: Self, out: &mut [Self]) {
                #[inline(always)]
                fn each(xs: &[$t], y: $t, out: &mut [$t]) {
                    for (o, &x) in out.iter_mut().zip(xs) {
                        *o = $pow(x, y);
                    }
                }
                avx2_or_baseline!(each(xs: &[$t], y: $t, out: &mut [$t]))
            }
            fn pow_scalar_slice(x: Self, ys: &[Self], out: &mut [Self]) {
                #[inline(always)]
                fn each(x: $t, ys: &[$t], out: &mut [$t]) {
                    for (o, &y) in out.iter_mut().zip(ys) {
                        *o = $pow(x, y);
                    }
                }
                avx2_or_baseline!(each(x: $t, ys: &[$t], out: &mut [$t]))
            }
        }
    };
}

transcendental!(
    f32,
    exp_log::exp_f32,
    exp_log::ln_f32,
    trig::sin_f32,
    trig::cos_f32,
    trig::sin_near_f32,
    trig::cos_near_f32,
    tanh_pow::tanh_f32,
    tanh_pow::pow_f32
);
transcendental!(
    f64,
    exp_log::exp_f64,
    exp_log::ln_f64,
    trig::sin_f64,
    trig::cos_f64,
    trig::sin_near_f64,
    trig::cos_near_f64,
    tanh_pow::tanh_f64,
    tanh_pow::pow_f64
);
