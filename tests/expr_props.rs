//! Property tests: random expression trees over random inputs give the same
//! values on the CPU and the GPU, within the accuracy contract of
//! `swath::expr` (bit for bit for the exact operations used here), and the
//! same values as an independent per-element evaluation on the CPU.

mod common;
#[path = "expr_props/transcendental.rs"]
mod transcendental;

use proptest::prelude::*;
use swath::expr::{index, lit, select, var, Binary, Expr, Unary};
use swath::{DType, Engine, Inputs, Reduce};

fn gpu() -> Option<&'static Engine> {
    common::shared_gpu_engine("expr_props (CPU/GPU parity of random expressions)")
}

fn cpu() -> &'static Engine {
    common::shared_cpu_engine()
}

/// Operations whose float results are correctly rounded on both paths.
const EXACT_BINARY: [Binary; 5] = [Binary::Add, Binary::Sub, Binary::Mul, Binary::Min, Binary::Max];
const EXACT_UNARY: [Unary; 3] = [Unary::Neg, Unary::Abs, Unary::Square];
const COMPARISONS: [Binary; 6] = [Binary::Lt, Binary::Le, Binary::Gt, Binary::Ge, Binary::Eq, Binary::Ne];

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        3 => Just(var("a")),
        3 => Just(var("b")),
        1 => Just(index().cast(DType::F32)),
        2 => (-8i32..8).prop_map(|k| lit(k as f64 * 0.25)),
    ]
}

/// Float-valued trees of exact operations, selects and round-trips through f64.
fn exact_tree() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), proptest::sample::select(EXACT_UNARY.to_vec())).prop_map(|(a, op)| a.unary(op)),
            (inner.clone(), inner.clone(), proptest::sample::select(EXACT_BINARY.to_vec()))
                .prop_map(|(a, b, op)| a.binary(op, b)),
            (
                inner.clone(),
                inner.clone(),
                inner.clone(),
                inner.clone(),
                proptest::sample::select(COMPARISONS.to_vec())
            )
                .prop_map(|(p, q, a, b, op)| select(p.binary(op, q), a, b)),
            inner.clone().prop_map(|a| a.cast(DType::F64).cast(DType::F32)),
        ]
    })
}

/// Integer-valued trees: wrapping arithmetic, WGSL division and remainder.
fn int_tree() -> impl Strategy<Value = Expr> {
    let leaf =
        prop_oneof![Just(var("a")), Just(var("b")), Just(index().cast(DType::I32)), (-5i32..5).prop_map(Expr::from)];
    let ops = vec![Binary::Add, Binary::Sub, Binary::Mul, Binary::Div, Binary::Rem, Binary::Min, Binary::Max];
    leaf.prop_recursive(4, 24, 2, move |inner| {
        prop_oneof![
            (inner.clone(), proptest::sample::select(EXACT_UNARY.to_vec())).prop_map(|(a, op)| a.unary(op)),
            (inner.clone(), inner.clone(), proptest::sample::select(ops.clone()))
                .prop_map(|(a, b, op)| a.binary(op, b)),
        ]
    })
}

/// Random finite floats with signed zeros and subnormals mixed in. No NaN
/// or infinity: WGSL lets a GPU compiler assume they never occur (Mesa
/// folds `b - b` to 0), so the contract covers finite values only, and
/// zeros equal whatever their sign (Mesa folds `a + a - a` to `a`).
fn floats(n: usize) -> impl Strategy<Value = Vec<f32>> {
    let special = prop_oneof![Just(-0.0f32), Just(0.0f32), Just(f32::MIN_POSITIVE / 8.0), Just(-1e-40f32)];
    proptest::collection::vec(prop_oneof![8 => -4.0f32..4.0, 1 => special], n)
}

/// A tree and two inputs of one length: short (serial CPU path) or long
/// enough for the parallel path and several GPU workgroups.
fn float_case() -> impl Strategy<Value = (Expr, Vec<f32>, Vec<f32>)> {
    prop_oneof![1usize..300, 20_000usize..40_000].prop_flat_map(|n| (exact_tree(), floats(n), floats(n)))
}

fn same_floats(got: &[f32], expected: &[f32]) -> bool {
    got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .all(|(g, e)| g.to_bits() == e.to_bits() || (g.is_nan() && e.is_nan()) || (*g == 0.0 && *e == 0.0))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn exact_float_expressions_agree_bit_for_bit((e, a, b) in float_case()) {
        let n = a.len();
        let inputs = Inputs::new().with("a", &a).with("b", &b);
        let on_cpu = cpu().eval::<f32>(&e, &inputs).unwrap();
        prop_assert_eq!(on_cpu.len(), n);
        if let Some(gpu) = gpu() {
            let on_gpu = gpu.eval::<f32>(&e, &inputs).unwrap();
            prop_assert!(same_floats(&on_gpu, &on_cpu), "{e}: GPU {:?} vs CPU {:?}", &on_gpu[..n.min(8)], &on_cpu[..n.min(8)]);
            for reduce in Reduce::ALL {
                let (g, c) = (gpu.eval_reduce::<f32>(&e, &inputs, reduce).unwrap(), cpu().eval_reduce::<f32>(&e, &inputs, reduce).unwrap());
                prop_assert!(same_floats(&[g], &[c]), "{reduce} of {e}: GPU {g} vs CPU {c}");
            }
        }
        // Fusion changes nothing: the fused reduction equals reducing the mapped array.
        let fused = cpu().eval_reduce::<f32>(&e, &inputs, Reduce::Sum).unwrap();
        let unfused = cpu().reduce(&on_cpu, Reduce::Sum).unwrap();
        prop_assert!(same_floats(&[fused], &[unfused]), "{e}: fused {fused} vs {unfused}");
    }

    #[test]
    fn integer_expressions_agree_exactly(e in int_tree(), a in proptest::collection::vec(any::<i32>(), 1..2000), shift in 0u32..31) {
        let b: Vec<i32> = a.iter().rev().map(|x| x >> shift).collect();
        let inputs = Inputs::new().with("a", &a).with("b", &b);
        let on_cpu = cpu().eval::<i32>(&e, &inputs).unwrap();
        if let Some(gpu) = gpu() {
            prop_assert_eq!(gpu.eval::<i32>(&e, &inputs).unwrap(), on_cpu.clone(), "{}", e);
            prop_assert_eq!(gpu.eval_reduce::<i32>(&e, &inputs, Reduce::Sum).unwrap(), cpu().eval_reduce::<i32>(&e, &inputs, Reduce::Sum).unwrap());
        }
        let fused = cpu().eval_reduce::<i32>(&e, &inputs, Reduce::Max).unwrap();
        prop_assert_eq!(fused, on_cpu.iter().copied().max().unwrap());
    }
}

/// Any tree over inputs of two types, literals, `i`, conditions, every
/// function and every cast: most are ill-typed.
fn any_tree() -> impl Strategy<Value = Expr> {
    let leaf =
        prop_oneof![Just(var("a")), Just(var("n")), Just(index()), (-4i32..4).prop_map(|k| lit(k as f64 * 0.5)),];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), proptest::sample::select(Unary::ALL.to_vec())).prop_map(|(a, op)| a.unary(op)),
            (inner.clone(), inner.clone(), proptest::sample::select(Binary::ALL.to_vec()))
                .prop_map(|(a, b, op)| a.binary(op, b)),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| select(c, a, b)),
            (inner.clone(), proptest::sample::select(DType::ALL.to_vec())).prop_map(|(a, t)| a.cast(t)),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Type checking takes any tree without a panic, and a tree it accepts
    /// evaluates without one, for every output type.
    #[test]
    fn any_tree_is_checked_without_a_panic(expr in any_tree()) {
        let (a, n) = ([0.5f32, -1.5, 2.0], [3i32, -7, 0]);
        let inputs = Inputs::new().with("a", &a).with("n", &n);
        for output in DType::ALL {
            let checked = expr.check(&[("a", DType::F32), ("n", DType::I32)], output);
            let evaluated = match output {
                DType::F32 => cpu().eval::<f32>(&expr, &inputs).map(drop),
                DType::F64 => cpu().eval::<f64>(&expr, &inputs).map(drop),
                DType::I32 => cpu().eval::<i32>(&expr, &inputs).map(drop),
                DType::U32 => cpu().eval::<u32>(&expr, &inputs).map(drop),
            };
            prop_assert_eq!(checked.is_ok(), evaluated.is_ok(), "{} as {}", expr, output);
        }
    }
}
