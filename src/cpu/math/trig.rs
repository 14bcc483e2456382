//! `sin` and `cos` for `f32` and `f64`.
//!
//! `x = j pi/2 + r` with `j` the integer nearest `x 2/pi` and
//! `|r| <= pi/4`; then by the quadrant `j mod 4` the result is
//! `sin r`, `cos r`, `-sin r` or `-cos r`, chosen with selects and a sign
//! bit, after computing both polynomials. The reduction is Cody and
//! Waite's with pi/2 split into 33-bit parts, so every `j * part` is exact
//! while `|j| < 2^20`: hence the fast path's bound, `|x| <= 2^20`. There
//! `r` is exact to far below an ULP even where `x` is within 2^-60 of a
//! multiple of pi/2, because the subtractions that cancel are exact and
//! the ones that round are carried as a double-double.
//!
//! Past 2^20 (and for infinities) the kernels' results are meaningless,
//! so the scalar functions, and the slice functions afterwards, take the
//! rare far argument to the system libm's `f64` functions, whose
//! reduction is exact for every argument.
//!
//! `f32` reduces in `f64` (x has 24 bits, so two parts of pi/2 suffice),
//! splits the reduced argument into two `f32`s, and evaluates shorter
//! polynomials in `f32`, eight lanes to an AVX2 vector.

use super::exact::{horner, horner_f32, round_f64, two_sum};

/// The kernels are exact below this; beyond it the libm takes over.
pub(crate) const FAR: f64 = 1_048_576.0;

/// pi/2 as P1 + P2 + P3 + P4: three 33-bit parts and the rest.
const P1: f64 = 1.570_796_326_734_125_6;
const P2: f64 = 6.077_100_506_303_966e-11;
const P3: f64 = 2.022_266_248_711_166_5e-21;
const P4: f64 = 8.478_427_660_368_9e-32;
/// pi/2 - P1 rounded: the second part of `f32`'s shorter reduction.
const P2_F32: f64 = 6.077_100_506_506_192e-11;

/// S(z) = (sin(r) - r) / r^3 with z = r^2 <= (pi/4)^2: error below 2^-56.
const SIN_F64: [f64; 7] = [
    -0.166_666_666_666_666_66,
    0.008_333_333_333_333_331,
    -0.000_198_412_698_412_650_63,
    2.755_731_921_933_731_2e-6,
    -2.505_210_623_180_283_7e-8,
    1.605_853_151_679_775_8e-10,
    -7.586_691_094_197_958e-13,
];
/// C(z) = (cos(r) - 1 + z/2) / z^2: error below 2^-58.
const COS_F64: [f64; 6] = [
    0.041_666_666_666_666_664,
    -0.001_388_888_888_888_739_8,
    2.480_158_729_876_456e-5,
    -2.755_731_727_114_514_4e-7,
    2.087_614_614_655_861e-9,
    -1.138_262_364_747_460_4e-11,
];
/// S(z) and C(z) in `f32`: errors below 2^-27 and 2^-28.
const SIN_F32: [f32; 4] = [-0.166_666_67, 0.008_333_332, -0.000_198_400_87, 2.724_989_6e-6];
const COS_F32: [f32; 3] = [0.041_666_664, -0.001_388_830_2, 2.454_791_7e-5];

/// `(hi, lo, j)`: `x - j pi/2 = hi + lo` to about 2^-110 absolute, for
/// `|x| <= FAR`.
#[inline(always)]
fn reduce_f64(x: f64) -> (f64, f64, i64) {
    let (j, ji) = round_f64(x * std::f64::consts::FRAC_2_PI);
    // Exact: x and j * P1 are within a factor 2 of each other (or j = 0).
    let t = x - j * P1;
    let (h, e) = two_sum(t, -(j * P2));
    let (h, e2) = two_sum(h, -(j * P3));
    let l = (e + e2) - j * P4;
    let (hi, lo) = two_sum(h, l);
    (hi, lo, ji)
}

/// The element of the quadrant table `sin, cos, -sin, -cos` at `q mod 4`.
#[inline(always)]
fn quadrant(q: i64, sin: f64, cos: f64) -> f64 {
    let v = if q & 1 == 0 { sin } else { cos };
    f64::from_bits(v.to_bits() ^ (((q & 2) as u64) << 62))
}

/// sin and cos of the reduced `hi + lo`: `sin(hi + lo) ~ sin hi + lo cos hi`.
#[inline(always)]
fn kernels_f64(hi: f64, lo: f64) -> (f64, f64) {
    let z = hi * hi;
    let sin = hi + (hi * z * horner(z, &SIN_F64) + (lo - 0.5 * z * lo));
    // 1 - z/2 rounds; its rounding error is added back.
    let half_z = 0.5 * z;
    let w = 1.0 - half_z;
    let cos = w + (((1.0 - w) - half_z) + (z * z * horner(z, &COS_F64) - hi * lo));
    (sin, cos)
}

/// sin(x) for `|x| <= FAR` or NaN, within 1 ULP (otherwise unspecified).
#[inline(always)]
pub(super) fn sin_near_f64(x: f64) -> f64 {
    let (hi, lo, j) = reduce_f64(x);
    let (sin, cos) = kernels_f64(hi, lo);
    // The sums lose the sign of a zero.
    if x == 0.0 {
        x
    } else {
        quadrant(j, sin, cos)
    }
}

/// cos(x) for `|x| <= FAR` or NaN, within 1 ULP (otherwise unspecified).
#[inline(always)]
pub(super) fn cos_near_f64(x: f64) -> f64 {
    let (hi, lo, j) = reduce_f64(x);
    let (sin, cos) = kernels_f64(hi, lo);
    quadrant(j.wrapping_add(1), sin, cos)
}

/// sin and cos of `f32`'s reduced argument, and the quadrant. The
/// reduction runs in `f64` (exact but for the last rounding: x has 24
/// bits, j fewer than 20), its result is split into `f32`s `hi + lo`, and
/// the polynomials run in `f32`, eight lanes at a time.
#[inline(always)]
fn sincos_f32(x: f32) -> (f32, f32, i32) {
    let x = f64::from(x);
    let (j, ji) = round_f64(x * std::f64::consts::FRAC_2_PI);
    let r = (x - j * P1) - j * P2_F32;
    let hi = r as f32;
    let lo = (r - f64::from(hi)) as f32;
    let z = hi * hi;
    let sin = hi + (lo + hi * z * horner_f32(z, &SIN_F32));
    // As for `f64`: 1 - z/2 rounds, and its rounding error is added back.
    let half_z = 0.5 * z;
    let w = 1.0 - half_z;
    let cos = w + (((1.0 - w) - half_z) + (z * z * horner_f32(z, &COS_F32) - hi * lo));
    (sin, cos, ji as i32)
}

/// The element of the quadrant table `sin, cos, -sin, -cos` at `q mod 4`.
#[inline(always)]
fn quadrant_f32(q: i32, sin: f32, cos: f32) -> f32 {
    let v = if q & 1 == 0 { sin } else { cos };
    f32::from_bits(v.to_bits() ^ (((q & 2) as u32) << 30))
}

/// sin(x) for `f32` with `|x| <= FAR` or NaN, within 1 ULP.
#[inline(always)]
pub(super) fn sin_near_f32(x: f32) -> f32 {
    let (sin, cos, j) = sincos_f32(x);
    if x == 0.0 {
        x
    } else {
        quadrant_f32(j, sin, cos)
    }
}

/// cos(x) for `f32` with `|x| <= FAR` or NaN, within 1 ULP.
#[inline(always)]
pub(super) fn cos_near_f32(x: f32) -> f32 {
    let (sin, cos, j) = sincos_f32(x);
    quadrant_f32(j.wrapping_add(1), sin, cos)
}

/// sin(x) for `f64`: [`sin_near_f64`], or the libm past [`FAR`].
#[inline(always)]
pub(crate) fn sin_f64(x: f64) -> f64 {
    if x.abs() > FAR {
        x.sin()
    } else {
        sin_near_f64(x)
    }
}

/// cos(x) for `f64`: [`cos_near_f64`], or the libm past [`FAR`].
#[inline(always)]
pub(crate) fn cos_f64(x: f64) -> f64 {
    if x.abs() > FAR {
        x.cos()
    } else {
        cos_near_f64(x)
    }
}

/// sin(x) for `f32`: [`sin_near_f32`], or the libm's `f64` sin past [`FAR`].
#[inline(always)]
pub(crate) fn sin_f32(x: f32) -> f32 {
    if f64::from(x.abs()) > FAR {
        f64::from(x).sin() as f32
    } else {
        sin_near_f32(x)
    }
}

/// cos(x) for `f32`: [`cos_near_f32`], or the libm's `f64` cos past [`FAR`].
#[inline(always)]
pub(crate) fn cos_f32(x: f32) -> f32 {
    if f64::from(x.abs()) > FAR {
        f64::from(x).cos() as f32
    } else {
        cos_near_f32(x)
    }
}
