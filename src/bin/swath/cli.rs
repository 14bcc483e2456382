//! The command line: subcommands, options and the help texts users read.

use clap::error::ErrorKind;
use clap::{ArgGroup, Args, Parser, Subcommand};
use std::ffi::OsStr;
use std::path::PathBuf;
use swath::{expr::Expr, DType, Op, Policy, Reduce};

/// The element type of `swath run` without --dtype or an input file that says otherwise.
pub const DEFAULT_DTYPE: DType = DType::F32;

/// Element-wise maps and reductions on the GPU (WGSL compute shaders through wgpu) or the CPU (rayon).
///
/// The scheduler picks a device for every job and says why; `swath devices` shows what it sees.
#[derive(Debug, Parser)]
#[command(name = "swath", version, propagate_version = true)]
#[command(after_help = "Examples:\n  \
    swath square 1 2 3 4 5 6 7 8 9 10\n  \
    swath devices\n  \
    swath calibrate\n  \
    swath check --quick\n  \
    swath run --op square --reduce sum --n 1e8\n  \
    swath run --expr \"x*x + 1\" --reduce sum --n 1e8\n  \
    swath run --expr \"x*x + 1\" --input x.npy --output y.npy\n  \
    swath run --op sqrt --dtype f64 --device cpu --threads 2\n\n\
    Logging: SWATH_LOG=error|warn|info|debug|trace (default warn), on stderr.")]
pub struct Cli {
    /// Where jobs may run: auto (the scheduler decides by its measured cost model), cpu, gpu (any adapter,
    /// software included, whenever it can run the job), or both (every large job split between GPU and CPU).
    /// Without it: SWATH_DEVICE, else auto.
    #[arg(long, global = true, value_name = "auto|cpu|gpu|both")]
    pub device: Option<Policy>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Square numbers and print them as a list: `swath square 1 2 3` prints `[1, 4, 9]`.
    Square(SquareArgs),
    /// List the GPU adapters, the policy in force, how it routes a large job, and the CPU threads.
    Devices,
    /// Time a map, a reduction, or both fused, over generated data or .npy and raw files; report where it ran
    /// and how fast.
    Run(RunArgs),
    /// Benchmark square, sum and sum of squares over sizes 2^10 to 2^26 against a plain loop, rayon and
    /// the measured memory bandwidth, on swath's CPU and GPU paths.
    Bench(crate::bench::BenchArgs),
    /// Measure what jobs cost on the CPU and the GPU (well under a second), cache it for this machine and
    /// print it. The scheduler routes `auto` jobs by these numbers; without this command it measures
    /// them on first use. The cache is in the user's cache directory, or SWATH_CACHE_DIR (off: none).
    Calibrate(CalibrateArgs),
    /// Check that the GPU computes what the CPU does, for every op, reduction, scan, class of expression
    /// and primitive on every element type.
    ///
    /// Each runs at several lengths on the GPU and on the CPU, and the results are compared under swath's
    /// accuracy contract (bit for bit where it promises bits). Prints a line per group and a summary; exit
    /// status 1 if any group fails or there is no GPU adapter. WGPU_ADAPTER_NAME picks the adapter.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    swath check --quick                          every group at lengths up to 70001, in seconds\n  \
    swath check                                  up to 2^20+3, and past the largest storage binding\n  \
    swath check --only scan                      the scans only\n  \
    WGPU_ADAPTER_NAME=nvidia swath check         the first adapter whose name contains \"nvidia\"")]
pub struct CheckArgs {
    /// Lengths 0, 1, 257, 4097 and 70001 only. Without it: 0, 1, 257, 4097 and 2^20+3, and one element
    /// past the adapter's largest storage binding for one f32 group of each kind, where memory allows.
    #[arg(long)]
    pub quick: bool,

    /// Check only the groups whose name contains TEXT, such as "f32", "scan" or "map i32 abs".
    #[arg(long, value_name = "TEXT")]
    pub only: Option<String>,

    /// Flip one bit of the GPU's result of the first group whose name contains GROUP, to show that a
    /// difference is caught and named.
    #[arg(long, value_name = "GROUP", hide = true)]
    pub corrupt: Option<String>,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// CPU threads of the pool to measure. Without it, rayon's global pool (RAYON_NUM_THREADS, else all cores).
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

#[derive(Debug, Args)]
pub struct SquareArgs {
    /// Numbers to square, as 64-bit floats: 3, -2, 1.5 and 1e3 are all accepted.
    #[arg(required = true, allow_negative_numbers = true, value_name = "NUMBER")]
    pub numbers: Vec<f64>,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    swath run --op square --reduce sum           map fused into a sum, 1e8 f32\n  \
    swath run --op sqrt --n 1e7 --device gpu     a map, on the GPU even if it is a software one\n  \
    swath run --reduce max --dtype i32 --repeat 10\n  \
    swath run --expr \"select(a > b, a - b, 0) * c\" --n 1e7   three generated inputs, zipped\n  \
    swath run --expr \"x*x + 1\" --input x.npy --output y.npy   a .npy file in, the map's result out\n  \
    swath run --expr \"a * b\" --input a=a.npy --input b=b.npy --reduce sum\n  \
    swath run --op abs --input x.raw --dtype f64 --output y.npy   raw little-endian f64 in\n  \
    swath run --scan sum --input x.npy --output cumsum.npy        numpy's cumsum, on any device\n  \
    swath run --filter \"x > 0.5\" --input x.npy --output kept.npy  numpy's x[x > 0.5]\n  \
    swath run --argmax --expr \"abs(x - 0.5)\" --n 1e8                  index and value of the first maximum\n  \
    swath run --histogram 100 --range 0:1 --output counts.npy          numpy's histogram")]
#[command(group(ArgGroup::new("work").args(["op", "expr", "reduce", "scan", "filter", "filter_indices", "argmin", "argmax", "histogram"]).required(true).multiple(true)))]
pub struct RunArgs {
    /// Element-wise op: square, abs, neg, sqrt, exp, log, sin, cos, add:S, mul:S, min:S, max:S or clamp:LO:HI.
    #[arg(long, value_name = "OP", conflicts_with = "expr")]
    pub op: Option<Op>,

    /// Element-wise expression, such as "x*x + 1" or "max(a * b, c)". Each input it names is a generated array
    /// of --dtype (seeds --seed, --seed + 1, ... in order of first use), or with --input the file given for it;
    /// the result has the inputs' type. An expression may start with a minus: --expr "-x + 1".
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true, value_parser = ExprParser)]
    pub expr: Option<Expr>,

    /// Reduction to one value: sum, product, min or max. With --op or --expr, the map is fused into it (one pass).
    #[arg(long, value_name = "REDUCE")]
    pub reduce: Option<Reduce>,

    /// Prefix scan: sum, product, min or max; element i combines the values 0..=i (numpy's cumsum for sum).
    /// With --op or --expr, the map is fused into it. Every element has the same bits on any thread count
    /// and on the CPU and the GPU.
    #[arg(long, value_name = "REDUCE", conflicts_with_all = ["reduce", "distributed"])]
    pub scan: Option<Reduce>,

    /// With --scan: element i combines the values 0..i, so the first is the reduction's identity.
    #[arg(long, requires = "scan")]
    pub exclusive: bool,

    /// Keep the elements where the condition EXPR holds, in order (numpy's x[x > 0.5]): the input x, or the
    /// values of --op or --expr, fused. EXPR may read the inputs and the index i: --filter "x > 0.5 && i % 2 == 0".
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true, value_parser = ExprParser,
          conflicts_with_all = ["reduce", "scan", "distributed"])]
    pub filter: Option<Expr>,

    /// The u32 indices where the condition EXPR holds, in order (numpy's flatnonzero).
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true, value_parser = ExprParser,
          conflicts_with_all = ["reduce", "scan", "filter", "op", "distributed"])]
    pub filter_indices: Option<Expr>,

    /// The index of the first smallest value (of the input x, or of --op or --expr, fused); NaN first.
    /// Prints `result: INDEX` and `value: V`.
    #[arg(long, conflicts_with_all = ["reduce", "scan", "filter", "filter_indices", "output", "distributed"])]
    pub argmin: bool,

    /// The index of the first largest value; NaN first. Prints `result: INDEX` and `value: V`.
    #[arg(long, conflicts_with_all = ["reduce", "scan", "filter", "filter_indices", "output", "argmin", "distributed"])]
    pub argmax: bool,

    /// numpy's histogram: BINS equal-width bins over --range LO:HI, the last bin closed; values outside
    /// and NaN are not counted. --output writes the counts (u32).
    #[arg(long, value_name = "BINS", requires = "range",
          conflicts_with_all = ["reduce", "scan", "filter", "filter_indices", "argmin", "argmax", "distributed"])]
    pub histogram: Option<usize>,

    /// The range of --histogram: LO:HI, such as 0:1 or -5.5:5.5.
    #[arg(long, value_name = "LO:HI", value_parser = parse_range, requires = "histogram", allow_hyphen_values = true)]
    pub range: Option<(f64, f64)>,

    /// Read an input from FILE instead of generating it; repeat it for each input of an expression, named:
    /// --input a=a.npy --input b=b.npy. One unnamed input feeds x (or the expression's only input).
    /// A .npy file (by its name or its first bytes) of <f4, <f8, <i4 or <u4 is read flattened; any other
    /// file holds raw little-endian values of --dtype. The files set the length and the element type, and
    /// must agree on both. Reading is not timed. With --distributed: one raw file, each rank reading its part.
    #[arg(long, value_name = "[NAME=]FILE", value_parser = InputParser, conflicts_with_all = ["len", "seed"])]
    pub input: Vec<InputSpec>,

    /// Write the map's result to FILE as a 1-D .npy array of its type (numpy: np.load(FILE)). Written to a
    /// temporary file beside FILE and renamed onto it, so a failed run leaves no partial file. Not timed.
    /// Not with --reduce: a reduction's one value is printed.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["reduce", "distributed"])]
    pub output: Option<PathBuf>,

    /// Number of elements of generated data: 100000000, 100_000_000 and 1e8 are all accepted.
    #[arg(long = "n", short = 'n', value_name = "N", default_value = "1e8", value_parser = parse_count)]
    pub len: usize,

    /// Element type: f32 (the default), f64, i32 or u32. Generated floats are drawn from [0, 1), integers from
    /// 0..1000. With --input, .npy files carry their type (and must match --dtype when it is given); raw
    /// files are read as --dtype.
    #[arg(long, value_name = "TYPE")]
    pub dtype: Option<DType>,

    /// CPU threads, in a pool of their own. Without it, rayon's global pool (RAYON_NUM_THREADS, else all cores).
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    /// Seed of the generated data: the same seed gives the same data.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,

    /// How many times to run the job; the best and the median time are reported.
    #[arg(long, value_name = "K", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,

    /// --distributed and its options.
    #[command(flatten)]
    pub mpi: crate::distributed::DistributedArgs,
}

/// Parses `--expr`, reporting swath's own message alone: it quotes a
/// short excerpt, where clap's would repeat the whole text, however long.
#[derive(Clone)]
struct ExprParser;

impl clap::builder::TypedValueParser for ExprParser {
    type Value = Expr;

    fn parse_ref(&self, cmd: &clap::Command, _: Option<&clap::Arg>, value: &OsStr) -> Result<Expr, clap::Error> {
        let invalid = |message: String| clap::Error::raw(ErrorKind::ValueValidation, message + "\n").with_cmd(cmd);
        let text = value.to_str().ok_or_else(|| invalid("--expr is not valid UTF-8".into()))?;
        text.parse().map_err(|e: swath::Error| invalid(format!("invalid --expr: {e}")))
    }
}

/// One `--input [NAME=]FILE`: a file, and the input of the expression it feeds when named.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSpec {
    /// The input it feeds, when given.
    pub name: Option<String>,
    /// The file.
    pub path: PathBuf,
}

impl InputSpec {
    /// Splits `NAME=FILE` where the text before the first `=` is a name an expression can read (a letter or
    /// underscore, then letters, digits and underscores); anything else is a file name, `./a=b.npy` included.
    pub fn parse(value: &OsStr) -> Result<InputSpec, String> {
        let named = value.to_str().and_then(|text| text.split_once('=')).filter(|(name, _)| is_name(name));
        let spec = match named {
            Some((name, path)) => InputSpec { name: Some(name.to_string()), path: path.into() },
            None => InputSpec { name: None, path: value.into() },
        };
        if spec.path.as_os_str().is_empty() {
            return Err("expected FILE or NAME=FILE".into());
        }
        Ok(spec)
    }
}

/// True for a name an expression can read: a letter or underscore, then letters, digits and underscores.
fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses `--input`, paths that are not UTF-8 included.
#[derive(Clone)]
struct InputParser;

impl clap::builder::TypedValueParser for InputParser {
    type Value = InputSpec;

    fn parse_ref(&self, cmd: &clap::Command, _: Option<&clap::Arg>, value: &OsStr) -> Result<InputSpec, clap::Error> {
        InputSpec::parse(value).map_err(|message| {
            clap::Error::raw(ErrorKind::ValueValidation, format!("invalid --input: {message}\n")).with_cmd(cmd)
        })
    }
}

/// Parses `--range LO:HI` into two finite numbers; whether `LO < HI` is the histogram's check.
pub fn parse_range(text: &str) -> Result<(f64, f64), String> {
    let expected = || format!("expected LO:HI such as 0:1 or -5.5:5.5, not {text:?}");
    let (lo, hi) = text.split_once(':').ok_or_else(expected)?;
    let number = |t: &str| t.trim().parse::<f64>().ok().filter(|x| x.is_finite());
    Ok((number(lo).ok_or_else(expected)?, number(hi).ok_or_else(expected)?))
}

/// Parses an element count written as an integer (`100000000`, `100_000_000`) or in scientific
/// notation (`1e8`, `2.5e6`), which must still be a whole number.
pub fn parse_count(text: &str) -> Result<usize, String> {
    let digits = text.trim().replace('_', "");
    if let Ok(count) = digits.parse::<usize>() {
        return Ok(count);
    }
    let expected = "expected a whole number of elements such as 1000, 100_000_000 or 1e8";
    let value: f64 = digits.parse().map_err(|_| expected.to_string())?;
    // 2^53: above it not every whole f64 is exact, and no input that long fits in memory anyway.
    const LARGEST_EXACT: f64 = 9_007_199_254_740_992.0;
    if !(0.0..=LARGEST_EXACT).contains(&value) || value.fract() != 0.0 {
        return Err(expected.to_string());
    }
    Ok(value as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn counts_parse_in_every_spelling() {
        assert_eq!(parse_count("100000000"), Ok(100_000_000));
        assert_eq!(parse_count("100_000_000"), Ok(100_000_000));
        assert_eq!(parse_count("1e8"), Ok(100_000_000));
        assert_eq!(parse_count("2.5e3"), Ok(2500));
        assert_eq!(parse_count("0"), Ok(0));
        for bad in ["", "-1", "1.5", "1e-3", "nan", "inf", "1e300", "ten"] {
            assert!(parse_count(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn inputs_are_named_only_by_a_name_before_the_first_equals_sign() {
        let spec = |text: &str| InputSpec::parse(OsStr::new(text));
        let named = |name: &str, path: &str| Ok(InputSpec { name: Some(name.into()), path: path.into() });
        let unnamed = |path: &str| Ok(InputSpec { name: None, path: path.into() });
        assert_eq!(spec("a=a.npy"), named("a", "a.npy"));
        assert_eq!(spec("_x1=dir/x=1.npy"), named("_x1", "dir/x=1.npy"));
        assert_eq!(spec("x.npy"), unnamed("x.npy"));
        assert_eq!(spec("./a=b.npy"), unnamed("./a=b.npy"));
        assert_eq!(spec("1a=b.npy"), unnamed("1a=b.npy"));
        assert!(spec("").is_err());
        assert!(spec("a=").is_err());
    }

    #[test]
    fn files_set_the_length_and_a_reduction_has_no_output() {
        let parses = |args: &[&str]| Cli::try_parse_from([&["swath", "run"], args].concat()).is_ok();
        assert!(parses(&["--op", "abs", "--input", "x.npy", "--output", "y.npy"]));
        assert!(parses(&["--expr", "a*b", "--input", "a=a.npy", "--input", "b=b.npy", "--dtype", "f64"]));
        assert!(!parses(&["--op", "abs", "--input", "x.npy", "--n", "5"]), "the file sets n");
        assert!(!parses(&["--op", "abs", "--input", "x.npy", "--seed", "5"]), "nothing is generated");
        assert!(!parses(&["--reduce", "sum", "--output", "y.npy"]), "a reduction prints its value");
        assert!(!parses(&["--op", "abs", "--reduce", "sum", "--output", "y.npy"]), "so does a fused one");
        assert!(!parses(&["--op", "abs", "--input", "x.raw", "--distributed", "--output", "y.npy"]));
        assert!(parses(&["--scan", "sum", "--exclusive", "--input", "x.npy", "--output", "y.npy"]));
        assert!(parses(&["--expr", "x * 2", "--scan", "max"]));
        assert!(!parses(&["--scan", "sum", "--reduce", "sum"]), "a scan or a reduction");
        assert!(!parses(&["--op", "abs", "--exclusive"]), "--exclusive qualifies a scan");
        assert!(parses(&["--filter", "x > 0.5", "--output", "y.npy"]));
        assert!(parses(&["--expr", "a * b", "--filter", "a > b"]));
        assert!(parses(&["--filter-indices", "x > 0.5", "--dtype", "i32"]));
        assert!(!parses(&["--filter", "x > 0", "--reduce", "sum"]), "a filter or a reduction");
        assert!(parses(&["--argmax", "--expr", "x * 2"]));
        assert!(!parses(&["--argmax", "--argmin"]));
        assert!(!parses(&["--argmin", "--output", "y.npy"]), "argmin prints its index");
        assert!(parses(&["--histogram", "10", "--range", "-1:1", "--output", "c.npy"]));
        assert!(!parses(&["--histogram", "10"]), "a histogram needs its range");
        assert!(!parses(&["--histogram", "10", "--range", "0"]));
        assert_eq!(parse_range("-5.5:5.5"), Ok((-5.5, 5.5)));
        assert!(parse_range("0:inf").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
