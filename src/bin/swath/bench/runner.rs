//! Running the matrix: the input generated once per size (not timed), and uploaded once per size for
//! the resident rows (not timed either), then every cell measured, with progress on stderr.

use super::contenders;
use super::input;
use super::matrix::{size_name, BenchOp, Contender, Matrix};
use super::measure::{measure, time_runs, Budget, Timing};
use super::resident::ResidentJob;
use crate::failure::Failure;
use crate::format;
use indicatif::ProgressBar;
use swath::{Array, Device, Engine, GpuProfile};

/// The engines of the swath rows; `None` where that path is not measured.
pub struct Engines {
    pub cpu: Option<Engine>,
    /// The gpu policy: the swath_gpu and swath_gpu_resident rows.
    pub gpu: Option<Engine>,
    /// The auto policy: the swath_auto rows.
    pub auto: Option<Engine>,
    /// The both policy: the swath_both rows.
    pub both: Option<Engine>,
}

impl Engines {
    /// The engine of `contender`'s rows; `None` for the baselines and for paths not measured.
    pub fn of(&self, contender: Contender) -> Option<&Engine> {
        match contender {
            Contender::PlainLoop | Contender::Rayon => None,
            Contender::SwathCpu => self.cpu.as_ref(),
            Contender::SwathGpu | Contender::SwathGpuResident => self.gpu.as_ref(),
            Contender::SwathBoth => self.both.as_ref(),
            Contender::SwathAuto => self.auto.as_ref(),
        }
    }
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
    /// For swath_auto and swath_both cells: where the warm-up run went.
    pub ran_on: Option<Device>,
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
        // Uploaded by the first resident cell of this size, for every resident cell of it.
        let mut resident = None;
        for &op in &matrix.ops {
            for contender in matrix.contenders.iter().copied().filter(|contender| contender.measures(op)) {
                progress.set_message(format!("{} {} {}", op.name(), size_name(n), contender.name()));
                let cell = Cell { op, contender, xs: &xs };
                let buffers = Buffers { out: &mut out, resident: &mut resident };
                if let Some(measured) = measure_cell(&cell, engines, budget, buffers, &mut measurements.notes)? {
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
        Measured { op: self.op, n: self.xs.len(), contender: self.contender, timing, gpu_profile, ran_on: None }
    }

    fn name(&self) -> String {
        format!("{} {} {}", self.contender.name(), self.op.name(), size_name(self.xs.len()))
    }
}

/// What cells of one size write into: the output buffer of the maps, and the resident input.
struct Buffers<'b> {
    out: &'b mut [f32],
    resident: &'b mut Option<Array<f32>>,
}

fn measure_cell(
    cell: &Cell<'_>,
    engines: &Engines,
    budget: &Budget,
    buffers: Buffers<'_>,
    notes: &mut Vec<String>,
) -> Result<Option<Measured>, Failure> {
    let (op, xs, out) = (cell.op, cell.xs, buffers.out);
    let timing = match (cell.contender, engines.of(cell.contender)) {
        (Contender::PlainLoop, _) => measure(budget, || -> Result<(), Failure> {
            contenders::plain_loop(op, xs, out);
            Ok(())
        })?,
        (Contender::Rayon, _) => measure(budget, || -> Result<(), Failure> {
            contenders::rayon(op, xs, out);
            Ok(())
        })?,
        (Contender::SwathCpu, Some(engine)) => measure(budget, || contenders::swath(engine, op, xs, out))?,
        (Contender::SwathGpu, Some(engine)) => return measure_gpu_cell(cell, engine, budget, out, notes),
        (Contender::SwathGpuResident, Some(engine)) => {
            return measure_resident_cell(cell, engine, budget, buffers.resident, notes)
        }
        (Contender::SwathAuto | Contender::SwathBoth, Some(engine)) => {
            return measure_routed_cell(cell, engine, budget, out)
        }
        // The matrix only lists swath contenders whose engine opened.
        (_, None) => return Ok(None),
    };
    Ok(Some(cell.measured(timing, None)))
}

/// A cell routed by a policy (auto or both): the warm-up says where the job went, then the timed runs.
fn measure_routed_cell(
    cell: &Cell<'_>,
    engine: &Engine,
    budget: &Budget,
    out: &mut [f32],
) -> Result<Option<Measured>, Failure> {
    let ran_on = contenders::swath_device(engine, cell.op, cell.xs, out)?;
    let timing = time_runs(budget, || contenders::swath(engine, cell.op, cell.xs, out))?;
    Ok(Some(Measured { ran_on: Some(ran_on), ..cell.measured(timing, None) }))
}

/// A resident cell: the input uploaded once per size (not timed), a warm-up that checks that the job
/// ran on the GPU, then the timed runs, each waiting for the GPU to finish.
fn measure_resident_cell(
    cell: &Cell<'_>,
    engine: &Engine,
    budget: &Budget,
    resident: &mut Option<Array<f32>>,
    notes: &mut Vec<String>,
) -> Result<Option<Measured>, Failure> {
    let Some(job) = ResidentJob::new(cell.op)? else { return Ok(None) };
    let xs = match resident {
        Some(xs) => xs,
        None => resident.insert(engine.array(input::copied(cell.xs).ok_or_else(|| out_of_memory(cell.xs.len()))?)),
    };
    if !xs.on_gpu() {
        notes.push(format!("{}: not measured: the input could not be uploaded to the GPU", cell.name()));
        return Ok(None);
    }
    if job.run(engine, xs)? != Device::Gpu {
        notes.push(format!("{}: not measured: the GPU job failed and was rerun on the CPU", cell.name()));
        return Ok(None);
    }
    let timing = time_runs(budget, || job.run(engine, xs).map(drop))?;
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
