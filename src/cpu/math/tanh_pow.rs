//! `tanh` and `pow`, built on `exp` and `ln`.
//!
//! tanh: below 1 in magnitude an odd polynomial (there
//! `1 - 2 / (exp(2x) + 1)` would cancel); from 1 on that formula, whose
//! subtraction no longer loses more than a bit.
//!
//! pow: `|x|^y = exp(y ln|x|)`, then the sign and the special cases of
//! C99's `pow` (which Rust's `powf` follows) by selects. An error `d` in
//! `y ln|x|` is a relative error `d` in the result, and `y ln|x|` reaches
//! 745 before the result leaves the `f64` range, so `f64` needs `ln` and
//! the product to about 2^-65: both are carried as double-doubles (the
//! terms of `ln` that round in `f64` are the large ones of its series,
//! `2s + 2/3 s^3`). `f32` only needs 2^-35, which plain `f64` gives.

use super::exact::{fast_two_sum, horner, round_f64, two_prod, two_sum, with_sign_of};
use super::exp_log::{exp_f64, exp_reduced, ln_f64, reduce_ln_f64, LN2_HI, LN2_LO};

/// T(z) = (tanh(x) - x) / x^3 with z = x^2 <= 1: error below 2^-55.
const TANH_F64: [f64; 16] = [
    -0.333_333_333_333_333_3,
    0.133_333_333_333_330_9,
    -0.053_968_253_968_046_37,
    0.021_869_488_529_129_09,
    -0.008_863_235_404_578_283,
    0.003_592_126_679_366_341,
    -0.001_455_824_692_096_494_1,
    0.000_589_979_294_630_005_2,
    -0.000_238_957_052_287_382_25,
    9.646_277_743_313_181e-5,
    -3.838_960_789_314_733_4e-5,
    1.460_613_167_671_537_8e-5,
    -4.987_760_317_520_347e-6,
    1.379_181_449_908_334_2e-6,
    -2.633_077_223_295_933_7e-7,
    2.515_502_365_938_210_5e-8,
];

/// (2 atanh(s) - 2s - 2/3 s^3) / s^5 with z = s^2, on `ln`'s reduced
/// range: error below 2^-55.
const LN_TAIL: [f64; 8] = [
    0.4,
    0.285_714_285_714_293_64,
    0.222_222_222_216_558_85,
    0.181_818_183_353_928_02,
    0.153_845_949_625_184_3,
    0.133_348_046_938_473_1,
    0.117_062_363_394_912_06,
    0.117_231_786_238_765_18,
];
/// 2/3 as a double-double.
const TWO_THIRDS_HI: f64 = 0.666_666_666_666_666_6;
const TWO_THIRDS_LO: f64 = 3.700_743_415_417_188e-17;
const LOG2_E: f64 = std::f64::consts::LOG2_E;

/// tanh(x) for `f64`, within 2 ULP; tanh(+-inf) = +-1.
#[inline(always)]
pub(crate) fn tanh_f64(x: f64) -> f64 {
    let a = x.abs();
    let z = a * a;
    let small = a + a * z * horner(z, &TANH_F64);
    let large = 1.0 - 2.0 / (exp_f64(2.0 * a) + 1.0);
    with_sign_of(if a < 1.0 { small } else { large }, x)
}

/// tanh(x) for `f32`: [`tanh_f64`] rounded once.
#[inline(always)]
pub(crate) fn tanh_f32(x: f32) -> f32 {
    tanh_f64(f64::from(x)) as f32
}

/// ln(x) as a double-double, relative error about 2^-66, for positive
/// finite `x` (anything else gives unspecified values).
#[inline(always)]
fn ln_dd(x: f64) -> (f64, f64) {
    let (k, f) = reduce_ln_f64(x);
    // s = f / (2 + f) as sh + sl; 2 + f as d + dl exactly.
    let d = 2.0 + f;
    let dl = f - (d - 2.0);
    let sh = f / d;
    let (ph, pl) = two_prod(sh, d);
    let sl = (((f - ph) - pl) - sh * dl) / d;
    // u = s^3 and v = u (2/3 + z tail(z)), both double-doubles.
    let (zh, zl) = two_prod(sh, sh);
    let zl = zl + 2.0 * sh * sl;
    let (uh, ul) = two_prod(sh, zh);
    let ul = ul + (sh * zl + sl * zh);
    let cl = TWO_THIRDS_LO + zh * horner(zh, &LN_TAIL);
    let (vh, vl) = two_prod(uh, TWO_THIRDS_HI);
    let vl = vl + (uh * cl + ul * TWO_THIRDS_HI);
    // ln(1 + f) = 2s + v, then plus k ln2 (k * LN2_HI is exact).
    let (a, ae) = fast_two_sum(2.0 * sh, vh);
    let (b, be) = two_sum(k * LN2_HI, a);
    fast_two_sum(b, be + ((ae + (2.0 * sl + vl)) + k * LN2_LO))
}

/// exp(h + l) for a double-double with `|h| <= 1000`.
#[inline(always)]
fn exp_dd(h: f64, l: f64) -> f64 {
    let (n, ni) = round_f64(h * LOG2_E);
    let r = (h - n * LN2_HI) + (l - n * LN2_LO);
    exp_reduced(r, ni)
}

/// |x|^y for `f64` through double-doubles; any `x >= 0` (or NaN) and `y`.
#[inline(always)]
fn magnitude_pow_f64(ax: f64, y: f64) -> f64 {
    let (lh, ll) = ln_dd(ax);
    let finite = ax > 0.0 && ax < f64::INFINITY;
    // Outside (0, inf), ln's own special values: -inf, inf or NaN.
    let special = if ax == 0.0 { f64::NEG_INFINITY } else { ax };
    let lh = if finite { lh } else { special };
    let ll = if finite { ll } else { 0.0 };
    let plain = y * lh;
    let (ph, pl) = two_prod(y, lh);
    let fine = exp_dd(ph, pl + y * ll);
    // Past 1000 the result is 0 or infinite (and two_prod may overflow).
    if plain.abs() <= 1000.0 {
        fine
    } else {
        exp_f64(plain)
    }
}

/// x^y for `f64`: within 2 ULP for positive `x` and normal results, and
/// the special values of C99's `pow`.
#[inline(always)]
pub(crate) fn pow_f64(x: f64, y: f64) -> f64 {
    with_specials(x, y, magnitude_pow_f64(x.abs(), y))
}

/// x^y for `f32`: `exp(y ln|x|)` in `f64`, rounded once.
#[inline(always)]
pub(crate) fn pow_f32(x: f32, y: f32) -> f32 {
    let (x, y) = (f64::from(x), f64::from(y));
    with_specials(x, y, exp_f64(y * ln_f64(x.abs()))) as f32
}

/// `pow(x, y)` from `magnitude = |x|^y`: the sign for a negative `x` and
/// odd integer `y`, NaN for a negative finite `x` and non-integer `y`,
/// and 1 for `y = 0`, `x = 1` and `(-1)^(+-inf)`.
#[inline(always)]
fn with_specials(x: f64, y: f64, magnitude: f64) -> f64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let ay = y.abs();
    // Below 2^52, adding 2^52 rounds to an integer whose parity is the
    // last bit; from 2^52 every float is an integer, odd only below 2^53.
    let shifted = ay + TWO_52;
    let large = ay >= TWO_52;
    let integer = large || shifted - TWO_52 == ay;
    let last_bit = if large { ay.to_bits() } else { shifted.to_bits() } & 1;
    let odd = integer && last_bit == 1 && ay < 2.0 * TWO_52;
    let v = if odd && x.is_sign_negative() { -magnitude } else { magnitude };
    let v = if x < 0.0 && x > f64::NEG_INFINITY && !integer { f64::NAN } else { v };
    let v = if x.abs() == 1.0 && ay == f64::INFINITY { 1.0 } else { v };
    if y == 0.0 || x == 1.0 {
        1.0
    } else {
        v
    }
}
