//! `swath run --distributed`: the job over MPI ranks, each making or reading its shard and running
//! it on its own engine; rank 0 prints the result and every rank's part.

use crate::cli::RunArgs;
use crate::failure::Failure;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use swath::Policy;

/// The options of `swath run` for distributed runs.
#[derive(Debug, Args)]
#[command(next_help_heading = "Distributed runs (MPI; needs a swath built with --features mpi)")]
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
pub struct DistributedArgs {
    /// Run on MPI, started by `mpirun -np P swath run --distributed ...`: each rank takes its share of
    /// the elements (whole tiles of 4096), runs it on its own engine, and rank 0 prints the result, equal
    /// bit for bit to a single-process run, and each rank's host, device, elements and time. Takes --op
    /// and --reduce (not --expr yet).
    #[arg(long, conflicts_with = "expr")]
    pub distributed: bool,

    /// Write a map's result as one file of raw little-endian values per rank, DIR/part-00000.raw and on,
    /// instead of gathering it on rank 0.
    #[arg(long, value_name = "DIR", requires = "distributed", conflicts_with = "reduce")]
    pub output_dir: Option<PathBuf>,

    /// Abort every rank if the distributed job has not finished after SECS seconds (exit status 124).
    #[arg(long, value_name = "SECS", default_value_t = 600, requires = "distributed",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
}

/// Runs `swath run --distributed` on this rank, over the raw file `input` (`--input`) or generated data.
#[cfg(not(feature = "mpi"))]
pub fn run(
    _args: &RunArgs,
    _input: Option<&Path>,
    _policy: Option<Policy>,
    _out: &mut impl Write,
) -> Result<(), Failure> {
    Err(Failure::Usage(
        "this swath was built without the mpi feature; rebuild with `cargo build --release --features mpi`".into(),
    ))
}

#[cfg(feature = "mpi")]
pub use on_mpi::run;

#[cfg(feature = "mpi")]
mod on_mpi {
    use super::*;
    use crate::cli::DEFAULT_DTYPE;
    use crate::format;
    use crate::sample::{generate_at, Sample};
    use std::time::{Duration, Instant};
    use swath::distributed::{part_path, raw_len, read_raw, Cluster, RankReport};
    use swath::{DType, Engine, Op};

    /// Values of a gathered map shown in the report.
    const SHOWN: usize = 5;

    /// Runs `swath run --distributed` on this rank, over the raw file `input` or generated data: rank 0
    /// prints the report, or returns the error every rank agreed on; the other ranks print nothing and
    /// exit with status 1 on an error.
    pub fn run(
        args: &RunArgs,
        input: Option<&Path>,
        policy: Option<Policy>,
        out: &mut impl Write,
    ) -> Result<(), Failure> {
        let cluster = Cluster::init().map_err(failed)?;
        cluster.abort_on_panic();
        let watchdog = cluster.watchdog(Duration::from_secs(args.mpi.timeout)).map_err(failed)?;
        let report = match args.dtype.unwrap_or(DEFAULT_DTYPE) {
            DType::F32 => run_typed::<f32>(&cluster, args, input, policy),
            DType::F64 => run_typed::<f64>(&cluster, args, input, policy),
            DType::I32 => run_typed::<i32>(&cluster, args, input, policy),
            DType::U32 => run_typed::<u32>(&cluster, args, input, policy),
        };
        drop(watchdog);
        match report {
            Ok(text) => Ok(out.write_all(&text)?),
            Err(failure) if cluster.is_root() => Err(failure),
            Err(_) => {
                // Rank 0 prints the error every rank agreed on; the others only exit.
                drop(cluster);
                std::process::exit(1)
            }
        }
    }

    fn failed(error: swath::distributed::Error) -> Failure {
        Failure::Usage(error.to_string())
    }

    /// The whole job on this rank; the report (empty except on rank 0) is printed once every rank is done.
    fn run_typed<T: Sample>(
        cluster: &Cluster,
        args: &RunArgs,
        input: Option<&Path>,
        policy: Option<Policy>,
    ) -> Result<Vec<u8>, Failure> {
        cluster.agree(args.op.map_or(Ok(()), |op| op.check(T::DTYPE))).map_err(failed)?;
        let started = Instant::now();
        let (n, data, source) = shard::<T>(cluster, args, input)?;
        let prepared_in = started.elapsed();
        let engine = cluster.agree(crate::engine::open(policy, args.threads.map(usize::from))).map_err(failed)?;

        let mut text = Vec::new();
        let ranks = match cluster.ranks() {
            1 => "1 rank".to_string(),
            ranks => format!("{ranks} ranks"),
        };
        writeln!(text, "job:        {} over {n} {} elements on {ranks} (MPI)", describe(args), T::DTYPE)?;
        writeln!(
            text,
            "input:      {source}, each rank its own shard (in {}, not timed)",
            format::duration(prepared_in)
        )?;
        writeln!(text, "engine:     rank 0: {}", describe_engine(&engine))?;
        let times = match (args.op, args.reduce) {
            (map, Some(reduce)) => {
                let mut runs = Vec::new();
                for _ in 0..args.repeat {
                    runs.push(cluster.map_reduce(&engine, n, &data, map, reduce).map_err(failed)?);
                }
                let value = runs.last().map(|run| run.value).unwrap_or_default();
                let times = runs.iter().map(|run| run.elapsed).collect();
                write_ranks(&mut text, &best_per_rank(runs.into_iter().map(|run| run.ranks)), args.repeat)?;
                writeln!(text, "result:     {value}")?;
                times
            }
            (Some(op), None) => map(cluster, &engine, n, &data, op, args, &mut text)?,
            (None, None) => return Err(Failure::Usage("give --op, --reduce, or both".into())),
        };
        write_speed(&mut text, &times, traffic::<T>(n, args.reduce.is_some()))?;
        Ok(if cluster.is_root() { text } else { Vec::new() })
    }

    /// The number of elements, this rank's shard of them, and where they came from: the raw file
    /// `input`, or generated.
    fn shard<T: Sample>(
        cluster: &Cluster,
        args: &RunArgs,
        input: Option<&Path>,
    ) -> Result<(usize, Vec<T>, String), Failure> {
        match input {
            Some(path) => {
                let n = cluster.agree(raw_len::<T>(path)).map_err(failed)?;
                let n = cluster.same("the length of the input file", n as u64).map_err(failed)? as usize;
                let data = cluster.agree(read_raw::<T>(path, cluster.shard(n))).map_err(failed)?;
                Ok((n, data, format!("{}, raw little-endian {}", path.display(), T::DTYPE)))
            }
            None => {
                let n = args.len;
                let shard = cluster.shard(n);
                let data = generate_at::<T>(shard.start, shard.len(), args.seed).ok_or_else(|| {
                    let size = format::bytes(shard.len() as u64 * T::DTYPE.size() as u64);
                    format!("cannot allocate {size} for this rank's shard; try a smaller --n or more ranks")
                });
                let data = cluster.agree(data).map_err(failed)?;
                Ok((n, data, format!("{} from seed {}", T::DISTRIBUTION, args.seed)))
            }
        }
    }

    /// Runs the map `--repeat` times, then writes each rank's part to `--output-dir` or gathers the
    /// array on rank 0; returns the times.
    fn map<T: Sample>(
        cluster: &Cluster,
        engine: &Engine,
        n: usize,
        data: &[T],
        op: Op,
        args: &RunArgs,
        text: &mut Vec<u8>,
    ) -> Result<Vec<Duration>, Failure> {
        let mut times = Vec::new();
        let mut reports = Vec::new();
        let mut last = None;
        for _ in 0..args.repeat {
            // A map's result is as large as its input: free the previous one before the next run.
            drop(last.take());
            let mapped = cluster.map(engine, n, data, op).map_err(failed)?;
            times.push(mapped.elapsed);
            reports.push(mapped.ranks);
            last = Some(mapped.values);
        }
        let values = last.unwrap_or_default();
        write_ranks(text, &best_per_rank(reports), args.repeat)?;
        match &args.mpi.output_dir {
            Some(dir) => {
                cluster
                    .agree(std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display())))
                    .map_err(failed)?;
                cluster.write_part(dir, &values).map_err(failed)?;
                let (first, last) = (part_path(dir, 0), part_path(dir, cluster.ranks() - 1));
                writeln!(
                    text,
                    "result:     {n} values in {} .. {}: raw little-endian {}, one file per rank, in rank order",
                    first.display(),
                    last.display(),
                    T::DTYPE
                )?;
            }
            None => {
                if let Some(all) = cluster.gather(n, &values).map_err(failed)? {
                    writeln!(text, "result:     {} values: {}", all.len(), format::head(&all, SHOWN))?;
                }
            }
        }
        Ok(times)
    }

    /// Each rank's report from its fastest run (rank 0 only: the others have none).
    fn best_per_rank(runs: impl IntoIterator<Item = Vec<RankReport>>) -> Vec<RankReport> {
        let mut best: Vec<RankReport> = Vec::new();
        for run in runs {
            if best.is_empty() {
                best = run;
                continue;
            }
            for (kept, report) in best.iter_mut().zip(run) {
                if report.compute < kept.compute {
                    *kept = report;
                }
            }
        }
        best
    }

    fn write_ranks(text: &mut Vec<u8>, reports: &[RankReport], repeat: u32) -> std::io::Result<()> {
        let over = if repeat == 1 { String::new() } else { format!(", best of {repeat} runs") };
        writeln!(text, "ranks:      host, device, elements and compute time of each rank{over}")?;
        for report in reports {
            writeln!(text, "  {report}")?;
        }
        Ok(())
    }

    fn describe(args: &RunArgs) -> String {
        match (args.op, args.reduce) {
            (Some(op), Some(reduce)) => format!("map {op} fused into reduce {reduce}"),
            (Some(op), None) => format!("map {op}"),
            (None, Some(reduce)) => format!("reduce {reduce}"),
            (None, None) => "nothing".into(),
        }
    }

    fn describe_engine(engine: &Engine) -> String {
        let gpu = match engine.gpu() {
            Some(info) => format!("GPU {info}"),
            None => format!("no GPU ({})", engine.gpu_absent_reason()),
        };
        let threads = engine.threads();
        let plural = if threads == 1 { "" } else { "s" };
        format!("policy {}, {threads} CPU thread{plural}, {gpu}", engine.policy())
    }

    /// Bytes read and written over all ranks: the input, and the mapped array or one value.
    fn traffic<T: Sample>(n: usize, reduces: bool) -> (u64, u64) {
        let size = T::DTYPE.size() as u64;
        let read = n as u64 * size;
        (read, if reduces { size } else { read })
    }

    /// Best and median wall time of the whole distributed job, and the throughput at each.
    fn write_speed(text: &mut Vec<u8>, times: &[Duration], (read, written): (u64, u64)) -> std::io::Result<()> {
        let best = times.iter().min().copied().unwrap_or_default();
        let median = format::median(times).unwrap_or_default();
        writeln!(
            text,
            "time:       best {}, median {} over {} runs (start barrier to the result on every rank)",
            format::duration(best),
            format::duration(median),
            times.len()
        )?;
        let rate = |elapsed| {
            format::gigabytes_per_second(read + written, elapsed)
                .map_or_else(|| "too fast to measure".into(), |gbps| format!("{gbps:.2} GB/s"))
        };
        writeln!(text, "throughput: {} best, {} median, all ranks together", rate(best), rate(median))
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::Cli;
    use clap::Parser;

    fn parses(args: &[&str]) -> bool {
        Cli::try_parse_from([&["swath", "run"], args].concat()).is_ok()
    }

    #[test]
    fn the_distributed_options_go_with_distributed() {
        assert!(parses(&["--reduce", "sum", "--distributed"]));
        assert!(parses(&["--reduce", "sum", "--distributed", "--input", "x.raw", "--timeout", "5"]));
        assert!(parses(&["--reduce", "sum", "--input", "x.raw"]), "--input reads a file on one process too");
        assert!(!parses(&["--reduce", "sum", "--timeout", "5"]), "--timeout needs --distributed");
        assert!(!parses(&["--reduce", "sum", "--distributed", "--input", "x.raw", "--n", "5"]), "the file sets n");
        assert!(!parses(&["--op", "abs", "--reduce", "sum", "--distributed", "--output-dir", "out"]));
        assert!(!parses(&["--reduce", "sum", "--distributed", "--timeout", "0"]));
        assert!(!parses(&["--expr", "x*x", "--reduce", "sum", "--distributed"]), "--expr is not distributed yet");
    }

    #[cfg(not(feature = "mpi"))]
    #[test]
    fn without_the_mpi_feature_distributed_says_how_to_get_it() {
        let cli = Cli::try_parse_from(["swath", "run", "--reduce", "sum", "--distributed"]);
        let Ok(Cli { command: crate::cli::Command::Run(args), .. }) = cli else { panic!("swath run parses: {cli:?}") };
        let failure = super::run(&args, None, None, &mut Vec::new()).err().map(|failure| failure.to_string());
        assert_eq!(
            failure.as_deref(),
            Some("this swath was built without the mpi feature; rebuild with `cargo build --release --features mpi`")
        );
    }
}
