//! The options of `swath bench`, and how `--sizes` is read.

use super::matrix::BenchOp;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Largest exponent `--sizes` takes: 2^30 f32 is 4.3 GB of input, and a map needs as much again for its
/// output and as much again for the naive rayon collect.
pub const MAX_EXPONENT: u32 = 30;

/// The size `--large` (or `SWATH_BENCH_LARGE=1`) adds: 2^28 f32, 1.07 GB.
pub const LARGE_EXPONENT: u32 = 28;

/// The environment variable that does what `--large` does, as it does for `cargo bench`.
pub const LARGE_ENV: &str = "SWATH_BENCH_LARGE";

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    swath bench                                   every op, 2^10 to 2^26 elements, on every device\n  \
    swath bench --sizes 16,20,24 --devices cpu    three sizes, swath's CPU path only\n  \
    swath bench --json out.json --plot out.svg    also write the results as JSON and as a chart\n  \
    swath bench --ops square_new,transcendental   calls that return a new vector, as users make them\n  \
    swath bench --ops scan,scan_into --sizes 26   numpy's cumsum against a two-pass rayon scan\n  \
    swath bench --resident --sizes 16..28:2       GPU rows on data already on the device, too\n\n\
    Every row is the median of --repeat timed runs after one warm-up, with min..max; runs under 1 ms\n\
    are timed in batches, and cells slower than about 1 s in all are run fewer times (at least 3).\n\
    GB/s count bytes read plus bytes written, in decimal units, and are compared with the copy and\n\
    read bandwidth measured in the same run (% bw). With a GPU, its own copy, upload and readback\n\
    bandwidth are measured too: % dev is a resident row's share of the device copy, and a swath_gpu\n\
    row's share of the upload + readback bound. swath_auto (the auto policy) is measured where both\n\
    devices are; its regret is its time over the fastest of swath_cpu, swath_gpu and swath_both.")]
pub struct BenchArgs {
    /// Sizes as exponents of two: `A..B` (every exponent from A to B), `A..B:S` (every S-th), or a list
    /// such as `10,16,20`. Exponents go from 0 to 30.
    #[arg(long, value_name = "EXPONENTS", default_value = "10..26:2", value_parser = parse_sizes)]
    pub sizes: Exponents,

    /// Operations: square (a map into a reused buffer), sum, sumsq (square fused into sum), expr (the
    /// expression `x * 2.5 + 1`), chain10 (ten stages host to host; swath runs them as a pipeline that
    /// reads the slice in place), square_new (`x * x` into a new vector on every call, as `engine.map` and
    /// `collect` return one), transcendental (`sin(x) * cos(x) + sqrt(x)` into a new vector), scan
    /// (`cumsum` into a new vector), scan_into (into a reused buffer), filter, filter_into, argmax and histogram.
    #[arg(long, value_name = "OPS", value_delimiter = ',', default_value = "square,sum,sumsq")]
    pub ops: Vec<BenchOp>,

    /// Devices of the swath rows: cpu, gpu. Without it, both, and gpu only when an adapter opens; plain
    /// loop and rayon rows are always measured, as the baselines. With both devices, the auto policy
    /// (swath_auto, with its routing regret) and, with a GPU, the both policy (swath_both) are too.
    #[arg(long, value_name = "DEVICES", value_delimiter = ',')]
    pub devices: Option<Vec<SwathDevice>>,

    /// Timed runs per cell, after one warm-up.
    #[arg(long, value_name = "K", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,

    /// Threads of rayon's pool, shared by every CPU row. Without it, RAYON_NUM_THREADS, else all cores.
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Also draw GB/s against size as an SVG chart in FILE.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,

    /// Also measure 2^28 elements (1.07 GB of f32); SWATH_BENCH_LARGE=1 does the same.
    #[arg(long)]
    pub large: bool,

    /// Also measure swath_gpu_resident rows: the maps and reductions over an array uploaded once before
    /// the timed runs, the result left on the device (only a reduction's value is read back), compared
    /// with the GPU's device-to-device copy. Needs a GPU.
    #[arg(long)]
    pub resident: bool,
}

/// Where the swath rows run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SwathDevice {
    /// The engine's rayon path.
    Cpu,
    /// The engine's wgpu path, on any adapter that opens.
    Gpu,
}

/// Exponents of two, ascending and without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exponents(pub Vec<u32>);

impl BenchArgs {
    /// The exponents to measure: `--sizes`, plus 2^28 under `--large` or `SWATH_BENCH_LARGE=1`.
    pub fn exponents(&self) -> Vec<u32> {
        let mut exponents = self.sizes.0.clone();
        if self.large || std::env::var(LARGE_ENV).is_ok_and(|value| value == "1") {
            exponents.push(LARGE_EXPONENT);
        }
        exponents.sort_unstable();
        exponents.dedup();
        exponents
    }
}

/// Parses `A..B`, `A..=B` (the same), `A..B:S` or `A,B,C` into exponents of two.
pub fn parse_sizes(text: &str) -> Result<Exponents, String> {
    let text = text.trim();
    let mut exponents = match text.split_once("..") {
        Some((start, rest)) => parse_range(start, rest)?,
        None => text.split(',').map(parse_exponent).collect::<Result<Vec<_>, _>>()?,
    };
    exponents.sort_unstable();
    exponents.dedup();
    Ok(Exponents(exponents))
}

/// `rest` is what follows `..`: the last exponent, optionally `=`-prefixed, then an optional `:STEP`.
fn parse_range(start: &str, rest: &str) -> Result<Vec<u32>, String> {
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    let (end, step) = match rest.split_once(':') {
        Some((end, step)) => (end, parse_step(step)?),
        None => (rest, 1),
    };
    let (start, end) = (parse_exponent(start)?, parse_exponent(end)?);
    if start > end {
        return Err(format!("the range {start}..{end} is empty: the first exponent must not exceed the last"));
    }
    Ok((start..=end).step_by(step).collect())
}

fn parse_step(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(step) if step > 0 => Ok(step),
        _ => Err(format!("the step {:?} must be a whole number of at least 1, as in 10..26:2", text.trim())),
    }
}

fn parse_exponent(text: &str) -> Result<u32, String> {
    let text = text.trim();
    let exponent: u32 = text.parse().map_err(|_| {
        format!("{text:?} is not an exponent of two: expected a range such as 10..26 or 10..26:2, or a list such as 10,16,20")
    })?;
    if exponent > MAX_EXPONENT {
        return Err(format!(
            "2^{exponent} elements is too large: exponents go from 0 to {MAX_EXPONENT} (2^{MAX_EXPONENT} f32 is 4.3 GB)"
        ));
    }
    Ok(exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(text: &str) -> Result<Vec<u32>, String> {
        parse_sizes(text).map(|exponents| exponents.0)
    }

    #[test]
    fn ranges_include_both_ends() {
        assert_eq!(sizes("10..13"), Ok(vec![10, 11, 12, 13]));
        assert_eq!(sizes("10..=13"), Ok(vec![10, 11, 12, 13]));
        assert_eq!(sizes("10..26:2"), Ok(vec![10, 12, 14, 16, 18, 20, 22, 24, 26]));
        assert_eq!(sizes("10..15:4"), Ok(vec![10, 14]));
        assert_eq!(sizes("12..12"), Ok(vec![12]));
    }

    #[test]
    fn lists_are_sorted_without_repeats() {
        assert_eq!(sizes("20,10,16,10"), Ok(vec![10, 16, 20]));
        assert_eq!(sizes(" 0 , 30 "), Ok(vec![0, 30]));
    }

    #[test]
    fn bad_sizes_are_rejected_with_a_reason() {
        for bad in ["", "x", "10..", "..10", "12..10", "10..20:0", "10..20:x", "10,,12", "-1", "1e3"] {
            assert!(sizes(bad).is_err(), "{bad:?} should be rejected");
        }
        let too_large = sizes("40").err().unwrap_or_default();
        assert!(too_large.contains("too large"), "{too_large}");
    }
}
