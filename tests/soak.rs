//! Soak tests: many arrays and many distinct programs through one engine
//! keep its memory bounded. They take minutes, so they are ignored by
//! default: `cargo test --release --test soak -- --ignored --nocapture`
//! prints the resident memory they measure.

mod common;

use swath::expr::Expr;
use swath::{Engine, Inputs, Op, Policy};

/// Resident memory of this process in MiB (Linux), else `None`.
fn resident_mib() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096.0 / (1 << 20) as f64)
}

/// The engines to soak: the CPU's, and the GPU's where an adapter opens.
fn engines(test: &str) -> Vec<(&'static str, Engine)> {
    let mut engines = vec![("cpu", Engine::builder().policy(Policy::Cpu).build().unwrap())];
    engines.extend(common::gpu_engine(test).map(|gpu| ("gpu", gpu)));
    engines
}

/// Runs `step(k)` for `k` in `0..count` and returns the growth of resident
/// memory from the first tenth of the steps (once caches and pools are
/// warm) to the end, printing both.
fn growth(what: &str, count: usize, mut step: impl FnMut(usize)) -> f64 {
    let warm = count / 10;
    (0..warm).for_each(&mut step);
    let before = resident_mib().unwrap_or(0.0);
    (warm..count).for_each(&mut step);
    let after = resident_mib().unwrap_or(0.0);
    println!("{what}: resident {before:.1} MiB after {warm}, {after:.1} MiB after {count}");
    after - before
}

/// A program of its own structure for every `k`: the bits of `k` choose
/// between two steps, level by level.
fn program(k: usize) -> Expr {
    let mut text = String::from("x");
    for bit in 0..14 {
        text = if k >> bit & 1 == 1 { format!("abs({text}) * 0.5") } else { format!("{text} + 1") };
    }
    Expr::parse(&text).unwrap()
}

#[test]
#[ignore = "a soak test: minutes"]
fn a_million_arrays_created_and_dropped_keep_memory_bounded() {
    for (name, engine) in engines("a_million_arrays_created_and_dropped_keep_memory_bounded") {
        // A GPU job costs a submission and a wait: a tenth as many there.
        let count = if name == "gpu" { 100_000 } else { 1_000_000 };
        let grew = growth(&format!("{name}: {count} arrays"), count, |k| {
            let a = engine.array(vec![k as f32; 64]);
            let b = a.map(Op::Add(1.0)).unwrap();
            assert_eq!(b.len(), 64);
        });
        assert!(grew < 64.0, "{name}: resident memory grew {grew:.1} MiB");
    }
}

#[test]
#[ignore = "a soak test: minutes"]
fn ten_thousand_distinct_programs_keep_memory_bounded() {
    let x: Vec<f32> = common::random("soak", 4096, (-2.0, 2.0));
    for (name, engine) in engines("ten_thousand_distinct_programs_keep_memory_bounded") {
        let grew = growth(&format!("{name}: 10,000 programs"), 10_000, |k| {
            let out = engine.eval::<f32>(&program(k), &Inputs::new().with("x", &x)).unwrap();
            assert_eq!(out.len(), x.len());
        });
        assert!(engine.compiled_kernels() <= 256, "{name}: {} kernels kept", engine.compiled_kernels());
        assert!(grew < 64.0, "{name}: resident memory grew {grew:.1} MiB");
    }
}
