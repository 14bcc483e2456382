//! Element-wise maps: swath against a plain loop, naive rayon and the
//! machine's copy bandwidth, in one group per size.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use std::hint::black_box;
use swath::Op;

fn map_square(c: &mut Criterion) {
    let engines = common::engines();
    for n in common::sizes() {
        let xs = common::data(n);
        let mut out = vec![0.0f32; n];
        let mut group = c.benchmark_group("map_square_f32");
        group.throughput(Throughput::BytesDecimal(2 * 4 * n as u64));
        if n >= 1 << 24 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("copy_probe", n), &xs, |b, xs| {
            b.iter(|| common::parallel_copy(xs, &mut out))
        });
        group.bench_with_input(BenchmarkId::new("plain_loop", n), &xs, |b, xs| {
            b.iter(|| {
                for (y, &x) in out.iter_mut().zip(xs.iter()) {
                    *y = x * x;
                }
                black_box(&out);
            })
        });
        group.bench_with_input(BenchmarkId::new("rayon_collect", n), &xs, |b, xs| {
            b.iter(|| xs.par_iter().map(|&x| x * x).collect::<Vec<f32>>())
        });
        for (name, engine) in &engines {
            group.bench_with_input(BenchmarkId::new(*name, n), &xs, |b, xs| {
                b.iter(|| engine.map_into(xs, &mut out, Op::Square).expect("map runs"))
            });
        }
        group.finish();
    }
}

/// A 10-element job must cost about what a plain loop costs.
fn tiny_map(c: &mut Criterion) {
    let engine = swath::Engine::new().expect("engine opens");
    let xs = common::data(10);
    let mut out = vec![0.0f32; 10];
    let mut group = c.benchmark_group("map_square_f32_10_elements");
    group.bench_function("plain_loop", |b| {
        b.iter(|| {
            for (y, &x) in out.iter_mut().zip(black_box(&xs)) {
                *y = x * x;
            }
            black_box(&out);
        })
    });
    group.bench_function("swath_auto", |b| b.iter(|| engine.map_into(black_box(&xs), &mut out, Op::Square)));
    let cpu = swath::Engine::cpu();
    group.bench_function("swath_cpu", |b| b.iter(|| cpu.map_into(black_box(&xs), &mut out, Op::Square)));
    group.finish();
}

criterion_group!(benches, map_square, tiny_map);
criterion_main!(benches);
