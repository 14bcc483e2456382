//! Reductions: swath's canonical-order sum and fused sum of squares against
//! a plain loop, naive rayon and the machine's read bandwidth.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use swath::{Op, Reduce};

fn sum(c: &mut Criterion) {
    let engines = common::engines();
    for n in common::sizes() {
        let xs = common::data(n);
        let mut group = c.benchmark_group("sum_f32");
        group.throughput(Throughput::BytesDecimal(4 * n as u64));
        if n >= 1 << 24 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("read_probe", n), &xs, |b, xs| b.iter(|| common::parallel_read(xs)));
        group.bench_with_input(BenchmarkId::new("plain_loop", n), &xs, |b, xs| b.iter(|| xs.iter().sum::<f32>()));
        group.bench_with_input(BenchmarkId::new("rayon_sum", n), &xs, |b, xs| b.iter(|| xs.par_iter().sum::<f32>()));
        for (name, engine) in &engines {
            group.bench_with_input(BenchmarkId::new(*name, n), &xs, |b, xs| {
                b.iter(|| engine.reduce(xs, Reduce::Sum).expect("sum runs"))
            });
        }
        group.finish();
    }
}

fn sum_of_squares(c: &mut Criterion) {
    let engines = common::engines();
    for n in common::sizes() {
        let xs = common::data(n);
        let mut group = c.benchmark_group("sum_of_squares_f32");
        group.throughput(Throughput::BytesDecimal(4 * n as u64));
        if n >= 1 << 24 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("rayon_map_sum", n), &xs, |b, xs| {
            b.iter(|| xs.par_iter().map(|&x| x * x).sum::<f32>())
        });
        for (name, engine) in &engines {
            group.bench_with_input(BenchmarkId::new(*name, n), &xs, |b, xs| {
                b.iter(|| engine.map_reduce(xs, Op::Square, Reduce::Sum).expect("sum of squares runs"))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, sum, sum_of_squares);
criterion_main!(benches);
