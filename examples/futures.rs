//! Jobs in the background: submit a batch, do other work meanwhile, collect
//! the results.
//!
//! ```sh
//! cargo run --release --example futures
//! ```

use std::time::Instant;
use swath::{wait_all, Engine, Job, Op, Reduce};

fn main() -> swath::Result<()> {
    let engine = Engine::new()?;
    match engine.gpu() {
        Some(gpu) => println!("engine: {} CPU threads, GPU {}", engine.threads(), gpu.name),
        None => println!("engine: {} CPU threads, no GPU ({})", engine.threads(), engine.gpu_absent_reason()),
    }

    // Sums of squares of arrays from 10 to 10^7 elements, as a batch. Each
    // job is routed on its own; the result says where it ran.
    let start = Instant::now();
    let lengths = [10, 1_000, 100_000, 1_000_000, 10_000_000];
    let handles = engine.submit_all(lengths, |engine, len| {
        let xs: Vec<f32> = (0..len).map(|i| (i % 100) as f32 / 10.0).collect();
        let outcome = engine.run(&Job::map_reduce(&xs, Op::Square, Reduce::Sum))?;
        Ok((len, outcome.value.scalar(), outcome.device, outcome.decision.reason))
    });
    println!("submitted {} jobs in {:?}", lengths.len(), start.elapsed());

    // The caller is free meanwhile; its own fork-join work shares the
    // engine's threads instead of competing with them.
    let (primes, collatz) = engine.join(
        || (2..20_000u32).filter(|&n| (2..n).take_while(|d| d * d <= n).all(|d| !n.is_multiple_of(d))).count(),
        || (1..100_000u64).map(collatz_steps).max(),
    );
    println!("meanwhile: {primes} primes below 20000; longest Collatz run below 100000: {collatz:?} steps");

    for result in wait_all(handles) {
        let (len, sum, device, reason) = result?;
        println!("  sum of squares of {len:>8} elements = {:>14.1} on {device} ({reason})", sum.unwrap_or_default());
    }

    // A handle is also a future: any executor can await it.
    let handle = engine.submit(|engine| engine.map(&[1.0f64, 2.0, 3.0], Op::Exp));
    let exps = pollster::block_on(handle)?;
    println!("awaited: exp of [1, 2, 3] = {exps:.3?}");
    println!("total {:?}", start.elapsed());
    Ok(())
}

/// Steps of the Collatz sequence from `n` down to 1.
fn collatz_steps(mut n: u64) -> u32 {
    let mut steps = 0;
    while n != 1 {
        n = if n.is_multiple_of(2) { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}
