//! The primitives of resident arrays: each on an array in host memory
//! (the cpu policy) and on one in GPU memory (the gpu policy, with small
//! segments so that the longest case spans three), bit for bit against
//! the engine's functions on the same values as a host slice. Results of
//! GPU arrays stay there, a filter's length too until it is needed; bad
//! arguments give the engine's errors; a GPU fault reruns on the CPU.

use crate::common::{assert_same_elements, gpu_engine, gpu_engine_from, shared_cpu_engine, Rng, TestElement};
use std::sync::OnceLock;
use swath::expr::Expr;
use swath::{Array, DType, Engine, Error, InjectedFault, Inputs, Located, Policy, Reduce, Scan};

/// Lengths of every case: empty, one element, part of a tile, a tile and
/// a bit, and three segments of the smallest size (64 tiles of 4096).
const LENS: [usize; 5] = [0, 1, 255, 4097, 2 * 262_144 + 4099];

/// A GPU engine whose arrays are cut into segments of 262,144 elements.
fn segmented_gpu() -> Option<&'static Engine> {
    static GPU: OnceLock<Option<Engine>> = OnceLock::new();
    let builder = Engine::builder().policy(Policy::Gpu).chunk_bytes(1 << 16);
    GPU.get_or_init(|| gpu_engine_from("resident primitives on the gpu", builder)).as_ref()
}

/// The reference (the engine's host-slice functions on the CPU) and the
/// engines whose arrays are checked against it.
fn engines() -> Vec<(&'static str, &'static Engine)> {
    let mut engines = vec![("cpu", shared_cpu_engine())];
    engines.extend(segmented_gpu().map(|gpu| ("gpu", gpu)));
    engines
}

/// Random values; floats with NaN, infinities and zeros of both signs.
fn data<T: TestElement>(label: &str, len: usize) -> Vec<T> {
    let mut values: Vec<T> = Rng::labelled(label).values(len, (-2.0, 2.0));
    let specials = if T::FLOAT { vec![-0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] } else { vec![] };
    let edges = T::EDGES.iter().copied().chain(specials.into_iter().map(T::of_f64));
    for (k, special) in edges.enumerate().filter(|_| len > 16) {
        values[len / 2 + k * (len / 16)] = special;
    }
    values
}

fn same_located<T: TestElement>(got: &Located<T>, want: &Located<T>, what: &str) {
    assert!(got.index == want.index && got.value.same_as(want.value), "{what}: {got:?}, expected {want:?}");
}

/// The array's result is where the array is, and holds `want`.
fn check_array<T: TestElement, U: TestElement>(input: &Array<T>, got: Array<U>, want: &[U], what: &str) {
    assert_eq!(got.on_gpu(), input.on_gpu(), "{what}: where the result lives");
    assert_same_elements(&got.to_vec().unwrap(), want, what);
}

fn check_type<T: TestElement>(condition: &str) {
    let reference = shared_cpu_engine();
    let predicate = Expr::parse(condition).unwrap();
    for len in LENS {
        let values = data::<T>(&format!("resident {} {len}", T::DTYPE), len);
        for (name, engine) in engines() {
            let what = |op: &str| format!("{op} of {len} {} on {name}", T::DTYPE);
            let xs = engine.array(values.clone());
            let gpu_takes_type = engine.gpu().is_some_and(|gpu| T::DTYPE != DType::F64 || gpu.shader_f64);
            assert_eq!(xs.on_gpu(), name == "gpu" && gpu_takes_type, "{}", what("the array"));
            for scan in Reduce::ALL.into_iter().flat_map(|r| [Scan::inclusive(r), Scan::exclusive(r)]) {
                let got = xs.scan(scan).unwrap_or_else(|e| panic!("{}: {e}", what(&scan.to_string())));
                check_array(&xs, got, &reference.scan(&values, scan).unwrap(), &what(&scan.to_string()));
            }
            for (op, got, want) in
                [("argmin", xs.argmin(), reference.argmin(&values)), ("argmax", xs.argmax(), reference.argmax(&values))]
            {
                match (got, want) {
                    (Ok(got), Ok(want)) => same_located(&got, &want, &what(op)),
                    (Err(got), Err(want)) => assert_eq!(got.to_string(), want.to_string(), "{}", what(op)),
                    (got, want) => panic!("{}: {got:?}, expected {want:?}", what(op)),
                }
            }
            let range = if T::FLOAT { (-1.5, 1.5) } else { (-3e9, 3e9) };
            let counts = reference.histogram(&values, 7, range.0, range.1).unwrap();
            check_array(&xs, xs.histogram(7, range.0, range.1).unwrap(), &counts, &what("histogram"));
            let kept = reference.filter(&values, &predicate).unwrap();
            check_array(&xs, xs.filter(&predicate).unwrap(), &kept, &what("filter"));
            let parts = reference.partition(&values, &predicate).unwrap();
            let (kept_part, rest_part) = xs.partition(&predicate).unwrap();
            check_array(&xs, kept_part, parts.kept(), &what("partition, kept"));
            check_array(&xs, rest_part, parts.rest(), &what("partition, rest"));
            let at = reference.filter_indices(&predicate, &Inputs::new().with("x", &values)).unwrap();
            check_array(&xs, xs.filter_indices(&predicate).unwrap(), &at, &what("filter_indices"));
            // A filter's result, its length still on the device, as the input of another primitive.
            let sums = xs.filter(&predicate).unwrap().scan(Scan::inclusive(Reduce::Sum)).unwrap();
            check_array(
                &xs,
                sums,
                &reference.scan(&kept, Scan::inclusive(Reduce::Sum)).unwrap(),
                &what("filter, scan"),
            );
        }
    }
}

#[test]
fn every_primitive_of_a_resident_array_has_the_bits_of_the_engine_functions() {
    check_type::<f32>("x > 0.25 || i % 5 == 0");
    check_type::<f64>("x < -0.5");
    check_type::<i32>("x % 3 == 1 || i % 7 == 0");
    check_type::<u32>("x % 3 == 0");
}

#[test]
fn bincount_of_resident_keys_counts_as_the_engine_does() {
    let reference = shared_cpu_engine();
    for len in LENS {
        let mut rng = Rng::labelled(&format!("keys {len}"));
        let keys: Vec<i32> = (0..len).map(|_| (rng.next_u64() % 40) as i32 - 5).collect();
        let ukeys: Vec<u32> = keys.iter().map(|&k| k as u32).collect();
        for (name, engine) in engines() {
            let what = format!("bincount of {len} keys on {name}");
            let (xs, us) = (engine.array(keys.clone()), engine.array(ukeys.clone()));
            check_array(&xs, xs.bincount(30).unwrap(), &reference.bincount(&keys, 30).unwrap(), &what);
            check_array(&us, us.bincount(30).unwrap(), &reference.bincount(&ukeys, 30).unwrap(), &what);
        }
    }
    // Counts longer than a segment land in a multi-segment array.
    let mut rng = Rng::labelled("wide keys");
    let keys: Vec<u32> = (0..5000).map(|_| (rng.next_u64() % 600_000) as u32).collect();
    for (name, engine) in engines() {
        let xs = engine.array(keys.clone());
        let want = reference.bincount(&keys, 550_000).unwrap();
        check_array(&xs, xs.bincount(550_000).unwrap(), &want, &format!("bincount in 550,000 bins on {name}"));
    }
}

#[test]
fn a_filter_on_the_gpu_reads_back_only_its_count_when_its_length_is_needed() {
    // An engine of its own, so that no other test's traffic is counted.
    let builder = Engine::builder().policy(Policy::Gpu).chunk_bytes(1 << 16);
    let Some(engine) = gpu_engine_from("a filter's pending length", builder) else { return };
    let reference = shared_cpu_engine();
    let predicate = Expr::parse("x > 0.5").unwrap();
    for len in [100_000, LENS[4]] {
        let values = data::<f32>(&format!("pending {len}"), len);
        let xs = engine.array(values.clone());
        let before = engine.transfers();
        let kept = xs.filter(&predicate).unwrap();
        let sums = xs.scan(Scan::inclusive(Reduce::Sum)).unwrap();
        let counts = xs.histogram(10, -2.0, 2.0).unwrap();
        let moved = engine.transfers().since(&before);
        assert_eq!((moved.uploads, moved.readbacks), (0, 0), "the data and the results stay on the device: {moved:?}");
        assert!(format!("{kept:?}").contains("on the device"), "{kept:?}");
        let want = reference.filter(&values, &predicate).unwrap();
        assert_eq!(kept.len(), want.len());
        let moved = engine.transfers().since(&before);
        let segments = len.div_ceil(262_144) as u64;
        assert_eq!((moved.readbacks, moved.readback_bytes), (1, 4 * segments), "one count a segment: {moved:?}");
        assert_eq!(kept.len(), want.len(), "the length is kept");
        assert_eq!(engine.transfers().since(&before).readbacks, 1);
        assert_same_elements(&kept.to_vec().unwrap(), &want, "the kept values");
        let sums_want = reference.scan(&values, Scan::inclusive(Reduce::Sum)).unwrap();
        assert_same_elements(&sums.to_vec().unwrap(), &sums_want, "the scan");
        assert_eq!(counts.to_vec().unwrap(), reference.histogram(&values, 10, -2.0, 2.0).unwrap());
        // Segments that keep every value are already in place; none kept is an empty array.
        let every = xs.filter(&Expr::parse("i >= 0").unwrap()).unwrap();
        assert_same_elements(&every.to_vec().unwrap(), &values, "a filter that keeps everything");
        let none = xs.filter(&Expr::parse("x > 10 && x < 100").unwrap()).unwrap();
        assert!(none.is_empty() && none.on_gpu() && none.to_vec().unwrap().is_empty(), "a filter that keeps nothing");
    }
}

#[test]
fn bad_arguments_give_the_engine_functions_errors() {
    let values = data::<f32>("errors", 5000);
    let reference = shared_cpu_engine();
    for (name, engine) in engines() {
        let (xs, empty) = (engine.array(values.clone()), engine.array(Vec::<f32>::new()));
        let same =
            |got: Error, want: Error, what: &str| assert_eq!(got.to_string(), want.to_string(), "{what} on {name}");
        assert!(matches!(empty.argmin(), Err(Error::EmptyArg { .. })), "{name}");
        same(empty.argmax().unwrap_err(), reference.argmax::<f32>(&[]).unwrap_err(), "argmax of nothing");
        assert!(matches!(xs.histogram(0, 0.0, 1.0), Err(Error::InvalidBins { .. })), "{name}");
        assert!(matches!(xs.histogram(3, 1.0, 1.0), Err(Error::InvalidRange { .. })), "{name}");
        same(
            xs.histogram(3, f64::NAN, 1.0).unwrap_err(),
            reference.histogram(&values, 3, f64::NAN, 1.0).unwrap_err(),
            "NaN range",
        );
        assert!(matches!(xs.bincount(4), Err(Error::FloatKeys { .. })), "{name}");
        let keys = engine.array(vec![1u32, 2]);
        same(
            keys.bincount((1 << 24) + 1).unwrap_err(),
            reference.bincount(&[1u32], (1 << 24) + 1).unwrap_err(),
            "bins",
        );
        for bad in ["x * 2", "y > 0", "x > 0.5 && i"] {
            let predicate = Expr::parse(bad).unwrap();
            same(xs.filter(&predicate).unwrap_err(), reference.filter(&values, &predicate).unwrap_err(), bad);
            same(xs.partition(&predicate).unwrap_err(), reference.partition(&values, &predicate).unwrap_err(), bad);
            let inputs = Inputs::new().with("x", &values);
            same(
                xs.filter_indices(&predicate).unwrap_err(),
                reference.filter_indices(&predicate, &inputs).unwrap_err(),
                bad,
            );
        }
        let err = xs.filter(&Expr::parse("x * 2").unwrap()).unwrap_err();
        assert!(matches!(err, Error::Expr(swath::ExprError::NotACondition { .. })), "{err}");
    }
}

#[test]
fn a_gpu_fault_in_a_resident_primitive_reruns_on_the_cpu_and_results_are_recomputed() {
    let Some(engine) = gpu_engine("a gpu fault in a resident primitive") else { return };
    let reference = shared_cpu_engine();
    let values = data::<f32>("resident faults", 70_001);
    let xs = engine.array(values.clone());
    let predicate = Expr::parse("x > 0").unwrap();
    let scan = Scan::exclusive(Reduce::Sum);
    let (sums, kept) = (reference.scan(&values, scan).unwrap(), reference.filter(&values, &predicate).unwrap());
    let counts = reference.histogram(&values, 9, -2.0, 2.0).unwrap();
    let fault = || assert!(engine.inject_gpu_fault(InjectedFault::Validation));
    // A fault in the primitive's job: the CPU computes it, from the values read back.
    fault();
    let on_cpu = xs.scan(scan).unwrap();
    assert!(!on_cpu.on_gpu(), "a primitive rerun on the CPU leaves its result in host memory");
    assert_same_elements(&on_cpu.to_vec().unwrap(), &sums, "a scan after a fault");
    fault();
    same_located(&xs.argmax().unwrap(), &reference.argmax(&values).unwrap(), "argmax after a fault");
    fault();
    assert_eq!(xs.histogram(9, -2.0, 2.0).unwrap().to_vec().unwrap(), counts, "a histogram after a fault");
    fault();
    let on_cpu = xs.filter(&predicate).unwrap();
    assert!(!on_cpu.on_gpu());
    assert_same_elements(&on_cpu.to_vec().unwrap(), &kept, "a filter after a fault");
    // A fault when a result on the GPU is read, or its length resolved: recomputed from its lineage.
    let (on_gpu, pending) = (xs.scan(scan).unwrap().histogram(9, -2.0, 2.0).unwrap(), xs.filter(&predicate).unwrap());
    assert!(on_gpu.on_gpu() && pending.on_gpu());
    let scanned_counts = reference.histogram(&sums, 9, -2.0, 2.0).unwrap();
    fault();
    assert_eq!(on_gpu.to_vec().unwrap(), scanned_counts, "a scan's histogram recomputed");
    fault();
    assert_eq!(pending.len(), kept.len(), "a filter's length recomputed");
    assert!(!pending.on_gpu());
    assert_same_elements(&pending.to_vec().unwrap(), &kept, "a filter recomputed");
    assert!(engine.gpu_healthy(), "single faults leave the GPU healthy");
}
