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

/// Arithmetic on a condition is an error even when the other operand is
/// made of numbers only (which take their type from it); on the GPU such
/// a job never reaches the device, so it never counts against its health.
#[test]
fn arithmetic_on_a_condition_is_an_error_whatever_the_other_operand() {
    let x: Vec<f32> = (0..10).map(|k| k as f32 / 10.0).collect();
    let inputs = Inputs::new().with("x", &x);
    let cases = [
        "1 + (x > 0)",
        "min(1, x > 0)",
        "2 - (x >= 0)",
        "(1+2) * (x > 0)",
        "select(1 < (x > 0), 1, 0)",
        "pow(2, x > 0)",
        "select(x > 0.5, 1, 2) + (x > 0.5)",
        "select(x > 0.5, 1, x > 0)",
    ];
    let mut engines = vec![cpu()];
    engines.extend(gpu_engine("arithmetic_on_a_condition_is_an_error_whatever_the_other_operand"));
    for engine in &engines {
        for text in cases {
            let expr = Expr::parse(text).unwrap();
            assert!(matches!(expr.check(&[("x", DType::F32)], DType::F32), Err(Error::Expr(_))), "{text}");
            for _ in 0..4 {
                let err = engine.eval::<f32>(&expr, &inputs).unwrap_err();
                assert!(matches!(err, Error::Expr(_)), "{text}: {err:?}");
            }
        }
        assert!(engine.gpu().is_none() || engine.gpu_healthy(), "user errors leave the GPU healthy");
    }
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
const EXACT: [&str; 11] = [
    "a % b",
    "c % (b * 1e-3)",
    "min(abs(a - 0.3) % 0.07, a % 1e-30)",
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

/// `%` on f64 has no exact GPU code (WGSL has no 64-bit integers), so it
/// runs on the CPU, saying why, whatever the policy.
#[test]
fn the_f64_remainder_runs_on_the_cpu() {
    let Some(gpu) = gpu_engine("the_f64_remainder_runs_on_the_cpu") else { return };
    let (a, b) = (random::<f64>("a", 5000, (-3.0, 3.0)), random::<f64>("b", 5000, (0.1, 1.0)));
    let inputs = Inputs::new().with("a", &a).with("b", &b);
    let job = Job::<f64>::expr(inputs, Expr::parse("a % b").unwrap());
    let outcome = gpu.run(&job).unwrap();
    assert_eq!(outcome.decision.reason, swath::Reason::NoGpuKernel("%", DType::F64), "{}", outcome.decision);
    let want: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a % b).collect();
    assert_eq!(outcome.value.array().unwrap(), want.as_slice());
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

/// The element index `i` is a u32: a job that reads it over more than 2^32
/// elements is an error, never a wrapped index and a wrong answer.
#[test]
fn the_index_past_u32_is_an_error_not_a_wrong_answer() {
    let expr = Expr::parse("select(i == 0, 1, 0)").unwrap();
    let past = u32::MAX as usize + 2;
    for engine in [cpu(), Engine::builder().policy(Policy::Auto).build().unwrap()] {
        let err = engine.eval_reduce::<u32>(&expr, &Inputs::new().with_len(past), Reduce::Sum).unwrap_err();
        assert!(matches!(err, Error::Expr(swath::ExprError::IndexRange { len }) if len == past), "{err}");
    }
    // Up to 2^32 elements `i` is right; a program without `i` has no such limit.
    let fine = Expr::parse("select(i == 0, 1, 0)").unwrap();
    assert_eq!(cpu().eval_reduce::<u32>(&fine, &Inputs::new().with_len(3), Reduce::Sum).unwrap(), 1);
}

/// A float literal too large for f32 is an error, as an out-of-range
/// integer literal is, not an infinity.
#[test]
fn a_float_literal_out_of_range_is_an_error() {
    let x = vec![1.0f32; 4];
    let err = cpu().eval::<f32>(&Expr::parse("x + 1e39").unwrap(), &Inputs::new().with("x", &x)).unwrap_err();
    assert!(matches!(err, Error::Expr(swath::ExprError::LiteralRange { .. })), "{err}");
    assert!(matches!(cpu().map(&x, Op::Add(1e40)), Err(Error::InvalidScalar { .. })));
    let inf = cpu().eval::<f32>(&Expr::parse("x + inf").unwrap(), &Inputs::new().with("x", &x)).unwrap();
    assert_eq!(inf, [f32::INFINITY; 4], "infinity written as such is a value");
    let wide = vec![1.0f64; 4];
    assert_eq!(cpu().eval::<f64>(&Expr::parse("x + 1e39").unwrap(), &Inputs::new().with("x", &wide)).unwrap()[0], 1e39);
}

/// An input name that would not read back from the expression's text is
/// refused, so every expression that runs prints as text that parses to it.
#[test]
fn input_names_that_do_not_read_back_are_refused() {
    let x = vec![1.0f32; 3];
    let long = "y ".repeat(1000);
    for name in ["x y", "sqrt", "i", "inf", "nan", "f32", "select", "1x", "", "x-1", "é", long.as_str()] {
        let inputs = Inputs::new().with(name, &x);
        let err = cpu().eval::<f32>(&(var(name) + 1.0), &inputs).unwrap_err();
        assert!(matches!(&err, Error::Expr(swath::ExprError::InvalidName { .. })), "{name:?}: {err}");
        assert!(err.to_string().len() < 300, "{name:?}: a short message");
    }
    for name in ["x", "_", "x_1", "X2", "sqrt_", "inf2", "is"] {
        let e = var(name) + 1.0;
        let got = cpu().eval::<f32>(&e, &Inputs::new().with(name, &x)).unwrap();
        assert_eq!(got, [2.0; 3], "{name}");
        assert_eq!(Expr::parse(&e.to_string()).unwrap(), e, "{name} reads back");
    }
}

/// Error messages quote at most a short excerpt of the user's text, so a
/// huge number or expression gives a short message.
#[test]
fn error_messages_quote_a_short_excerpt() {
    let digits = "9".repeat(100_000);
    let err = Expr::parse(&format!("x + {digits}")).unwrap_err();
    assert!(err.to_string().len() < 300, "{} bytes", err.to_string().len());
    let err = Expr::parse(&format!("x + {digits}q")).unwrap_err();
    assert!(err.to_string().len() < 300, "{} bytes", err.to_string().len());
    let x = vec![1i32; 3];
    let long = format!("sqrt(x{})", " + x".repeat(500));
    let err = cpu().eval::<i32>(&Expr::parse(&long).unwrap(), &Inputs::new().with("x", &x)).unwrap_err();
    assert!(matches!(err, Error::Expr(_)) && err.to_string().len() < 300, "{err}");
    // Shared subtrees print exponentially long; the excerpt stops early.
    let mut e = var("x");
    for _ in 0..40 {
        e = &e * &e;
    }
    let err = e.check(&[("x", DType::F32)], DType::I32).unwrap_err();
    assert!(err.to_string().len() < 300, "{err}");
}

/// A subtree shared in the tree is compiled and evaluated once: cost grows
/// with the distinct nodes, not with the tree written out (2^40 leaves here).
#[test]
fn shared_subtrees_cost_once() {
    let x: Vec<f32> = (0..1000).map(|k| 1.0 + k as f32 * 1e-9).collect();
    let inputs = Inputs::new().with("x", &x);
    let mut squares = var("x");
    for _ in 0..40 {
        squares = &squares * &squares;
    }
    assert_eq!(squares.inputs(), ["x"]);
    let out = cpu().eval::<f32>(&squares, &inputs).unwrap();
    assert_eq!(out[0], 1.0);
    let mut logistic = var("x") * 0.5;
    for _ in 0..30 {
        logistic = 3.7 * &logistic * (1.0 - &logistic);
    }
    let mut reference = 0.5f32 * x[7];
    for _ in 0..30 {
        reference = 3.7 * reference * (1.0 - reference);
    }
    for engine in std::iter::once(cpu()).chain(gpu_engine("shared_subtrees_cost_once")) {
        let out = engine.eval::<f32>(&logistic, &inputs).unwrap();
        assert!((out[7] - reference).abs() <= 1e-3, "{} vs {reference}", out[7]);
    }
}

/// A program too long to compile for the GPU in reasonable time runs on
/// the CPU, with the reason, whatever the policy.
#[test]
fn a_program_too_long_for_the_gpu_runs_on_the_cpu() {
    let mut e = var("x");
    for k in 0..400 {
        e = e * 1.0 + f64::from(k % 3);
    }
    let x = vec![1.0f32; 2048];
    let Some(engine) = gpu_engine("a_program_too_long_for_the_gpu_runs_on_the_cpu") else { return };
    let job = Job::<f32>::expr(Inputs::new().with("x", &x), e);
    let decision = engine.explain(&job);
    assert!(matches!(decision.reason, swath::Reason::ProgramTooLarge { steps } if steps > 1000), "{decision}");
    let outcome = engine.run(&job).unwrap();
    assert_eq!((outcome.device, outcome.value.array().unwrap()[0]), (Device::Cpu, 400.0));
}

/// A tree built from Rust deeper than `MAX_DEPTH` is measured, printed,
/// compared, searched and dropped without recursion, and is an error when
/// checked or run, on both paths.
#[test]
fn a_tree_of_any_depth_is_an_error_or_handled_never_a_stack_overflow() {
    use swath::expr::MAX_DEPTH;
    let chain = |levels: usize| (0..levels).fold(var("x"), |e, _| e + 1.0);
    let deep = chain(50_000);
    assert_eq!(deep.depth(), 50_000);
    assert!(deep.to_string().len() < 100, "{deep}");
    assert!(deep == deep.clone() && deep == chain(50_000) && deep != chain(49_999));
    assert_eq!(deep.inputs(), ["x"]);
    let x = vec![1.0f32; 2048];
    let inputs = Inputs::new().with("x", &x);
    let too_deep = |err: Error| matches!(err, Error::Expr(swath::ExprError::TooDeep { depth, max }) if depth >= 50_000 && max == MAX_DEPTH);
    assert!(too_deep(deep.check(&[("x", DType::F32)], DType::F32).unwrap_err()));
    for engine in std::iter::once(cpu()).chain(gpu_engine("a_tree_of_any_depth_is_an_error_or_handled")) {
        assert!(too_deep(engine.eval::<f32>(&deep, &inputs).unwrap_err()));
        assert!(too_deep(engine.eval_reduce::<f32>(&deep, &inputs, Reduce::Sum).unwrap_err()));
        assert!(too_deep(engine.run(&Job::<f32>::map(&x, Op::Abs).then(deep.clone()).unwrap()).unwrap_err()));
    }
    // At the limit it runs.
    let deepest = chain(MAX_DEPTH);
    assert_eq!(cpu().eval::<f32>(&deepest, &inputs).unwrap()[0], 1.0 + MAX_DEPTH as f32);
    drop(chain(1_000_000));
}
