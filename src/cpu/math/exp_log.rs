//! `exp` and `ln` for `f32` and `f64`.
//!
//! exp: `x = n ln2 + r` with `n` the integer nearest `x / ln2` and
//! `|r| <= ln2 / 2`, `r` computed exactly in two steps (Cody and Waite:
//! `ln2` split so that `n * LN2_HI` has no rounding error), then
//! `exp(x) = 2^n (1 + r + r^2 E(r))`. The scaling by 2^n is two exact
//! factors, so overflow gives infinity and underflow rounds once into the
//! subnormals; the input is clamped first, where the result is already
//! infinite or zero, so that `n` stays in range.
//!
//! ln: `x = 2^k (1 + f)` with `1 + f` in [sqrt(1/2), sqrt(2)) taken from
//! the bits (subnormals scaled up first), then with `s = f / (2 + f)`,
//! `ln(1 + f) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R(s^2))`: the large
//! terms are exact and the rounding of `s` only touches the small ones.
//!
//! The polynomials are Chebyshev fits (near-minimax) of the remainder
//! functions `E` and `R / z` on the reduced intervals, made in
//! 80-digit arithmetic for these routines and rounded to the type.

use super::exact::{horner, horner_f32, i64_to_f64, round_f32, round_f64, scale_f32, scale_f64};

/// ln 2 in two parts: the high part has 42 bits, so `n * LN2_HI` is exact
/// for every `|n| <= 2^11`, which covers every exponent of an `f64`.
pub(super) const LN2_HI: f64 = 0.693_147_180_559_890_3;
pub(super) const LN2_LO: f64 = 5.497_923_018_708_371e-14;
const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// ln 2 for `f32`: 16 bits in the high part, `n` up to 2^8.
const LN2_HI_F32: f32 = 0.693_145_75;
const LN2_LO_F32: f32 = 1.428_606_8e-6;
const LOG2_E_F32: f32 = std::f32::consts::LOG2_E;

/// E(r) = (exp(r) - 1 - r) / r^2 on |r| <= ln2 / 2, error below 2^-58.
const EXP_F64: [f64; 11] = [
    0.5,
    0.166_666_666_666_666_7,
    0.041_666_666_666_666_67,
    0.008_333_333_333_326_136,
    0.001_388_888_888_888_387_8,
    0.000_198_412_698_748_206_27,
    2.480_158_732_530_167_3e-5,
    2.755_725_540_020_642_2e-6,
    2.755_727_384_793_275_3e-7,
    2.510_521_700_472_074_5e-8,
    2.091_462_497_159_796_5e-9,
];

/// E(r) for `f32`, error below 2^-27.
const EXP_F32: [f32; 6] = [0.5, 0.166_666_67, 0.041_666_467, 0.008_333_310_5, 0.001_393_365, 0.000_198_909_91];

/// R(z) / z, R(z) = (2 atanh(s) - 2 s) / s with z = s^2, on
/// s <= (sqrt(2) - 1) / (sqrt(2) + 1); error below 2^-54.
pub(super) const LN_F64: [f64; 8] = [
    0.666_666_666_666_666_6,
    0.400_000_000_000_008_8,
    0.285_714_285_708_032_3,
    0.222_222_223_918_004_7,
    0.181_817_956_308_847_53,
    0.153_862_402_058_134_78,
    0.132_687_596_685_606_12,
    0.130_867_670_099_481_75,
];

/// R(z) / z for `f32`, error below 2^-25.
const LN_F32: [f32; 4] = [0.666_666_7, 0.400_001_23, 0.285_508_16, 0.233_305_83];

/// exp(x) for `f64`: at most 1 ULP from the exact value (measured
/// against the system libm in the tests).
#[inline(always)]
pub(crate) fn exp_f64(x: f64) -> f64 {
    // exp(710) overflows and exp(-746) rounds to 0; NaN passes.
    let x = if x > 710.0 { 710.0 } else { x };
    let x = if x < -746.0 { -746.0 } else { x };
    let (n, ni) = round_f64(x * LOG2_E);
    let r = (x - n * LN2_HI) - n * LN2_LO;
    exp_reduced(r, ni)
}

/// `2^n exp(r)` for the reduced `|r| <= ln2 / 2` (a little over is fine).
#[inline(always)]
pub(super) fn exp_reduced(r: f64, n: i64) -> f64 {
    scale_f64(1.0 + (r + r * r * horner(r, &EXP_F64)), n)
}

/// exp(x) for `f32`, in `f32` arithmetic (eight lanes to an AVX2 vector).
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    // exp(89) overflows and exp(-104) rounds to 0.
    let x = if x > 89.0 { 89.0 } else { x };
    let x = if x < -104.0 { -104.0 } else { x };
    let (n, ni) = round_f32(x * LOG2_E_F32);
    let r = (x - n * LN2_HI_F32) - n * LN2_LO_F32;
    scale_f32(1.0 + (r + r * r * horner_f32(r, &EXP_F32)), ni)
}

/// `(k, f)` with `x = 2^k (1 + f)` and `1 + f` in [sqrt(1/2), sqrt(2)),
/// for positive finite `x` (anything else gives unspecified values).
#[inline(always)]
pub(super) fn reduce_ln_f64(x: f64) -> (f64, f64) {
    const SQRT_HALF: u64 = 0x3fe6_a09e_667f_3bcd;
    // Subnormals are scaled into the normal range by 2^54, exactly.
    let subnormal = x < f64::MIN_POSITIVE;
    let x = if subnormal { x * 18_014_398_509_481_984.0 } else { x };
    // Subtracting sqrt(1/2)'s bits puts 1 + f's exponent at zero.
    let t = x.to_bits().wrapping_sub(SQRT_HALF);
    // The exponent field is signed; sign-extending it from 12 bits (a
    // logical shift, an xor and a subtraction) is what `as i64 >> 52`
    // gives, without the 64-bit arithmetic shift AVX2 lacks (which made
    // LLVM leave `pow` on `f32` a scalar loop).
    let k = (((t >> 52) ^ 0x800) as i64).wrapping_sub(0x800 + if subnormal { 54 } else { 0 });
    let m = f64::from_bits((t & ((1 << 52) - 1)).wrapping_add(SQRT_HALF));
    (i64_to_f64(k), m - 1.0)
}

/// ln(x) for `f64`: at most 1 ULP from the exact value; ln(0) = -inf,
/// ln(negative) = NaN, ln(inf) = inf.
#[inline(always)]
pub(crate) fn ln_f64(x: f64) -> f64 {
    let (k, f) = reduce_ln_f64(x);
    let s = f / (2.0 + f);
    let z = s * s;
    let half_f2 = 0.5 * f * f;
    let r = z * horner(z, &LN_F64);
    let v = k * LN2_HI + (f - (half_f2 - (s * (half_f2 + r) + k * LN2_LO)));
    let v = if x == f64::INFINITY { x } else { v };
    let v = if x == 0.0 { f64::NEG_INFINITY } else { v };
    if x < 0.0 || x.is_nan() {
        f64::NAN
    } else {
        v
    }
}

/// ln(x) for `f32`, in `f32` arithmetic, with [`ln_f64`]'s special values.
#[inline(always)]
pub(crate) fn ln_f32(x: f32) -> f32 {
    const SQRT_HALF: u32 = 0x3f35_04f3;
    // Subnormals are scaled by 2^25.
    let subnormal = x < f32::MIN_POSITIVE;
    let xs = if subnormal { x * 33_554_432.0 } else { x };
    let t = xs.to_bits().wrapping_sub(SQRT_HALF);
    let k = ((t as i32) >> 23).wrapping_sub(if subnormal { 25 } else { 0 }) as f32;
    let f = f32::from_bits((t & ((1 << 23) - 1)).wrapping_add(SQRT_HALF)) - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let half_f2 = 0.5 * f * f;
    let r = z * horner_f32(z, &LN_F32);
    let v = k * LN2_HI_F32 + (f - (half_f2 - (s * (half_f2 + r) + k * LN2_LO_F32)));
    let v = if x == f32::INFINITY { x } else { v };
    let v = if x == 0.0 { f32::NEG_INFINITY } else { v };
    if x < 0.0 || x.is_nan() {
        f32::NAN
    } else {
        v
    }
}
