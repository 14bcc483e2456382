//! The code each contender runs for one op. Inputs and results pass through `black_box`, so that the
//! compiler can neither precompute a result nor drop an unused one.

use super::matrix::BenchOp;
use rayon::prelude::*;
use std::hint::black_box;
use swath::{Device, Engine, GpuProfile, Job, Op, Reduce};

/// A sequential loop; `square` writes into the reused `out`.
pub fn plain_loop(op: BenchOp, xs: &[f32], out: &mut [f32]) {
    let xs = black_box(xs);
    match op {
        BenchOp::Square => {
            for (y, &x) in out.iter_mut().zip(xs) {
                *y = x * x;
            }
            black_box(out);
        }
        BenchOp::Sum => {
            black_box(xs.iter().sum::<f32>());
        }
        BenchOp::Sumsq => {
            black_box(xs.iter().map(|&x| x * x).sum::<f32>());
        }
    }
}

/// The naive rayon one-liners: `square` collects a new vector each time, as such code usually does.
pub fn rayon(op: BenchOp, xs: &[f32]) {
    let xs = black_box(xs);
    match op {
        BenchOp::Square => {
            black_box(xs.par_iter().map(|&x| x * x).collect::<Vec<f32>>());
        }
        BenchOp::Sum => {
            black_box(xs.par_iter().sum::<f32>());
        }
        BenchOp::Sumsq => {
            black_box(xs.par_iter().map(|&x| x * x).sum::<f32>());
        }
    }
}

/// swath's own calls: `map_into` the reused `out`, `reduce`, or the fused `map_reduce`.
pub fn swath(engine: &Engine, op: BenchOp, xs: &[f32], out: &mut [f32]) -> swath::Result<()> {
    let xs = black_box(xs);
    match op {
        BenchOp::Square => {
            engine.map_into(xs, out, Op::Square)?;
            black_box(out);
        }
        BenchOp::Sum => {
            black_box(engine.reduce(xs, Reduce::Sum)?);
        }
        BenchOp::Sumsq => {
            black_box(engine.map_reduce(xs, Op::Square, Reduce::Sum)?);
        }
    }
    Ok(())
}

/// Runs the op once through swath and says which device computed the result: the CPU after a GPU
/// fault. A GPU cell is warmed up with this, so that a fallback is never timed as the GPU.
pub fn swath_device(engine: &Engine, op: BenchOp, xs: &[f32], out: &mut [f32]) -> swath::Result<Device> {
    match op {
        BenchOp::Square => engine.map_into(xs, out, Op::Square),
        BenchOp::Sum | BenchOp::Sumsq => Ok(engine.run(&job(op, xs))?.device),
    }
}

/// The op's GPU phases (upload, kernel, readback), timed one after another by the engine.
pub fn gpu_profile(engine: &Engine, op: BenchOp, xs: &[f32]) -> swath::Result<GpuProfile> {
    Ok(engine.profile_gpu(&job(op, xs))?.1)
}

fn job(op: BenchOp, xs: &[f32]) -> Job<'_, f32> {
    match op {
        BenchOp::Square => Job::map(xs, Op::Square),
        BenchOp::Sum => Job::reduce(xs, Reduce::Sum),
        BenchOp::Sumsq => Job::map_reduce(xs, Op::Square, Reduce::Sum),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swath_agrees_with_the_plain_loop() {
        let xs: Vec<f32> = (0..5000).map(|i| 0.5 + (i % 7) as f32 / 8.0).collect();
        let (mut expected, mut actual) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
        plain_loop(BenchOp::Square, &xs, &mut expected);
        let engine = Engine::cpu();
        assert!(swath(&engine, BenchOp::Square, &xs, &mut actual).is_ok());
        assert_eq!(expected, actual);
        assert!(matches!(swath_device(&engine, BenchOp::Sum, &xs, &mut actual), Ok(Device::Cpu)));
    }
}
