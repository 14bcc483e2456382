//! A ten-stage chain of element-wise jobs on 2^26 f32 (or the length given
//! as the first argument), run three ways:
//!
//! 1. resident: the input is uploaded once, the ten stages run as one
//!    pipeline on the device, and the result comes back once;
//! 2. round trip: every stage is a separate job on host data, so each one
//!    uploads its input and reads its output back;
//! 3. on the CPU pool, for reference.
//!
//! ```text
//! SWATH_DEVICE=gpu cargo run --release --example pipeline -- 67108864
//! ```

use std::time::{Duration, Instant};
use swath::expr::Expr;
use swath::{Engine, Inputs};

/// Stage `k + 1`, which reads stage `k` (`s0` is the input): a scale, a
/// distance and a clamped square, in turn.
fn stage(k: usize) -> String {
    match k % 3 {
        0 => format!("s{k} * 0.5 + 1"),
        1 => format!("abs(s{k} - 2)"),
        _ => format!("min(s{k} * s{k}, 100)"),
    }
}

fn main() -> swath::Result<()> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1 << 26);
    let engine = Engine::new()?;
    let stages: Vec<Expr> = (0..10).map(|k| Expr::parse(&stage(k))).collect::<swath::Result<_>>()?;
    let xs: Vec<f32> = (0..n).map(|i| ((i * 7919 % 1000) as f32 - 500.0) / 100.0).collect();
    println!("{n} f32, ten stages; GPU: {}", engine.gpu().map_or("none".into(), |g| g.to_string()));

    // Warm up: compile every stage's kernel once, outside the timings.
    let small = engine.array(&xs[..1024]);
    resident(&engine, &stages, &small)?;

    let before = engine.transfers();
    let start = Instant::now();
    let input = engine.array(xs.as_slice());
    let uploaded = start.elapsed();
    let result = resident(&engine, &stages, &input)?;
    let submitted = start.elapsed();
    let resident_values = result.to_vec()?;
    let total = start.elapsed();
    let moved = engine.transfers().since(&before);
    println!(
        "resident:   {:>9} (upload {}, stages {}, readback {}; {} upload, {} readback, on the GPU: {})",
        ms(total),
        ms(uploaded),
        ms(submitted - uploaded),
        ms(total - submitted),
        moved.uploads,
        moved.readbacks,
        input.on_gpu(),
    );

    let before = engine.transfers();
    let start = Instant::now();
    let mut values = xs.clone();
    for (k, stage) in stages.iter().enumerate() {
        let name = format!("s{k}");
        values = engine.eval::<f32>(stage, &Inputs::new().with(&name, &values))?;
    }
    let moved = engine.transfers().since(&before);
    println!("round trip: {:>9} ({} uploads, {} readbacks)", ms(start.elapsed()), moved.uploads, moved.readbacks);
    assert_eq!(values, resident_values, "both ways give the same bits");

    let cpu = Engine::cpu();
    let start = Instant::now();
    let on_cpu = resident(&cpu, &stages, &cpu.array(xs.as_slice()))?.to_vec()?;
    println!("cpu pool:   {:>9}", ms(start.elapsed()));
    assert_eq!(on_cpu, resident_values, "the CPU gives the same bits");
    Ok(())
}

/// The ten stages over `input` as one pipeline; the last stage's array.
fn resident(engine: &Engine, stages: &[Expr], input: &swath::Array<f32>) -> swath::Result<swath::Array<f32>> {
    let mut pipeline = engine.pipeline().input("s0", input);
    for (k, stage) in stages.iter().enumerate() {
        pipeline = pipeline.map::<f32>(&format!("s{}", k + 1), stage);
    }
    pipeline.run()?.array("s10")
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
