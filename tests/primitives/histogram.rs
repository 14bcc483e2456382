//! Histograms and bincount: every engine against counts made here from
//! numpy's definition (edges computed in f64 as `numpy.linspace` does, a
//! value in bin `b` when `edge[b] <= x < edge[b + 1]`, the last bin
//! closed), on data with values on the edges, outside the range,
//! infinities and NaN, for every dtype.

use crate::common::{gpu_engine, large_input_lock, shared_gpu_engine, Rng, TestElement};
use std::sync::OnceLock;
use swath::expr::Expr;
use swath::{Engine, Error, InjectedFault, Inputs, Policy};

const LENGTHS: [usize; 6] = [0, 1, 255, 4097, 40_000, 100_003];

/// CPU engines of 1 and 2 threads and the GPU engine (when there is one).
fn engines() -> Vec<(&'static str, &'static Engine)> {
    static CPU: OnceLock<[Engine; 2]> = OnceLock::new();
    let [one, two] =
        CPU.get_or_init(|| [1, 2].map(|n| Engine::builder().policy(Policy::Cpu).threads(n).build().unwrap()));
    let mut engines = vec![("cpu x1", one), ("cpu x2", two)];
    engines.extend(shared_gpu_engine("histogram engines").map(|gpu| ("gpu", gpu)));
    engines
}

/// numpy's edges: `linspace(lo, hi, bins + 1)`.
fn edges(bins: usize, lo: f64, hi: f64) -> Vec<f64> {
    let step = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..bins).map(|b| b as f64 * step + lo).collect();
    edges.push(hi);
    edges
}

/// The reference counts, by comparing each value with the f64 edges.
fn reference<T: TestElement>(xs: &[T], bins: usize, lo: f64, hi: f64) -> Vec<u32> {
    let edges = edges(bins, lo, hi);
    let mut counts = vec![0; bins];
    for x in xs.iter().map(|x| x.as_f64()) {
        if x >= lo && x <= hi {
            let b = edges[..bins].partition_point(|&edge| edge <= x) - 1;
            counts[b] += 1;
        }
    }
    counts
}

/// Ranges to count over: a few bins, many, more than one workgroup's
/// memory holds, and ranges that do not fit the type's values.
fn ranges<T: TestElement>() -> Vec<(usize, f64, f64)> {
    let mut ranges = vec![(1, -5.0, 5.0), (7, -20.5, 30.25), (1000, -100.0, 100.0), (5000, -50.0, 50.0)];
    match T::DTYPE {
        swath::DType::I32 => ranges.push((333, -2_147_483_648.0, 2_147_483_647.5)),
        swath::DType::U32 => ranges.push((1000, 0.0, 4.0e9)),
        _ => ranges.push((10, -1e30, 1e30)),
    }
    ranges
}

/// `n` values around `[lo, hi]`: inside and outside, on edges, with
/// infinities and NaN for floats.
fn data<T: TestElement>(n: usize, bins: usize, lo: f64, hi: f64) -> Vec<T> {
    let mut rng = Rng::labelled(&format!("histogram {} {n} {bins} {lo} {hi}", T::DTYPE));
    let edges = edges(bins, lo, hi);
    let width = hi - lo;
    (0..n)
        .map(|_| match rng.next_u64() % 16 {
            0 => T::of_f64(edges[rng.next_u64() as usize % edges.len()]),
            1 if T::FLOAT => T::of_f64([f64::NAN, f64::INFINITY, f64::NEG_INFINITY][rng.next_u64() as usize % 3]),
            2 if !T::FLOAT => T::random(&mut rng, (0.0, 0.0)),
            _ => {
                let x = rng.uniform((lo - width / 8.0, hi + width / 8.0));
                T::of_f64(if T::FLOAT { x } else { x.round_ties_even() })
            }
        })
        .collect()
}

fn every_case<T: TestElement>() {
    let gpu_before = shared_gpu_engine("histogram engines").map(|gpu| gpu.transfers());
    let mut gpu_jobs = 0;
    for (bins, lo, hi) in ranges::<T>() {
        for n in LENGTHS {
            let xs: Vec<T> = data(n, bins, lo, hi);
            let expected = reference(&xs, bins, lo, hi);
            for (name, engine) in engines() {
                let counts = engine.histogram(&xs, bins, lo, hi).unwrap();
                assert!(counts == expected, "{} x {n} in {bins} bins over [{lo}, {hi}] on {name}", T::DTYPE);
            }
            gpu_jobs += u64::from(n > 0);
        }
    }
    if let (Some(gpu), Some(before)) = (shared_gpu_engine("histogram engines"), gpu_before) {
        // A GPU fault would rerun on the CPU unseen: each job must have read back.
        let moved = gpu.transfers().since(&before);
        assert!(moved.readbacks >= gpu_jobs, "{} jobs ran on the GPU: {moved:?}", T::DTYPE);
    }
}

#[test]
fn histograms_of_f32_match_numpy_s_definition() {
    every_case::<f32>();
}

#[test]
fn histograms_of_f64_match_numpy_s_definition() {
    every_case::<f64>();
}

#[test]
fn histograms_of_i32_match_numpy_s_definition() {
    every_case::<i32>();
}

#[test]
fn histograms_of_u32_match_numpy_s_definition() {
    every_case::<u32>();
}

#[test]
fn f32_values_next_to_an_edge_that_f32_cannot_hold_fall_on_their_side() {
    // 0.1 * k is not an f32: the f32 values just below and above each edge.
    let mut xs = Vec::new();
    for k in 1..10 {
        let near = (k as f64 / 10.0) as f32;
        xs.extend([near.next_down(), near, near.next_up()]);
    }
    for (name, engine) in engines() {
        assert_eq!(engine.histogram(&xs, 10, 0.0, 1.0).unwrap(), reference(&xs, 10, 0.0, 1.0), "{name}");
    }
}

#[test]
fn f32_values_at_every_edge_of_a_few_bins_are_counted_exactly() {
    // Enough values for several tasks, and a length no block divides:
    // the values beside every edge, the range's ends, zeros of both
    // signs, subnormals, the extremes and NaN, among values inside. Edges
    // the estimate misses, and edges it hits exactly (no lower margin).
    for (bins, lo, hi) in [(256, -0.3, 0.7), (256, 0.0, 1.0)] {
        let mut rng = Rng::labelled(&format!("histogram f32 edges {lo} {hi}"));
        let mut xs: Vec<f32> = rng.values(70_001, (lo - 0.05, hi + 0.05));
        for (i, edge) in edges(bins, lo, hi).into_iter().enumerate() {
            let near = edge as f32;
            let specials = [near.next_down(), near, near.next_up(), -0.0, 0.0, f32::MIN_POSITIVE / 4.0];
            let extremes = [f32::MAX, f32::MIN, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, lo as f32];
            for (j, x) in specials.into_iter().chain(extremes).enumerate() {
                xs[(i * 97 + j * 4001) % 70_001] = x;
            }
        }
        let expected = reference(&xs, bins, lo, hi);
        for (name, engine) in engines() {
            assert!(engine.histogram(&xs, bins, lo, hi).unwrap() == expected, "[{lo}, {hi}] on {name}");
        }
    }
}

/// Values in range at first, then more and more out of it (and NaN),
/// as a histogram over part of its data's range meets them: the CPU
/// changes how it marks them partway, and the counts must not change.
#[test]
fn values_leaving_the_range_partway_are_counted_exactly() {
    let mut rng = Rng::labelled("leaving the range");
    let n = 3 * 4096 + 77;
    let mut xs: Vec<f32> = rng.values(n, (0.0, 1.0));
    for (k, x) in xs.iter_mut().enumerate().skip(4096 + 100) {
        *x = match k % 5 {
            0 => *x - 1.5,
            1 => *x + 1.25,
            2 if k % 7 == 0 => f32::NAN,
            _ => *x,
        };
    }
    for (bins, lo, hi) in [(256, 0.0, 1.0), (100, 0.1, 0.9), (7, 0.0, 1.0), (256, 0.25, 1.0)] {
        let want = reference(&xs, bins, lo, hi);
        for (name, engine) in engines() {
            let got = engine.histogram(&xs, bins, lo, hi).unwrap();
            assert_eq!(got, want, "{bins} bins over [{lo}, {hi}] on {name}");
        }
    }
}

#[test]
fn expressions_are_counted_without_an_intermediate_array() {
    for n in [1, 4097, 100_003] {
        let mut rng = Rng::labelled(&format!("fused histogram {n}"));
        let x: Vec<f32> = rng.values(n, (-10.0, 10.0));
        let y: Vec<f32> = rng.values(n, (-10.0, 10.0));
        let k: Vec<i32> = (0..n).map(|_| (rng.next_u64() % 1000) as i32 - 500).collect();
        let values: Vec<f32> = x.iter().zip(&y).enumerate().map(|(i, (x, y))| x * y + (i % 3) as f32).collect();
        let squares: Vec<i32> = k.iter().map(|k| k * k).collect();
        for (name, engine) in engines() {
            let inputs = Inputs::new().with("x", &x).with("y", &y);
            let expr = Expr::parse("x * y + f32(i % 3)").unwrap();
            let counts = engine.eval_histogram::<f32>(&expr, &inputs, 50, -60.0, 60.0).unwrap();
            assert_eq!(counts, reference(&values, 50, -60.0, 60.0), "{name}, {n} elements");
            let inputs = Inputs::new().with("k", &k);
            let counts =
                engine.eval_histogram::<i32>(&Expr::parse("k * k").unwrap(), &inputs, 9, 0.0, 250_000.0).unwrap();
            assert_eq!(counts, reference(&squares, 9, 0.0, 250_000.0), "{name}, {n} squares");
        }
    }
}

fn reference_bincount(keys: impl Iterator<Item = i64>, n: usize) -> Vec<u32> {
    let mut counts = vec![0; n];
    for key in keys {
        if (0..n as i64).contains(&key) {
            counts[key as usize] += 1;
        }
    }
    counts
}

#[test]
fn bincount_counts_integer_keys_and_ignores_the_rest() {
    for n in [1, 10, 5000] {
        for len in LENGTHS {
            let mut rng = Rng::labelled(&format!("bincount {n} {len}"));
            let signed: Vec<i32> = (0..len).map(|_| (rng.next_u64() % (n as u64 + 10)) as i32 - 5).collect();
            let mut unsigned: Vec<u32> = (0..len).map(|_| (rng.next_u64() % (n as u64 + 5)) as u32).collect();
            if len > 3 {
                unsigned[len / 2] = u32::MAX;
            }
            for (name, engine) in engines() {
                let expected = reference_bincount(signed.iter().map(|&k| k as i64), n);
                assert_eq!(engine.bincount(&signed, n).unwrap(), expected, "i32 keys {len} into {n} on {name}");
                let expected = reference_bincount(unsigned.iter().map(|&k| k as i64), n);
                assert_eq!(engine.bincount(&unsigned, n).unwrap(), expected, "u32 keys {len} into {n} on {name}");
            }
        }
    }
}

#[test]
fn bad_input_is_an_error() {
    let engine = Engine::cpu();
    let xs = [1.0f32, 2.0];
    let max = 1 << 24;
    assert_eq!(engine.histogram(&xs, 0, 0.0, 1.0), Err(Error::InvalidBins { bins: 0, max }));
    assert_eq!(engine.histogram(&xs, max + 1, 0.0, 1.0), Err(Error::InvalidBins { bins: max + 1, max }));
    for (lo, hi) in [(1.0, 1.0), (2.0, 1.0), (f64::NAN, 1.0), (0.0, f64::INFINITY), (-f64::MAX, f64::MAX)] {
        assert!(matches!(engine.histogram(&xs, 4, lo, hi), Err(Error::InvalidRange { .. })), "{lo}:{hi}");
    }
    assert_eq!(engine.bincount(&xs, 4), Err(Error::FloatKeys { dtype: swath::DType::F32 }));
    assert_eq!(engine.bincount(&[1.0f64], 4), Err(Error::FloatKeys { dtype: swath::DType::F64 }));
    assert_eq!(engine.bincount(&[1u32], max + 1), Err(Error::InvalidBins { bins: max + 1, max }));
    let inputs = Inputs::new().with("x", &xs);
    let wrong_type = engine.eval_histogram::<i32>(&Expr::parse("x").unwrap(), &inputs, 4, 0.0, 1.0);
    assert!(matches!(wrong_type, Err(Error::Expr(_))), "{wrong_type:?}");
    assert_eq!(engine.histogram::<u32>(&[], 3, 0.0, 1.0), Ok(vec![0, 0, 0]), "no values, no counts");
    assert_eq!(engine.bincount::<i32>(&[1, 2], 0), Ok(vec![]), "no keys to count");
}

#[test]
fn a_gpu_fault_reruns_on_the_cpu_and_the_gpu_stays_healthy() {
    let Some(gpu) = gpu_engine("histogram: a_gpu_fault_reruns_on_the_cpu") else { return };
    let xs: Vec<f32> = data(70_001, 20, -1.0, 1.0);
    let keys: Vec<u32> = (0..70_001).map(|k| k % 13).collect();
    assert!(gpu.inject_gpu_fault(InjectedFault::Validation));
    assert_eq!(gpu.histogram(&xs, 20, -1.0, 1.0).unwrap(), reference(&xs, 20, -1.0, 1.0), "after a fault");
    assert!(gpu.gpu_healthy(), "{:?}", gpu.gpu_unhealthy_reason());
    assert!(gpu.inject_gpu_fault(InjectedFault::Validation));
    assert_eq!(gpu.bincount(&keys, 13).unwrap(), reference_bincount(keys.iter().map(|&k| k as i64), 13));
    assert!(gpu.gpu_healthy(), "{:?}", gpu.gpu_unhealthy_reason());
    let before = gpu.transfers();
    assert_eq!(gpu.histogram(&xs, 20, -1.0, 1.0).unwrap(), reference(&xs, 20, -1.0, 1.0), "on the GPU again");
    assert_eq!(gpu.transfers().since(&before).readbacks, 1, "the GPU ran it");
}

#[test]
fn inputs_streamed_in_several_chunks_add_up() {
    let Some(_) = gpu_engine("histogram: streamed in chunks") else { return };
    let gpu = Engine::builder().policy(Policy::Gpu).chunk_bytes(1 << 20).build().unwrap();
    let n = 1_000_003;
    let xs: Vec<f32> = data(n, 100, -3.0, 3.0);
    let before = gpu.transfers();
    assert_eq!(gpu.histogram(&xs, 100, -3.0, 3.0).unwrap(), reference(&xs, 100, -3.0, 3.0));
    let moved = gpu.transfers().since(&before);
    assert!(moved.submissions >= 4 && moved.readbacks == 1, "{n} f32 in 1 MiB chunks, on the GPU: {moved:?}");
    let ys: Vec<f64> = data(n, 6000, 0.0, 1.0);
    assert_eq!(gpu.histogram(&ys, 6000, 0.0, 1.0).unwrap(), reference(&ys, 6000, 0.0, 1.0));
}

#[test]
fn a_long_input_on_every_engine() {
    let _lock = large_input_lock();
    let n = (1 << 24) + 3;
    let xs: Vec<f32> = Rng::labelled("histogram long").values(n, (-1.0, 1.0));
    let expected = reference(&xs, 64, -0.75, 0.75);
    for (name, engine) in engines() {
        assert_eq!(engine.histogram(&xs, 64, -0.75, 0.75).unwrap(), expected, "{name}");
    }
}

/// Long f32 inputs in up to 256 bins, where the CPU counts values in
/// pairs with byte counts: random values with edges, infinities and NaN,
/// and runs of one value, which wrap a pair's byte many times over.
#[test]
fn long_inputs_in_few_bins_are_counted_exactly() {
    let n = 300_007;
    for (bins, lo, hi) in [(256, 0.5, 1.5), (255, -1.0, 3.0), (7, 0.0, 1.0), (1, -5.0, 5.0)] {
        let mixed: Vec<f32> = data(n, bins, lo, hi);
        let edge = edges(bins, lo, hi)[bins / 2] as f32;
        let runs: Vec<f32> = (0..n).map(|i| [lo as f32, edge, hi as f32, f32::NAN][i / 70_000 % 4]).collect();
        let one_bin = vec![edge; n];
        for (label, xs) in [("mixed", &mixed), ("runs", &runs), ("one bin", &one_bin)] {
            let expected = reference(xs, bins, lo, hi);
            for (name, engine) in engines() {
                let counts = engine.histogram(xs, bins, lo, hi).unwrap();
                assert!(counts == expected, "{label} in {bins} bins over [{lo}, {hi}] on {name}");
            }
        }
    }
}
