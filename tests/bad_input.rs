//! Bad input: empty arrays, mismatched lengths, ops a type does not define,
//! scalars a type cannot hold, reversed clamps and unparsable names give
//! the documented result or error, with a message that names the offending
//! value, on every engine, before any GPU work and without a panic.

mod common;

use common::*;
use std::fmt::Debug;
use swath::schedule::SMALL_JOB;
use swath::{DType, Device, Engine, Error, GpuError, InjectedFault, Job, Op, Policy, Reduce};

/// Input lengths: a small job (which skips routing outside the gpu policy)
/// and one the scheduler routes.
const LENGTHS: [usize; 2] = [3, SMALL_JOB + 3];

/// Ops defined for floats only.
const FLOAT_ONLY: [Op; 8] = [Op::Sqrt, Op::Exp, Op::Log, Op::Sin, Op::Cos, Op::Floor, Op::Ceil, Op::Round];

/// The engines every check runs on: cpu, auto, and gpu when an adapter opens.
fn engines(test_name: &str) -> Vec<Engine> {
    let auto = Engine::builder().policy(Policy::Auto).build().expect("an auto engine builds, with or without a GPU");
    let mut engines = vec![Engine::cpu(), auto];
    engines.extend(gpu_engine(test_name));
    engines
}

/// Where `engine` runs a valid job: the gpu policy takes every job, even an
/// empty one; other policies keep small jobs on the CPU.
fn device_of_small_jobs(engine: &Engine) -> Device {
    if engine.policy() == Policy::Gpu {
        Device::Gpu
    } else {
        Device::Cpu
    }
}

/// Runs `bad_calls` and checks that they did no GPU work: on a gpu-policy
/// engine a fault injected beforehand must still be pending afterwards,
/// for the next GPU job to meet. (A validation fault, followed by a clean
/// job: a timeout, or faults in a row, would mark the GPU unhealthy.)
fn without_gpu_work<R>(engine: &Engine, bad_calls: impl FnOnce(&Engine) -> R) -> R {
    let armed = engine.policy() == Policy::Gpu && engine.inject_gpu_fault(InjectedFault::Validation);
    let results = bad_calls(engine);
    if armed {
        let probe = [1.0f32, 2.0, 3.0];
        let outcome = engine.run(&Job::reduce(&probe, Reduce::Sum)).expect("the probe job succeeds");
        assert!(
            matches!(outcome.fallback, Some(GpuError::Validation(_))),
            "a rejected call started a GPU job: the injected fault was gone (fallback {:?})",
            outcome.fallback
        );
        assert_eq!(scalar(&outcome), 6.0, "the probe job's sum");
        let clean = engine.run(&Job::reduce(&probe, Reduce::Sum)).expect("a clean job succeeds");
        assert_eq!((clean.device, clean.fallback), (Device::Gpu, None), "the GPU took jobs again");
    }
    results
}

/// Asserts that `result` is an error that `is_expected` accepts, with a
/// message that mentions each of `mentions`.
fn assert_error<T: Debug>(
    result: swath::Result<T>,
    is_expected: impl Fn(&Error) -> bool,
    mentions: &[&str],
    what: &str,
) {
    let error = match result {
        Ok(value) => panic!("{what}: expected an error, got {value:?}"),
        Err(error) => error,
    };
    assert!(is_expected(&error), "{what}: unexpected error {error:?}");
    let message = error.to_string();
    assert!(!message.is_empty(), "{what}: empty message for {error:?}");
    for mention in mentions {
        assert!(message.contains(mention), "{what}: message {message:?} does not mention {mention:?}");
    }
}

/// Every way to apply `op` to `input`: a map (three entry points) and a map
/// fused into a reduction (two entry points).
fn op_calls<T: TestElement>(engine: &Engine, input: &[T], op: Op) -> Vec<(&'static str, swath::Result<()>)> {
    let mut out = vec![T::default(); input.len()];
    vec![
        ("map", engine.map(input, op).map(drop)),
        ("map_into", engine.map_into(input, &mut out, op).map(drop)),
        ("run(map)", engine.run(&Job::map(input, op)).map(drop)),
        ("map_reduce", engine.map_reduce(input, op, Reduce::Sum).map(drop)),
        ("run(map_reduce)", engine.run(&Job::map_reduce(input, op, Reduce::Max)).map(drop)),
    ]
}

/// Checks that every way to apply `op` on `T` fails as `is_expected` says,
/// on every length and engine, before any GPU work.
fn assert_op_rejected<T: TestElement>(
    engines: &[Engine],
    op: Op,
    is_expected: impl Fn(&Error) -> bool,
    mentions: &[&str],
) {
    for engine in engines {
        for n in LENGTHS {
            let input: Vec<T> = random(&format!("bad {op} {n}"), n, (0.5, 1.5));
            for (call, result) in without_gpu_work(engine, |engine| op_calls(engine, &input, op)) {
                let what = format!("{call} of {op} on {n} {} ({} policy)", T::DTYPE, engine.policy());
                assert_error(result, &is_expected, mentions, &what);
            }
        }
    }
}

#[test]
fn empty_map_gives_empty_result() {
    fn check<T: TestElement>(engine: &Engine) {
        let empty: &[T] = &[];
        let what = format!("empty {} map ({} policy)", T::DTYPE, engine.policy());
        assert_eq!(engine.map(empty, Op::Square).expect(&what), Vec::<T>::new(), "{what}");
        engine.map_into(empty, &mut [], Op::Abs).expect(&what);
        let outcome = engine.run(&Job::map(empty, Op::Neg)).expect(&what);
        assert!(array(&outcome).is_empty(), "{what}");
        assert_eq!((outcome.device, outcome.fallback), (device_of_small_jobs(engine), None), "{what}");
    }
    for engine in engines("empty_map_gives_empty_result") {
        check::<f32>(&engine);
        check::<f64>(&engine);
        check::<i32>(&engine);
        check::<u32>(&engine);
    }
}

#[test]
fn empty_sum_is_zero_and_empty_product_is_one() {
    fn check<T: TestElement>(engine: &Engine) {
        let empty: &[T] = &[];
        for (reduce, identity) in [(Reduce::Sum, 0.0), (Reduce::Product, 1.0)] {
            let what = format!("empty {} {reduce} ({} policy)", T::DTYPE, engine.policy());
            let identity = T::of_f64(identity);
            assert_same(engine.reduce(empty, reduce).expect(&what), identity, &what);
            assert_same(engine.map_reduce(empty, Op::Square, reduce).expect(&what), identity, &what);
            let outcome = engine.run(&Job::reduce(empty, reduce)).expect(&what);
            assert_same(scalar(&outcome), identity, &what);
            assert_eq!((outcome.device, outcome.fallback), (device_of_small_jobs(engine), None), "{what}");
        }
    }
    for engine in engines("empty_sum_is_zero_and_empty_product_is_one") {
        check::<f32>(&engine);
        check::<f64>(&engine);
        check::<i32>(&engine);
        check::<u32>(&engine);
    }
}

#[test]
fn empty_min_and_max_are_errors() {
    let empty: &[f32] = &[];
    for engine in engines("empty_min_and_max_are_errors") {
        for reduce in [Reduce::Min, Reduce::Max] {
            let calls = without_gpu_work(&engine, |engine| {
                [
                    ("reduce", engine.reduce(empty, reduce).map(drop)),
                    ("map_reduce", engine.map_reduce(empty, Op::Abs, reduce).map(drop)),
                    ("run", engine.run(&Job::reduce(empty, reduce)).map(drop)),
                ]
            });
            for (call, result) in calls {
                let what = format!("{call} of empty {reduce} ({} policy)", engine.policy());
                let is_expected = |e: &Error| matches!(e, Error::EmptyReduction { reduce: r } if *r == reduce);
                assert_error(result, is_expected, &[reduce.name()], &what);
            }
        }
    }
}

#[test]
fn map_into_rejects_mismatched_lengths() {
    for engine in engines("map_into_rejects_mismatched_lengths") {
        for n in LENGTHS {
            let input: Vec<f32> = random("mismatched lengths", n, (-1.0, 1.0));
            for out_len in [n - 1, n + 1] {
                let mut out = vec![0.0f32; out_len];
                let result = without_gpu_work(&engine, |engine| engine.map_into(&input, &mut out, Op::Square));
                let is_expected = |e: &Error| matches!(*e, Error::LengthMismatch { input, output } if (input, output) == (n, out_len));
                let what = format!("map_into of {n} elements into {out_len} ({} policy)", engine.policy());
                assert_error(result, is_expected, &[&n.to_string(), &out_len.to_string()], &what);
            }
        }
    }
}

#[test]
fn float_only_ops_reject_integers() {
    let engines = engines("float_only_ops_reject_integers");
    for op in FLOAT_ONLY {
        for dtype in [DType::I32, DType::U32] {
            let is_expected =
                |e: &Error| matches!(*e, Error::Unsupported { op: name, dtype: d } if (name, d) == (op.name(), dtype));
            let mentions = [op.name(), dtype.name()];
            match dtype {
                DType::I32 => assert_op_rejected::<i32>(&engines, op, is_expected, &mentions),
                _ => assert_op_rejected::<u32>(&engines, op, is_expected, &mentions),
            }
        }
    }
}

#[test]
fn scalars_the_type_cannot_hold_are_rejected() {
    let engines = engines("scalars_the_type_cannot_hold_are_rejected");
    let rejects = |value: f64, dtype: DType| move |e: &Error| matches!(*e, Error::InvalidScalar { value: v, dtype: d, .. } if (v, d) == (value, dtype));
    assert_op_rejected::<i32>(&engines, Op::Add(1.5), rejects(1.5, DType::I32), &["1.5", "i32"]);
    assert_op_rejected::<u32>(&engines, Op::Add(-1.0), rejects(-1.0, DType::U32), &["-1", "u32"]);
    assert_op_rejected::<i32>(&engines, Op::Min(1e10), rejects(1e10, DType::I32), &["10000000000", "i32"]);
    assert_op_rejected::<u32>(&engines, Op::Clamp { lo: -1.0, hi: 2.0 }, rejects(-1.0, DType::U32), &["-1", "u32"]);
}

#[test]
fn reversed_clamp_is_rejected() {
    let engines = engines("reversed_clamp_is_rejected");
    let reversed = Op::Clamp { lo: 2.0, hi: 1.0 };
    let is_expected = |e: &Error| matches!(*e, Error::InvalidClamp { lo, hi } if (lo, hi) == (2.0, 1.0));
    let mentions = ["2", "1"];
    assert_op_rejected::<f32>(&engines, reversed, is_expected, &mentions);
    assert_op_rejected::<f64>(&engines, reversed, is_expected, &mentions);
    assert_op_rejected::<i32>(&engines, reversed, is_expected, &mentions);
    assert_op_rejected::<u32>(&engines, reversed, is_expected, &mentions);
}

#[test]
fn unparsable_names_are_rejected() {
    fn check<T: std::str::FromStr<Err = Error> + Debug>(text: &str, what: &str) {
        let is_expected = |e: &Error| matches!(e, Error::Parse { input, .. } if input == text);
        assert_error(text.parse::<T>(), is_expected, &[text], &format!("{text:?} as {what}"));
    }
    check::<Op>("bogus", "op");
    check::<Reduce>("bogus", "reduction");
    check::<DType>("bogus", "element type");
    check::<Policy>("bogus", "policy");
    // An op with a missing, extra or unparsable scalar.
    for text in ["add", "add:x", "square:2", "clamp:1", "clamp:0:1:2", ""] {
        check::<Op>(text, "op");
    }
}

/// A result too large to allocate is an error, never an abort; and a
/// reduction of the same length allocates nothing.
#[test]
fn a_result_too_large_to_allocate_is_an_error() {
    let engine = Engine::cpu();
    let len = 1usize << 60;
    let ones = swath::expr::Expr::parse("1").unwrap();
    let inputs = swath::Inputs::new().with_len(len);
    let err = engine.eval::<f32>(&ones, &inputs).unwrap_err();
    assert!(matches!(err, Error::OutOfMemory { bytes, len: n } if bytes == 4 << 60 && n == len), "{err}");
}
