//! Determinism: a float reduction has the same bits on every thread count,
//! on every run, and on the GPU, because every path follows the canonical
//! order of `swath::canonical`.

mod common;

use common::*;
use std::sync::OnceLock;
use swath::{Engine, Job, Op, Policy, Reduce};

/// Past f32's exact integers, and not a multiple of a tile or a lane.
const LONG: usize = (1 << 24) + 3;

/// Thread counts to compare: serial, this machine's cores, oversubscribed.
const THREAD_COUNTS: [usize; 3] = [1, 2, 8];

/// The shared long input: random f32 in [-1, 1], generated once. Mixed
/// signs make the sum cancel, which is where the order shows most.
fn long_input() -> &'static [f32] {
    static INPUT: OnceLock<Vec<f32>> = OnceLock::new();
    INPUT.get_or_init(|| random("determinism f32", LONG, (-1.0, 1.0)))
}

fn cpu_engine(threads: usize) -> Engine {
    Engine::builder().policy(Policy::Cpu).threads(threads).build().expect("a CPU engine always builds")
}

/// The bits of the reduction of `op(input)` on `engine`, which must run it
/// as `expected` says.
fn reduction_bits(engine: &Engine, input: &[f32], op: Option<Op>, reduce: Reduce, expected: swath::Decision) -> u32 {
    let job = match op {
        Some(op) => Job::map_reduce(input, op, reduce),
        None => Job::reduce(input, reduce),
    };
    scalar(&run_as(engine, &job, expected)).to_bits()
}

/// Asserts that every engine gives the reduction the same bits.
fn assert_same_bits_on_thread_counts(op: Option<Op>, reduce: Reduce) {
    let _one_at_a_time = large_input_lock();
    let input = long_input();
    let bits: Vec<(usize, u32)> = THREAD_COUNTS
        .iter()
        .map(|&threads| (threads, reduction_bits(&cpu_engine(threads), input, op, reduce, ON_CPU)))
        .collect();
    let (_, first) = bits[0];
    for &(threads, b) in &bits {
        assert_eq!(
            b,
            first,
            "{op:?} {reduce} on {threads} threads is {} but {} on {} thread",
            f32::from_bits(b),
            f32::from_bits(first),
            THREAD_COUNTS[0]
        );
    }
}

#[test]
fn sum_bits_do_not_depend_on_thread_count() {
    assert_same_bits_on_thread_counts(None, Reduce::Sum);
}

#[test]
fn sum_of_squares_bits_do_not_depend_on_thread_count() {
    assert_same_bits_on_thread_counts(Some(Op::Square), Reduce::Sum);
}

#[test]
fn repeated_sum_has_same_bits() {
    let _one_at_a_time = large_input_lock();
    let input = long_input();
    for engine in [Engine::cpu(), cpu_engine(2)] {
        let first = reduction_bits(&engine, input, None, Reduce::Sum, ON_CPU);
        let second = reduction_bits(&engine, input, None, Reduce::Sum, ON_CPU);
        assert_eq!(first, second, "two sums of the same input on {} threads", engine.threads());
    }
}

#[test]
fn gpu_reductions_have_the_cpu_bits() {
    let Some(gpu) = gpu_engine("gpu_reductions_have_the_cpu_bits") else { return };
    let _one_at_a_time = large_input_lock();
    let input = long_input();
    let cpu = Engine::cpu();
    for reduce in [Reduce::Sum, Reduce::Min, Reduce::Max] {
        let on_gpu = reduction_bits(&gpu, input, None, reduce, ON_GPU);
        let on_cpu = reduction_bits(&cpu, input, None, reduce, ON_CPU);
        assert_eq!(
            on_gpu,
            on_cpu,
            "{reduce}: {} on the gpu, {} on the cpu",
            f32::from_bits(on_gpu),
            f32::from_bits(on_cpu)
        );
    }
    let again = reduction_bits(&gpu, input, None, Reduce::Sum, ON_GPU);
    assert_eq!(again, reduction_bits(&cpu, input, None, Reduce::Sum, ON_CPU), "a second sum on the gpu");
}

/// Guards the tests above: on this input, summing in another order changes
/// the bits, so equal bits do show that the order was the same.
#[test]
fn the_input_is_order_sensitive() {
    let _one_at_a_time = large_input_lock();
    let input = long_input();
    let forward = input.iter().fold(0.0f32, |sum, &x| sum + x);
    let backward = input.iter().rev().fold(0.0f32, |sum, &x| sum + x);
    assert_ne!(forward.to_bits(), backward.to_bits(), "sums forward and backward agree: {forward}");
}
