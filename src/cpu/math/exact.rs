//! Exact building blocks shared by the functions: rounding to an integer
//! with the shifter trick, powers of two made from bits, polynomials in
//! Horner form, and the error-free sum and product of double-double
//! arithmetic (written without FMA, which the scalar path may not have).
//!
//! Everything here is IEEE `+ - * /`, comparisons and integer operations
//! on the bits, so it vectorises and gives the same bits in every lane
//! width. Integer arithmetic wraps: a NaN's bits pass through the same
//! code as any other lane's and must not trip an overflow check.

/// 1.5 * 2^52: adding it rounds an `f64` below 2^51 in magnitude to an
/// integer (ties to even), which then sits in the low bits of the sum.
const SHIFT_F64: f64 = 6_755_399_441_055_744.0;
/// 1.5 * 2^23, the same for `f32` below 2^22.
const SHIFT_F32: f32 = 12_582_912.0;
/// 2^27 + 1: multiplying by it splits a double into two 26-bit halves.
const SPLITTER: f64 = 134_217_729.0;

/// The integer nearest `v` (ties to even) as a float and as an integer,
/// for `|v| < 2^51`. A NaN gives NaN and an unspecified integer.
#[inline(always)]
pub(super) fn round_f64(v: f64) -> (f64, i64) {
    let shifted = v + SHIFT_F64;
    (shifted - SHIFT_F64, shifted.to_bits().wrapping_sub(SHIFT_F64.to_bits()) as i64)
}

/// [`round_f64`] for `f32`, for `|v| < 2^22`.
#[inline(always)]
pub(super) fn round_f32(v: f32) -> (f32, i32) {
    let shifted = v + SHIFT_F32;
    (shifted - SHIFT_F32, shifted.to_bits().wrapping_sub(SHIFT_F32.to_bits()) as i32)
}

/// `k` as an `f64`, exactly, for `|k| < 2^51`: the inverse of the
/// shifter, since AVX2 has no 64-bit integer to float conversion.
#[inline(always)]
pub(super) fn i64_to_f64(k: i64) -> f64 {
    f64::from_bits(SHIFT_F64.to_bits().wrapping_add(k as u64)) - SHIFT_F64
}

/// `p * 2^n`, rounded once, for `n` in [-2044, 2046]: 2^n is made of two
/// normal factors; the first product is exact, the second rounds (to an
/// infinity, a subnormal or zero where the result is out of range).
#[inline(always)]
pub(super) fn scale_f64(p: f64, n: i64) -> f64 {
    // floor(n / 2) with a logical shift of the positive `n + 4096`: AVX2
    // has no 64-bit arithmetic shift.
    let half = ((n.wrapping_add(4096) as u64) >> 1) as i64 - 2048;
    let pow2 = |e: i64| f64::from_bits((e.wrapping_add(1023) as u64) << 52);
    p * pow2(half) * pow2(n.wrapping_sub(half))
}

/// [`scale_f64`] for `f32`, `n` in [-252, 254].
#[inline(always)]
pub(super) fn scale_f32(p: f32, n: i32) -> f32 {
    let half = n >> 1;
    let pow2 = |e: i32| f32::from_bits((e.wrapping_add(127) as u32) << 23);
    p * pow2(half) * pow2(n.wrapping_sub(half))
}

/// `c[0] + x * (c[1] + x * (...))`.
#[inline(always)]
pub(super) fn horner<const N: usize>(x: f64, c: &[f64; N]) -> f64 {
    let mut acc = c[N - 1];
    for &k in c[..N - 1].iter().rev() {
        acc = acc * x + k;
    }
    acc
}

/// [`horner`] in `f32`.
#[inline(always)]
pub(super) fn horner_f32<const N: usize>(x: f32, c: &[f32; N]) -> f32 {
    let mut acc = c[N - 1];
    for &k in c[..N - 1].iter().rev() {
        acc = acc * x + k;
    }
    acc
}

/// `x` with the sign bit of `sign` added (`x` must be positive or +0).
#[inline(always)]
pub(super) fn with_sign_of(x: f64, sign: f64) -> f64 {
    f64::from_bits(x.to_bits() | (sign.to_bits() & (1 << 63)))
}

/// `(s, e)` with `s = a + b` rounded and `s + e == a + b` exactly
/// (Knuth's two-sum: no condition on the operands' sizes).
#[inline(always)]
pub(super) fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let b_part = s - a;
    (s, (a - (s - b_part)) + (b - b_part))
}

/// [`two_sum`] when `|a| >= |b|` (or `a` is zero): three operations.
#[inline(always)]
pub(super) fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a` as two halves of at most 26 bits each, whose products are exact
/// (Veltkamp), for `|a| < 2^995`.
#[inline(always)]
fn split(a: f64) -> (f64, f64) {
    let c = SPLITTER * a;
    let high = c - (c - a);
    (high, a - high)
}

/// `(p, e)` with `p = a * b` rounded and `p + e == a * b` exactly
/// (Dekker), for operands and product far from overflow and underflow.
#[inline(always)]
pub(super) fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}
