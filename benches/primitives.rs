//! Scan, compaction, argmax and histogram: swath's calls as users make
//! them (each returns a new vector) against a plain loop, the best few
//! lines of rayon, and the machine's copy or read bandwidth.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use swath::expr::var;
use swath::{Reduce, Scan};

/// Elements per piece of the rayon versions.
const PIECE: usize = 1 << 16;

/// Data in [0.5, 1.5): `x > 1` keeps about half.
const THRESHOLD: f32 = 1.0;

fn rayon_scan(xs: &[f32]) -> Vec<f32> {
    let sums: Vec<f32> = xs.par_chunks(PIECE).map(|piece| piece.iter().sum()).collect();
    let mut offsets = Vec::with_capacity(sums.len());
    let mut running = 0.0;
    for sum in sums {
        offsets.push(running);
        running += sum;
    }
    let mut out = vec![0.0f32; xs.len()];
    out.par_chunks_mut(PIECE).zip(xs.par_chunks(PIECE)).zip(offsets).for_each(|((out, xs), mut sum)| {
        for (y, &x) in out.iter_mut().zip(xs) {
            sum += x;
            *y = sum;
        }
    });
    out
}

fn rayon_filter(xs: &[f32]) -> Vec<f32> {
    let pieces: Vec<Vec<f32>> =
        xs.par_chunks(PIECE).map(|piece| piece.iter().copied().filter(|&x| x > THRESHOLD).collect()).collect();
    pieces.concat()
}

fn scan(c: &mut Criterion) {
    let engines = common::engines();
    for n in common::sizes() {
        let xs = common::data(n);
        let mut group = c.benchmark_group("scan_f32");
        group.throughput(Throughput::BytesDecimal(8 * n as u64));
        if n >= 1 << 24 {
            group.sample_size(10);
        }
        let mut copy = vec![0.0f32; n];
        group.bench_function(BenchmarkId::new("copy_probe", n), |b| b.iter(|| common::parallel_copy(&xs, &mut copy)));
        group.bench_with_input(BenchmarkId::new("plain_loop", n), &xs, |b, xs| {
            b.iter(|| {
                let mut sum = 0.0;
                xs.iter()
                    .map(|&x| {
                        sum += x;
                        sum
                    })
                    .collect::<Vec<f32>>()
            })
        });
        group.bench_with_input(BenchmarkId::new("rayon_two_pass", n), &xs, |b, xs| b.iter(|| rayon_scan(xs)));
        for (name, engine) in &engines {
            group.bench_with_input(BenchmarkId::new(*name, n), &xs, |b, xs| {
                b.iter(|| engine.scan(xs, Scan::inclusive(Reduce::Sum)).expect("scan runs"))
            });
            // Into a reused buffer, as the copy probe writes one.
            group.bench_with_input(BenchmarkId::new(format!("{name}_into"), n), &xs, |b, xs| {
                b.iter(|| engine.scan_into(xs, Scan::inclusive(Reduce::Sum), &mut copy).expect("scan runs"))
            });
        }
        group.finish();
    }
}

fn filter(c: &mut Criterion) {
    let engines = common::engines();
    let predicate = var("x").gt(THRESHOLD);
    for n in common::sizes() {
        let xs = common::data(n);
        let mut group = c.benchmark_group("filter_half_f32");
        // Read every element, write the half that is kept.
        group.throughput(Throughput::BytesDecimal(6 * n as u64));
        if n >= 1 << 24 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("plain_loop", n), &xs, |b, xs| {
            b.iter(|| xs.iter().copied().filter(|&x| x > THRESHOLD).collect::<Vec<f32>>())
        });
        group.bench_with_input(BenchmarkId::new("rayon_pieces", n), &xs, |b, xs| b.iter(|| rayon_filter(xs)));
        let mut out = vec![0.0f32; n];
        for (name, engine) in &engines {
            group.bench_with_input(BenchmarkId::new(*name, n), &xs, |b, xs| {
                b.iter(|| engine.filter(xs, &predicate).expect("filter runs"))
            });
            group.bench_with_input(BenchmarkId::new(format!("{name}_into"), n), &xs, |b, xs| {
                b.iter(|| engine.filter_into(xs, &predicate, &mut out).expect("filter runs"))
            });
        }
        group.finish();
    }
}

fn argmax(c: &mut Criterion) {
    let engines = common::engines();
    for n in common::sizes() {
        let xs = common::data(n);
        let mut group = c.benchmark_group("argmax_f32");
        group.throughput(Throughput::BytesDecimal(4 * n as u64));
        if n >= 1 << 24 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("read_probe", n), &xs, |b, xs| b.iter(|| common::parallel_read(xs)));
        group.bench_with_input(BenchmarkId::new("rayon_reduce", n), &xs, |b, xs| {
            let first_max =
                |a: (usize, f32), b: (usize, f32)| if b.1 > a.1 || (b.1 == a.1 && b.0 < a.0) { b } else { a };
            b.iter(|| xs.par_iter().copied().enumerate().reduce(|| (usize::MAX, f32::NEG_INFINITY), first_max))
        });
        for (name, engine) in &engines {
            group.bench_with_input(BenchmarkId::new(*name, n), &xs, |b, xs| {
                b.iter(|| engine.argmax(xs).expect("argmax runs"))
            });
        }
        group.finish();
    }
}

fn histogram(c: &mut Criterion) {
    const BINS: usize = 256;
    let engines = common::engines();
    for n in common::sizes() {
        let xs = common::data(n);
        let mut group = c.benchmark_group("histogram_256_f32");
        group.throughput(Throughput::BytesDecimal(4 * n as u64));
        if n >= 1 << 24 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("rayon_fold", n), &xs, |b, xs| {
            let count = |mut counts: Vec<u32>, &x: &f32| {
                if (0.5..=1.5).contains(&x) {
                    counts[(((x - 0.5) * BINS as f32) as usize).min(BINS - 1)] += 1;
                }
                counts
            };
            let add = |mut a: Vec<u32>, b: Vec<u32>| {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                a
            };
            b.iter(|| xs.par_iter().fold(|| vec![0u32; BINS], count).reduce(|| vec![0u32; BINS], add))
        });
        for (name, engine) in &engines {
            group.bench_with_input(BenchmarkId::new(*name, n), &xs, |b, xs| {
                b.iter(|| engine.histogram(xs, BINS, 0.5, 1.5).expect("histogram runs"))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, scan, filter, argmax, histogram);
criterion_main!(benches);
