//! The GPU's rates: a tiny reduction for the fixed cost of a submission,
//! then an upload, a readback and resident reductions over 4 MiB.

use super::best;
use crate::column::Column;
use crate::error::GpuError;
use crate::expr::program::Program;
use crate::gpu::{Gpu, Stage, StageInput, Stopwatch};
use crate::op::{Op, Reduce};
use crate::schedule::GpuCosts;
use crate::DType;

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

pub(super) fn costs(gpu: &Gpu, input: &[f32]) -> Result<GpuCosts, GpuError> {
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
