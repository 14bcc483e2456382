//! [`Num`]: element operations on the four number types, with the
//! semantics of the GPU lowering (WGSL as naga compiles it).

use super::kernels::map1;
use super::lane::{Arg, Lane};
use crate::cpu::math::{Function, Transcendental};
use crate::dtype::Element;
use crate::expr::Unary;

/// The element operations the evaluator needs beyond [`Element`]'s own
/// arithmetic (`+ *`, neg, abs, NaN-propagating min/max, shared with the
/// single-op CPU path): `-`, `/`, `%`, the float functions and the casts,
/// whose edge cases follow the GPU, not Rust.
pub(super) trait Num: Lane + Element {
    fn sub(self, b: Self) -> Self;
    /// Integers: `a / 0 == a`, `MIN / -1 == MIN`, else truncating.
    fn div(self, b: Self) -> Self;
    /// Floats: `fmod`. Integers: `a % 0 == 0`, `MIN % -1 == 0`.
    fn rem(self, b: Self) -> Self;

    /// The float-only functions over a chunk. `Program::compile` rejects
    /// them on integers, so the integer versions are unreachable.
    fn float_unary(op: Unary, a: Arg<'_, Self>, out: &mut [Self]);
    /// `pow` over a chunk (floats only, like `float_unary`).
    fn pow(a: Arg<'_, Self>, b: Arg<'_, Self>, out: &mut [Self]);

    /// Conversions to this type: true is 1.
    fn of_bool(c: bool) -> Self;
    fn of_f32(x: f32) -> Self;
    fn of_f64(x: f64) -> Self;
    fn of_i32(x: i32) -> Self;
    fn of_u32(x: u32) -> Self;
}

macro_rules! float_num {
    ($t:ident) => {
        impl Num for $t {
            #[inline(always)]
            fn sub(self, b: Self) -> Self {
                self - b
            }
            #[inline(always)]
            fn div(self, b: Self) -> Self {
                self / b
            }
            #[inline(always)]
            fn rem(self, b: Self) -> Self {
                self % b
            }
            fn float_unary(op: Unary, a: Arg<'_, Self>, out: &mut [Self]) {
                match op {
                    Unary::Sqrt => map1(a, out, $t::sqrt),
                    Unary::Exp => transcendental(Function::Exp, a, out),
                    Unary::Log => transcendental(Function::Ln, a, out),
                    Unary::Sin => transcendental(Function::Sin, a, out),
                    Unary::Cos => transcendental(Function::Cos, a, out),
                    Unary::Tanh => transcendental(Function::Tanh, a, out),
                    // A NaN is quieted as arithmetic quiets it (`x + x`):
                    // AVX's `roundps` quiets a signalling NaN, while the
                    // libm's `floorf`, called where the baseline CPU has
                    // no rounding instruction, returns it as it is.
                    Unary::Floor => map1(a, out, |x: $t| if x.is_nan() { x + x } else { x.floor() }),
                    Unary::Ceil => map1(a, out, |x: $t| if x.is_nan() { x + x } else { x.ceil() }),
                    Unary::Round => map1(a, out, |x: $t| if x.is_nan() { x + x } else { x.round_ties_even() }),
                    Unary::Neg | Unary::Not | Unary::Abs | Unary::Square => {
                        unreachable!("{} is not a float-only function", op.name())
                    }
                }
            }
            fn pow(a: Arg<'_, Self>, b: Arg<'_, Self>, out: &mut [Self]) {
                match (a, b) {
                    (Arg::Slice(a), Arg::Slice(b)) => $t::pow_slices(a, b, out),
                    (Arg::Slice(a), Arg::Scalar(b)) => $t::pow_slice_scalar(a, b, out),
                    (Arg::Scalar(a), Arg::Slice(b)) => $t::pow_scalar_slice(a, b, out),
                    (Arg::Scalar(a), Arg::Scalar(b)) => out.fill(Transcendental::pow(a, b)),
                }
            }
            #[inline(always)]
            fn of_bool(c: bool) -> Self {
                $t::from(u8::from(c))
            }
            // Between floats and from integers, Rust's `as` rounds to
            // nearest, as WGSL's conversions do.
            #[inline(always)]
            fn of_f32(x: f32) -> Self {
                x as $t
            }
            #[inline(always)]
            fn of_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn of_i32(x: i32) -> Self {
                x as $t
            }
            #[inline(always)]
            fn of_u32(x: u32) -> Self {
                x as $t
            }
        }
    };
}

/// `$f32_range` and `$f64_range` are the values each float type can
/// represent inside the integer's range: naga clamps a float to them
/// before converting, so `i32(3e9f)` is 2147483520, not `i32::MAX`.
macro_rules! int_num {
    ($t:ident, f32_range: $lo32:expr, $hi32:expr, f64_range: $lo64:expr, $hi64:expr) => {
        impl Num for $t {
            #[inline(always)]
            fn sub(self, b: Self) -> Self {
                self.wrapping_sub(b)
            }
            #[inline(always)]
            fn div(self, b: Self) -> Self {
                if b == 0 {
                    self
                } else {
                    self.wrapping_div(b)
                }
            }
            #[inline(always)]
            fn rem(self, b: Self) -> Self {
                if b == 0 {
                    0
                } else {
                    self.wrapping_rem(b)
                }
            }
            fn float_unary(op: Unary, _: Arg<'_, Self>, _: &mut [Self]) {
                unreachable!("Program::compile allows {} on floats only", op.name())
            }
            fn pow(_: Arg<'_, Self>, _: Arg<'_, Self>, _: &mut [Self]) {
                unreachable!("Program::compile allows pow on floats only")
            }
            #[inline(always)]
            fn of_bool(c: bool) -> Self {
                $t::from(c)
            }
            // Clamping leaves NaN as it is, and `as` turns NaN into 0.
            #[inline(always)]
            fn of_f32(x: f32) -> Self {
                x.clamp($lo32, $hi32) as $t
            }
            #[inline(always)]
            fn of_f64(x: f64) -> Self {
                x.clamp($lo64, $hi64) as $t
            }
            // Between integer types, `as` keeps the bits (wraps).
            #[inline(always)]
            #[allow(clippy::unnecessary_cast)]
            fn of_i32(x: i32) -> Self {
                x as $t
            }
            #[inline(always)]
            #[allow(clippy::unnecessary_cast)]
            fn of_u32(x: u32) -> Self {
                x as $t
            }
        }
    };
}

/// `out[j] = f(a[j])` with the vectorised functions of [`crate::cpu::math`].
fn transcendental<T: Transcendental>(f: Function, a: Arg<'_, T>, out: &mut [T]) {
    match a {
        Arg::Slice(xs) => T::apply_slice(f, xs, out),
        Arg::Scalar(x) => out.fill(x.apply(f)),
    }
}

float_num!(f32);
float_num!(f64);
int_num!(i32, f32_range: -2147483648.0, 2147483520.0, f64_range: -2147483648.0, 2147483647.0);
int_num!(u32, f32_range: 0.0, 4294967040.0, f64_range: 0.0, 4294967295.0);
