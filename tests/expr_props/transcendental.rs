//! The CPU's transcendental functions through the public API: the same
//! bits on one thread and on two, through the expression evaluator and
//! through the single-op path, and within 2 ULP of the exact value
//! (the libm's `f64` functions for `f32`, the libm itself for `f64`).

use proptest::prelude::*;
use std::sync::OnceLock;
use swath::expr::Expr;
use swath::{Engine, Inputs, Op, Policy};

/// Most ULPs from the exact value the CPU documents for these functions.
const MAX_ULPS: f64 = 2.0;
/// Long enough for several parallel tasks, so two threads split it.
const MIN_LEN: usize = 140_000;

/// CPU engines with one and with two threads.
fn engines() -> &'static [Engine; 2] {
    static ENGINES: OnceLock<[Engine; 2]> = OnceLock::new();
    ENGINES.get_or_init(|| [1, 2].map(|n| Engine::builder().policy(Policy::Cpu).threads(n).build().unwrap()))
}

/// Values from `seed`: a quarter arbitrary bit patterns, the rest spread
/// over [-scale, scale].
fn values(seed: u64, len: usize, scale: f64) -> Vec<f64> {
    let mut state = seed | 1;
    (0..len)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if i % 4 == 0 {
                f64::from(f32::from_bits(state as u32))
            } else {
                ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
            }
        })
        .collect()
}

/// Same bits, or both NaN.
fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Error of `got` against `exact` in `f32` ULPs; 0 for matching specials.
fn ulps(got: f32, exact: f64) -> f64 {
    let rounded = exact as f32;
    if !rounded.is_finite() || !got.is_finite() {
        return if same(got, rounded) { 0.0 } else { f64::INFINITY };
    }
    let ulp = 2f64.powf(exact.abs().max(f64::from(f32::MIN_POSITIVE)).log2().floor() - 23.0);
    (f64::from(got) - exact).abs() / ulp
}

/// `text` over `xs` (and `ys`) on both engines: the same bits, returned once.
fn eval_both(text: &str, xs: &[f32], ys: &[f32]) -> Vec<f32> {
    let expr = Expr::parse(text).unwrap();
    let inputs = Inputs::new().with("x", xs).with("y", ys);
    let [one, two] = engines().each_ref().map(|e| e.eval::<f32>(&expr, &inputs).unwrap());
    for (i, (a, b)) in one.iter().zip(&two).enumerate() {
        assert!(same(*a, *b), "{text} at {i} (x = {:e}): {a:e} on one thread, {b:e} on two", xs[i]);
    }
    one
}

fn check_unary(text: &str, op: Op, exact: fn(f64) -> f64, xs: &[f32]) {
    let got = eval_both(text, xs, xs);
    for engine in engines() {
        let mapped = engine.map(xs, op).unwrap();
        assert!(got.iter().zip(&mapped).all(|(a, b)| same(*a, *b)), "{text}: the op path differs");
    }
    for (&x, &y) in xs.iter().zip(&got) {
        let error = ulps(y, exact(f64::from(x)));
        assert!(error <= MAX_ULPS, "{text} at x = {x:e}: {y:e} is {error} ULP off");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn sin_cos_exp_log_agree_everywhere(seed in any::<u64>(), extra in 0usize..1000) {
        let xs: Vec<f32> = values(seed, MIN_LEN + extra, 100.0).into_iter().map(|x| x as f32).collect();
        check_unary("sin(x)", Op::Sin, f64::sin, &xs);
        check_unary("cos(x)", Op::Cos, f64::cos, &xs);
        check_unary("exp(x)", Op::Exp, f64::exp, &xs);
        check_unary("log(x)", Op::Log, f64::ln, &xs);
    }

    #[test]
    fn pow_agrees_everywhere(seed in any::<u64>(), extra in 0usize..1000) {
        let len = MIN_LEN + extra;
        let xs: Vec<f32> = values(seed, len, 30.0).into_iter().map(|x| x.abs() as f32).collect();
        let ys: Vec<f32> = values(seed ^ 0x5555, len, 8.0).into_iter().map(|y| y as f32).collect();
        let got = eval_both("pow(x, y)", &xs, &ys);
        for ((&x, &y), &z) in xs.iter().zip(&ys).zip(&got) {
            let exact = f64::from(x).powf(f64::from(y));
            let error = ulps(z, exact);
            prop_assert!(error <= MAX_ULPS, "pow({:e}, {:e}) = {:e} is {} ULP off", x, y, z, error);
        }
    }
}

#[test]
fn f64_functions_within_two_ulps_of_the_libm() {
    let xs = values(7, MIN_LEN, 50.0);
    let engine = &engines()[1];
    for (op, exact) in
        [(Op::Sin, f64::sin as fn(f64) -> f64), (Op::Cos, f64::cos), (Op::Exp, f64::exp), (Op::Log, f64::ln)]
    {
        let got = engine.map(&xs, op).unwrap();
        for (&x, &y) in xs.iter().zip(&got) {
            let want = exact(x);
            // Same sign here, so the bits count the floats between.
            let ulps = (y.to_bits() as i64).wrapping_sub(want.to_bits() as i64).unsigned_abs();
            let close = (y.is_nan() && want.is_nan()) || y == want || ulps <= MAX_ULPS as u64;
            assert!(close, "{op} at x = {x:e}: {y:e}, libm {want:e}");
        }
    }
}
