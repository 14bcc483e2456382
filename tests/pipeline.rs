//! Device-resident arrays and pipelines: the same results as the CPU path,
//! exactly one upload and one readback for a chain of stages, inputs
//! larger than one storage binding, faults that lose nothing, and clear
//! errors for badly described pipelines.

mod common;
#[path = "pipeline/fusion.rs"]
mod fusion;

use common::{gpu_engine, large_input_lock, random, ON_GPU};
use swath::expr::Expr;
use swath::{Array, Engine, Error, InjectedFault, Op, Outputs, Pipeline, PipelineError, Reduce};

/// Ten stages of exactly rounded f32 arithmetic (`+ - * min max abs`),
/// so the GPU and the CPU agree bit for bit.
const STAGES: [(&str, &str); 10] = [
    ("s1", "x * 0.5 + 1"),
    ("s2", "s1 * s1 - x"),
    ("s3", "max(s2, x)"),
    ("s4", "abs(s3 - 2)"),
    ("s5", "s4 * 0.25"),
    ("s6", "s5 + s1"),
    ("s7", "min(s6, 100)"),
    ("s8", "s7 * s7"),
    ("s9", "s8 - s5"),
    ("s10", "s9 * 0.125 + s7"),
];

/// The ten stages in a plain loop, in the same order of operations.
fn ten_stages_by_hand(xs: &[f32]) -> Vec<f32> {
    xs.iter()
        .map(|&x| {
            let s1 = x * 0.5 + 1.0;
            let s2 = s1 * s1 - x;
            let s3 = s2.max(x);
            let s4 = (s3 - 2.0).abs();
            let s5 = s4 * 0.25;
            let s6 = s5 + s1;
            let s7 = s6.min(100.0);
            let s8 = s7 * s7;
            let s9 = s8 - s5;
            s9 * 0.125 + s7
        })
        .collect()
}

fn ten_stages(engine: &Engine, xs: &Array<f32>) -> Outputs {
    ten_stages_after(engine.pipeline().input("x", xs))
}

/// The ten stages after `pipeline`'s input `x`.
fn ten_stages_after(mut pipeline: Pipeline<'_>) -> Outputs {
    for (name, text) in STAGES {
        pipeline = pipeline.map::<f32>(name, &Expr::parse(text).expect("stage parses"));
    }
    pipeline.run().expect("the pipeline runs")
}

#[test]
fn ten_stage_pipeline_matches_the_cpu_with_one_upload_and_one_readback() {
    let Some(gpu) = gpu_engine("ten_stage_pipeline_matches_the_cpu_with_one_upload_and_one_readback") else {
        return;
    };
    let xs: Vec<f32> = random("ten stages", (1 << 20) + 3, (-10.0, 10.0));
    let expected = ten_stages_by_hand(&xs);

    let before = gpu.transfers();
    let resident = gpu.array(xs.as_slice());
    assert!(resident.on_gpu());
    let outputs = ten_stages(&gpu, &resident);
    assert_eq!(outputs.decision(), ON_GPU, "{}", outputs.decision());
    let out = outputs.array::<f32>("s10").expect("s10 is kept");
    let got = out.to_vec().expect("readback");
    let moved = gpu.transfers().since(&before);
    assert_eq!((moved.uploads, moved.readbacks), (1, 1), "transfers: {moved:?}");
    assert_eq!(moved.upload_bytes, (xs.len() * 4) as u64);
    assert_eq!(moved.readback_bytes, (xs.len() * 4) as u64);
    assert_same_bits(&got, &expected, "GPU pipeline vs plain loop");

    let cpu = Engine::cpu();
    let on_cpu = ten_stages(&cpu, &cpu.array(xs.as_slice())).array::<f32>("s10").unwrap().to_vec().unwrap();
    assert_same_bits(&on_cpu, &expected, "CPU pipeline vs plain loop");
    assert_eq!(cpu.transfers(), Default::default(), "a CPU engine moves nothing");
}

#[test]
fn a_pipeline_is_one_submission() {
    let Some(gpu) = gpu_engine("a_pipeline_is_one_submission") else { return };
    let xs = gpu.array(random::<f32>("one submission", 5000, (-1.0, 1.0)));
    let before = gpu.transfers();
    let _ = ten_stages(&gpu, &xs);
    assert_eq!(gpu.transfers().since(&before).submissions, 1);
}

#[test]
fn resident_arrays_larger_than_one_binding() {
    let Some(gpu) = gpu_engine("resident_arrays_larger_than_one_binding") else { return };
    let _large = large_input_lock();
    let n = (1 << 25) + 5;
    let xs: Vec<f32> = random("larger than a binding", n, (-2.0, 2.0));
    let cpu = Engine::cpu();
    let resident = gpu.array(xs.as_slice());
    assert!(resident.on_gpu());

    let squares = resident.map(Op::Square).expect("map");
    assert!(squares.on_gpu());
    let squares = squares.to_vec().expect("readback");
    assert_eq!(squares, cpu.map(&xs, Op::Square).unwrap(), "map over {n} elements");
    let mut into = vec![f32::NAN; n];
    let lent = gpu.pipeline().input_slice("x", &xs).map::<f32>("y", &Expr::parse("x * x").unwrap());
    assert_eq!(lent.output_into("y", &mut into).run().unwrap().device(), swath::Device::Gpu);
    assert_eq!(into, squares, "a slice through the GPU, {n} elements");
    let sum = resident.map_reduce(Op::Square, Reduce::Sum).expect("map-reduce");
    let expected = cpu.map_reduce(&xs, Op::Square, Reduce::Sum).unwrap();
    assert_eq!(sum.to_bits(), expected.to_bits(), "sum of squares: {sum} vs {expected}");
    let exact: f64 = xs.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    assert!((f64::from(sum) - exact).abs() <= 1e-4 * exact, "sum {sum} vs f64 {exact}");
}

#[test]
fn odd_lengths_and_special_values_match_the_cpu() {
    let Some(gpu) = gpu_engine("odd_lengths_and_special_values_match_the_cpu") else { return };
    let cpu = Engine::cpu();
    for n in [0usize, 1, 255, 256, 257, 4097, 65_537] {
        let mut xs: Vec<f32> = random(&format!("odd {n}"), n, (-100.0, 100.0));
        for (k, special) in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0].into_iter().enumerate() {
            if k < n {
                xs[n - 1 - k] = special;
            }
        }
        let (on_gpu, on_cpu) = (gpu.array(xs.as_slice()), cpu.array(xs.as_slice()));
        for reduce in [Reduce::Sum, Reduce::Product, Reduce::Min, Reduce::Max] {
            if n == 0 && !reduce.has_identity() {
                assert!(matches!(on_gpu.reduce(reduce), Err(Error::EmptyReduction { .. })));
                continue;
            }
            let (g, c) = (on_gpu.reduce(reduce).unwrap(), on_cpu.reduce(reduce).unwrap());
            assert!(g.to_bits() == c.to_bits() || (g.is_nan() && c.is_nan()), "{reduce} of {n}: {g} vs {c}");
        }
        let doubled = |a: &Array<f32>| a.apply::<f32>("x", &Expr::parse("max(x, -50) * 2").unwrap()).unwrap();
        let (g, c) = (doubled(&on_gpu).to_vec().unwrap(), doubled(&on_cpu).to_vec().unwrap());
        assert_eq!(g.len(), n);
        for (k, (a, b)) in g.iter().zip(&c).enumerate() {
            assert!(a == b || (a.is_nan() && b.is_nan()), "element {k} of {n}: {a} vs {b}");
        }
    }
}

#[test]
fn mixed_types_and_a_reduction_stage() {
    let Some(gpu) = gpu_engine("mixed_types_and_a_reduction_stage") else { return };
    for engine in [Engine::cpu(), gpu] {
        let counts = engine.array((1..=1000u32).collect::<Vec<_>>());
        let weights = engine.array((1..=1000).map(|k| k as f32 * 0.5).collect::<Vec<_>>());
        let out = engine
            .pipeline()
            .input("n", &counts)
            .input("w", &weights)
            .map::<f32>("total", &Expr::parse("f32(n) * w").unwrap())
            .reduce::<f32>("sum", &Expr::parse("total").unwrap(), Reduce::Sum)
            .reduce::<u32>("count", &Expr::parse("select(n % 2 == 0, 1, 0)").unwrap(), Reduce::Sum)
            .output("total")
            .output("sum")
            .run()
            .unwrap();
        let expected: f32 = (1..=1000).map(|k| k as f32 * k as f32 * 0.5).sum();
        assert!((out.scalar::<f32>("sum").unwrap() - expected).abs() <= 1e-5 * expected);
        assert_eq!(out.scalar::<u32>("count").unwrap(), 500);
        assert_eq!(out.array::<f32>("total").unwrap().len(), 1000);
    }
}

#[test]
fn a_device_lost_before_readback_loses_nothing() {
    let Some(gpu) = gpu_engine("a_device_lost_before_readback_loses_nothing") else { return };
    let xs: Vec<f32> = random("lost", 70_000, (-10.0, 10.0));
    let resident = gpu.array(xs.as_slice());
    let s10 = ten_stages(&gpu, &resident).array::<f32>("s10").unwrap();
    let sum = resident.apply::<f32>("x", &Expr::parse("x * 3").unwrap()).unwrap();
    assert!(gpu.inject_gpu_fault(InjectedFault::DeviceLost));
    // The fault fires in the next GPU job: this pipeline, which then runs
    // on the CPU from values read back... or recomputed, since the device
    // is gone by the time anything is read.
    let again = ten_stages(&gpu, &resident).array::<f32>("s10").unwrap();
    let expected = ten_stages_by_hand(&xs);
    assert_same_bits(&again.to_vec().unwrap(), &expected, "stages run after the loss");
    assert_same_bits(&s10.to_vec().unwrap(), &expected, "stages run before the loss, read after");
    let tripled: Vec<f32> = xs.iter().map(|x| x * 3.0).collect();
    assert_same_bits(&sum.to_vec().unwrap(), &tripled, "a single stage read after the loss");
    assert!(!gpu.gpu_healthy(), "the engine reports the lost device");
}

#[test]
fn lent_slices_are_read_in_place_on_the_cpu() {
    let cpu = Engine::builder().policy(swath::Policy::Cpu).threads(2).build().unwrap();
    for n in [0usize, 1, 255, 4097, 70_001] {
        let mut xs: Vec<f32> = random(&format!("lent {n}"), n, (-10.0, 10.0));
        for (k, special) in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY].into_iter().enumerate() {
            if k < n {
                xs[k * n / 3] = special;
            }
        }
        let out = ten_stages_after(cpu.pipeline().input_slice("x", &xs));
        assert_eq!(out.device(), swath::Device::Cpu);
        let lent = out.array::<f32>("s10").unwrap().into_vec().unwrap();
        // NaN takes the engine's rule in `max` and `min`, not the standard library's.
        let copied = ten_stages(&cpu, &cpu.array(xs.as_slice())).array::<f32>("s10").unwrap().to_vec().unwrap();
        assert_same_bits(&lent, &copied, &format!("lent slice of {n} vs an array"));
        let mut into = vec![f32::NAN; n];
        let out = ten_stages_after(cpu.pipeline().input_slice("x", &xs).output_into("s10", &mut into));
        assert!(out.array::<f32>("s10").is_err(), "a stage written into a slice is no array");
        assert_same_bits(&into, &copied, &format!("lent slice of {n} into a slice"));
        // Lent values and arrays mix, and their lengths are checked alike.
        let w = cpu.array(vec![2.0f32; n]);
        let mixed = cpu.pipeline().input_slice("x", &xs).input("w", &w).map::<f32>("y", &Expr::parse("x * w").unwrap());
        let doubled: Vec<f32> = xs.iter().map(|x| x * 2.0).collect();
        assert_same_bits(&mixed.run().unwrap().array::<f32>("y").unwrap().to_vec().unwrap(), &doubled, "x * w");
    }
    let short = cpu.array(vec![1.0f32; 3]);
    let uneven = cpu.pipeline().input_slice("x", &[1.0f32, 2.0]).input("w", &short);
    let uneven = uneven.map::<f32>("y", &Expr::parse("x * w").unwrap()).run();
    assert!(matches!(uneven, Err(Error::InputLengths { .. })), "{uneven:?}");
}

#[test]
fn lent_slices_are_owned_by_results_left_on_the_gpu() {
    let Some(gpu) = gpu_engine("lent_slices_are_owned_by_results_left_on_the_gpu") else { return };
    let xs: Vec<f32> = random("lent to the GPU", 70_000, (-10.0, 10.0));
    let expected = ten_stages_by_hand(&xs);
    let outputs = ten_stages_after(gpu.pipeline().input_slice("x", &xs));
    assert_eq!(outputs.decision(), ON_GPU, "{}", outputs.decision());
    let s10 = outputs.array::<f32>("s10").unwrap();
    assert!(s10.on_gpu());
    // The slice is gone and the device with it: the result is recomputed
    // from the pipeline's own copy of the values.
    drop(xs);
    assert!(gpu.inject_gpu_fault(InjectedFault::DeviceLost));
    let _ = gpu.array(vec![1.0f32; 5000]).map(Op::Square);
    assert_same_bits(&s10.to_vec().unwrap(), &expected, "read after the loss");
}

#[test]
fn slices_in_and_out_of_the_gpu_move_once_each_way() {
    let Some(gpu) = gpu_engine("slices_in_and_out_of_the_gpu_move_once_each_way") else { return };
    let xs: Vec<f32> = random("slices through the GPU", (1 << 20) + 3, (-10.0, 10.0));
    let expected = ten_stages_by_hand(&xs);
    let mut out = vec![f32::NAN; xs.len()];
    let before = gpu.transfers();
    let outputs = ten_stages_after(gpu.pipeline().input_slice("x", &xs).output_into("s10", &mut out));
    assert_eq!(outputs.decision(), ON_GPU, "{}", outputs.decision());
    let moved = gpu.transfers().since(&before);
    assert_eq!((moved.uploads, moved.readbacks), (1, 1), "transfers: {moved:?}");
    assert_same_bits(&out, &expected, "read back into the slice");
    // A fault in the run reruns it on the CPU, which writes the slice.
    out.fill(f32::NAN);
    assert!(gpu.inject_gpu_fault(InjectedFault::Validation));
    let outputs = ten_stages_after(gpu.pipeline().input_slice("x", &xs).output_into("s10", &mut out));
    assert_eq!(outputs.device(), swath::Device::Cpu);
    assert_same_bits(&out, &expected, "after a validation fault");
}

#[test]
fn slices_to_write_into_are_checked_before_any_work() {
    let cpu = Engine::cpu();
    let xs = [1.0f32, 2.0, 3.0];
    let (mut three, mut two, mut ints, mut one) = ([0.0f32; 3], [0.0f32; 2], [0u32; 3], [0.0f32; 1]);
    let stage = Expr::parse("x * 2").unwrap();
    let doubled = |p: Pipeline<'_>| p.map::<f32>("y", &stage).run();
    let error = |result: swath::Result<Outputs>| match result {
        Err(Error::Pipeline(error)) => error,
        other => panic!("expected a pipeline error, got {other:?}"),
    };
    let unknown = error(doubled(cpu.pipeline().input_slice("x", &xs).output_into("z", &mut three)));
    assert!(matches!(unknown, PipelineError::UnknownStage { .. }), "{unknown}");
    let short = error(doubled(cpu.pipeline().input_slice("x", &xs).output_into("y", &mut two)));
    assert!(matches!(short, PipelineError::IntoLength { len: 3, slice: 2, .. }), "{short}");
    let typed = error(doubled(cpu.pipeline().input_slice("x", &xs).output_into("y", &mut ints)));
    assert!(matches!(typed, PipelineError::OutputType { .. }), "{typed}");
    let (first, second) = three.split_at_mut(1);
    let twice =
        error(doubled(cpu.pipeline().input_slice("x", &xs[..1]).output_into("y", first).output_into("y", second)));
    assert!(matches!(twice, PipelineError::DuplicateName { .. }), "{twice}");
    assert_eq!(three, [0.0; 3], "nothing was written");
    // A reduction is one element, and a slice of one takes it.
    let sum = cpu.pipeline().input_slice("x", &xs).reduce::<f32>("s", &stage, swath::Reduce::Sum);
    sum.output_into("s", &mut one).run().unwrap();
    assert_eq!(one, [12.0]);
}

#[test]
fn a_validation_fault_reruns_the_pipeline_on_the_cpu() {
    let Some(gpu) = gpu_engine("a_validation_fault_reruns_the_pipeline_on_the_cpu") else { return };
    let xs: Vec<f32> = random("validation", 9_999, (-10.0, 10.0));
    let resident = gpu.array(xs.as_slice());
    assert!(gpu.inject_gpu_fault(InjectedFault::Validation));
    let out = ten_stages(&gpu, &resident).array::<f32>("s10").unwrap();
    assert!(!out.on_gpu(), "the failed pipeline's results live on the host");
    assert_same_bits(&out.to_vec().unwrap(), &ten_stages_by_hand(&xs), "after a validation fault");
}

#[test]
fn badly_described_pipelines_are_errors() {
    let engine = Engine::new().unwrap();
    let xs = engine.array(vec![1.0f32, 2.0, 3.0]);
    let short = engine.array(vec![1.0f32, 2.0]);
    let parse = |text: &str| Expr::parse(text).unwrap();
    let run = |p: swath::Pipeline<'_>| p.run().map(|_| ());

    let err = run(engine.pipeline().input("x", &xs).map::<f32>("x", &parse("x + 1"))).unwrap_err();
    assert!(matches!(&err, Error::Pipeline(m) if m.to_string().contains("two arrays are named \"x\"")), "{err}");
    let err = run(engine.pipeline().input("x", &xs).map::<f32>("y", &parse("z + 1"))).unwrap_err();
    assert!(matches!(err, Error::Expr(_)), "{err}");
    let err = run(engine.pipeline().input("x", &xs).map::<f64>("y", &parse("x + 1"))).unwrap_err();
    assert!(matches!(err, Error::Expr(_)), "{err}");
    let err = run(engine.pipeline().input("x", &xs).input("s", &short).map::<f32>("y", &parse("x + s"))).unwrap_err();
    assert!(matches!(&err, Error::InputLengths { lengths } if lengths.len() == 2), "{err}");
    let err = run(engine.pipeline().input("x", &xs).map::<u32>("y", &parse("i"))).unwrap_err();
    assert!(matches!(&err, Error::Pipeline(m) if m.to_string().contains("reads no array")), "{err}");
    let err = run(engine.pipeline().input("x", &xs).map::<f32>("y", &parse("x")).output("nope")).unwrap_err();
    assert!(matches!(&err, Error::Pipeline(m) if m.to_string().contains("nope")), "{err}");
    let empty = engine.array(Vec::<f32>::new());
    let err = run(engine.pipeline().input("x", &empty).reduce::<f32>("m", &parse("x"), Reduce::Max)).unwrap_err();
    assert!(matches!(err, Error::EmptyReduction { .. }), "{err}");

    let out = engine.pipeline().input("x", &xs).map::<f32>("y", &parse("x")).run().unwrap();
    assert!(matches!(out.array::<f64>("y"), Err(Error::Pipeline(_))));
    assert!(matches!(out.array::<f32>("x"), Err(Error::Pipeline(_))));
    assert!(matches!(out.scalar::<f32>("y"), Err(Error::LengthMismatch { input: 3, output: 1 })));
    assert!(matches!(xs.map(Op::Sqrt).map(|_| ()), Ok(())));
    let ints = engine.array(vec![1i32, 2]);
    assert!(matches!(ints.map(Op::Sqrt), Err(Error::Unsupported { .. })));
}

fn assert_same_bits(got: &[f32], expected: &[f32], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (k, (a, b)) in got.iter().zip(expected).enumerate() {
        assert!(a.to_bits() == b.to_bits(), "{what}: element {k} is {a}, expected {b}");
    }
}

/// A long chain of arrays, each made from the last and the last dropped:
/// lineage kept for recovery stays bounded, and dropping the chain does
/// not recurse through it.
#[test]
fn a_long_chain_of_arrays_keeps_bounded_lineage() {
    let engine = Engine::cpu();
    let mut x = engine.array(vec![0.5f32, -2.0, 7.0]);
    for _ in 0..300_000 {
        x = x.map(Op::Add(1.0)).unwrap();
    }
    assert_eq!(x.to_vec().unwrap(), [300_000.5, 299_998.0, 300_007.0]);
    drop(x);

    const TEST: &str = "a_long_chain_of_arrays_keeps_bounded_lineage";
    let Some(gpu) = gpu_engine(TEST) else { return };
    let mut x = gpu.array(vec![0.5f32, -2.0, 7.0]);
    for _ in 0..200 {
        x = x.map(Op::Add(1.0)).unwrap();
    }
    assert!(x.on_gpu());
    // Past the checkpoints, a lost device still loses nothing.
    assert!(gpu.inject_gpu_fault(swath::InjectedFault::DeviceLost));
    assert_eq!(x.to_vec().unwrap(), [200.5, 198.0, 207.0]);
}
