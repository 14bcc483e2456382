//! `swath bench`: maps and reductions timed against a plain loop, naive rayon and the memory bandwidth
//! measured in the same run, on swath's CPU and GPU paths (GPU rows also against the GPU's own copy and
//! transfer bandwidth), and the `auto` policy against the devices it chooses from; printed as a table,
//! and optionally written as JSON and drawn as an SVG chart.

mod args;
mod contenders;
mod device_bound;
mod input;
mod json;
mod machine;
mod matrix;
mod measure;
mod output;
mod plot;
mod probe;
mod regret;
mod resident;
mod results;
mod runner;
mod table;

pub use args::BenchArgs;

use crate::failure::Failure;
use args::SwathDevice;
use indicatif::{ProgressBar, ProgressStyle};
use machine::Machine;
use matrix::{Contender, Matrix, CONTENDERS};
use measure::{Budget, CELL_BUDGET};
use output::OutputFile;
use probe::Bandwidth;
use results::Report;
use runner::{Engines, Measurements};
use std::io::Write;
use swath::{Engine, GpuBandwidth, Policy};

/// Measures every cell, then prints the table and writes the files asked for.
pub fn run(args: &BenchArgs, device: Option<Policy>, out: &mut impl Write) -> Result<(), Failure> {
    if device.is_some() {
        return Err(Failure::Usage("swath bench measures every device; choose them with --devices cpu,gpu".into()));
    }
    let json = args.json.as_deref().map(|path| OutputFile::create("--json", path)).transpose()?;
    let plot = args.plot.as_deref().map(|path| OutputFile::create("--plot", path)).transpose()?;
    let threads = use_threads(args.threads)?;
    let (engines, adapter_absent) = open_engines(args.devices.as_deref())?;
    let contenders = contenders(&engines, args.resident);
    let matrix = Matrix { exponents: args.exponents(), ops: unique(&args.ops), contenders };
    let budget = Budget { repeat: args.repeat, per_cell: CELL_BUDGET };

    let probes = 1 + u64::from(engines.gpu.is_some());
    let progress = progress_bar(matrix.cells() + probes);
    let measured = measure_everything(&matrix, &engines, &budget, &progress);
    // Cleared before anything else is printed, the error of a failed measurement included.
    progress.finish_and_clear();
    let (bandwidth, gpu_bandwidth, measurements) = measured?;

    let adapter = engines.gpu.as_ref().and_then(|engine| engine.gpu());
    let report = Report {
        machine: Machine::new(threads, adapter, adapter_absent),
        rows: results::rows(measurements.cells, &bandwidth, gpu_bandwidth.as_ref()),
        bandwidth,
        gpu_bandwidth,
        budget,
        ops: matrix.ops,
        exponents: matrix.exponents,
        notes: measurements.notes,
    };
    table::write(out, &report)?;
    if let Some(file) = json {
        file.write(&json::render(&report)?)?;
    }
    if let Some(file) = plot {
        file.write(&plot::render(&report)?)?;
    }
    Ok(())
}

/// The bandwidth probes (the GPU's over as many bytes as the CPU's), then every cell of the matrix.
fn measure_everything(
    matrix: &Matrix,
    engines: &Engines,
    budget: &Budget,
    progress: &ProgressBar,
) -> Result<(Bandwidth, Option<GpuBandwidth>, Measurements), Failure> {
    progress.set_message("bandwidth probes");
    let n = probe::probe_len(matrix.largest());
    let bandwidth = probe::measure_bandwidth(n, budget)?;
    progress.inc(1);
    let mut gpu_note = None;
    let gpu_bandwidth = engines.gpu.as_ref().and_then(|engine| {
        progress.set_message("GPU bandwidth probes");
        let probed = engine.probe_gpu_bandwidth((n * std::mem::size_of::<f32>()) as u64);
        progress.inc(1);
        probed.map_err(|error| gpu_note = Some(format!("no GPU bandwidth, so no % dev: {error}"))).ok()
    });
    let mut measurements = runner::run_matrix(matrix, engines, budget, progress)?;
    measurements.notes.extend(gpu_note);
    Ok((bandwidth, gpu_bandwidth, measurements))
}

/// Sizes rayon's global pool to `threads` and returns its size. Every CPU row (baselines, probes and
/// swath's CPU engine) runs on that one pool, so none of them pays for a hop into a private pool that
/// the others do not.
fn use_threads(threads: Option<u16>) -> Result<usize, Failure> {
    if let Some(threads) = threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.into())
            .build_global()
            .map_err(|error| Failure::Usage(format!("cannot start a pool of {threads} threads: {error}")))?;
    }
    Ok(rayon::current_num_threads())
}

/// The engines of the swath rows, and why no GPU is measured (empty when one is). Without `--devices`
/// a missing GPU only drops its rows; with `--devices gpu` it is an error. The auto and both policies
/// choose between the two devices, so they are measured only where both are wanted.
fn open_engines(devices: Option<&[SwathDevice]>) -> Result<(Engines, String), Failure> {
    let wanted = |device| devices.is_none_or(|devices| devices.contains(&device));
    // On rayon's global pool, which `use_threads` sized.
    let cpu = wanted(SwathDevice::Cpu).then(Engine::cpu);
    let routed = |policy| Engine::builder().policy(policy).build().map_err(|error| Failure::Usage(error.to_string()));
    let both_wanted = wanted(SwathDevice::Cpu) && wanted(SwathDevice::Gpu);
    // Without a GPU, auto still runs: it routes everything to the CPU, and its regret says what that costs.
    let auto = both_wanted.then(|| routed(Policy::Auto)).transpose()?;
    if !wanted(SwathDevice::Gpu) {
        return Ok((Engines { cpu, gpu: None, auto, both: None }, "--devices has no gpu".into()));
    }
    match Engine::builder().policy(Policy::Gpu).build() {
        Ok(gpu) => {
            let both = both_wanted.then(|| routed(Policy::Both)).transpose()?;
            Ok((Engines { cpu, gpu: Some(gpu), auto, both }, String::new()))
        }
        Err(error) if devices.is_some() => Err(Failure::Usage(format!(
            "--devices gpu: no GPU engine opens ({}); measure the CPU only with --devices cpu",
            why_no_gpu(&error)
        ))),
        Err(error) => Ok((Engines { cpu, gpu: None, auto, both: None }, why_no_gpu(&error))),
    }
}

/// Why there is no GPU to bench, without the error's prefix.
fn why_no_gpu(error: &swath::Error) -> String {
    match error {
        swath::Error::NoGpu { reason } => reason.clone(),
        other => other.to_string(),
    }
}

/// The baselines, then the swath paths whose engine opened; the resident rows under `--resident`.
fn contenders(engines: &Engines, resident: bool) -> Vec<Contender> {
    let measured = |contender: &Contender| match contender {
        Contender::PlainLoop | Contender::Rayon => true,
        Contender::SwathGpuResident => resident && engines.gpu.is_some(),
        &other => engines.of(other).is_some(),
    };
    CONTENDERS.into_iter().filter(measured).collect()
}

/// `items` in their order, without repeats (`--ops sum,sum` measures the sum once).
fn unique<T: PartialEq + Copy>(items: &[T]) -> Vec<T> {
    let mut seen = Vec::with_capacity(items.len());
    for &item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// A bar on stderr, one step per cell; indicatif hides it when stderr is not a terminal.
fn progress_bar(steps: u64) -> ProgressBar {
    let bar = ProgressBar::new(steps);
    if let Ok(style) = ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
