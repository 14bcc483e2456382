//! Shared pieces of the benches: input data, engines, and the memory
//! bandwidth probes every group is measured against.

// Each bench binary compiles this module and uses only part of it.
#![allow(dead_code)]
use rayon::prelude::*;
use swath::{Engine, Policy};

/// Sizes from 2^10 up to 2^26 elements; `SWATH_BENCH_LARGE=1` adds 2^28.
pub fn sizes() -> Vec<usize> {
    let mut sizes = vec![1 << 10, 1 << 16, 1 << 20, 1 << 24, 1 << 26];
    if std::env::var("SWATH_BENCH_LARGE").is_ok_and(|v| v == "1") {
        sizes.push(1 << 28);
    }
    sizes
}

/// Pseudo-random f32 values in [0.5, 1.5): no zeros, no subnormals.
pub fn data(n: usize) -> Vec<f32> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            0.5 + (state >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

/// The engines to compare: the CPU path always, the GPU path when an
/// adapter opens (a software adapter only with `SWATH_BENCH_GPU=1`, since
/// its speed says nothing about a GPU).
pub fn engines() -> Vec<(&'static str, Engine)> {
    let mut engines = vec![("swath_cpu", Engine::cpu())];
    if let Ok(gpu) = Engine::builder().policy(Policy::Gpu).build() {
        let software = gpu.gpu().is_some_and(|info| info.software);
        if !software || std::env::var("SWATH_BENCH_GPU").is_ok_and(|v| v == "1") {
            engines.push(("swath_gpu", gpu));
        }
    }
    engines
}

/// Copy probe: a parallel `copy_from_slice`, the bandwidth bound of a map
/// (reads n and writes n elements).
pub fn parallel_copy(src: &[f32], dst: &mut [f32]) {
    dst.par_chunks_mut(1 << 16).zip(src.par_chunks(1 << 16)).for_each(|(d, s)| d.copy_from_slice(s));
}

/// Read probe: a parallel integer fold over the bits, the bandwidth bound
/// of a reduction (integer adds are exact and vectorise freely).
pub fn parallel_read(src: &[f32]) -> u32 {
    src.par_chunks(1 << 16)
        .map(|chunk| {
            let mut lanes = [0u32; 16];
            for row in chunk.chunks_exact(16) {
                for (lane, x) in lanes.iter_mut().zip(row) {
                    *lane = lane.wrapping_add(x.to_bits());
                }
            }
            lanes.iter().fold(0u32, |a, &b| a.wrapping_add(b))
        })
        .reduce(|| 0, u32::wrapping_add)
}
