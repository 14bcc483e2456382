//! Expression jobs: zip of several inputs, errors, fusion, and GPU parity
//! on fixed expressions over random data, odd lengths, NaN and infinities,
//! and inputs larger than one storage binding.

mod common;

use common::{gpu_engine, large_input_lock, random};
use swath::expr::{index, select, var, Expr, REL_BOUND, SIN_COS_ABS_BOUND};
use swath::{DType, Device, Engine, Error, Inputs, Job, Op, Policy, Reduce};

const LENGTHS: [usize; 7] = [0, 1, 255, 256, 257, 4097, 65_537];

fn cpu() -> Engine {
    Engine::builder().policy(Policy::Cpu).build().unwrap()
}

/// The bits of each value, with every NaN as one NaN: the paths agree on
/// which results are NaN, not on their sign or payload.
fn bits(xs: &[f32]) -> Vec<u32> {
    xs.iter().map(|x| if x.is_nan() { f32::NAN.to_bits() } else { x.to_bits() }).collect()
}

#[test]
fn three_zipped_inputs_match_a_hand_written_loop() {
    for n in LENGTHS.into_iter().chain([1 << 20]) {
        let (a, b, c) = (
            random::<f32>("a", n, (-2.0, 2.0)),
            random::<f32>("b", n, (-2.0, 2.0)),
            random::<f32>("c", n, (-2.0, 2.0)),
        );
        let inputs = Inputs::new().with("a", &a).with("b", &b).with("c", &c);
        let got = cpu().eval::<f32>(&(var("a") * var("b") + var("c")), &inputs).unwrap();
        let expected: Vec<f32> = (0..n).map(|i| a[i] * b[i] + c[i]).collect();
        assert_eq!(bits(&got), bits(&expected), "n = {n}");
    }
}

#[test]
fn inputs_of_different_lengths_are_an_error_naming_each() {
    let (a, b) = (vec![1.0f32; 3], vec![1.0f32; 4]);
    let inputs = Inputs::new().with("a", &a).with("b", &b);
    let err = cpu().eval::<f32>(&(var("a") + var("b")), &inputs).unwrap_err();
    assert!(matches!(&err, Error::InputLengths { lengths } if lengths == &[("a".into(), 3), ("b".into(), 4)]));
    assert_eq!(err.to_string(), "inputs differ in length: a has 3, b has 4");
    let job = Job::<f32>::expr_reduce(inputs, var("a"), Reduce::Sum);
    assert!(matches!(cpu().run(&job), Err(Error::InputLengths { .. })));
}

#[test]
fn malformed_and_ill_typed_expressions_are_clear_errors() {
    let x = vec![1i32, 2, 3];
    let inputs = Inputs::new().with("x", &x);
    let cases = [
        ("y + 1", "unknown input `y`; the inputs are: x"),
        ("sqrt(x)", "sqrt is defined for floats only, not i32"),
        ("x + 1.5", "1.5 is used as i32"),
        ("x > 1", "is a condition, not a number"),
        ("f32(x)", "gives f32 but the output is i32"),
        ("x + f32(x)", "differ in type (i32 and f32)"),
        ("select(x, 1, 0)", "not a condition"),
    ];
    for (text, message) in cases {
        let err = cpu().eval::<i32>(&Expr::parse(text).unwrap(), &inputs).unwrap_err();
        assert!(matches!(err, Error::Expr(_)), "{text}: {err:?}");
        assert!(err.to_string().contains(message), "{text}: {err}");
    }
    let mut out = vec![0i32; 2];
    let err = cpu().eval_into(&var("x"), &inputs, &mut out).unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { input: 3, output: 2 }));
}

#[test]
fn chained_maps_fuse_into_one_expression() {
    let xs = random::<f32>("chain", 5000, (0.0, 4.0));
    let job = Job::map(&xs, Op::Square).then(var("y") + 1.0).unwrap().then(var("z").sqrt()).unwrap();
    assert_eq!(job.expression().unwrap().to_string(), "sqrt(sq(x) + 1)");
    let fused = cpu().run(&job).unwrap();
    let expected: Vec<f32> = xs.iter().map(|x| (x * x + 1.0).sqrt()).collect();
    assert_eq!(bits(fused.value.array().unwrap()), bits(&expected));
    let sum = cpu().run(&job.clone().reduced(Reduce::Sum)).unwrap().value.scalar().unwrap();
    assert_eq!(sum, cpu().reduce(&expected, Reduce::Sum).unwrap());

    let reduced = Job::reduce(&xs, Reduce::Sum);
    assert!(matches!(reduced.then(var("x")), Err(Error::Expr(_))));
    assert!(matches!(Job::map(&xs, Op::Abs).then(var("a") + var("b")), Err(Error::Expr(_))));
}

#[test]
fn an_expression_of_the_index_alone_needs_a_length() {
    let ramp = cpu().eval::<f32>(&(index().cast(DType::F32) * 0.5), &Inputs::new().with_len(4)).unwrap();
    assert_eq!(ramp, [0.0, 0.5, 1.0, 1.5]);
    let x = [1u32, 2];
    let err = cpu().eval::<u32>(&index(), &Inputs::new().with_len(3).with("x", &x)).unwrap_err();
    assert!(matches!(err, Error::InputLengths { .. }));
    assert_eq!(cpu().eval::<u32>(&index(), &Inputs::new()).unwrap(), Vec::<u32>::new());
}

/// Integer corner cases, as WGSL defines them: both paths must agree.
fn integer_cases(engine: &Engine, what: &str) {
    let a = [7i32, -7, i32::MIN, i32::MIN, 5, i32::MAX, 0, -1];
    let b = [2i32, 2, -1, 0, 0, 1, 3, i32::MIN];
    let n = 2000;
    let a: Vec<i32> = (0..n).map(|i| a[i % a.len()]).collect();
    let b: Vec<i32> = (0..n).map(|i| b[i % b.len()]).collect();
    let inputs = Inputs::new().with("a", &a).with("b", &b);
    let div = engine.eval::<i32>(&Expr::parse("a / b").unwrap(), &inputs).unwrap();
    let rem = engine.eval::<i32>(&Expr::parse("a % b").unwrap(), &inputs).unwrap();
    let neg = engine.eval::<i32>(&Expr::parse("-a + abs(b)").unwrap(), &inputs).unwrap();
    for i in 0..n {
        let (x, y) = (a[i], b[i]);
        let (d, r) = if y == 0 { (x, 0) } else { (x.wrapping_div(y), x.wrapping_rem(y)) };
        assert_eq!(div[i], d, "{what}: {x} / {y}");
        assert_eq!(rem[i], r, "{what}: {x} % {y}");
        assert_eq!(neg[i], x.wrapping_neg().wrapping_add(y.wrapping_abs()), "{what}: -{x} + abs({y})");
    }
    let f = [0.5f32, -0.5, 1e10, -1e10, 2147483520.0, 3e9, -3.5, 4294967040.0];
    let f: Vec<f32> = (0..n).map(|i| f[i % f.len()]).collect();
    let inputs = Inputs::new().with("f", &f);
    let to_i = engine.eval::<i32>(&Expr::parse("i32(f)").unwrap(), &inputs).unwrap();
    let to_u = engine.eval::<u32>(&Expr::parse("u32(f)").unwrap(), &inputs).unwrap();
    for i in 0..n {
        let x = f[i];
        assert_eq!(to_i[i], x.clamp(-2147483648.0, 2147483520.0) as i32, "{what}: i32({x})");
        assert_eq!(to_u[i], x.clamp(0.0, 4294967040.0) as u32, "{what}: u32({x})");
    }
}

#[test]
fn integer_division_remainder_and_casts_follow_wgsl_on_the_cpu() {
    integer_cases(&cpu(), "cpu");
}

#[test]
fn integer_division_remainder_and_casts_follow_wgsl_on_the_gpu() {
    let Some(gpu) = gpu_engine("integer_division_remainder_and_casts_follow_wgsl_on_the_gpu") else { return };
    integer_cases(&gpu, "gpu");
}

/// Expressions whose results agree bit for bit on both paths.
const EXACT: [&str; 8] = [
    "a * b + c",
    "select(a > b, a - b, c * 2)",
    "min(a, b) - max(b, c) + abs(c)",
    "sq(a - 0.5) * -3 + f32(i % 7)",
    "clamp(a * 10, -1, 1)",
    "f32(a != a) + f32(!(a < b) || c >= 0.25)",
    "f32(f64(a) * f64(b))",
    "-(a + b) * (c - a)",
];

#[test]
fn exact_expressions_are_bit_identical_on_cpu_and_gpu() {
    let Some(gpu) = gpu_engine("exact_expressions_are_bit_identical_on_cpu_and_gpu") else { return };
    let special = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0, f32::MIN_POSITIVE / 4.0];
    for n in LENGTHS {
        let mut a = random::<f32>("a", n, (-3.0, 3.0));
        let (b, c) = (random::<f32>("b", n, (-3.0, 3.0)), random::<f32>("c", n, (-3.0, 3.0)));
        for (k, x) in a.iter_mut().enumerate().filter(|(k, _)| k % 17 == 3) {
            *x = special[k % special.len()];
        }
        let inputs = Inputs::new().with("a", &a).with("b", &b).with("c", &c);
        for text in EXACT {
            let e = Expr::parse(text).unwrap();
            let (on_gpu, on_cpu) = (gpu.eval::<f32>(&e, &inputs).unwrap(), cpu().eval::<f32>(&e, &inputs).unwrap());
            assert_eq!(bits(&on_gpu), bits(&on_cpu), "{text} at n = {n}");
            for reduce in Reduce::ALL.into_iter().filter(|r| n > 0 || r.has_identity()) {
                let g = gpu.eval_reduce::<f32>(&e, &inputs, reduce).unwrap();
                let c = cpu().eval_reduce::<f32>(&e, &inputs, reduce).unwrap();
                assert_eq!(bits(&[g]), bits(&[c]), "{reduce} of {text} at n = {n}");
            }
        }
    }
}

#[test]
fn transcendental_functions_agree_within_the_documented_bound() {
    let Some(gpu) = gpu_engine("transcendental_functions_agree_within_the_documented_bound") else { return };
    let n = 100_003;
    let x = random::<f32>("x", n, (0.01, 8.0));
    let y = random::<f32>("y", n, (-3.0, 3.0));
    let angle = random::<f32>("angle", n, (-std::f64::consts::PI, std::f64::consts::PI));
    let inputs = Inputs::new().with("x", &x).with("y", &y).with("t", &angle);
    let mut worst = Vec::new();
    let cases = [
        ("sqrt(x)", REL_BOUND),
        ("exp(y)", REL_BOUND),
        ("log(x)", REL_BOUND),
        ("tanh(y)", REL_BOUND),
        ("pow(x, y)", REL_BOUND),
        ("x / y", REL_BOUND),
        ("sin(t)", SIN_COS_ABS_BOUND),
        ("cos(t)", SIN_COS_ABS_BOUND),
    ];
    for (text, bound) in cases {
        let e = Expr::parse(text).unwrap();
        let (g, c) = (gpu.eval::<f32>(&e, &inputs).unwrap(), cpu().eval::<f32>(&e, &inputs).unwrap());
        // Relative to max(|cpu|, 1); for sin and cos, whose values are at most 1, that is absolute.
        let error = |i: usize| (g[i] as f64 - c[i] as f64).abs() / (c[i].abs() as f64).max(1.0);
        let max = (0..n).map(error).fold(0.0, f64::max);
        worst.push(format!("{text}: {max:.1e}"));
        assert!(max <= bound, "{text}: GPU and CPU differ by {max:e} (bound {bound:e})");
    }
    println!("largest CPU/GPU differences: {}", worst.join(", "));
}

#[test]
fn zipped_inputs_larger_than_one_binding_match_the_cpu() {
    let Some(gpu) = gpu_engine("zipped_inputs_larger_than_one_binding_match_the_cpu") else { return };
    let _large = large_input_lock();
    // 2^25 + 4099 f32 is 128 MiB + 16 KiB per input: more than one binding.
    let n = (1 << 25) + 4099;
    let a = random::<f32>("big a", n, (-1.0, 1.0));
    let b: Vec<i32> = random::<i32>("big b", n, (-1000.0, 1000.0));
    let inputs = Inputs::new().with("a", &a).with("b", &b);
    let e = Expr::parse("a * f32(b % 10) + f32(i % 3)").unwrap();
    let (on_gpu, on_cpu) = (gpu.eval::<f32>(&e, &inputs).unwrap(), cpu().eval::<f32>(&e, &inputs).unwrap());
    assert!(on_gpu == on_cpu, "map differs");
    drop((on_gpu, on_cpu));
    let g = gpu.eval_reduce::<f32>(&e, &inputs, Reduce::Sum).unwrap();
    let c = cpu().eval_reduce::<f32>(&e, &inputs, Reduce::Sum).unwrap();
    assert_eq!(g.to_bits(), c.to_bits());
    let exact: f64 = (0..n).map(|i| a[i] as f64 * (b[i] % 10) as f64 + (i % 3) as f64).sum();
    assert!((c as f64 - exact).abs() <= 1e-5 * exact.abs().max(1.0), "sum {c} vs f64 {exact}");
}

#[test]
fn expression_jobs_report_where_they_ran() {
    let xs = random::<f32>("where", 1 << 16, (0.0, 1.0));
    let inputs = Inputs::new().with("x", &xs);
    let job = Job::<f32>::expr(inputs, var("x").sq() + 1.0);
    let outcome = cpu().run(&job).unwrap();
    assert_eq!(outcome.device, Device::Cpu);
    assert!(cpu().explain(&job).to_string().contains("policy is cpu"));
    if let Some(gpu) = gpu_engine("expression_jobs_report_where_they_ran") {
        assert_eq!(gpu.run(&job).unwrap().device, Device::Gpu);
        let sine = Job::<f64>::expr(Inputs::new().with("x", &[1.0f64; 4096][..]), var("x").sin());
        let decision = gpu.explain(&sine);
        assert_eq!(decision.device, Device::Cpu, "{decision}");
        assert!(decision.to_string().contains("no GPU kernel for sin on f64"), "{decision}");
    }
}

#[test]
fn relu_from_rust_and_from_text_give_the_same_values() {
    let xs = random::<f32>("relu", 3000, (-1.0, 1.0));
    let inputs = Inputs::new().with("x", &xs);
    let built = select(var("x").gt(0.0), var("x"), 0.0);
    let parsed = Expr::parse("select(x > 0, x, 0)").unwrap();
    assert_eq!(built, parsed);
    let out = cpu().eval::<f32>(&built, &inputs).unwrap();
    assert!(out.iter().zip(&xs).all(|(y, x)| *y == x.max(0.0)));
}

#[test]
fn a_new_constant_reuses_the_compiled_kernel() {
    let Some(gpu) = gpu_engine("a_new_constant_reuses_the_compiled_kernel") else { return };
    let xs = random::<f32>("constants", 4096, (0.0, 1.0));
    let inputs = Inputs::new().with("x", &xs);
    let first = gpu.eval::<f32>(&(var("x") * 2.0 + 1.0), &inputs).unwrap();
    let compiled = gpu.compiled_kernels();
    assert_eq!(compiled, 1);
    let second = gpu.eval::<f32>(&(var("x") * 3.0 + -7.5), &inputs).unwrap();
    assert_eq!(gpu.compiled_kernels(), compiled, "only a constant changed: no new kernel");
    assert!(first.iter().zip(&second).zip(&xs).all(|((a, b), x)| *a == x * 2.0 + 1.0 && *b == x * 3.0 + -7.5));
    gpu.eval::<f32>(&(var("x") * 3.0 / 7.5), &inputs).unwrap();
    assert_eq!(gpu.compiled_kernels(), compiled + 1, "a new operator is a new kernel");
}
