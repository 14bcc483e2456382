//! Accuracy against the system libm (for `f32`, its `f64` functions,
//! which are exact to far below an `f32` ULP), the special values, and
//! the same bits from the slice functions as from the scalar ones.
//! Sweeps over every `f32` are `#[ignore]`d: run them with
//! `cargo test --release --lib cpu::math -- --ignored`.

use super::{Function, Transcendental};

const FUNCTIONS: [Function; 5] = [Function::Exp, Function::Ln, Function::Sin, Function::Cos, Function::Tanh];

/// The documented bound for every function and type.
const MAX_ULPS: f64 = 2.0;

fn libm(f: Function, x: f64) -> f64 {
    match f {
        Function::Exp => x.exp(),
        Function::Ln => x.ln(),
        Function::Sin => x.sin(),
        Function::Cos => x.cos(),
        Function::Tanh => x.tanh(),
    }
}

/// The gap between the `f32`s around `v` (the smallest subnormal's for
/// tiny `v`), so `|got - exact| / ulp` is an error in ULPs.
fn ulp_f32(v: f64) -> f64 {
    let a = v.abs().max(f64::from(f32::MIN_POSITIVE));
    let e = a.log2().floor();
    2f64.powf(e - 23.0)
}

/// Representable `f64`s between `a` and `b`.
fn ulps_f64(a: f64, b: f64) -> f64 {
    // The bits in an order where adjacent floats differ by one.
    let key = |x: f64| {
        let bits = i128::from(x.to_bits() as i64);
        if bits < 0 {
            i128::from(i64::MIN) - bits
        } else {
            bits
        }
    };
    (key(a) - key(b)).unsigned_abs() as f64
}

/// The error of `got` against `exact` in ULPs of the type, 0 where both
/// are the same special value, infinite where only one is.
fn error_f32(got: f32, exact: f64) -> f64 {
    let rounded = exact as f32;
    if !exact.is_finite() || rounded.is_infinite() || got.is_nan() || got.is_infinite() {
        let same = got.to_bits() == rounded.to_bits() || (got.is_nan() && exact.is_nan());
        return if same { 0.0 } else { f64::INFINITY };
    }
    (f64::from(got) - exact).abs() / ulp_f32(exact)
}

fn error_f64(got: f64, reference: f64) -> f64 {
    if got.is_nan() || reference.is_nan() {
        return if got.is_nan() && reference.is_nan() { 0.0 } else { f64::INFINITY };
    }
    ulps_f64(got, reference)
}

/// Pseudo-random bits (xorshift), the same on every run.
struct Bits(u64);

impl Bits {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [lo, hi).
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// Edge values, then arguments spread over each function's interesting
/// range, then arbitrary bit patterns.
fn arguments(f: Function, n: usize) -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE,
        5e-324,
        1e-310,
        f64::from(f32::MIN_POSITIVE),
        1.4e-45,
        1e-40,
        f64::from(f32::MAX),
        f64::MAX,
        88.72283,
        88.72284,
        -87.33655,
        -103.97,
        -103.98,
        709.782712893384,
        709.7827128933841,
        -708.3964185322641,
        -745.1332191019411,
        -745.1332191019412,
        1e-8,
        0.5493,
        0.9999999,
        1.0000001,
        22.0,
        9.01,
    ];
    for k in -40..=40 {
        let multiple = f64::from(k) * std::f64::consts::FRAC_PI_2;
        v.extend([multiple, multiple.next_up(), multiple.next_down(), f64::from(multiple as f32)]);
    }
    v.extend([1e5, 1e6, 1048576.0, 1048577.0, 1e7, 1e20, 1e300]);
    let mut bits = Bits(0x9e37_79b9_7f4a_7c15 ^ f as u64);
    let (lo, hi) = match f {
        Function::Exp => (-750.0, 720.0),
        Function::Ln => (0.0, 10.0),
        Function::Sin | Function::Cos => (-1e4, 1e4),
        Function::Tanh => (-25.0, 25.0),
    };
    while v.len() < n {
        let x = match v.len() % 4 {
            0 => f64::from_bits(bits.next()),
            1 => f64::from(f32::from_bits(bits.next() as u32)),
            2 => bits.uniform(-4.0, 4.0),
            _ => bits.uniform(lo, hi),
        };
        v.push(x);
    }
    v
}

#[test]
fn f32_functions_within_two_ulps() {
    for f in FUNCTIONS {
        let mut worst = (0.0, 0.0f32);
        for x in arguments(f, 40_000) {
            let x = x as f32;
            let error = error_f32(x.apply(f), libm(f, f64::from(x)));
            if error > worst.0 {
                worst = (error, x);
            }
        }
        assert!(worst.0 <= MAX_ULPS, "{f:?} on f32: {} ULP at {:e}", worst.0, worst.1);
    }
}

#[test]
fn f64_functions_within_two_ulps_of_the_libm() {
    for f in FUNCTIONS {
        let mut worst = (0.0, 0.0);
        for x in arguments(f, 40_000) {
            let error = error_f64(x.apply(f), libm(f, x));
            if error > worst.0 {
                worst = (error, x);
            }
        }
        assert!(worst.0 <= MAX_ULPS, "{f:?} on f64: {} ULP at {:e}", worst.0, worst.1);
    }
}

/// Bases and exponents whose results stay normal, and powers near 1.
fn pow_arguments(n: usize) -> Vec<(f64, f64)> {
    let mut bits = Bits(0x2545_f491_4f6c_dd1d);
    let mut v = vec![(2.0, 0.5), (10.0, -3.0), (1.0000001, 1e7), (0.9999999, -1e7), (1e-300, 1.02), (7.0, 364.0)];
    while v.len() < n {
        let x = (bits.uniform(-700.0, 700.0)).exp();
        // Results between about 2^-1000 and 2^1000.
        let y = bits.uniform(-690.0, 690.0) / x.ln().abs().max(1e-3);
        v.push((x, y));
    }
    v
}

#[test]
fn pow_within_two_ulps() {
    let mut worst = (0.0, 0.0, 0.0);
    for (x, y) in pow_arguments(20_000) {
        let exact = x.powf(y);
        if !exact.is_normal() {
            continue;
        }
        let error = error_f64(Transcendental::pow(x, y), exact);
        if error > worst.0 {
            worst = (error, x, y);
        }
    }
    assert!(worst.0 <= MAX_ULPS, "pow on f64: {} ULP at ({:e}, {:e})", worst.0, worst.1, worst.2);
    let mut worst = (0.0, 0.0, 0.0);
    for (x, y) in pow_arguments(20_000) {
        let (x, y) = (x as f32, y as f32);
        let exact = f64::from(x).powf(f64::from(y));
        if !(exact as f32).is_normal() {
            continue;
        }
        let error = error_f32(Transcendental::pow(x, y), exact);
        if error > worst.0 {
            worst = (error, x, y);
        }
    }
    assert!(worst.0 <= MAX_ULPS, "pow on f32: {} ULP at ({:e}, {:e})", worst.0, worst.1, worst.2);
}

const SPECIAL: [f64; 17] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    2.0,
    -2.0,
    0.5,
    -0.5,
    3.0,
    -3.0,
    2.5,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    9007199254740993.0,
    4503599627370497.0,
    1e300,
];

/// Same bits, or both NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[test]
fn special_values_are_the_libms() {
    for x in SPECIAL.into_iter().chain([-1e300, 1e-310, -1e-310, 800.0, -800.0, 1e-20]) {
        for f in FUNCTIONS {
            // Exact: zeros, infinities, NaN; and what over/underflows.
            let want = libm(f, x);
            if want.is_finite() && want != 0.0 && want.abs() != 1.0 {
                continue;
            }
            assert!(same(x.apply(f), want), "{f:?}({x:e}) on f64: {:e}, want {want:e}", x.apply(f));
            let x32 = x as f32;
            let want = libm(f, f64::from(x32)) as f32;
            assert!(same(f64::from(x32.apply(f)), f64::from(want)), "{f:?}({x32:e}) on f32: want {want:e}");
        }
    }
    for x in SPECIAL {
        for y in SPECIAL {
            let (got, want) = (Transcendental::pow(x, y), x.powf(y));
            // Exact where C99 names the result; elsewhere within the bound.
            assert!(same(got, want) || error_f64(got, want) <= MAX_ULPS, "pow({x:e}, {y:e}) = {got:e}, want {want:e}");
            let (x, y) = (x as f32, y as f32);
            let (got, want) = (Transcendental::pow(x, y), x.powf(y));
            let close = error_f32(got, f64::from(x).powf(f64::from(y))) <= MAX_ULPS;
            assert!(
                same(f64::from(got), f64::from(want)) || close,
                "pow({x:e}, {y:e}) on f32 = {got:e}, want {want:e}"
            );
        }
    }
}

/// Every element of a slice whose length is no multiple of the vector
/// width gets the scalar function's bits, whichever loop ran it.
#[test]
fn slices_give_the_scalar_bits() {
    const N: usize = 1031;
    for f in FUNCTIONS {
        let xs = arguments(f, N);
        let mut out = vec![0.0; N];
        f64::apply_slice(f, &xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            assert!(same(y, x.apply(f)), "{f:?}({x:e}) on f64: slice {y:e}, scalar {:e}", x.apply(f));
        }
        let xs: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
        let mut out = vec![0.0; N];
        f32::apply_slice(f, &xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            assert!(same(f64::from(y), f64::from(x.apply(f))), "{f:?}({x:e}) on f32: slice {y:e}");
        }
    }
    let ys = arguments(Function::Tanh, N);
    let xs: Vec<f64> = arguments(Function::Ln, N).into_iter().rev().collect();
    let mut out = vec![0.0; N];
    f64::pow_slices(&xs, &ys, &mut out);
    for ((&x, &y), &z) in xs.iter().zip(&ys).zip(&out) {
        assert!(same(z, Transcendental::pow(x, y)), "pow({x:e}, {y:e}) on f64: slice {z:e}");
    }
    f64::pow_slice_scalar(&xs, 2.5, &mut out);
    assert!(xs.iter().zip(&out).all(|(&x, &z)| same(z, Transcendental::pow(x, 2.5))));
    f64::pow_scalar_slice(0.75, &ys, &mut out);
    assert!(ys.iter().zip(&out).all(|(&y, &z)| same(z, Transcendental::pow(0.75, y))));
    let (xs, ys): (Vec<f32>, Vec<f32>) = xs.iter().zip(&ys).map(|(&x, &y)| (x as f32, y as f32)).unzip();
    let mut out = vec![0.0f32; N];
    f32::pow_slices(&xs, &ys, &mut out);
    for ((&x, &y), &z) in xs.iter().zip(&ys).zip(&out) {
        assert!(same(f64::from(z), f64::from(Transcendental::pow(x, y))), "pow({x:e}, {y:e}) on f32: slice {z:e}");
    }
}

/// The worst error of `f` over every `f32` (for sin and cos, every one
/// up to 2^20 in magnitude), on all cores.
fn sweep_f32(f: Function) -> (f64, f32) {
    use rayon::prelude::*;
    (0..=u32::MAX >> 16)
        .into_par_iter()
        .map(|high| {
            let mut worst = (0.0, 0.0f32);
            for low in 0..=0xffff {
                let x = f32::from_bits(high << 16 | low);
                // Past FAR, sin and cos are the libm's f64 functions rounded.
                if matches!(f, Function::Sin | Function::Cos) && f64::from(x.abs()) > super::trig::FAR {
                    continue;
                }
                let error = error_f32(x.apply(f), libm(f, f64::from(x)));
                if error > worst.0 {
                    worst = (error, x);
                }
            }
            worst
        })
        .reduce(|| (0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
}

#[test]
#[ignore = "every f32: minutes; run in release"]
fn every_f32_within_two_ulps() {
    for f in FUNCTIONS {
        let (error, x) = sweep_f32(f);
        println!("{f:?} on f32: at most {error:.3} ULP (at {x:e})");
        assert!(error <= MAX_ULPS);
    }
}
