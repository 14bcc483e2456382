//! Measuring the cost model: a few short micro-benchmarks per device,
//! well under 200 ms together on a desktop, each the best of a few runs
//! so that one interruption does not skew it. A fixed cost is measured on
//! a job too small for anything else to matter, and subtracted from the
//! large jobs the rates come from.

use crate::column::Column;
use crate::cpu;
use crate::error::GpuError;
use crate::expr::program::Program;
use crate::gpu::{Gpu, Stage, StageInput, Stopwatch};
use crate::op::{Op, Reduce};
use crate::schedule::{CostModel, CpuCosts, GpuCosts};
use crate::DType;
use std::time::Instant;

/// Elements of the large CPU measurements: 16 MiB of f32 read and 16 MiB
/// written, beyond the reach of most caches.
const LARGE: usize = 1 << 22;

/// Elements of the large GPU measurements: 4 MiB of f32, enough to dwarf
/// a launch on a discrete GPU, few enough for a software adapter.
const GPU_LARGE: usize = 1 << 20;

/// Elements of the CPU's `exp` measurement: enough calls to time.
const EXP: usize = 1 << 20;

/// Elements of the mid-size CPU measurement: one task on the pool.
const MID: usize = cpu::TASK_ELEMENTS;

/// The least fixed cost a pool job is credited with: waking a worker.
const MIN_LAUNCH_S: f64 = 1e-6;

/// Elements of the serial CPU measurement.
const SERIAL: usize = 1 << 14;

/// Measures the CPU pool (`threads` threads; `on_pool` runs work on it)
/// and, if given, the GPU.
pub(super) fn measure(
    threads: usize,
    on_pool: impl Fn(&mut (dyn FnMut() + Send)) + Sync,
    gpu: Option<&Gpu>,
) -> CostModel {
    let input: Vec<f32> = (0..LARGE).map(|i| 1.0 + (i % 977) as f32 * 1e-3).collect();
    let start = Instant::now();
    let cpu = cpu_costs(threads, &on_pool, &input);
    let cpu_took = start.elapsed();
    let gpu = gpu.map(|gpu| {
        gpu_costs(gpu, &input[..GPU_LARGE]).unwrap_or_else(|fault| {
            log::warn!("measuring the GPU failed ({fault}); the model keeps the defaults for a discrete GPU");
            GpuCosts { shares_cpu: gpu.info().software, ..GpuCosts::DISCRETE }
        })
    });
    log::info!("cost model measured: cpu in {cpu_took:?}, gpu in {:?}", start.elapsed() - cpu_took);
    CostModel { cpu, gpu }
}

/// Best wall time of `runs` runs of `work`, in seconds.
fn best(runs: usize, mut work: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
        .max(1e-9)
}

fn cpu_costs(threads: usize, on_pool: &(impl Fn(&mut (dyn FnMut() + Send)) + Sync), input: &[f32]) -> CpuCosts {
    let mut out = vec![0.0f32; input.len()];
    let bytes = |n: usize| (2 * n * size_of::<f32>()) as f64;
    let mut timed = |n: usize, op: Op, runs: usize| {
        let mut seconds = 0.0;
        on_pool(&mut || seconds = best(runs, || cpu::map_into(&input[..n], &mut out[..n], op)));
        seconds
    };
    let serial = timed(SERIAL, Op::Square, 5);
    let mid = timed(MID, Op::Square, 5);
    let large = timed(input.len(), Op::Square, 3);
    let exp = timed(EXP, Op::Exp, 2);
    let serial_bytes_per_s = bytes(SERIAL) / serial;
    // MID elements make a single pool task: its time beyond the serial
    // loop's is the pool's fixed cost.
    let launch_s = (mid - bytes(MID) / serial_bytes_per_s).max(MIN_LAUNCH_S);
    let bytes_per_s = bytes(input.len()) / (large - launch_s).max(large / 2.0);
    let memory = large * EXP as f64 / input.len() as f64;
    let per_call = (exp - memory).max(0.0) * threads as f64 / EXP as f64;
    CpuCosts { threads, launch_s, serial_bytes_per_s, bytes_per_s, transcendental_s: per_call.max(0.1e-9) }
}

/// Best wall time of `runs` runs of a GPU job; the first fault ends it.
fn best_ok(runs: usize, mut work: impl FnMut() -> Result<(), GpuError>) -> Result<f64, GpuError> {
    let mut fault = None;
    let seconds = best(runs, || {
        if fault.is_none() {
            fault = work().err();
        }
    });
    fault.map_or(Ok(seconds), Err)
}

fn internal(e: crate::Error) -> GpuError {
    GpuError::Internal(e.to_string())
}

fn gpu_costs(gpu: &Gpu, input: &[f32]) -> Result<GpuCosts, GpuError> {
    let sum = Program::of_op(None, DType::F32).map_err(internal)?;
    let tiny = [Column::of(&input[..256])];
    let reduce_tiny = || gpu.map_reduce::<f32>(&sum, &tiny, 256, Reduce::Sum, &mut Stopwatch::off()).map(drop);
    reduce_tiny()?; // compiles the kernels
    let launch_s = best_ok(5, reduce_tiny)?;

    let bytes = size_of_val(input) as f64;
    let mut array = None;
    let upload_s = best_ok(2, || gpu.upload(Column::of(input)).map(|a| array = Some(a)))?;
    let array = array.ok_or_else(|| GpuError::Internal("the upload gave no array".into()))?;
    let mut out = vec![0u8; size_of_val(input)];
    let readback_s = best_ok(2, || gpu.read(&array, &mut out))?;

    // A resident reduction reads the array once: the kernels' bandwidth.
    let resident = |op: Option<Op>| -> Result<f64, GpuError> {
        let program = Program::of_op(op, DType::F32).map_err(internal)?;
        let stage =
            Stage { program: &program, inputs: vec![StageInput::Array(&array)], reduce: Some(Reduce::Sum), keep: true };
        let mut value = [0u8; 4];
        let mut run = || -> Result<(), GpuError> {
            let outputs = gpu.run_stages(std::slice::from_ref(&stage))?;
            outputs.into_iter().flatten().try_for_each(|result| gpu.read(&result, &mut value))
        };
        run()?; // compiles the kernels
        best_ok(2, run)
    };
    let (read_s, exp_s) = (resident(None)?, resident(Some(Op::Exp))?);
    let after_launch = |s: f64| (s - launch_s).max(s * 0.05);
    Ok(GpuCosts {
        launch_s,
        upload_bytes_per_s: bytes / upload_s,
        readback_bytes_per_s: bytes / after_launch(readback_s),
        bytes_per_s: bytes / after_launch(read_s),
        transcendental_s: ((exp_s - read_s).max(0.0) / input.len() as f64).max(1e-13),
        shares_cpu: gpu.info().software,
    })
}
