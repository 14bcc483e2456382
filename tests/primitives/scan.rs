//! Prefix scans: every element against the canonical order as
//! `swath::canonical` states it, written out again here, with the same
//! bits on 1 and 2 threads and on the GPU; integer scans against a plain
//! sequential scan (numpy's `cumsum`, wrapped); float sums against f64.

use crate::common::{assert_same_elements, gpu_engine_from, shared_gpu_engine, Rng, TestElement};
use swath::canonical::{ROWS, TILE};
use swath::expr::{var, Expr};
use swath::{Engine, Error, InjectedFault, Inputs, Policy, Reduce, Scan};

/// A reduction's combine and identity, written here from the semantics in
/// `swath::op` (integers wrap; min and max propagate NaN).
trait Combine: TestElement {
    fn combine(reduce: Reduce, a: Self, b: Self) -> Self;
    fn identity(reduce: Reduce) -> Self;
}

macro_rules! float_combine {
    ($t:ty) => {
        impl Combine for $t {
            fn combine(reduce: Reduce, a: $t, b: $t) -> $t {
                match reduce {
                    Reduce::Sum => a + b,
                    Reduce::Product => a * b,
                    Reduce::Min if a.is_nan() || a < b => a,
                    Reduce::Max if a.is_nan() || a > b => a,
                    _ => b,
                }
            }
            fn identity(reduce: Reduce) -> $t {
                match reduce {
                    Reduce::Sum => 0.0,
                    Reduce::Product => 1.0,
                    Reduce::Min => <$t>::INFINITY,
                    _ => <$t>::NEG_INFINITY,
                }
            }
        }
    };
}

macro_rules! int_combine {
    ($t:ty) => {
        impl Combine for $t {
            fn combine(reduce: Reduce, a: $t, b: $t) -> $t {
                match reduce {
                    Reduce::Sum => a.wrapping_add(b),
                    Reduce::Product => a.wrapping_mul(b),
                    Reduce::Min => a.min(b),
                    _ => a.max(b),
                }
            }
            fn identity(reduce: Reduce) -> $t {
                match reduce {
                    Reduce::Sum => 0,
                    Reduce::Product => 1,
                    Reduce::Min => <$t>::MAX,
                    _ => <$t>::MIN,
                }
            }
        }
    };
}

float_combine!(f32);
float_combine!(f64);
int_combine!(i32);
int_combine!(u32);

/// The inclusive scan in the canonical order: runs of ROWS folded left to
/// right, run totals folded left to right, each value offset by the runs
/// before it in its tile and by the scanned tile totals before its tile.
fn canonical<T: Combine>(values: &[T], reduce: Reduce) -> Vec<T> {
    let c = |a, b| T::combine(reduce, a, b);
    let mut within = Vec::with_capacity(values.len());
    let mut totals = Vec::new();
    for tile in values.chunks(TILE) {
        let mut runs_before: Option<T> = None;
        for run in tile.chunks(ROWS) {
            let mut r = run[0];
            for (k, &v) in run.iter().enumerate() {
                if k > 0 {
                    r = c(r, v);
                }
                within.push(runs_before.map_or(r, |p| c(p, r)));
            }
            runs_before = Some(runs_before.map_or(r, |p| c(p, r)));
        }
        totals.push(runs_before.expect("a tile has a run"));
    }
    if totals.len() <= 1 {
        return within;
    }
    let offsets = canonical(&totals, reduce);
    within.iter().enumerate().map(|(i, &w)| if i < TILE { w } else { c(offsets[i / TILE - 1], w) }).collect()
}

fn expected<T: Combine>(values: &[T], scan: Scan) -> Vec<T> {
    if !scan.exclusive {
        return canonical(values, scan.reduce);
    }
    let Some((_, init)) = values.split_last() else { return Vec::new() };
    std::iter::once(T::identity(scan.reduce)).chain(canonical(init, scan.reduce)).collect()
}

/// Random values of the type; floats sprinkled with NaN and infinities
/// (products near 1, so that long products stay finite).
fn data<T: Combine>(label: &str, len: usize, reduce: Reduce, specials: bool) -> Vec<T> {
    let mut rng = Rng::labelled(label);
    let range = if reduce == Reduce::Product { (0.5, 1.5) } else { (-1e3, 1e3) };
    let mut values: Vec<T> = rng.values(len, range);
    if T::FLOAT && specials && len > 8 {
        for (k, special) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0].into_iter().enumerate() {
            let at = (rng.next_u64() as usize % len).max(k);
            values[at] = T::of_f64(special);
        }
    }
    values
}

fn engines() -> Vec<(String, &'static Engine)> {
    use std::sync::OnceLock;
    static CPUS: OnceLock<[Engine; 2]> = OnceLock::new();
    let cpus = CPUS.get_or_init(|| [1, 2].map(|n| Engine::builder().policy(Policy::Cpu).threads(n).build().unwrap()));
    let mut engines: Vec<(String, &Engine)> =
        vec![("cpu 1 thread".into(), &cpus[0]), ("cpu 2 threads".into(), &cpus[1])];
    if let Some(gpu) = shared_gpu_engine("scan on the gpu") {
        engines.push(("gpu".into(), gpu));
    }
    engines
}

fn check_type<T: Combine>() {
    let scans = Reduce::ALL.into_iter().flat_map(|r| [Scan::inclusive(r), Scan::exclusive(r)]);
    for scan in scans {
        for len in [0, 1, 2, 255, 4097, 70_001] {
            for specials in [false, true] {
                let label = format!("{scan} of {len} {} (specials: {specials})", T::DTYPE);
                let values = data::<T>(&label, len, scan.reduce, specials);
                let want = expected(&values, scan);
                for (name, engine) in engines() {
                    let got = engine.scan(&values, scan).unwrap_or_else(|e| panic!("{label} on {name}: {e}"));
                    assert_same_elements(&got, &want, &format!("{label} on {name}"));
                    // Into a reused buffer whose old values are not zeros.
                    let mut out = vec![T::of_f64(7.0); len];
                    engine.scan_into(&values, scan, &mut out).unwrap_or_else(|e| panic!("{label} into on {name}: {e}"));
                    assert_same_elements(&out, &want, &format!("{label} into a buffer on {name}"));
                }
            }
        }
    }
}

#[test]
fn every_scan_of_every_type_is_the_canonical_one_on_every_path() {
    check_type::<f32>();
    check_type::<f64>();
    check_type::<i32>();
    check_type::<u32>();
}

/// Integer operations are associative, so the canonical order is no order
/// at all: a wrapped sequential scan, numpy's `cumsum` of the type.
fn sequential<T: Combine>(values: &[T], reduce: Reduce) -> Vec<T> {
    let mut acc: Option<T> = None;
    values
        .iter()
        .map(|&v| {
            let next = acc.map_or(v, |a| T::combine(reduce, a, v));
            acc = Some(next);
            next
        })
        .collect()
}

#[test]
fn integer_scans_equal_a_sequential_scan() {
    for reduce in Reduce::ALL {
        let ints: Vec<i32> = Rng::labelled(&format!("i32 {reduce}")).values(100_003, (0.0, 0.0));
        let uints: Vec<u32> = Rng::labelled(&format!("u32 {reduce}")).values(100_003, (0.0, 0.0));
        for (name, engine) in engines() {
            let what = format!("{reduce} on {name}");
            assert_eq!(engine.scan(&ints, Scan::inclusive(reduce)).unwrap(), sequential(&ints, reduce), "i32 {what}");
            assert_eq!(engine.scan(&uints, Scan::inclusive(reduce)).unwrap(), sequential(&uints, reduce), "u32 {what}");
        }
    }
}

#[test]
fn a_float_sum_scan_stays_close_to_the_exact_sum() {
    let values: Vec<f32> = Rng::labelled("close").values(300_001, (0.0, 1.0));
    let got = crate::common::shared_cpu_engine().scan(&values, Scan::inclusive(Reduce::Sum)).unwrap();
    let mut exact = 0.0f64;
    for (i, (&v, &g)) in values.iter().zip(&got).enumerate() {
        exact += v as f64;
        // At most ROWS + LANES roundings per level, two levels here.
        let bound = 2.0 * (ROWS + 256) as f64 * f32::EPSILON as f64 * exact;
        assert!((g as f64 - exact).abs() <= bound, "element {i}: {g} against {exact}");
    }
}

#[test]
fn a_fused_expression_scans_like_its_values() {
    let mut rng = Rng::labelled("fused");
    let (a, b): (Vec<f32>, Vec<f32>) = (rng.values(50_000, (-2.0, 2.0)), rng.values(50_000, (-2.0, 2.0)));
    let values: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x * 2.0 + y).collect();
    let inputs = Inputs::new().with("a", &a).with("b", &b);
    let expr = var("a") * 2.0 + var("b");
    for (name, engine) in engines() {
        for scan in [Scan::inclusive(Reduce::Sum), Scan::exclusive(Reduce::Max)] {
            let got = engine.eval_scan::<f32>(&expr, &inputs, scan).unwrap();
            assert_same_elements(&got, &expected(&values, scan), &format!("{scan} of {expr} on {name}"));
        }
    }
    let with_index = Expr::parse("f64(i) * 0.5").unwrap();
    let indices: Vec<f64> = (0..9000).map(|i| i as f64 * 0.5).collect();
    let zeros = vec![0.0f64; 9000];
    for (name, engine) in engines() {
        let got = engine.eval_scan::<f64>(&with_index, &Inputs::new().with("x", &zeros), Scan::inclusive(Reduce::Sum));
        assert_same_elements(&got.unwrap(), &canonical(&indices, Reduce::Sum), &format!("index scan on {name}"));
    }
}

#[test]
fn a_scan_past_one_chunk_and_past_2_to_the_24_agrees_everywhere() {
    let _lock = crate::common::large_input_lock();
    let len = (1 << 24) + 3;
    let values: Vec<f32> = Rng::labelled("large scan").values(len, (-1.0, 1.0));
    let want = canonical(&values, Reduce::Sum);
    for (name, engine) in engines() {
        let got = engine.scan(&values, Scan::inclusive(Reduce::Sum)).unwrap();
        assert_same_elements(&got, &want, &format!("2^24+3 sum scan on {name}"));
        let mut out = vec![f32::NAN; len];
        engine.scan_into(&values, Scan::inclusive(Reduce::Sum), &mut out).unwrap();
        assert_same_elements(&out, &want, &format!("2^24+3 sum scan into a buffer on {name}"));
    }
    // A GPU whose chunks are 1 MiB uploads the input in 65 pieces, twice.
    let builder = Engine::builder().policy(Policy::Gpu).chunk_bytes(1 << 20);
    if let Some(engine) = gpu_engine_from("a scan in many chunks", builder) {
        let got = engine.scan(&values, Scan::inclusive(Reduce::Sum)).unwrap();
        assert_same_elements(&got, &want, "2^24+3 sum scan in 1 MiB chunks");
        let got = engine.scan(&values[..1_000_003], Scan::exclusive(Reduce::Min)).unwrap();
        assert_same_elements(&got, &expected(&values[..1_000_003], Scan::exclusive(Reduce::Min)), "min in chunks");
    }
}

#[test]
fn a_gpu_fault_in_a_scan_reruns_on_the_cpu() {
    let Some(engine) = crate::common::gpu_engine("a gpu fault in a scan") else { return };
    let values: Vec<f32> = Rng::labelled("fault").values(100_000, (-1.0, 1.0));
    let want = canonical(&values, Reduce::Sum);
    // Unfaulted, the scan runs on the GPU: tile totals, one level of the
    // totals' scan, tile scans, in one submission.
    let before = engine.transfers();
    assert_same_elements(&engine.scan(&values, Scan::inclusive(Reduce::Sum)).unwrap(), &want, "scan on the gpu");
    let used = engine.transfers().since(&before);
    assert_eq!((used.dispatches, used.submissions, used.readback_bytes), (3, 1, 400_000), "{used:?}");
    for fault in [InjectedFault::Validation, InjectedFault::OutOfMemory, InjectedFault::Timeout] {
        assert!(engine.inject_gpu_fault(fault));
        let got = engine.scan(&values, Scan::inclusive(Reduce::Sum)).unwrap();
        assert_same_elements(&got, &want, &format!("scan after {fault:?}"));
        if fault != InjectedFault::Timeout {
            assert!(engine.gpu_healthy(), "one {fault:?} leaves the GPU healthy");
        }
    }
    engine.reopen_gpu().unwrap();
    assert!(engine.inject_gpu_fault(InjectedFault::Validation));
    let mut out = vec![-1.0f32; values.len()];
    engine.scan_into(&values, Scan::inclusive(Reduce::Sum), &mut out).unwrap();
    assert_same_elements(&out, &want, "scan into a buffer after a fault");
}

#[test]
fn bad_scans_are_clear_errors() {
    let engine = crate::common::shared_cpu_engine();
    let (a, b) = ([1.0f32, 2.0], [1.0f32]);
    let inputs = Inputs::new().with("a", &a).with("b", &b);
    let err = engine.eval_scan::<f32>(&(var("a") + var("b")), &inputs, Scan::inclusive(Reduce::Sum)).unwrap_err();
    assert!(matches!(err, Error::InputLengths { .. }), "{err}");
    let err = engine.eval_scan::<i32>(&var("a"), &inputs, Scan::inclusive(Reduce::Sum)).unwrap_err();
    assert!(matches!(err, Error::Expr(_)), "{err}");
    let err = engine.eval_scan::<f32>(&var("a").gt(0), &inputs, Scan::inclusive(Reduce::Sum)).unwrap_err();
    assert!(err.to_string().contains("condition"), "{err}");
    assert!(engine.scan::<f32>(&[], Scan::exclusive(Reduce::Min)).unwrap().is_empty());
    // A buffer of the wrong length is refused before any work.
    let mut out = [9.0f32; 3];
    let err = engine.scan_into(&a, Scan::inclusive(Reduce::Sum), &mut out).unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { input: 2, output: 3 }), "{err}");
    assert_eq!(out, [9.0; 3], "nothing was written");
    let inputs = Inputs::new().with("a", &a);
    let err = engine.eval_scan_into(&var("a"), &inputs, Scan::inclusive(Reduce::Sum), &mut out[..1]).unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { input: 2, output: 1 }), "{err}");
    let long: Vec<f32> = (0..100_000).map(|k| (k % 7) as f32).collect();
    let err = engine.scan_into(&long, Scan::inclusive(Reduce::Sum), &mut vec![0.0; 99_999]).unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { .. }), "{err}");
}
