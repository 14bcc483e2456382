//! `swath run`: time one job over generated data or files and report where it ran, why, and how fast.

mod inputs;
mod job;
mod npy;
mod output;

use crate::cli::{RunArgs, DEFAULT_DTYPE};
use crate::failure::Failure;
use crate::format;
use crate::sample::{generate, Sample};
use inputs::Source;
use output::PendingOutput;
use std::io::Write;
use std::time::{Duration, Instant};
use swath::{DType, Decision, Device, Element, Engine, GpuError, Inputs, Job, Output, Policy};

/// Values of a map's result shown in the report.
const SHOWN: usize = 5;

/// Where and how long one run of the job took; its value is kept only for the last run.
struct Timed {
    decision: Decision,
    device: Device,
    fallback: Option<GpuError>,
    elapsed: Duration,
}

/// One input array of the job, and where it came from as the report says it.
struct Data<T> {
    name: String,
    values: Vec<T>,
    origin: String,
}

/// Opens the input files or generates the data, runs the job `--repeat` times, prints the report and
/// writes `--output`.
pub fn run(args: &RunArgs, policy: Option<Policy>, out: &mut impl Write) -> Result<(), Failure> {
    if args.mpi.distributed {
        let input = inputs::raw_file(&args.input)?;
        return crate::distributed::run(args, input, policy, out);
    }
    // An op, a reduction or a scan of its own reads one input; anything else reads the names it uses.
    let names = job::input_names(args);
    let named = args.expr.is_some() || args.filter.is_some() || args.filter_indices.is_some();
    let wanted: Option<Vec<&str>> = named.then(|| names.iter().map(String::as_str).collect());
    let sources = match args.input.as_slice() {
        [] => Vec::new(),
        specs => inputs::open(specs, wanted.as_deref(), args.dtype)?,
    };
    let dtype = sources.first().map_or(args.dtype.unwrap_or(DEFAULT_DTYPE), |source| source.dtype);
    // Reject `sqrt` on integers (and the like) before spending seconds on the data.
    if let Some(op) = args.op {
        op.check(dtype)?;
    }
    if let (Some(expr), Some(names)) = (&args.expr, &wanted) {
        let types: Vec<(&str, DType)> = names.iter().map(|&name| (name, dtype)).collect();
        expr.check(&types, dtype)?;
    }
    let output = args.output.as_deref().map(PendingOutput::create).transpose()?;
    let engine = crate::engine::open(policy, args.threads.map(usize::from))?;
    match dtype {
        DType::F32 => run_typed::<f32>(&engine, args, &sources, output, out),
        DType::F64 => run_typed::<f64>(&engine, args, &sources, output, out),
        DType::I32 => run_typed::<i32>(&engine, args, &sources, output, out),
        DType::U32 => run_typed::<u32>(&engine, args, &sources, output, out),
    }
}

fn run_typed<T: Sample>(
    engine: &Engine,
    args: &RunArgs,
    sources: &[Source],
    output: Option<PendingOutput>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let data = if sources.is_empty() { generated::<T>(args)? } else { read::<T>(sources)? };
    let len = data.first().map_or(args.len, |input| input.values.len());
    let inputs = data.iter().fold(Inputs::new().with_len(len), |inputs, input| inputs.with(&input.name, &input.values));
    match &args.filter_indices {
        Some(predicate) => report(engine, args, &data, job::indices(inputs, predicate), output, out),
        None => {
            let x = data.first().map_or(&[][..], |input| input.values.as_slice());
            report(engine, args, &data, job::job(inputs, x, args)?, output, out)
        }
    }
}

/// Describes the job and its data, times it and reports where it ran and how fast.
fn report<T: Element, U: Element>(
    engine: &Engine,
    args: &RunArgs,
    data: &[Data<T>],
    job: Job<'_, U>,
    output: Option<PendingOutput>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    writeln!(out, "job:        {} over {} {} elements", job::describe(args), job.len(), T::DTYPE)?;
    for input in data {
        let named = args.expr.is_some() || args.filter.is_some() || args.filter_indices.is_some();
        let label = if named { format!("input {}:", input.name) } else { "input:".to_string() };
        writeln!(out, "{label:<11} {}", input.origin)?;
    }
    write_engine(out, engine)?;
    // Loads (or measures) the cost model before timing, so that every run's decision shows its
    // predictions whatever the policy, and no run pays for measuring.
    engine.cost_model();
    out.flush()?;
    let (runs, value) = time_runs(engine, &job, args.repeat)?;
    write_routing(out, &runs)?;
    write_value(out, &value)?;
    let traffic = traffic(&job, &value);
    if let Some(output) = output {
        write_output(out, output, &value)?;
    }
    write_speed(out, &runs, traffic)
}

/// Generated data, one array for each input the job reads (`x` for an op), seeds `--seed` on.
fn generated<T: Sample>(args: &RunArgs) -> Result<Vec<Data<T>>, Failure> {
    let started = Instant::now();
    let names = job::input_names(args);
    let mut arrays: Vec<Vec<T>> = Vec::with_capacity(names.len());
    for (k, name) in names.iter().enumerate() {
        arrays.push(generate(args.len, args.seed.wrapping_add(k as u64)).ok_or_else(|| {
            let size = format::bytes((args.len as u64).saturating_mul(T::DTYPE.size() as u64));
            Failure::Usage(format!("cannot allocate {size} for input {name}; try a smaller --n"))
        })?);
    }
    let generated_in = format::duration(started.elapsed());
    let data = names.into_iter().zip(arrays).enumerate().map(|(k, (name, values))| {
        let seed = args.seed.wrapping_add(k as u64);
        let head = format::head(&values, SHOWN);
        let origin = format!("{} from seed {seed}: {head} (generated in {generated_in}, not timed)", T::DISTRIBUTION);
        Data { name, values, origin }
    });
    Ok(data.collect())
}

/// The values of every input file.
fn read<T: Element>(sources: &[Source]) -> Result<Vec<Data<T>>, Failure> {
    let mut data = Vec::with_capacity(sources.len());
    for source in sources {
        let started = Instant::now();
        let values = source.read::<T>()?;
        let read_in = format::duration(started.elapsed());
        let origin = format!("{} (read in {read_in}, not timed): {}", source.describe(), format::head(&values, SHOWN));
        data.push(Data { name: source.name.clone(), values, origin });
    }
    Ok(data)
}

fn write_engine(out: &mut impl Write, engine: &Engine) -> Result<(), Failure> {
    let gpu = match engine.gpu() {
        Some(info) => format!("GPU {info}"),
        None => format!("no GPU ({})", engine.gpu_absent_reason()),
    };
    let threads = engine.threads();
    let plural = if threads == 1 { "" } else { "s" };
    writeln!(out, "engine:     policy {}, {threads} CPU thread{plural}, {gpu}", engine.policy())?;
    Ok(())
}

/// Runs the job `repeat` times; returns each run's timing and the last run's value.
fn time_runs<T: Element>(engine: &Engine, job: &Job<'_, T>, repeat: u32) -> Result<(Vec<Timed>, Output<T>), Failure> {
    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..repeat {
        // A map's result is as large as its input: free the previous one before the next run.
        drop(last.take());
        let outcome = engine.run(job)?;
        runs.push(Timed {
            decision: outcome.decision,
            device: outcome.device,
            fallback: outcome.fallback,
            elapsed: outcome.elapsed,
        });
        last = Some(outcome.value);
    }
    last.map(|value| (runs, value)).ok_or_else(|| Failure::Usage("--repeat must be at least 1".into()))
}

/// Bytes the job reads and writes: its inputs, and its result (an array or one scalar).
fn traffic<T: Element>(job: &Job<'_, T>, value: &Output<T>) -> (u64, u64) {
    let size = T::DTYPE.size() as u64;
    let read = job.len() as u64 * job.bytes_per_element() as u64;
    let written = match value {
        Output::Array(values) => values.len() as u64 * size,
        Output::Counts(counts) => counts.len() as u64 * 4,
        _ => size,
    };
    (read, written)
}

/// The decision, the device that ran each run, and any fallback to the CPU.
fn write_routing(out: &mut impl Write, runs: &[Timed]) -> Result<(), Failure> {
    let Some(first) = runs.first() else { return Ok(()) };
    if runs.iter().all(|run| run.decision == first.decision) {
        writeln!(out, "decision:   {}", first.decision)?;
    } else {
        for (index, run) in runs.iter().enumerate() {
            writeln!(out, "decision:   run {}: {}", index + 1, run.decision)?;
        }
    }
    if runs.iter().all(|run| run.device == first.device) {
        writeln!(out, "ran on:     {} (all {} runs)", first.device, runs.len())?;
    } else {
        let devices: Vec<String> = runs.iter().map(|run| run.device.to_string()).collect();
        writeln!(out, "ran on:     {} (run by run)", devices.join(", "))?;
    }
    let mut fell_back = false;
    for (index, run) in runs.iter().enumerate() {
        if let Some(fault) = &run.fallback {
            writeln!(out, "fallback:   run {} failed on the GPU and was rerun on the CPU: {fault}", index + 1)?;
            fell_back = true;
        }
    }
    if !fell_back {
        writeln!(out, "fallback:   none")?;
    }
    Ok(())
}

fn write_value<T: Element>(out: &mut impl Write, value: &Output<T>) -> Result<(), Failure> {
    match value {
        Output::Scalar(x) => writeln!(out, "result:     {x}")?,
        Output::Array(xs) => writeln!(out, "result:     {} values: {}", xs.len(), format::head(xs, SHOWN))?,
        Output::Located(at) => writeln!(out, "result:     {}\nvalue:      {}", at.index, at.value)?,
        Output::Counts(counts) => {
            let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
            writeln!(out, "result:     {} bins, {total} counted: {}", counts.len(), format::head(counts, SHOWN))?
        }
        _ => writeln!(out, "result:     {value:?}")?,
    }
    Ok(())
}

/// Writes an array result (a histogram's counts as u32) to `--output` and says so; clap keeps
/// `--output` away from reductions and argmin/argmax.
fn write_output<T: Element>(out: &mut impl Write, output: PendingOutput, value: &Output<T>) -> Result<(), Failure> {
    match value {
        Output::Array(values) => write_array(out, output, values),
        Output::Counts(counts) => write_array(out, output, counts),
        _ => Err(Failure::Usage("only an array result can be written to --output".into())),
    }
}

fn write_array<T: Element>(out: &mut impl Write, output: PendingOutput, values: &[T]) -> Result<(), Failure> {
    let started = Instant::now();
    let path = output.path().display().to_string();
    output.finish(values)?;
    let written_in = format::duration(started.elapsed());
    writeln!(out, "output:     {path}: {} {} (.npy, written in {written_in}, not timed)", values.len(), T::DTYPE)?;
    Ok(())
}

/// Best and median time of a whole job (transfers included), and the throughput at each.
fn write_speed(out: &mut impl Write, runs: &[Timed], (read, written): (u64, u64)) -> Result<(), Failure> {
    let times: Vec<Duration> = runs.iter().map(|run| run.elapsed).collect();
    let best = times.iter().min().copied().unwrap_or_default();
    let median = format::median(&times).unwrap_or_default();
    writeln!(
        out,
        "time:       best {}, median {} over {} runs (whole job, transfers included)",
        format::duration(best),
        format::duration(median),
        runs.len()
    )?;
    let rate = |elapsed| {
        format::gigabytes_per_second(read + written, elapsed)
            .map_or_else(|| "too fast to measure".into(), |gbps| format!("{gbps:.2} GB/s"))
    };
    writeln!(
        out,
        "throughput: {} best, {} median ({} read + {} written)",
        rate(best),
        rate(median),
        format::bytes(read),
        format::bytes(written)
    )?;
    Ok(())
}
