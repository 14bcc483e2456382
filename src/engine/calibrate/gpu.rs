//! The GPU's rates: a tiny reduction for the fixed cost of a submission,
//! then resident reductions, an upload and a readback over an input large
//! enough that the kernel, not the launch, dominates its time.
//!
//! A fixed size cannot serve every adapter. 4 MiB takes a software
//! adapter milliseconds, but a datacenter GPU reads it in about a
//! microsecond, against tens of microseconds of launch: the rate left after
//! subtracting the launch would be noise, and could even keep arrays off
//! the fastest device of the machine. So the input grows fourfold until
//! the kernel takes several launches' time, up to [`LARGEST`] elements.

use super::{best, sample};
use crate::column::Column;
use crate::error::GpuError;
use crate::expr::program::Program;
use crate::gpu::{DeviceArray, Gpu, Stage, StageInput, Stopwatch};
use crate::op::{Op, Reduce};
use crate::schedule::GpuCosts;
use crate::DType;

/// Elements of the first large measurement: 4 MiB of f32, enough to dwarf
/// a launch on a software adapter or an integrated GPU.
const FIRST: usize = 1 << 20;

/// Most elements measured: 1 GiB of f32, which a datacenter GPU reads in
/// about 250 microseconds, several launches' time.
const LARGEST: usize = 1 << 28;

/// How many launches' time the kernel must take for its rate to count.
const LAUNCHES: f64 = 4.0;

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

pub(super) fn costs(gpu: &Gpu) -> Result<GpuCosts, GpuError> {
    let launch_s = launch(gpu)?;
    let mut measured = rates(gpu, FIRST, launch_s)?;
    let mut len = FIRST;
    while !measured.kernel_dominates && len < LARGEST {
        len *= 4;
        match rates(gpu, len, launch_s) {
            Ok(larger) => measured = larger,
            // Too large for this device (or host): the last size is the best there is.
            Err(fault) => {
                log::debug!("GPU calibration stops before {len} elements: {fault}");
                break;
            }
        }
    }
    Ok(measured.costs)
}

/// The rates measured over one input size.
struct Rates {
    costs: GpuCosts,
    /// The resident read took several launches' time.
    kernel_dominates: bool,
}

/// Measures upload, resident reads and readback over `len` elements.
fn rates(gpu: &Gpu, len: usize, launch_s: f64) -> Result<Rates, GpuError> {
    let input: Vec<f32> = (0..len).map(sample).collect();
    let mut array = None;
    // The upload is timed to the end of its copy into device memory.
    let upload_s = best_ok(2, || {
        let uploaded = gpu.upload(Column::of(&input))?;
        gpu.wait_idle()?;
        array = Some(uploaded);
        Ok(())
    })?;
    let array = array.ok_or_else(|| GpuError::Internal("the upload gave no array".into()))?;
    let read_s = resident_sum(gpu, &array, None)?;
    let exp_s = resident_sum(gpu, &array, Some(Op::Exp))?;
    let mut out = vec![0u8; size_of_val(input.as_slice())];
    let readback_s = best_ok(2, || gpu.read(&array, &mut out))?;
    let bytes = out.len() as f64;
    let after_launch = |s: f64| (s - launch_s).max(s * 0.05);
    log::debug!("GPU calibration: {len} elements read in {read_s:.2e} s, launch {launch_s:.2e} s");
    let costs = GpuCosts {
        launch_s,
        upload_bytes_per_s: bytes / upload_s,
        readback_bytes_per_s: bytes / after_launch(readback_s),
        bytes_per_s: bytes / after_launch(read_s),
        transcendental_s: ((exp_s - read_s).max(0.0) / len as f64).max(1e-13),
        shares_cpu: gpu.info().software,
    };
    Ok(Rates { costs, kernel_dominates: read_s - launch_s >= LAUNCHES * launch_s })
}

/// The fixed cost of one job: a reduction of 256 elements, read back.
fn launch(gpu: &Gpu) -> Result<f64, GpuError> {
    let sum = Program::of_op(None, DType::F32).map_err(internal)?;
    let input: Vec<f32> = (0..256).map(sample).collect();
    let tiny = [Column::of(&input)];
    let reduce_tiny = || gpu.map_reduce::<f32>(&sum, &tiny, 256, Reduce::Sum, &mut Stopwatch::off()).map(drop);
    reduce_tiny()?; // compiles the kernels
    best_ok(5, reduce_tiny)
}

/// Best time of a resident sum of `op(array)`, its value read back: one
/// pass over the array, so the kernels' streaming rate.
fn resident_sum(gpu: &Gpu, array: &DeviceArray, op: Option<Op>) -> Result<f64, GpuError> {
    let program = Program::of_op(op, DType::F32).map_err(internal)?;
    let stage =
        Stage { program: &program, inputs: vec![StageInput::Array(array)], reduce: Some(Reduce::Sum), keep: true };
    let mut value = [0u8; 4];
    let mut run = || -> Result<(), GpuError> {
        let outputs = gpu.run_stages(std::slice::from_ref(&stage))?;
        outputs.into_iter().flatten().try_for_each(|result| gpu.read(&result, &mut value))
    };
    run()?; // compiles the kernels
    best_ok(2, run)
}
