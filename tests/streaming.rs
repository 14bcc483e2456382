//! Host data streamed through the GPU in many pieces (double-buffered
//! uploads and readbacks, staging reused) and resident arrays of many
//! segments give the same bits as the unchunked CPU path. A small chunk
//! size makes a few million elements take many pieces.

mod common;

use common::random;
use swath::expr::Expr;
use swath::{Engine, Inputs, Job, Op, Policy, Reduce};

const CHUNK_BYTES: u64 = 4 << 20;

fn chunked_gpu(test_name: &str) -> Option<Engine> {
    common::gpu_engine(test_name)?;
    Some(Engine::builder().policy(Policy::Gpu).chunk_bytes(CHUNK_BYTES).build().expect("a GPU opened just now"))
}

#[test]
fn streamed_maps_match_the_cpu() {
    let Some(gpu) = chunked_gpu("streamed_maps_match_the_cpu") else { return };
    let cpu = Engine::cpu();
    let n = 5_000_003;
    let xs: Vec<f32> = random("streamed map", n, (-1e3, 1e3));
    let before = gpu.transfers();
    let on_gpu = gpu.map(&xs, Op::Square).unwrap();
    let moved = gpu.transfers().since(&before);
    assert_eq!(on_gpu, cpu.map(&xs, Op::Square).unwrap());
    assert!(moved.submissions >= 5, "{n} f32 in {CHUNK_BYTES}-byte chunks: {moved:?}");
    assert_eq!((moved.uploads, moved.readbacks), (1, 1), "{moved:?}");

    let (profiled, profile) = gpu.profile_gpu(&Job::map(&xs, Op::Square)).unwrap();
    assert_eq!(profiled.array().unwrap(), on_gpu.as_slice());
    assert!(profile.readback_copy <= profile.readback, "{profile:?}");
}

#[test]
fn streamed_zipped_inputs_of_mixed_types_match_the_cpu() {
    let Some(gpu) = chunked_gpu("streamed_zipped_inputs_of_mixed_types_match_the_cpu") else { return };
    let cpu = Engine::cpu();
    let n = 3_000_001;
    let a: Vec<f64> = random("zipped a", n, (-10.0, 10.0));
    let b: Vec<f32> = random("zipped b", n, (-10.0, 10.0));
    let k: Vec<i32> = random::<i32>("zipped k", n, (0.0, 0.0)).iter().map(|v| v % 1000).collect();
    let inputs = Inputs::new().with("a", &a).with("b", &b).with("k", &k);
    let expr = Expr::parse("a * f64(b) + f64(k) - f64(i % 7)").unwrap();
    assert_eq!(gpu.eval::<f64>(&expr, &inputs).unwrap(), cpu.eval::<f64>(&expr, &inputs).unwrap());
    for reduce in [Reduce::Sum, Reduce::Min, Reduce::Max] {
        let (g, c) = (
            gpu.eval_reduce::<f64>(&expr, &inputs, reduce).unwrap(),
            cpu.eval_reduce::<f64>(&expr, &inputs, reduce).unwrap(),
        );
        assert_eq!(g.to_bits(), c.to_bits(), "{reduce}: {g} vs {c}");
    }
}

#[test]
fn streamed_reductions_match_the_cpu() {
    let Some(gpu) = chunked_gpu("streamed_reductions_match_the_cpu") else { return };
    let cpu = Engine::cpu();
    let xs: Vec<f32> = random("streamed reduce", 5_000_003, (-1.0, 1.0));
    for reduce in [Reduce::Sum, Reduce::Min, Reduce::Max, Reduce::Product] {
        let (g, c) = (gpu.map_reduce(&xs, Op::Abs, reduce).unwrap(), cpu.map_reduce(&xs, Op::Abs, reduce).unwrap());
        assert_eq!(g.to_bits(), c.to_bits(), "{reduce}: {g} vs {c}");
    }
    let exact: f64 = xs.iter().map(|&x| f64::from(x.abs())).sum();
    let sum = gpu.map_reduce(&xs, Op::Abs, Reduce::Sum).unwrap();
    assert!((f64::from(sum) - exact).abs() <= 1e-5 * exact, "{sum} vs f64 {exact}");
}

#[test]
fn resident_arrays_of_many_segments_match_the_cpu() {
    let Some(gpu) = chunked_gpu("resident_arrays_of_many_segments_match_the_cpu") else { return };
    let cpu = Engine::cpu();
    let xs: Vec<f32> = random("segments", 5_000_003, (-3.0, 3.0));
    let ws: Vec<u32> = (0..xs.len() as u32).map(|k| k % 17).collect();
    let run = |engine: &Engine| {
        let out = engine
            .pipeline()
            .input("x", &engine.array(xs.as_slice()))
            .input("w", &engine.array(ws.as_slice()))
            .map::<f32>("y", &Expr::parse("x * f32(w) + f32(i % 3)").unwrap())
            .map::<f32>("z", &Expr::parse("max(y, x) - 1").unwrap())
            .reduce::<f32>("sum", &Expr::parse("z * z").unwrap(), Reduce::Sum)
            .output("z")
            .run()
            .unwrap();
        (out.array::<f32>("z").unwrap().to_vec().unwrap(), out.scalar::<f32>("sum").unwrap())
    };
    let ((gz, gs), (cz, cs)) = (run(&gpu), run(&cpu));
    assert_eq!(gz, cz);
    assert_eq!(gs.to_bits(), cs.to_bits(), "{gs} vs {cs}");
}
