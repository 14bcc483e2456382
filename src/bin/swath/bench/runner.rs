//! Running the matrix: the input generated once per size (not timed), then every cell measured, with
//! progress on stderr.

use super::contenders;
use super::input;
use super::matrix::{size_name, BenchOp, Contender, Matrix};
use super::measure::{measure, time_runs, Budget, Timing};
use crate::failure::Failure;
use crate::format;
use indicatif::ProgressBar;
use swath::{Device, Engine, GpuProfile};

/// The engines of the swath rows; `None` where that device is not measured.
pub struct Engines {
    pub cpu: Option<Engine>,
    pub gpu: Option<Engine>,
}

/// One measured cell.
#[derive(Debug, Clone)]
pub struct Measured {
    pub op: BenchOp,
    pub n: usize,
    pub contender: Contender,
    pub timing: Timing,
    /// For GPU cells: the phases of one more run, timed apart.
    pub gpu_profile: Option<GpuProfile>,
}

/// Everything measured, and why any cell is missing.
#[derive(Debug, Default)]
pub struct Measurements {
    pub cells: Vec<Measured>,
    pub notes: Vec<String>,
}

/// Measures every cell of `matrix`, advancing `progress` by one per cell.
pub fn run_matrix(
    matrix: &Matrix,
    engines: &Engines,
    budget: &Budget,
    progress: &ProgressBar,
) -> Result<Measurements, Failure> {
    let mut measurements = Measurements::default();
    for &exponent in &matrix.exponents {
        let n = 1usize << exponent;
        progress.set_message(format!("generating {} inputs", size_name(n)));
        let xs = input::generate(n).ok_or_else(|| out_of_memory(n))?;
        // One output buffer per size, reused by every map that writes into one.
        let mut out = input::filled(n, 0.0).ok_or_else(|| out_of_memory(n))?;
        for &op in &matrix.ops {
            for &contender in &matrix.contenders {
                progress.set_message(format!("{} {} {}", op.name(), size_name(n), contender.name()));
                let cell = Cell { op, contender, xs: &xs };
                if let Some(measured) = measure_cell(&cell, engines, budget, &mut out, &mut measurements.notes)? {
                    measurements.cells.push(measured);
                }
                progress.inc(1);
            }
        }
    }
    Ok(measurements)
}

/// What one cell runs: an op over the input, by a contender.
struct Cell<'a> {
    op: BenchOp,
    contender: Contender,
    xs: &'a [f32],
}

impl Cell<'_> {
    fn measured(&self, timing: Timing, gpu_profile: Option<GpuProfile>) -> Measured {
        Measured { op: self.op, n: self.xs.len(), contender: self.contender, timing, gpu_profile }
    }

    fn name(&self) -> String {
        format!("{} {} {}", self.contender.name(), self.op.name(), size_name(self.xs.len()))
    }
}

fn measure_cell(
    cell: &Cell<'_>,
    engines: &Engines,
    budget: &Budget,
    out: &mut [f32],
    notes: &mut Vec<String>,
) -> Result<Option<Measured>, Failure> {
    let (op, xs) = (cell.op, cell.xs);
    let timing = match (cell.contender, &engines.cpu, &engines.gpu) {
        (Contender::PlainLoop, _, _) => measure(budget, || -> Result<(), Failure> {
            contenders::plain_loop(op, xs, out);
            Ok(())
        })?,
        (Contender::Rayon, _, _) => measure(budget, || -> Result<(), Failure> {
            contenders::rayon(op, xs);
            Ok(())
        })?,
        (Contender::SwathCpu, Some(engine), _) => measure(budget, || contenders::swath(engine, op, xs, out))?,
        (Contender::SwathGpu, _, Some(engine)) => return measure_gpu_cell(cell, engine, budget, out, notes),
        // The matrix only lists swath contenders whose engine opened.
        (Contender::SwathCpu | Contender::SwathGpu, _, _) => return Ok(None),
    };
    Ok(Some(cell.measured(timing, None)))
}

/// A GPU cell: the warm-up checks that the job really ran on the GPU (a fault reruns it on the CPU,
/// whose time must not be reported as the GPU's), then the timed runs, then one profiled run.
fn measure_gpu_cell(
    cell: &Cell<'_>,
    engine: &Engine,
    budget: &Budget,
    out: &mut [f32],
    notes: &mut Vec<String>,
) -> Result<Option<Measured>, Failure> {
    let (op, xs) = (cell.op, cell.xs);
    if contenders::swath_device(engine, op, xs, out)? != Device::Gpu {
        notes.push(format!("{}: not measured: the GPU job failed and was rerun on the CPU", cell.name()));
        return Ok(None);
    }
    let timing = time_runs(budget, || contenders::swath(engine, op, xs, out))?;
    let gpu_profile = match contenders::gpu_profile(engine, op, xs) {
        Ok(profile) => profile,
        Err(error) => {
            notes.push(format!("{}: no GPU phases: {error}", cell.name()));
            None
        }
    };
    Ok(Some(cell.measured(timing, gpu_profile)))
}

fn out_of_memory(n: usize) -> Failure {
    let size = format::bytes(n as u64 * std::mem::size_of::<f32>() as u64);
    Failure::Usage(format!("cannot allocate {size} for the input of {}; try smaller --sizes", size_name(n)))
}
