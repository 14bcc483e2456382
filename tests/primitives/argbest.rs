//! argmin and argmax: the first index of the extreme value, NaN first.
//! Every engine is checked against a plain scan written here, on data
//! with ties (and both zeros), infinities and NaN, at lengths around the
//! tile and task sizes, for every dtype.

use crate::common::{gpu_engine, large_input_lock, shared_gpu_engine, Rng, TestElement};
use std::sync::OnceLock;
use swath::expr::Expr;
use swath::{Engine, Error, InjectedFault, Inputs, Located, Policy};

const LENGTHS: [usize; 6] = [0, 1, 255, 4097, 40_000, 100_003];

/// CPU engines of 1 and 2 threads and the GPU engine (when there is one).
fn engines() -> Vec<(&'static str, &'static Engine)> {
    static CPU: OnceLock<[Engine; 2]> = OnceLock::new();
    let [one, two] =
        CPU.get_or_init(|| [1, 2].map(|n| Engine::builder().policy(Policy::Cpu).threads(n).build().unwrap()));
    let mut engines = vec![("cpu x1", one), ("cpu x2", two)];
    engines.extend(shared_gpu_engine("argbest engines").map(|gpu| ("gpu", gpu)));
    engines
}

/// The reference: the first NaN if there is one, else the first element
/// that no later one beats.
fn reference<T: TestElement>(xs: &[T], min: bool) -> Option<usize> {
    if let Some(nan) = xs.iter().position(|x| x.as_f64().is_nan()) {
        return Some(nan);
    }
    let mut best = 0;
    for (i, x) in xs.iter().enumerate().skip(1) {
        let (x, b) = (x.as_f64(), xs.get(best)?.as_f64());
        if (min && x < b) || (!min && x > b) {
            best = i;
        }
    }
    (!xs.is_empty()).then_some(best)
}

/// Data sets of `n` elements: values with many ties (both zeros among
/// them for floats) and infinities; the same with a few NaN; and values
/// spread over the type's range.
fn cases<T: TestElement>(label: &str, n: usize) -> Vec<(String, Vec<T>)> {
    let mut rng = Rng::labelled(&format!("{label} {} {n}", T::DTYPE));
    let mut ties: Vec<T> = (0..n).map(|_| T::of_f64((rng.next_u64() % 41) as f64 - 20.0)).collect();
    let mut spread: Vec<T> = rng.values(n, (-1e6, 1e6));
    if T::FLOAT {
        for xs in [&mut ties, &mut spread] {
            for _ in 0..n / 50 {
                let special = [f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0][rng.next_u64() as usize % 4];
                xs[rng.next_u64() as usize % n] = T::of_f64(special);
            }
        }
    }
    let mut cases = vec![(format!("ties of {n}"), ties.clone()), (format!("spread of {n}"), spread)];
    if T::FLOAT && n > 0 {
        for _ in 0..3 {
            ties[rng.next_u64() as usize % n] = T::of_f64(f64::NAN);
        }
        cases.push((format!("NaN among {n}"), ties));
    }
    cases
}

fn check_against_reference<T: TestElement>(engine: &Engine, what: &str, xs: &[T]) {
    for (min, name) in [(true, "argmin"), (false, "argmax")] {
        let found = if min { engine.argmin(xs) } else { engine.argmax(xs) };
        match (reference(xs, min), found) {
            (None, Err(Error::EmptyArg { op })) => assert_eq!(op, name),
            (Some(index), Ok(Located { index: got, value })) => {
                assert_eq!(got, index, "{name} of {} {what}", T::DTYPE);
                assert!(value.same_as(xs[index]), "{name} of {} {what}: value {value}, not {}", T::DTYPE, xs[index]);
            }
            (expected, found) => panic!("{name} of {} {what}: expected {expected:?}, got {found:?}", T::DTYPE),
        }
    }
}

fn every_case<T: TestElement>() {
    for (engine_name, engine) in engines() {
        let (before, mut jobs) = (engine.transfers(), 0);
        for n in LENGTHS {
            for (what, xs) in cases::<T>("argbest", n) {
                check_against_reference(engine, &format!("{what} on {engine_name}"), &xs);
                jobs += if n > 0 { 2 } else { 0 };
            }
        }
        if engine_name == "gpu" {
            // A GPU fault would rerun on the CPU unseen: each job must have read back.
            let moved = engine.transfers().since(&before);
            assert!(moved.readbacks >= jobs, "{} jobs ran on the GPU: {moved:?}", T::DTYPE);
        }
    }
}

#[test]
fn argmin_and_argmax_of_f32_match_a_scan() {
    every_case::<f32>();
}

#[test]
fn argmin_and_argmax_of_f64_match_a_scan() {
    every_case::<f64>();
}

#[test]
fn argmin_and_argmax_of_i32_match_a_scan() {
    every_case::<i32>();
}

#[test]
fn argmin_and_argmax_of_u32_match_a_scan() {
    every_case::<u32>();
}

#[test]
fn the_first_of_equal_zeros_and_the_first_nan_win() {
    for (name, engine) in engines() {
        let zeros = [1.0f32, -0.0, 0.0, 3.0, -0.0];
        let first_zero = engine.argmin(&zeros).unwrap();
        assert_eq!(first_zero.index, 1, "{name}");
        assert!(first_zero.value.is_sign_negative(), "{name}: the value is that of the element found");
        let nans = [1.0f64, f64::NEG_INFINITY, f64::NAN, 2.0, f64::NAN];
        assert_eq!(engine.argmin(&nans).unwrap().index, 2, "{name}");
        assert_eq!(engine.argmax(&nans).unwrap().index, 2, "{name}");
        assert_eq!(engine.argmax(&[i32::MIN, i32::MIN]).unwrap(), Located { index: 0, value: i32::MIN }, "{name}");
        assert_eq!(engine.argmin(&[u32::MAX; 3]).unwrap(), Located { index: 0, value: u32::MAX }, "{name}");
    }
}

#[test]
fn expressions_are_searched_without_an_intermediate_array() {
    for (name, engine) in engines() {
        for n in [1, 4097, 100_003] {
            let mut rng = Rng::labelled(&format!("fused argbest {n}"));
            let x: Vec<f32> = rng.values(n, (-100.0, 100.0));
            let y: Vec<f32> = rng.values(n, (-100.0, 100.0));
            let inputs = Inputs::new().with("x", &x).with("y", &y);
            let expr = Expr::parse("abs(x - y) + f32(i % 7)").unwrap();
            let values: Vec<f32> =
                x.iter().zip(&y).enumerate().map(|(i, (x, y))| (x - y).abs() + (i % 7) as f32).collect();
            for min in [true, false] {
                let found =
                    if min { engine.eval_argmin::<f32>(&expr, &inputs) } else { engine.eval_argmax(&expr, &inputs) };
                let found = found.unwrap();
                let index = reference(&values, min).unwrap();
                assert_eq!((found.index, found.value), (index, values[index]), "{name}, {n} elements, min {min}");
            }
            let a: Vec<i32> = rng.values(n, (0.0, 0.0));
            let wrapped: Vec<i32> = a.iter().map(|a| a.wrapping_mul(3)).collect();
            let found =
                engine.eval_argmax::<i32>(&Expr::parse("a * 3").unwrap(), &Inputs::new().with("a", &a)).unwrap();
            assert_eq!(found.index, reference(&wrapped, false).unwrap(), "{name}: i32 wraps as the reference does");
        }
    }
}

#[test]
fn bad_input_is_an_error() {
    let engine = Engine::cpu();
    assert_eq!(engine.argmin::<f32>(&[]), Err(Error::EmptyArg { op: "argmin" }));
    assert_eq!(engine.argmax::<u32>(&[]), Err(Error::EmptyArg { op: "argmax" }));
    let empty: Vec<f64> = Vec::new();
    let inputs = Inputs::new().with("x", &empty);
    assert!(matches!(engine.eval_argmax::<f64>(&Expr::parse("x + 1").unwrap(), &inputs), Err(Error::EmptyArg { .. })));
    let x = vec![1.0f32; 4];
    let wrong_type = engine.eval_argmin::<i32>(&Expr::parse("x").unwrap(), &Inputs::new().with("x", &x));
    assert!(matches!(wrong_type, Err(Error::Expr(_))), "{wrong_type:?}");
    let short = vec![1.0f32; 3];
    let uneven =
        engine.eval_argmin::<f32>(&Expr::parse("x + y").unwrap(), &Inputs::new().with("x", &x).with("y", &short));
    assert!(matches!(uneven, Err(Error::InputLengths { .. })), "{uneven:?}");
}

#[test]
fn a_gpu_fault_reruns_on_the_cpu_and_the_gpu_stays_healthy() {
    let Some(gpu) = gpu_engine("argbest: a_gpu_fault_reruns_on_the_cpu") else { return };
    let xs: Vec<f32> = Rng::labelled("argbest fault").values(70_001, (-1.0, 1.0));
    for min in [true, false] {
        assert!(gpu.inject_gpu_fault(InjectedFault::Validation));
        let found = if min { gpu.argmin(&xs) } else { gpu.argmax(&xs) };
        assert_eq!(found.unwrap().index, reference(&xs, min).unwrap(), "after a fault, min {min}");
        assert!(gpu.gpu_healthy(), "{:?}", gpu.gpu_unhealthy_reason());
        let before = gpu.transfers();
        let again = if min { gpu.argmin(&xs) } else { gpu.argmax(&xs) };
        assert_eq!(gpu.transfers().since(&before).readbacks, 1, "the GPU ran it");
        assert_eq!(again.unwrap().index, reference(&xs, min).unwrap(), "on the GPU again, min {min}");
    }
}

#[test]
fn inputs_streamed_in_several_chunks_give_the_same_answer() {
    let Some(_) = gpu_engine("argbest: streamed in chunks") else { return };
    let gpu = Engine::builder().policy(Policy::Gpu).chunk_bytes(1 << 20).build().unwrap();
    let n = 1_000_003;
    let mut xs: Vec<f32> = Rng::labelled("argbest chunks").values(n, (-1.0, 1.0));
    for at in [n - 1, 300_000, 5] {
        xs[at] = 7.0;
        let before = gpu.transfers();
        // Each 7.0 comes before those set already: the first one wins.
        assert_eq!(gpu.argmax(&xs).unwrap(), Located { index: at, value: 7.0 });
        let moved = gpu.transfers().since(&before);
        assert!(moved.submissions >= 4 && moved.readbacks == 1, "{n} f32 in 1 MiB chunks, on the GPU: {moved:?}");
    }
    let ys: Vec<f64> = Rng::labelled("argbest chunks f64").values(n, (-1.0, 1.0));
    assert_eq!(gpu.argmin(&ys).unwrap().index, reference(&ys, true).unwrap());
}

#[test]
fn a_long_input_on_every_engine() {
    let _lock = large_input_lock();
    let n = (1 << 24) + 3;
    let mut xs: Vec<f32> = Rng::labelled("argbest long").values(n, (-1e3, 1e3));
    xs[n - 2] = 1e4;
    xs[n / 3] = -1e4;
    for (name, engine) in engines() {
        assert_eq!(engine.argmax(&xs).unwrap(), Located { index: n - 2, value: 1e4 }, "{name}");
        assert_eq!(engine.argmin(&xs).unwrap(), Located { index: n / 3, value: -1e4 }, "{name}");
    }
}

/// Read bandwidth of argmax against the max reduction (which runs at the
/// memory's speed) on the CPU: `cargo test --test primitives -- --ignored
/// --nocapture read_bandwidth`.
#[test]
#[ignore = "a measurement, not a check"]
fn read_bandwidth_of_argmax_on_the_cpu() {
    let _lock = large_input_lock();
    let engine = Engine::builder().policy(Policy::Cpu).build().unwrap();
    let xs: Vec<f32> = Rng::labelled("argmax bandwidth").values(1 << 26, (-1.0, 1.0));
    let gb = (xs.len() * 4) as f64 / 1e9;
    let best = |run: &dyn Fn()| (0..5).map(|_| time(run)).fold(f64::INFINITY, f64::min);
    let max = best(&|| {
        engine.reduce(&xs, swath::Reduce::Max).unwrap();
    });
    let argmax = best(&|| {
        engine.argmax(&xs).unwrap();
    });
    let histogram = best(&|| {
        engine.histogram(&xs, 100, -1.0, 1.0).unwrap();
    });
    let plain = best(&|| {
        let mut counts = [0u32; 100];
        for &x in &xs {
            let b = ((x + 1.0) * 50.0) as usize;
            if b < 100 {
                counts[b] += 1;
            }
        }
        std::hint::black_box(counts);
    });
    let ceiling = counting_ceiling(&xs);
    println!("max {:.1} GB/s, argmax {:.1} GB/s, histogram {:.1} GB/s", gb / max, gb / argmax, gb / histogram);
    println!("a plain one-thread histogram loop: {:.1} GB/s", gb / plain);
    println!(
        "counting bins known in advance, in parallel: {:.1} GB/s of input, {:.0}% of max",
        gb / ceiling,
        100.0 * max / ceiling
    );
}

/// The best time a histogram of `xs` could take here: only the counting,
/// with every value's bin (a byte) found before the clock starts, into
/// four interleaved sets of counts per task.
fn counting_ceiling(xs: &[f32]) -> f64 {
    use rayon::prelude::*;
    let bins: Vec<u8> = xs.iter().map(|&x| ((x + 1.0) * 50.0).clamp(0.0, 99.0) as u8).collect();
    let count = || {
        type Sets = [[u32; 256]; 4];
        let tally = |mut counts: Sets, part: &[u8]| {
            for quad in part.chunks_exact(4) {
                for (set, &b) in counts.iter_mut().zip(quad) {
                    set[b as usize] += 1;
                }
            }
            counts
        };
        let add = |mut a: Sets, b: Sets| {
            a.iter_mut().flatten().zip(b.iter().flatten()).for_each(|(a, b)| *a += b);
            a
        };
        std::hint::black_box(bins.par_chunks(1 << 16).fold(|| [[0; 256]; 4], tally).reduce(|| [[0; 256]; 4], add));
    };
    (0..5).map(|_| time(&count)).fold(f64::INFINITY, f64::min)
}

fn time(run: &dyn Fn()) -> f64 {
    let start = std::time::Instant::now();
    run();
    start.elapsed().as_secs_f64()
}
