//! Expressions on the CPU evaluator: `x * x + 1` and `a * b + c` against
//! a hand-written parallel loop, naive rayon and the copy bandwidth.
//! The evaluator's target: at least half the hand-written loop's speed.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rayon::prelude::*;
use swath::expr::{var, Expr};
use swath::Inputs;

/// Elements per task of the hand-written loops: swath's own task size.
const TASK: usize = 1 << 16;

fn sizes() -> [usize; 2] {
    [1 << 20, 1 << 26]
}

/// `x * x + 1` over `n` f32: reads one array, writes one.
fn square_plus_one(c: &mut Criterion) {
    let engines = common::engines();
    let expr = var("x") * var("x") + 1.0;
    for n in sizes() {
        let xs = common::data(n);
        let mut out = vec![0.0f32; n];
        let mut group = c.benchmark_group("expr x*x+1");
        group.throughput(Throughput::BytesDecimal(2 * 4 * n as u64));
        if n >= 1 << 24 {
            group.sample_size(10);
        }
        group.bench_function(BenchmarkId::new("copy_probe", n), |b| b.iter(|| common::parallel_copy(&xs, &mut out)));
        group.bench_function(BenchmarkId::new("hand_loop", n), |b| {
            b.iter(|| {
                out.par_chunks_mut(TASK).zip(xs.par_chunks(TASK)).for_each(|(out, xs)| {
                    for (y, &x) in out.iter_mut().zip(xs) {
                        *y = x * x + 1.0;
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::new("rayon_collect", n), |b| {
            b.iter(|| xs.par_iter().map(|&x| x * x + 1.0).collect::<Vec<f32>>())
        });
        let inputs = Inputs::new().with("x", &xs);
        for (name, engine) in &engines {
            group
                .bench_function(BenchmarkId::new(*name, n), |b| b.iter(|| eval_into(engine, &expr, &inputs, &mut out)));
        }
        group.finish();
    }
}

/// `a * b + c` over `n` f32: reads three arrays, writes one.
fn multiply_add(c: &mut Criterion) {
    let engines = common::engines();
    let expr = var("a") * var("b") + var("c");
    for n in sizes() {
        let (a, b, c3) = (common::data(n), common::data(n + 1)[1..].to_vec(), common::data(n + 2)[2..].to_vec());
        let mut out = vec![0.0f32; n];
        let mut group = c.benchmark_group("expr a*b+c");
        group.throughput(Throughput::BytesDecimal(4 * 4 * n as u64));
        if n >= 1 << 24 {
            group.sample_size(10);
        }
        group.bench_function(BenchmarkId::new("hand_loop", n), |bench| {
            bench.iter(|| {
                let inputs = a.par_chunks(TASK).zip(b.par_chunks(TASK)).zip(c3.par_chunks(TASK));
                out.par_chunks_mut(TASK).zip(inputs).for_each(|(out, ((a, b), c))| {
                    for (y, ((&a, &b), &c)) in out.iter_mut().zip(a.iter().zip(b).zip(c)) {
                        *y = a * b + c;
                    }
                })
            })
        });
        group.bench_function(BenchmarkId::new("rayon_collect", n), |bench| {
            bench.iter(|| a.par_iter().zip(&b).zip(&c3).map(|((&a, &b), &c)| a * b + c).collect::<Vec<f32>>())
        });
        let inputs = Inputs::new().with("a", &a).with("b", &b).with("c", &c3);
        for (name, engine) in &engines {
            group
                .bench_function(BenchmarkId::new(*name, n), |b| b.iter(|| eval_into(engine, &expr, &inputs, &mut out)));
        }
        group.finish();
    }
}

fn eval_into(engine: &swath::Engine, expr: &Expr, inputs: &Inputs<'_>, out: &mut [f32]) {
    engine.eval_into(expr, inputs, out).expect("expression runs");
}

/// A 10-element expression: the cost of the call itself, against a plain
/// loop (goal: a few hundred nanoseconds at most, the program compiled once).
fn tiny_expr(c: &mut Criterion) {
    let engine = swath::Engine::cpu();
    let xs = common::data(10);
    let mut out = vec![0.0f32; 10];
    let expr = var("x") * var("x") + 1.0;
    let mut group = c.benchmark_group("expr_x*x+1_10_elements");
    group.bench_function("plain_loop", |b| {
        b.iter(|| {
            for (y, &x) in out.iter_mut().zip(std::hint::black_box(&xs)) {
                *y = x * x + 1.0;
            }
            std::hint::black_box(&out);
        })
    });
    let inputs = Inputs::new().with("x", &xs);
    group.bench_function("swath_eval_into", |b| b.iter(|| eval_into(&engine, &expr, &inputs, &mut out)));
    group.bench_function("swath_eval_new_inputs", |b| {
        b.iter(|| engine.eval::<f32>(&expr, &Inputs::new().with("x", std::hint::black_box(&xs))).expect("runs"))
    });
    group.finish();
}

criterion_group!(benches, square_plus_one, multiply_add, tiny_expr);
criterion_main!(benches);
