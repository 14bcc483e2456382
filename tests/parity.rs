//! Parity: every op on every element type, as a map and fused into every
//! reduction, on the CPU and on the GPU, against references computed here
//! and against each other; special values; long inputs.

mod common;

use common::*;
use std::borrow::Cow;
use std::f64::consts::{E, FRAC_PI_2};
use std::ops::RangeInclusive;
use swath::canonical::TILE;
use swath::{DType, Decision, Device, Engine, Error, Job, Op, Reason, Reduce};

/// Lengths every combination runs at: empty, one element, and both sides
/// of a 256-lane workgroup, plus one that spans several reduction tiles.
const LENGTHS: [usize; 6] = [0, 1, 255, 256, 257, 65_537];

// The accuracy contract. On the GPU these are Vulkan's precision
// requirements for GLSL.std.450, which WGSL kernels inherit; on the CPU,
// what Rust's std functions (the system libm) deliver.

/// sqrt on the GPU: Vulkan allows it to be computed as 1 / inversesqrt.
const SQRT_GPU_ULPS: f64 = 3.0;
/// sqrt on the CPU is correctly rounded; 1 ULP leaves room for the f64
/// reference's double rounding.
const SQRT_CPU_ULPS: f64 = 1.0;
/// exp on the GPU: within 3 + 2 * |x| ULP.
const EXP_GPU_ULPS: f64 = 3.0;
const EXP_GPU_ULPS_PER_UNIT_OF_X: f64 = 2.0;
/// log on the GPU: 3 ULP outside [0.5, 2]...
const LOG_GPU_ULPS: f64 = 3.0;
/// ...and an absolute 2^-21 inside, where the result is close to 0.
const LOG_GPU_ABSOLUTE: f64 = 1.0 / (1u32 << 21) as f64;
const LOG_GPU_ABSOLUTE_RANGE: RangeInclusive<f64> = 0.5..=2.0;
/// sin and cos on the GPU: an absolute 2^-11 for |x| <= pi (the only
/// inputs they get here, see [`float_range`]).
const TRIG_GPU_ABSOLUTE: f64 = 1.0 / (1u32 << 11) as f64;
/// exp, log, sin and cos on the CPU.
const LIBM_CPU_ULPS: f64 = 2.0;
/// Relative error of the f32 sum of 1e8 values in [0.5, 1.5].
const LONG_SUM_RELATIVE_ERROR: f64 = 1e-6;

/// Integer runs scale Op::ALL's example scalars (0.5, -1, 2) by this, since
/// an integer type cannot hold 0.5 and full-range data would clamp nearly
/// entirely to scalars that small.
const INTEGER_SCALAR_SCALE: f64 = (1u32 << 29) as f64;

/// Elements of the long inputs: 2^24 + 3, past f32's exact integers.
const LONG: usize = (1 << 24) + 3;

/// How close a result must be to what it is compared with.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tolerance {
    /// Same bits (NaN by NaN-ness).
    Exact,
    /// At most this many representable values apart.
    Ulps(f64),
    /// At most this far apart.
    Absolute(f64),
}

impl Tolerance {
    /// True if `got` is close enough to `expected`. A NaN or infinite
    /// expectation must be met exactly whatever the tolerance.
    fn admits<T: TestElement>(self, got: T, expected: T) -> bool {
        match self {
            _ if !expected.as_f64().is_finite() => got.same_as(expected),
            Tolerance::Exact => got.same_as(expected),
            Tolerance::Ulps(ulps) => got.ulps_from(expected) as f64 <= ulps,
            Tolerance::Absolute(bound) => (got.as_f64() - expected.as_f64()).abs() <= bound,
        }
    }

    /// The same tolerance as an absolute error around `expected`. An ULP
    /// just above a power of two is twice the ULP just below, hence the 2.
    fn absolute_at<T: TestElement>(self, expected: T) -> f64 {
        match self {
            Tolerance::Exact => 0.0,
            Tolerance::Ulps(ulps) => 2.0 * ulps * expected.ulp(),
            Tolerance::Absolute(bound) => bound,
        }
    }

    /// The tolerance between two results that each meet `self` and `other`
    /// around the same reference.
    fn between(self, other: Tolerance, reference: impl TestElement) -> Tolerance {
        match (self, other) {
            (Tolerance::Exact, Tolerance::Exact) => Tolerance::Exact,
            _ => Tolerance::Absolute(self.absolute_at(reference) + other.absolute_at(reference)),
        }
    }
}

/// True for ops whose result is the correctly rounded value on every path.
fn has_exact_contract(op: Op) -> bool {
    !matches!(op, Op::Sqrt | Op::Exp | Op::Log | Op::Sin | Op::Cos)
}

/// True if a GPU compiler may contract `op` and `reduce` into fused
/// multiply-adds (`acc + x * x`), rounding once where the CPU rounds twice.
fn may_contract(op: Option<Op>, reduce: Reduce) -> bool {
    matches!(op, Some(Op::Square | Op::Mul(_))) && reduce == Reduce::Sum
}

/// The accuracy contract of `op(x)` on `device`, for floats.
fn map_tolerance(op: Op, x: f64, device: Device) -> Tolerance {
    // IEEE 754 defines exact results for NaN and infinite arguments.
    if has_exact_contract(op) || !x.is_finite() {
        return Tolerance::Exact;
    }
    match (op, device) {
        (Op::Sqrt, Device::Gpu) => Tolerance::Ulps(SQRT_GPU_ULPS),
        (Op::Sqrt, Device::Cpu) => Tolerance::Ulps(SQRT_CPU_ULPS),
        (Op::Exp, Device::Gpu) => Tolerance::Ulps(EXP_GPU_ULPS + EXP_GPU_ULPS_PER_UNIT_OF_X * x.abs()),
        (Op::Log, Device::Gpu) if LOG_GPU_ABSOLUTE_RANGE.contains(&x) => Tolerance::Absolute(LOG_GPU_ABSOLUTE),
        (Op::Log, Device::Gpu) => Tolerance::Ulps(LOG_GPU_ULPS),
        (Op::Sin | Op::Cos, Device::Gpu) => Tolerance::Absolute(TRIG_GPU_ABSOLUTE),
        _ => Tolerance::Ulps(LIBM_CPU_ULPS),
    }
}

/// What the reduction of `op(input)` on `device` may differ from the
/// reference by: the error each mapped element may carry, plus the
/// roundings of the reduction itself.
fn reduction_tolerance<T: TestElement>(
    op: Option<Op>,
    reduce: Reduce,
    input: &[T],
    mapped: &[T],
    reference: T,
    device: Device,
) -> Tolerance {
    if !T::FLOAT {
        return Tolerance::Exact;
    }
    let map_error = |(&x, &y): (&T, &T)| op.map_or(0.0, |op| map_tolerance(op, x.as_f64(), device).absolute_at(y));
    let elements = input.iter().zip(mapped);
    match reduce {
        Reduce::Min | Reduce::Max => {
            // The extreme of perturbed values is at most the largest
            // perturbation away from the extreme of the exact ones.
            let worst = elements.map(map_error).fold(0.0, f64::max);
            if worst == 0.0 {
                Tolerance::Exact
            } else {
                Tolerance::Absolute(worst)
            }
        }
        Reduce::Sum => {
            let (errors, magnitude) = elements.fold((0.0, 0.0), |(errors, magnitude), (x, y)| {
                let error = map_error((x, y));
                (errors + error, magnitude + y.as_f64().abs() + error)
            });
            // One rounding per level of the tree an element passes, one for
            // rounding the reference to the type, and f64's epsilon for the
            // compensated reference's own error.
            let roundings = (canonical_depth(input.len()) + 1) as f64 * T::EPSILON + f64::EPSILON;
            Tolerance::Absolute(errors + roundings * magnitude)
        }
        Reduce::Product => {
            // Relative errors compound: prod(1 + d) <= exp(sum(d)). Unlike a
            // sum's, every multiplication's rounding scales the whole
            // result, whatever the order: n roundings, not the tree's depth.
            // The reference multiplies in f64 in sequence: n f64 roundings.
            let roundings = input.len() as f64 * (T::EPSILON + f64::EPSILON);
            let relative: f64 = elements
                .map(|(x, y)| match map_error((x, y)) {
                    0.0 => 0.0,
                    error => error / y.as_f64().abs(),
                })
                .sum::<f64>()
                + roundings
                + T::EPSILON;
            // A product that underflows may lose all its digits.
            Tolerance::Absolute(reference.as_f64().abs() * relative.exp_m1() + T::MIN_NORMAL)
        }
    }
}

/// Float inputs for `op` (and `reduce`): inside each op's accuracy domain,
/// and for a product where `op(x)` is close to 1, so that 65,537 factors
/// neither under- nor overflow. Integers ignore it and span their range.
fn float_range(op: Option<Op>, reduce: Option<Reduce>) -> (f64, f64) {
    if reduce == Some(Reduce::Product) {
        return match op {
            Some(Op::Exp | Op::Cos) => (-0.01, 0.01),
            Some(Op::Log) => (E - 0.02, E + 0.02),
            Some(Op::Sin) => (FRAC_PI_2 - 0.01, FRAC_PI_2 + 0.01),
            Some(Op::Add(s)) => (0.99 - s, 1.01 - s),
            Some(Op::Mul(s)) => (0.99 / s, 1.01 / s),
            // min(x, 0.5) cannot be near 1: that product underflows to 0.
            _ => (0.99, 1.01),
        };
    }
    match op {
        Some(Op::Sqrt | Op::Log) => (0.01, 10.0),
        Some(Op::Exp) => (-10.0, 10.0),
        Some(Op::Sin | Op::Cos) => {
            // f32's pi is above pi; the f32 below it keeps rounded inputs inside.
            let below_pi = f64::from(std::f32::consts::PI.next_down());
            (-below_pi, below_pi)
        }
        _ => (-4.0, 4.0),
    }
}

/// Random input for one case, reproducible from the case's description;
/// inputs of two or more elements end with the type's edge values.
fn input<T: TestElement>(op: Option<Op>, reduce: Option<Reduce>, n: usize) -> Vec<T> {
    let label = format!("{} {op:?} {reduce:?} {n}", T::DTYPE);
    let mut values = random::<T>(&label, n, float_range(op, reduce));
    let edges = &T::EDGES[..T::EDGES.len().min(n / 2)];
    values[n - edges.len()..].copy_from_slice(edges);
    match reduce {
        Some(Reduce::Product) => values.into_iter().map(T::odd).collect(),
        _ => values,
    }
}

/// `op` with scalars that `dtype` can hold (see [`INTEGER_SCALAR_SCALE`]).
fn with_scalars_for(op: Op, dtype: DType) -> Op {
    if dtype.is_float() {
        return op;
    }
    let fit = |s: f64| {
        let scaled = (s * INTEGER_SCALAR_SCALE).round();
        if dtype == DType::U32 {
            scaled.abs()
        } else {
            scaled
        }
    };
    match op {
        Op::Add(s) => Op::Add(fit(s)),
        Op::Mul(s) => Op::Mul(fit(s)),
        Op::Min(s) => Op::Min(fit(s)),
        Op::Max(s) => Op::Max(fit(s)),
        Op::Clamp { lo, hi } => Op::Clamp { lo: fit(lo), hi: fit(hi) },
        other => other,
    }
}

/// Every op of [`Op::ALL`] that is defined for `T`.
fn ops_for<T: TestElement>() -> Vec<Op> {
    Op::ALL.into_iter().map(|op| with_scalars_for(op, T::DTYPE)).filter(|op| op.check(T::DTYPE).is_ok()).collect()
}

/// Where the engine must run a job on `dtype` with `op`: a GPU engine runs
/// everything on the GPU except f64 it cannot run.
fn expected_decision(engine: &Engine, dtype: DType, op: Option<Op>) -> Decision {
    let Some(gpu) = engine.gpu() else { return ON_CPU };
    let on_cpu = |reason| Decision::new(Device::Cpu, reason);
    match op {
        _ if dtype == DType::F64 && !gpu.shader_f64 => on_cpu(Reason::NoShaderF64),
        Some(op @ (Op::Exp | Op::Log | Op::Sin | Op::Cos)) if dtype == DType::F64 => {
            on_cpu(Reason::NoGpuKernel(op.name(), dtype))
        }
        _ => ON_GPU,
    }
}

/// The engine under test and, when it is a GPU engine, a CPU engine whose
/// results it is compared with.
struct Path {
    engine: Engine,
    baseline: Option<Engine>,
}

fn cpu_path() -> Path {
    Path { engine: Engine::cpu(), baseline: None }
}

fn gpu_path(test_name: &str) -> Option<Path> {
    gpu_engine(test_name).map(|engine| Path { engine, baseline: Some(Engine::cpu()) })
}

impl Path {
    /// Maps `input` with `op`; checks every element against the reference
    /// and, on the GPU, against the CPU.
    fn check_map<T: TestElement>(&self, op: Op, input: &[T]) {
        let job = Job::map(input, op);
        let what = describe(&job);
        let outcome = run_as(&self.engine, &job, expected_decision(&self.engine, T::DTYPE, Some(op)));
        let got = array(&outcome);
        assert_eq!(got.len(), input.len(), "length of {what}");
        let tolerance = |x: T, device| map_tolerance(op, x.as_f64(), device);
        for (i, (&x, &y)) in input.iter().zip(got).enumerate() {
            let reference = T::reference_op(op, x);
            let allowed = tolerance(x, outcome.device);
            assert!(
                allowed.admits(y, reference),
                "{what} on the {}: element {i}: {op}({x:?}) = {y:?}, reference {reference:?}, allowed {allowed:?}",
                outcome.device
            );
        }
        let Some(cpu) = &self.baseline else { return };
        let cpu_outcome = run_as(cpu, &job, ON_CPU);
        for (i, ((&x, &y), &c)) in input.iter().zip(got).zip(array(&cpu_outcome)).enumerate() {
            let allowed = tolerance(x, outcome.device).between(tolerance(x, Device::Cpu), T::reference_op(op, x));
            assert!(
                allowed.admits(y, c),
                "{what}: element {i}: {op}({x:?}) = {y:?} on the {} but {c:?} on the cpu, allowed {allowed:?}",
                outcome.device
            );
        }
    }

    /// Reduces `op(input)`; checks the result against the reference and, on
    /// the GPU, against the CPU. Returns the result.
    fn check_reduce<T: TestElement>(&self, op: Option<Op>, reduce: Reduce, input: &[T]) -> Option<T> {
        let job = match op {
            Some(op) => Job::map_reduce(input, op, reduce),
            None => Job::reduce(input, reduce),
        };
        let what = describe(&job);
        if input.is_empty() && !reduce.has_identity() {
            match self.engine.run(&job) {
                Err(Error::EmptyReduction { reduce: r }) if r == reduce => return None,
                other => panic!("{what}: expected an empty-reduction error, got {other:?}"),
            }
        }
        let outcome = run_as(&self.engine, &job, expected_decision(&self.engine, T::DTYPE, op));
        let got = scalar(&outcome);
        let mapped = op.map_or(Cow::Borrowed(input), |op| Cow::Owned(reference_map(op, input)));
        let reference = T::reference_reduce(reduce, &mapped);
        let allowed = reduction_tolerance(op, reduce, input, &mapped, reference, outcome.device);
        assert!(
            allowed.admits(got, reference),
            "{what} on the {}: got {got:?}, reference {reference:?}, allowed {allowed:?}",
            outcome.device
        );
        if let Some(cpu) = &self.baseline {
            let on_cpu = scalar(&run_as(cpu, &job, ON_CPU));
            let exact_on_both = !T::FLOAT || (op.is_none_or(has_exact_contract) && !may_contract(op, reduce));
            let allowed = if exact_on_both {
                Tolerance::Exact
            } else {
                let cpu_allowed = reduction_tolerance(op, reduce, input, &mapped, reference, Device::Cpu);
                allowed.between(cpu_allowed, reference)
            };
            assert!(
                allowed.admits(got, on_cpu),
                "{what}: {got:?} on the {} but {on_cpu:?} on the cpu, allowed {allowed:?}",
                outcome.device
            );
        }
        Some(got)
    }

    fn map_parity<T: TestElement>(&self) {
        for op in ops_for::<T>() {
            for n in LENGTHS {
                self.check_map(op, &input::<T>(Some(op), None, n));
            }
        }
    }

    fn reduce_parity<T: TestElement>(&self) {
        for reduce in Reduce::ALL {
            for n in LENGTHS {
                self.check_reduce(None, reduce, &input::<T>(None, Some(reduce), n));
            }
        }
    }

    fn fused_parity<T: TestElement>(&self) {
        for op in ops_for::<T>() {
            for reduce in Reduce::ALL {
                for n in LENGTHS {
                    self.check_reduce(Some(op), reduce, &input::<T>(Some(op), Some(reduce), n));
                }
            }
        }
    }

    /// NaN and infinities: maps propagate them like the reference; min and
    /// max are NaN if any element is; a sum of both infinities is NaN.
    fn special_values<T: TestElement>(&self) {
        let [nan, inf] = [f64::NAN, f64::INFINITY].map(T::of_f64);
        let minus_inf = T::of_f64(f64::NEG_INFINITY);
        for op in ops_for::<T>() {
            let mut values = input::<T>(Some(op), None, 300);
            for (i, special) in [(0, nan), (1, inf), (150, minus_inf), (298, nan), (299, inf)] {
                values[i] = special;
            }
            self.check_map(op, &values);
        }
        // Several tiles, so a special value meets partials of other tiles.
        let n = 3 * TILE + 5;
        let finite = input::<T>(None, None, n);
        let with = |specials: &[(usize, T)]| {
            let mut values = finite.clone();
            for &(i, special) in specials {
                values[i] = special;
            }
            values
        };
        for position in [0, TILE - 1, n / 2, n - 1] {
            let values = with(&[(position, nan)]);
            for reduce in [Reduce::Min, Reduce::Max, Reduce::Sum] {
                let got = self.check_reduce(None, reduce, &values).expect("input is not empty");
                assert!(got.as_f64().is_nan(), "{reduce} with a NaN at {position} of {n}: got {got:?}");
            }
        }
        let assert_reduces_to = |reduce: Reduce, values: &[T], expected: f64, case: &str| {
            let got = self.check_reduce(None, reduce, values).expect("input is not empty").as_f64();
            assert!(got.same_as(expected), "{reduce} of {case}: got {got:?}, expected {expected:?}");
        };
        assert_reduces_to(Reduce::Sum, &with(&[(7, inf), (n - 2, inf)]), f64::INFINITY, "values with +inf");
        assert_reduces_to(Reduce::Sum, &with(&[(7, inf), (n - 2, minus_inf)]), f64::NAN, "values with +inf and -inf");
        assert_reduces_to(Reduce::Min, &with(&[(n - 2, minus_inf)]), f64::NEG_INFINITY, "values with -inf");
        assert_reduces_to(Reduce::Max, &with(&[(7, inf)]), f64::INFINITY, "values with +inf");
    }

    /// 2^24 + 3 elements: f32 square, sum, min, max, sum of squares, i32 sum.
    fn long_inputs(&self) {
        let _one_at_a_time = large_input_lock();
        let floats: Vec<f32> = random("long f32", LONG, (-4.0, 4.0));
        self.check_map(Op::Square, &floats);
        for reduce in [Reduce::Sum, Reduce::Min, Reduce::Max] {
            self.check_reduce(None, reduce, &floats);
        }
        self.check_reduce(Some(Op::Square), Reduce::Sum, &floats);
        drop(floats);
        let integers: Vec<i32> = random("long i32", LONG, (0.0, 0.0));
        self.check_reduce(None, Reduce::Sum, &integers);
    }

    /// The f32 sum of 1e8 values in [0.5, 1.5] is within
    /// [`LONG_SUM_RELATIVE_ERROR`] of the exact sum.
    fn long_sum_accuracy(&self) {
        let _one_at_a_time = large_input_lock();
        let values: Vec<f32> = random("1e8 positive f32", 100_000_000, (0.5, 1.5));
        let exact = compensated_sum(values.iter().map(|&x| x as f64));
        let job = Job::reduce(&values, Reduce::Sum);
        let got = scalar(&run_as(&self.engine, &job, expected_decision(&self.engine, DType::F32, None)));
        let relative = (got as f64 - exact).abs() / exact;
        assert!(relative < LONG_SUM_RELATIVE_ERROR, "sum of 1e8 f32: {got} vs {exact}, relative error {relative:e}");
    }
}

/// Per element type: maps, plain reductions and fused map-reductions, on
/// the CPU and on the GPU.
macro_rules! parity_tests {
    ($($t:ident),*) => {$(
        mod $t {
            use super::{cpu_path, gpu_path};

            fn gpu_test(name: &str) -> Option<super::Path> {
                gpu_path(&format!("{}::{name}", stringify!($t)))
            }

            #[test]
            fn map_on_cpu() {
                cpu_path().map_parity::<$t>();
            }

            #[test]
            fn map_on_gpu() {
                if let Some(path) = gpu_test("map_on_gpu") {
                    path.map_parity::<$t>();
                }
            }

            #[test]
            fn reduce_on_cpu() {
                cpu_path().reduce_parity::<$t>();
            }

            #[test]
            fn reduce_on_gpu() {
                if let Some(path) = gpu_test("reduce_on_gpu") {
                    path.reduce_parity::<$t>();
                }
            }

            #[test]
            fn fused_on_cpu() {
                cpu_path().fused_parity::<$t>();
            }

            #[test]
            fn fused_on_gpu() {
                if let Some(path) = gpu_test("fused_on_gpu") {
                    path.fused_parity::<$t>();
                }
            }
        }
    )*};
}

parity_tests!(f32, f64, i32, u32);

#[test]
fn ops_not_defined_for_a_type_are_unsupported() {
    for dtype in DType::ALL {
        for op in Op::ALL.map(|op| with_scalars_for(op, dtype)) {
            let float_only = op.is_float_only();
            match op.check(dtype) {
                Ok(()) => assert!(!float_only || dtype.is_float(), "{op} must be rejected on {dtype}"),
                Err(Error::Unsupported { op: name, dtype: d }) => {
                    assert!(float_only && !dtype.is_float(), "{op} on {dtype} is unexpectedly unsupported");
                    assert_eq!((name, d), (op.name(), dtype));
                }
                Err(other) => panic!("{op} on {dtype}: expected Ok or Unsupported, got {other:?}"),
            }
        }
    }
}

#[test]
fn special_values_on_cpu() {
    cpu_path().special_values::<f32>();
    cpu_path().special_values::<f64>();
}

#[test]
fn f32_special_values_on_gpu() {
    if let Some(path) = gpu_path("f32_special_values_on_gpu") {
        path.special_values::<f32>();
    }
}

#[test]
fn f64_special_values_on_gpu() {
    if let Some(path) = gpu_path("f64_special_values_on_gpu") {
        path.special_values::<f64>();
    }
}

#[test]
fn long_inputs_on_cpu() {
    cpu_path().long_inputs();
}

#[test]
fn long_inputs_on_gpu() {
    if let Some(path) = gpu_path("long_inputs_on_gpu") {
        path.long_inputs();
    }
}

#[test]
fn input_longer_than_one_binding_on_gpu() {
    const N: usize = (1 << 25) + 4099;
    const BINDING_BYTES: usize = 128 << 20;
    assert!(N * size_of::<f32>() > BINDING_BYTES);
    let Some(path) = gpu_path("input_longer_than_one_binding_on_gpu") else { return };
    let _one_at_a_time = large_input_lock();
    let values: Vec<f32> = random("f32 longer than a binding", N, (-4.0, 4.0));
    path.check_map(Op::Square, &values);
    path.check_reduce(None, Reduce::Sum, &values);
}

#[test]
fn sum_of_1e8_values_is_accurate_on_cpu() {
    cpu_path().long_sum_accuracy();
}

#[test]
fn sum_of_1e8_values_is_accurate_on_gpu() {
    if let Some(path) = gpu_path("sum_of_1e8_values_is_accurate_on_gpu") {
        path.long_sum_accuracy();
    }
}
