//! Stream compaction: filter, eval_filter, filter_indices and partition
//! against a plain loop, on 1 and 2 CPU threads and the GPU, for every
//! dtype, with NaN and infinities in the data, predicates that keep
//! nothing, everything, about half, and every third element.

use crate::common::*;
use std::sync::OnceLock;
use swath::expr::Expr;
use swath::{Engine, Error, ExprError, InjectedFault, Inputs, Op, Partition, Policy};

/// Lengths around a workgroup and a tile, and past the small-job and
/// serial thresholds (several CPU blocks, several GPU tiles).
const LENGTHS: [usize; 6] = [0, 1, 255, 4097, 40_000, 100_003];

/// A CPU engine with `threads` threads, one per count for the binary.
fn cpu_engine(threads: usize) -> &'static Engine {
    static ENGINES: [OnceLock<Engine>; 2] = [OnceLock::new(), OnceLock::new()];
    ENGINES[threads - 1].get_or_init(|| Engine::builder().policy(Policy::Cpu).threads(threads).build().unwrap())
}

/// The engines every case runs on: CPU on 1 and 2 threads, and the GPU
/// when an adapter opens.
fn engines() -> Vec<(&'static str, &'static Engine)> {
    let mut engines = vec![("cpu x1", cpu_engine(1)), ("cpu x2", cpu_engine(2))];
    if let Some(gpu) = shared_gpu_engine("filter on the GPU") {
        engines.push(("gpu", gpu));
    }
    engines
}

/// A predicate as text, and the same condition on (index, value as f64).
struct Predicate {
    text: String,
    holds: fn(usize, f64, f64) -> bool,
}

/// Predicates over `x` and `i`; `mid` splits the dtype's random values
/// about in half.
fn predicates(mid: f64) -> Vec<Predicate> {
    let p = |text: &str, holds: fn(usize, f64, f64) -> bool| Predicate {
        text: text.replace("MID", &mid.to_string()),
        holds,
    };
    vec![
        p("x < x", |_, _, _| false),
        p("x == x || x != x", |_, _, _| true),
        p("x > MID", |_, x, mid| x > mid),
        p("!(x <= MID)", |_, x, mid| x > mid || x.is_nan()),
        p("i % 3 == 0", |i, _, _| i % 3 == 0),
        p("x != x", |_, x, _| x.is_nan()),
        p("x >= MID && i % 2 == 1 || i % 7 == 0", |i, x, mid| x >= mid && i % 2 == 1 || i % 7 == 0),
    ]
}

/// Random values of `T`, with NaN and both infinities mixed in for floats.
fn data<T: TestElement>(label: &str, n: usize) -> Vec<T> {
    let mut xs: Vec<T> = random(label, n, (-1.0, 1.0));
    if T::FLOAT {
        for (k, x) in xs.iter_mut().enumerate() {
            match k % 37 {
                5 => *x = T::of_f64(f64::NAN),
                11 => *x = T::of_f64(f64::INFINITY),
                23 => *x = T::of_f64(f64::NEG_INFINITY),
                _ => {}
            }
        }
    }
    xs
}

/// The value splitting `T`'s random values about in half.
fn mid<T: TestElement>() -> f64 {
    match T::DTYPE {
        swath::DType::U32 => f64::from(1u32 << 31),
        _ => 0.0,
    }
}

fn check_dtype<T: TestElement>() {
    for n in LENGTHS {
        let xs: Vec<T> = data(&format!("filter {:?} {n}", T::DTYPE), n);
        let inputs = Inputs::new().with("x", &xs);
        for predicate in predicates(mid::<T>()) {
            let expr = Expr::parse(&predicate.text).unwrap();
            let holds = |i: usize| (predicate.holds)(i, xs[i].as_f64(), mid::<T>());
            let kept: Vec<T> = (0..n).filter(|&i| holds(i)).map(|i| xs[i]).collect();
            let rest: Vec<T> = (0..n).filter(|&i| !holds(i)).map(|i| xs[i]).collect();
            let indices: Vec<u32> = (0..n).filter(|&i| holds(i)).map(|i| i as u32).collect();
            let doubled: Vec<T> = kept.iter().map(|&x| T::reference_op(Op::Mul(2.0), x)).collect();
            for (name, engine) in engines() {
                let what = format!("{} over {n} {:?} on {name}", predicate.text, T::DTYPE);
                assert_same_elements(&engine.filter(&xs, &expr).unwrap(), &kept, &format!("filter {what}"));
                // Into a reused buffer, one place longer, whose old values stay past the kept ones.
                let mut out = vec![T::of_f64(3.0); n + 1];
                let k = engine.filter_into(&xs, &expr, &mut out).unwrap();
                assert_same_elements(&out[..k], &kept, &format!("filter_into {what}"));
                assert!(out[k..].iter().all(|x| x.as_f64() == 3.0), "filter_into leaves the rest: {what}");
                let values = engine.eval_filter::<T>(&Expr::parse("x * 2").unwrap(), &expr, &inputs).unwrap();
                assert_same_elements(&values, &doubled, &format!("eval_filter {what}"));
                assert_eq!(engine.filter_indices(&expr, &inputs).unwrap(), indices, "filter_indices {what}");
                let Partition { values, kept: k } = engine.partition(&xs, &expr).unwrap();
                assert_eq!(k, kept.len(), "partition {what}");
                assert_same_elements(&values[..k], &kept, &format!("kept part of {what}"));
                assert_same_elements(&values[k..], &rest, &format!("rest of {what}"));
            }
        }
    }
}

#[test]
fn filter_f32_matches_a_loop() {
    check_dtype::<f32>();
}

#[test]
fn filter_f64_matches_a_loop() {
    check_dtype::<f64>();
}

#[test]
fn filter_i32_matches_a_loop() {
    check_dtype::<i32>();
}

#[test]
fn filter_u32_matches_a_loop() {
    check_dtype::<u32>();
}

#[test]
fn values_and_predicate_read_different_inputs() {
    let n = 50_001;
    let (a, b): (Vec<f32>, Vec<i32>) = (data("filter a", n), data("filter b", n));
    let inputs = Inputs::new().with("a", &a).with("b", &b);
    let values = Expr::parse("a + f32(i)").unwrap();
    let predicate = Expr::parse("b > 0 && i % 5 != 1").unwrap();
    let expected: Vec<f32> = (0..n).filter(|&i| b[i] > 0 && i % 5 != 1).map(|i| a[i] + i as f32).collect();
    for (name, engine) in engines() {
        let got = engine.eval_filter::<f32>(&values, &predicate, &inputs).unwrap();
        assert_same_elements(&got, &expected, &format!("eval_filter on {name}"));
        let indices = engine.filter_indices(&Expr::parse("b < 0").unwrap(), &inputs).unwrap();
        let expected: Vec<u32> = (0..n as u32).filter(|&i| b[i as usize] < 0).collect();
        assert_eq!(indices, expected, "filter_indices over b on {name}");
    }
}

#[test]
fn filter_indices_of_a_length_alone() {
    let inputs = Inputs::new().with_len(10_007);
    let expected: Vec<u32> = (0..10_007).filter(|i| i % 3 == 0).collect();
    for (name, engine) in engines() {
        let got = engine.filter_indices(&Expr::parse("i % 3 == 0").unwrap(), &inputs).unwrap();
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn a_large_filter_matches_a_loop() {
    let _lock = large_input_lock();
    let n = (1 << 24) + 3;
    let xs: Vec<f32> = data("large filter", n);
    let expr = Expr::parse("x > 0.25 || i % 3 == 0").unwrap();
    let expected: Vec<f32> = xs.iter().enumerate().filter(|&(i, &x)| x > 0.25 || i % 3 == 0).map(|(_, &x)| x).collect();
    for (name, engine) in engines() {
        assert_same_elements(&engine.filter(&xs, &expr).unwrap(), &expected, &format!("2^24 + 3 on {name}"));
        let mut out = vec![f32::NAN; n];
        let kept = engine.filter_into(&xs, &expr, &mut out).unwrap();
        assert_same_elements(&out[..kept], &expected, &format!("2^24 + 3 into a buffer on {name}"));
    }
}

#[test]
fn a_filter_streamed_in_many_chunks_matches_a_loop() {
    let test = "a_filter_streamed_in_many_chunks_matches_a_loop";
    let builder = Engine::builder().policy(Policy::Gpu).chunk_bytes(1 << 16);
    let Some(gpu) = gpu_engine_from(test, builder) else { return };
    let n = 300_007;
    let (xs, ys): (Vec<f64>, Vec<u32>) = (data("chunked filter x", n), data("chunked filter y", n));
    let inputs = Inputs::new().with("x", &xs).with("y", &ys);
    let predicate = Expr::parse("x > 0.0 || y % 4 == 0").unwrap();
    let holds = |i: usize| xs[i] > 0.0 || ys[i] % 4 == 0;
    let before = gpu.transfers();
    let got = gpu.eval_filter::<u32>(&Expr::parse("y + i").unwrap(), &predicate, &inputs).unwrap();
    let moved = gpu.transfers().since(&before);
    let expected: Vec<u32> = (0..n).filter(|&i| holds(i)).map(|i| ys[i].wrapping_add(i as u32)).collect();
    assert_eq!(got, expected);
    assert!(moved.submissions >= 2 * (n * 8).div_ceil(1 << 16) as u64, "{moved:?}");
    let xs_kept: Vec<f64> = (0..n).filter(|&i| holds(i)).map(|i| xs[i]).collect();
    assert_same_elements(
        &gpu.eval_filter::<f64>(&Expr::parse("x").unwrap(), &predicate, &inputs).unwrap(),
        &xs_kept,
        test,
    );
}

/// A GPU partition is one job: the same dispatches, submissions and
/// readbacks as a filter of the same data, reading back every value once
/// (the rejected ones besides the kept), in one chunk or in many.
#[test]
fn a_gpu_partition_reads_its_whole_result_back_once() {
    let test = "a_gpu_partition_reads_its_whole_result_back_once";
    let n = 100_003;
    let xs: Vec<f32> = data("partition readbacks", n);
    let expr = Expr::parse("x > 0 || i % 3 == 0").unwrap();
    let holds = |i: usize| xs[i] > 0.0 || i.is_multiple_of(3);
    let kept: Vec<f32> = (0..n).filter(|&i| holds(i)).map(|i| xs[i]).collect();
    let rest: Vec<f32> = (0..n).filter(|&i| !holds(i)).map(|i| xs[i]).collect();
    for chunk_bytes in [None, Some(1 << 16)] {
        let mut builder = Engine::builder().policy(Policy::Gpu);
        if let Some(bytes) = chunk_bytes {
            builder = builder.chunk_bytes(bytes);
        }
        let Some(gpu) = gpu_engine_from(test, builder) else { return };
        let before = gpu.transfers();
        assert_same_elements(&gpu.filter(&xs, &expr).unwrap(), &kept, test);
        let filter = gpu.transfers().since(&before);
        let before = gpu.transfers();
        let parts = gpu.partition(&xs, &expr).unwrap();
        let partition = gpu.transfers().since(&before);
        assert_eq!(parts.kept, kept.len(), "{chunk_bytes:?}");
        assert_same_elements(parts.kept(), &kept, test);
        assert_same_elements(parts.rest(), &rest, test);
        let what = format!("{chunk_bytes:?}: partition {partition:?}, filter {filter:?}");
        assert_eq!(partition.readbacks, filter.readbacks, "{what}");
        assert_eq!(partition.dispatches, filter.dispatches, "{what}");
        assert_eq!(partition.submissions, filter.submissions, "{what}");
        assert_eq!(partition.uploads, filter.uploads, "{what}");
        assert_eq!(partition.readback_bytes, filter.readback_bytes + 4 * rest.len() as u64, "{what}");
        if chunk_bytes.is_none() {
            assert_eq!((partition.readbacks, partition.dispatches), (2, 2), "{what}: counts, then values");
        } else {
            assert!(partition.readbacks >= 2 * (n * 4).div_ceil(1 << 16) as u64, "{what}: several chunks");
        }
    }
}

#[test]
fn a_number_is_not_a_predicate() {
    let xs = [1.0f32, 2.0, 3.0];
    let inputs = Inputs::new().with("x", &xs);
    for (name, engine) in engines() {
        for (text, dtype) in [("x * 2", swath::DType::F32), ("i", swath::DType::U32), ("1", swath::DType::U32)] {
            let expr = Expr::parse(text).unwrap();
            let error = engine.filter(&xs, &expr).unwrap_err();
            let expected =
                |e: &Error| matches!(e, Error::Expr(ExprError::NotACondition { dtype: d, .. }) if *d == dtype);
            assert!(expected(&error), "filter by {text} on {name}: {error}");
            assert!(expected(&engine.filter_indices(&expr, &inputs).unwrap_err()), "{text} on {name}");
            assert!(expected(&engine.partition(&xs, &expr).unwrap_err()), "{text} on {name}");
        }
        let mut out = [7.0f32; 3];
        assert!(expected_not_a_condition(&engine.filter_into(&xs, &Expr::parse("x * 2").unwrap(), &mut out)));
        let short = engine.filter_into(&xs, &Expr::parse("x > 1").unwrap(), &mut out[..2]).unwrap_err();
        assert!(matches!(short, Error::LengthMismatch { input: 3, output: 2 }), "{short}");
        assert_eq!(out, [7.0; 3], "nothing was written");
        let unknown = engine.filter(&xs, &Expr::parse("y > 0").unwrap()).unwrap_err();
        assert!(matches!(unknown, Error::Expr(ExprError::UnknownInput { .. })), "{unknown}");
    }
}

fn expected_not_a_condition(result: &swath::Result<usize>) -> bool {
    matches!(result, Err(Error::Expr(ExprError::NotACondition { .. })))
}

#[test]
fn indices_past_u32_are_an_error() {
    let inputs = Inputs::new().with_len((1 << 32) + 1);
    let error = cpu_engine(2).filter_indices(&Expr::parse("i % 3 == 0").unwrap(), &inputs).unwrap_err();
    assert!(matches!(error, Error::Expr(ExprError::IndexRange { .. })), "{error}");
}

#[test]
fn a_gpu_fault_in_a_filter_reruns_on_the_cpu() {
    let test = "a_gpu_fault_in_a_filter_reruns_on_the_cpu";
    let Some(gpu) = gpu_engine(test) else { return };
    let n = 20_011;
    let xs: Vec<f32> = data("faulty filter", n);
    let expr = Expr::parse("x > 0").unwrap();
    let kept: Vec<f32> = xs.iter().copied().filter(|&x| x > 0.0).collect();
    let rest: Vec<f32> = xs.iter().copied().filter(|&x| x <= 0.0 || x.is_nan()).collect();
    let inputs = Inputs::new().with("x", &xs);
    let indices: Vec<u32> = (0..n as u32).filter(|&i| xs[i as usize] > 0.0).collect();
    for primitive in ["filter", "filter_into", "filter_indices", "partition"] {
        assert!(gpu.inject_gpu_fault(InjectedFault::Validation));
        let before = gpu.transfers();
        match primitive {
            "filter" => assert_same_elements(&gpu.filter(&xs, &expr).unwrap(), &kept, primitive),
            "filter_into" => {
                let mut out = vec![0.0f32; n];
                let k = gpu.filter_into(&xs, &expr, &mut out).unwrap();
                assert_same_elements(&out[..k], &kept, primitive);
            }
            "filter_indices" => assert_eq!(gpu.filter_indices(&expr, &inputs).unwrap(), indices),
            _ => {
                let parts = gpu.partition(&xs, &expr).unwrap();
                assert_same_elements(parts.kept(), &kept, primitive);
                assert_same_elements(parts.rest(), &rest, primitive);
            }
        }
        assert!(gpu.transfers().since(&before).submissions > 0, "{primitive} ran on the GPU first");
        assert!(gpu.gpu_healthy(), "one fault leaves the GPU healthy: {:?}", gpu.gpu_unhealthy_reason());
        assert_same_elements(&gpu.filter(&xs, &expr).unwrap(), &kept, "the next filter");
    }
}

/// Times a filter keeping half of 2^26 f32 against a parallel copy of
/// them (run with `--release -- --ignored --nocapture`): compaction
/// reads the input twice and writes half of it, so it should reach half
/// the copy's speed or more.
#[test]
#[ignore]
fn filter_speed_against_a_copy() {
    use std::time::Instant;
    let _lock = large_input_lock();
    let engine = Engine::builder().policy(Policy::Cpu).build().unwrap();
    let xs: Vec<f32> = random("filter speed", 1 << 26, (-1.0, 1.0));
    let expr = Expr::parse("x > 0").unwrap();
    let best = |run: &dyn Fn() -> usize| {
        (0..5)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(run());
                start.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let copy = best(&|| engine.map(&xs, Op::Abs).unwrap().len());
    let filter = best(&|| engine.filter(&xs, &expr).unwrap().len());
    eprintln!(
        "2^26 f32 on {} threads: copy {:.1} ms, filter keeping half {:.1} ms: {:.0}% of the copy's speed",
        engine.threads(),
        copy * 1e3,
        filter * 1e3,
        100.0 * copy / filter
    );
}
