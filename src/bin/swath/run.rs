//! `swath run`: time one job over generated data or files and report where it ran, why, and how fast.

mod inputs;
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
use swath::expr::Expr;
use swath::{DType, Decision, Device, Element, Engine, GpuError, Inputs, Job, Op, Output, Policy, Reduce, Scan};

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
    let wanted = args.expr.as_ref().map(Expr::inputs);
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
    let job = job(&data, len, args)?;
    let what = describe(args.op, args.expr.as_ref(), args.reduce, scan(args));
    writeln!(out, "job:        {what} over {len} {} elements", T::DTYPE)?;
    for input in &data {
        let label = if args.expr.is_some() { format!("input {}:", input.name) } else { "input:".to_string() };
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
    if let Some(output) = output {
        write_output(out, output, &value)?;
    }
    write_speed(out, &runs, traffic(&job))
}

/// Generated data, one array for each input of the expression (`x` for an op), seeds `--seed` on.
fn generated<T: Sample>(args: &RunArgs) -> Result<Vec<Data<T>>, Failure> {
    let started = Instant::now();
    let names: Vec<String> = match &args.expr {
        Some(expr) => expr.inputs().into_iter().map(String::from).collect(),
        None => vec!["x".into()],
    };
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

/// The job for the chosen op or expression, and reduction or scan, over `data` (one array per input,
/// each `len` long); clap makes sure there is a map, a reduction or a scan, and not both of the last two.
fn job<'a, T: Element>(data: &'a [Data<T>], len: usize, args: &RunArgs) -> Result<Job<'a, T>, Failure> {
    let input = data.first().map_or(&[][..], |input| input.values.as_slice());
    let map = match (&args.expr, args.op) {
        (Some(expr), _) => {
            let inputs =
                data.iter().fold(Inputs::new().with_len(len), |inputs, input| inputs.with(&input.name, &input.values));
            Some(Job::expr(inputs, expr.clone()))
        }
        (None, Some(op)) => Some(Job::map(input, op)),
        (None, None) => None,
    };
    match (map, args.reduce, scan(args)) {
        (Some(job), Some(reduce), _) => Ok(job.reduced(reduce)),
        (Some(job), None, Some(scan)) => Ok(job.scanned(scan)),
        (Some(job), None, None) => Ok(job),
        (None, Some(reduce), _) => Ok(Job::reduce(input, reduce)),
        (None, None, Some(scan)) => Ok(Job::scan(input, scan)),
        (None, None, None) => Err(Failure::Usage("give --op, --expr, --reduce or --scan".into())),
    }
}

/// The scan `--scan` and `--exclusive` ask for.
fn scan(args: &RunArgs) -> Option<Scan> {
    args.scan.map(|reduce| if args.exclusive { Scan::exclusive(reduce) } else { Scan::inclusive(reduce) })
}

fn describe(op: Option<Op>, expr: Option<&Expr>, reduce: Option<Reduce>, scan: Option<Scan>) -> String {
    let map = op.map(|op| op.to_string()).or(expr.map(|e| format!("`{e}`")));
    match (map, reduce, scan) {
        (Some(map), Some(reduce), _) => format!("map {map} fused into reduce {reduce}"),
        (Some(map), None, Some(scan)) => format!("map {map} fused into an {scan}"),
        (Some(map), None, None) => format!("map {map}"),
        (None, Some(reduce), _) => format!("reduce {reduce}"),
        (None, None, Some(scan)) => format!("{scan}"),
        (None, None, None) => "nothing".into(),
    }
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

/// Bytes the job reads and writes: the inputs, and the output array of a map or one scalar.
fn traffic<T: Element>(job: &Job<'_, T>) -> (u64, u64) {
    let size = T::DTYPE.size() as u64;
    let read = job.len() as u64 * job.bytes_per_element() as u64;
    let written = if job.reduction().is_some() { size } else { job.len() as u64 * size };
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
    }
    Ok(())
}

/// Writes a map's result to `--output` and says so; clap keeps `--output` away from reductions.
fn write_output<T: Element>(out: &mut impl Write, output: PendingOutput, value: &Output<T>) -> Result<(), Failure> {
    let Output::Array(values) = value else {
        return Err(Failure::Usage("a reduction has no array to write to --output".into()));
    };
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
