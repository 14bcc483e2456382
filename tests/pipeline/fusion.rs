//! Pipeline stage fusion: stages nobody keeps run inside the stages that
//! read them, with the bits of the stages run one by one, on every thread
//! count and on the GPU in one kernel.

use crate::common::{gpu_engine, random, shared_gpu_engine};
use swath::expr::Expr;
use swath::{Array, Element, Engine, Pipeline, Policy, Reduce};

/// Exactly rounded f32 stages (`+ - * min max abs`) that read earlier
/// stages more than once, so the GPU and the CPU agree bit for bit.
const STAGES: [(&str, &str); 8] = [
    ("a", "x * 0.5 + 1"),
    ("b", "a * a - x"),
    ("c", "max(b, x)"),
    ("d", "abs(c - 2) * 0.25"),
    ("e", "d + a"),
    ("f", "min(e, 100)"),
    ("g", "f * f - d"),
    ("h", "g * 0.125 + f"),
];

fn by_hand(x: f32) -> f32 {
    let a = x * 0.5 + 1.0;
    let b = a * a - x;
    let c = b.max(x);
    let d = (c - 2.0).abs() * 0.25;
    let e = d + a;
    let f = e.min(100.0);
    let g = f * f - d;
    g * 0.125 + f
}

fn stages<'e>(engine: &'e Engine, xs: &Array<f32>) -> Pipeline<'e> {
    STAGES
        .iter()
        .fold(engine.pipeline().input("x", xs), |p, (name, text)| p.map::<f32>(name, &Expr::parse(text).unwrap()))
}

/// The last stage's values, with every stage kept (no fusion) or only the last.
fn run(engine: &Engine, xs: &[f32], keep_all: bool) -> Vec<f32> {
    let xs = engine.array(xs.to_vec());
    let pipeline = stages(engine, &xs);
    let pipeline = if keep_all { STAGES.iter().fold(pipeline, |p, (name, _)| p.output(name)) } else { pipeline };
    pipeline.run().unwrap().array::<f32>("h").unwrap().to_vec().unwrap()
}

fn cpu(threads: usize) -> Engine {
    Engine::builder().policy(Policy::Cpu).threads(threads).build().unwrap()
}

fn assert_same_bits<T: Element>(got: &[T], expected: &[T], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (k, (a, b)) in got.iter().zip(expected).enumerate() {
        let same = bytemuck::bytes_of(a) == bytemuck::bytes_of(b);
        assert!(same, "{what}: element {k} is {a}, expected {b}");
    }
}

#[test]
fn fused_stages_give_the_bits_of_stages_run_one_by_one() {
    let gpu = shared_gpu_engine("fused_stages_give_the_bits_of_stages_run_one_by_one");
    for n in [0, 1, 255, 257, 4097, 100_003] {
        let mut xs: Vec<f32> = random("fusion", n, (-10.0, 10.0));
        if n > 8 {
            xs[..4].copy_from_slice(&[-0.0, 1e-40, 3e38, -3e38]);
        }
        let expected: Vec<f32> = xs.iter().map(|&x| by_hand(x)).collect();
        for (what, engine) in
            [("1 thread", cpu(1)), ("2 threads", cpu(2))].into_iter().chain(gpu.map(|g| ("gpu", g.clone())))
        {
            assert_same_bits(&run(&engine, &xs, false), &expected, &format!("{what}, fused, n = {n}"));
            assert_same_bits(&run(&engine, &xs, true), &expected, &format!("{what}, unfused, n = {n}"));
        }
    }
}

#[test]
fn a_chain_of_maps_is_one_gpu_dispatch() {
    // An engine of its own: the counters are per engine.
    let Some(gpu) = gpu_engine("a_chain_of_maps_is_one_gpu_dispatch") else { return };
    let gpu = &gpu;
    let xs = gpu.array(random::<f32>("one dispatch", 1 << 16, (-1.0, 1.0)));
    let before = gpu.transfers();
    let out = stages(gpu, &xs).run().unwrap();
    assert_eq!(gpu.transfers().since(&before).dispatches, 1, "eight stages, only the last kept");
    drop(out);
    let before = gpu.transfers();
    let kept = STAGES.iter().fold(stages(gpu, &xs), |p, (name, _)| p.output(name)).run().unwrap();
    assert_eq!(gpu.transfers().since(&before).dispatches, 8, "every stage kept");
    // A stage two kept stages read is computed once, not kept.
    let before = gpu.transfers();
    let out = gpu
        .pipeline()
        .input("x", &xs)
        .map::<f32>("y", &Expr::parse("x * 3 + 1").unwrap())
        .map::<f32>("p", &Expr::parse("y * y").unwrap())
        .map::<f32>("q", &Expr::parse("y - x").unwrap())
        .output("p")
        .run()
        .unwrap();
    assert_eq!(gpu.transfers().since(&before).dispatches, 3);
    assert!(out.array::<f32>("y").is_err(), "the shared stage is not an output");
    drop(kept);
}

#[test]
fn a_deep_chain_fuses_in_pieces_with_the_same_bits() {
    let xs: Vec<f32> = random("deep chain", 4099, (-1.0, 1.0));
    let expected: Vec<f32> = xs.iter().map(|&x| (0..600).fold(x, |s, _| s * 0.999 + 0.001)).collect();
    let gpu = shared_gpu_engine("a_deep_chain_fuses_in_pieces_with_the_same_bits");
    for engine in [cpu(2)].into_iter().chain(gpu.cloned()) {
        let input = engine.array(xs.clone());
        let mut pipeline = engine.pipeline().input("s0", &input);
        for k in 1..=600 {
            pipeline =
                pipeline.map::<f32>(&format!("s{k}"), &Expr::parse(&format!("s{} * 0.999 + 0.001", k - 1)).unwrap());
        }
        let out = pipeline.run().unwrap().array::<f32>("s600").unwrap().to_vec().unwrap();
        assert_same_bits(&out, &expected, "600 stages");
    }
}

#[test]
fn fusion_keeps_each_stage_type_and_reductions_fuse_too() {
    let xs: Vec<f32> = random("types", 10_007, (0.0, 1.0));
    let gpu = shared_gpu_engine("fusion_keeps_each_stage_type_and_reductions_fuse_too");
    for engine in [cpu(1), cpu(2)].into_iter().chain(gpu.cloned()) {
        let input = engine.array(xs.clone());
        let pipeline = |keep: bool| {
            // The literals of `level` are u32 as its stage is; `wrapped`
            // wraps as i32 arithmetic does.
            let p = engine
                .pipeline()
                .input("x", &input)
                .map::<u32>("level", &Expr::parse("select(x > 0.5, 7, 3) + u32(x * 10)").unwrap())
                .map::<i32>("wrapped", &Expr::parse("i32(level) * 1000000000").unwrap())
                .map::<f32>("y", &Expr::parse("f32(wrapped % 7) + x * f32(level)").unwrap())
                .reduce::<f32>("total", &Expr::parse("y * 0.5").unwrap(), Reduce::Sum)
                .map::<f32>("t", &Expr::parse("x * 2 + 1").unwrap())
                .reduce::<f32>("squares", &Expr::parse("t * t").unwrap(), Reduce::Sum)
                .map::<f32>("z", &Expr::parse("y - 1").unwrap());
            let p = if keep { p.output("level").output("wrapped").output("y").output("t") } else { p };
            p.output("total").output("squares").run().unwrap()
        };
        let (fused, unfused) = (pipeline(false), pipeline(true));
        let expected: Vec<f32> = xs
            .iter()
            .map(|&x| {
                let level = if x > 0.5 { 7u32 } else { 3 } + (x * 10.0) as u32;
                let wrapped = (level as i32).wrapping_mul(1_000_000_000);
                (wrapped % 7) as f32 + x * level as f32 - 1.0
            })
            .collect();
        assert_same_bits(&fused.array::<f32>("z").unwrap().to_vec().unwrap(), &expected, "fused z");
        assert_same_bits(&unfused.array::<f32>("z").unwrap().to_vec().unwrap(), &expected, "unfused z");
        for name in ["total", "squares"] {
            let (a, b) = (fused.scalar::<f32>(name).unwrap(), unfused.scalar::<f32>(name).unwrap());
            assert_eq!(a.to_bits(), b.to_bits(), "{name}, a reduction over fused stages: {a} against {b}");
        }
    }
}
