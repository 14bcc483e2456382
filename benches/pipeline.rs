//! A ten-stage pipeline over an array in host memory, as users call it:
//! the stages fused into one pass, the result moved out as a `Vec`.
//! Against the same chain fused by hand in a parallel loop into a new
//! vector and into a reused one, and the copy bandwidth.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use std::hint::black_box;
use swath::expr::Expr;
use swath::{Engine, Pipeline};

/// The stages of `swath bench --ops chain10`; stage `k` reads stage `k - 1`.
const CHAIN: [&str; 10] = [
    "s0 * 0.5 + 1",
    "s1 * s1 - 3",
    "max(s2, -4)",
    "abs(s3 - 2)",
    "s4 * 0.25",
    "s5 + 1.5",
    "min(s6, 100)",
    "s7 * s7",
    "s8 - 0.5",
    "s9 * 0.125",
];

fn by_hand(x: f32) -> f32 {
    let s = (x * 0.5 + 1.0) * (x * 0.5 + 1.0) - 3.0;
    let s = ((s.max(-4.0) - 2.0).abs() * 0.25 + 1.5).min(100.0);
    (s * s - 0.5) * 0.125
}

fn pipeline(mut pipeline: Pipeline<'_>, stages: &[Expr]) -> Vec<f32> {
    for (k, stage) in stages.iter().enumerate() {
        pipeline = pipeline.map::<f32>(&format!("s{}", k + 1), stage);
    }
    let out = pipeline.run().expect("the pipeline runs").array::<f32>("s10").expect("kept");
    out.into_vec().expect("values")
}

fn chain10(c: &mut Criterion) {
    let stages: Vec<Expr> = CHAIN.iter().map(|s| Expr::parse(s).expect("parses")).collect();
    for n in [1 << 20, 1 << 24, 1 << 26] {
        let xs = common::data(n);
        let mut out = vec![0.0f32; n];
        let mut group = c.benchmark_group("chain10_f32");
        group.throughput(Throughput::BytesDecimal(2 * 4 * n as u64));
        group.sample_size(10);
        group.bench_with_input(BenchmarkId::new("copy_probe", n), &xs, |b, xs| {
            b.iter(|| common::parallel_copy(xs, &mut out))
        });
        group.bench_with_input(BenchmarkId::new("rayon_fused_into", n), &xs, |b, xs| {
            b.iter(|| {
                out.par_chunks_mut(1 << 16).zip(xs.par_chunks(1 << 16)).for_each(|(o, x)| {
                    o.iter_mut().zip(x).for_each(|(o, &x)| *o = by_hand(x));
                })
            })
        });
        group.bench_with_input(BenchmarkId::new("rayon_fused_collect", n), &xs, |b, xs| {
            b.iter(|| black_box(xs.par_iter().map(|&x| by_hand(x)).collect::<Vec<f32>>()))
        });
        let engine = Engine::cpu();
        let array = engine.array(xs.clone());
        group.bench_function(BenchmarkId::new("swath_cpu_pipeline", n), |b| {
            b.iter(|| black_box(pipeline(engine.pipeline().input("s0", &array), &stages)))
        });
        group.bench_with_input(BenchmarkId::new("swath_cpu_pipeline_lent_slice", n), &xs, |b, xs| {
            b.iter(|| black_box(pipeline(engine.pipeline().input_slice("s0", xs), &stages)))
        });
        group.finish();
    }
}

criterion_group!(benches, chain10);
criterion_main!(benches);
