//! The code each contender runs for one op. Inputs and results pass through `black_box`, so that the
//! compiler can neither precompute a result nor drop an unused one.
//!
//! `square_new` and `transcendental` are the calls as users write them: every contender returns a new
//! vector each time (`collect`, `engine.map`, `engine.eval`), so allocating and first touching the
//! output is part of every row, not only of rayon's.

use super::matrix::BenchOp;
use rayon::prelude::*;
use std::hint::black_box;
use swath::expr::{var, Expr};
use swath::{Device, Engine, GpuProfile, Inputs, Job, Op, Reduce, Scan};

/// The expression of the `expr` op.
pub const EXPR: &str = "x * 2.5 + 1";

/// The expression of the `transcendental` op.
pub const TRANSCENDENTAL: &str = "sin(x) * cos(x) + sqrt(x)";

/// [`TRANSCENDENTAL`] on one element, with the standard library's functions.
#[inline]
fn transcendental(x: f32) -> f32 {
    x.sin() * x.cos() + x.sqrt()
}

/// The filter's threshold: the data is uniform in [0.5, 1.5), so about half is kept.
const THRESHOLD: f32 = 1.0;

/// Bins of the `histogram` op, over the data's range.
const BINS: usize = 256;
const RANGE: (f64, f64) = (0.5, 1.5);

/// The bin of `x` in the `histogram` op by the plain formula (the baselines' version; swath's bins
/// follow numpy's edges exactly, which differs only for values within a rounding of an edge).
#[inline]
fn bin(x: f32) -> Option<usize> {
    let (lo, hi) = (RANGE.0 as f32, RANGE.1 as f32);
    if !(lo..=hi).contains(&x) {
        return None;
    }
    Some((((x - lo) * (BINS as f32 / (hi - lo))) as usize).min(BINS - 1))
}

/// The stages of `chain10`; stage `k` reads stage `k - 1` (`s0` is the input).
pub const CHAIN: [&str; 10] = [
    "s0 * 0.5 + 1",
    "s1 * s1 - 3",
    "max(s2, -4)",
    "abs(s3 - 2)",
    "s4 * 0.25",
    "s5 + 1.5",
    "min(s6, 100)",
    "s7 * s7",
    "s8 - 0.5",
    "s9 * 0.125",
];

/// The ten stages of [`CHAIN`] on one element, by hand.
#[inline]
fn chain(x: f32) -> f32 {
    let s = x * 0.5 + 1.0;
    let s = s * s - 3.0;
    let s = s.max(-4.0);
    let s = (s - 2.0).abs();
    let s = s * 0.25;
    let s = s + 1.5;
    let s = s.min(100.0);
    let s = s * s;
    let s = s - 0.5;
    s * 0.125
}

/// A sequential loop; `square`, `expr` and `chain10` write into the reused `out`, the `_new` ops
/// collect a new vector.
pub fn plain_loop(op: BenchOp, xs: &[f32], out: &mut [f32]) {
    let xs = black_box(xs);
    match op {
        BenchOp::Square => {
            for (y, &x) in out.iter_mut().zip(xs) {
                *y = x * x;
            }
            black_box(out);
        }
        BenchOp::Sum => {
            black_box(xs.iter().sum::<f32>());
        }
        BenchOp::Sumsq => {
            black_box(xs.iter().map(|&x| x * x).sum::<f32>());
        }
        BenchOp::Expr => {
            for (y, &x) in out.iter_mut().zip(xs) {
                *y = x * 2.5 + 1.0;
            }
            black_box(out);
        }
        BenchOp::Chain10 => {
            for (y, &x) in out.iter_mut().zip(xs) {
                *y = chain(x);
            }
            black_box(out);
        }
        BenchOp::SquareNew => {
            black_box(xs.iter().map(|&x| x * x).collect::<Vec<f32>>());
        }
        BenchOp::Transcendental => {
            black_box(xs.iter().map(|&x| transcendental(x)).collect::<Vec<f32>>());
        }
        BenchOp::Scan => {
            let running = xs.iter().scan(0.0, |sum, &x| {
                *sum += x;
                Some(*sum)
            });
            black_box(running.collect::<Vec<f32>>());
        }
        BenchOp::ScanInto => {
            let mut sum = 0.0;
            for (y, &x) in out.iter_mut().zip(xs) {
                sum += x;
                *y = sum;
            }
            black_box(out);
        }
        BenchOp::Filter => {
            black_box(xs.iter().copied().filter(|&x| x > THRESHOLD).collect::<Vec<f32>>());
        }
        BenchOp::FilterInto => {
            let mut kept = 0;
            for &x in xs {
                if x > THRESHOLD {
                    out[kept] = x;
                    kept += 1;
                }
            }
            black_box((out, kept));
        }
        BenchOp::Argmax => {
            let first_max = xs.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (i, &x)| match x > best.1 {
                true => (i, x),
                false => best,
            });
            black_box(first_max);
        }
        BenchOp::Histogram => {
            let mut counts = [0u32; BINS];
            for &x in xs {
                if let Some(b) = bin(x) {
                    counts[b] += 1;
                }
            }
            black_box(counts);
        }
    }
}

/// Elements per piece of the rayon scan.
const SCAN_PIECE: usize = 1 << 16;

/// The usual two-pass parallel scan in a few lines of rayon: each piece's sum, a sequential scan of the
/// sums, then each piece scanned from its offset into a new vector.
fn rayon_scan(xs: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; xs.len()];
    rayon_scan_into(xs, &mut out);
    out
}

/// [`rayon_scan`] into `out`.
fn rayon_scan_into(xs: &[f32], out: &mut [f32]) {
    let sums: Vec<f32> = xs.par_chunks(SCAN_PIECE).map(|piece| piece.iter().sum()).collect();
    let offsets = sums.iter().scan(0.0, |sum, &piece| {
        let offset = *sum;
        *sum += piece;
        Some(offset)
    });
    let pieces = out.par_chunks_mut(SCAN_PIECE).zip(xs.par_chunks(SCAN_PIECE));
    pieces.zip(offsets.collect::<Vec<f32>>()).for_each(|((out, xs), mut sum)| {
        for (y, &x) in out.iter_mut().zip(xs) {
            sum += x;
            *y = sum;
        }
    });
}

/// The naive rayon one-liners: `square` collects a new vector each time, as such code usually does.
pub fn rayon(op: BenchOp, xs: &[f32], out: &mut [f32]) {
    let xs = black_box(xs);
    match op {
        BenchOp::Square | BenchOp::SquareNew => {
            black_box(xs.par_iter().map(|&x| x * x).collect::<Vec<f32>>());
        }
        BenchOp::Sum => {
            black_box(xs.par_iter().sum::<f32>());
        }
        BenchOp::Sumsq => {
            black_box(xs.par_iter().map(|&x| x * x).sum::<f32>());
        }
        BenchOp::Expr => {
            black_box(xs.par_iter().map(|&x| x * 2.5 + 1.0).collect::<Vec<f32>>());
        }
        BenchOp::Chain10 => {
            black_box(xs.par_iter().map(|&x| chain(x)).collect::<Vec<f32>>());
        }
        BenchOp::Transcendental => {
            black_box(xs.par_iter().map(|&x| transcendental(x)).collect::<Vec<f32>>());
        }
        BenchOp::Scan => {
            black_box(rayon_scan(xs));
        }
        BenchOp::ScanInto => {
            rayon_scan_into(xs, out);
            black_box(out);
        }
        BenchOp::Filter => {
            let pieces = xs.par_chunks(SCAN_PIECE).map(|piece| piece.iter().copied().filter(|&x| x > THRESHOLD));
            black_box(pieces.map(Iterator::collect::<Vec<f32>>).collect::<Vec<_>>().concat());
        }
        BenchOp::FilterInto => {
            let pieces = xs.par_chunks(SCAN_PIECE).map(|piece| piece.iter().copied().filter(|&x| x > THRESHOLD));
            let mut kept = 0;
            for piece in pieces.map(Iterator::collect::<Vec<f32>>).collect::<Vec<_>>() {
                out[kept..kept + piece.len()].copy_from_slice(&piece);
                kept += piece.len();
            }
            black_box((out, kept));
        }
        BenchOp::Argmax => {
            let first_max =
                |a: (usize, f32), b: (usize, f32)| if b.1 > a.1 || (b.1 == a.1 && b.0 < a.0) { b } else { a };
            let best = xs.par_iter().copied().enumerate().reduce(|| (usize::MAX, f32::NEG_INFINITY), first_max);
            black_box(best);
        }
        BenchOp::Histogram => {
            let count = |mut counts: Vec<u32>, &x: &f32| {
                if let Some(b) = bin(x) {
                    counts[b] += 1;
                }
                counts
            };
            let add = |mut a: Vec<u32>, b: Vec<u32>| {
                a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                a
            };
            black_box(xs.par_iter().fold(|| vec![0u32; BINS], count).reduce(|| vec![0u32; BINS], add));
        }
    }
}

/// swath's own calls: `map_into` the reused `out`, `reduce`, the fused `map_reduce`, `eval_into`, a
/// pipeline from `xs` into `out`, or `map` and `eval` returning a new vector.
pub fn swath(engine: &Engine, op: BenchOp, xs: &[f32], out: &mut [f32]) -> swath::Result<()> {
    let xs = black_box(xs);
    match op {
        BenchOp::Square => {
            engine.map_into(xs, out, Op::Square)?;
            black_box(out);
        }
        BenchOp::Sum => {
            black_box(engine.reduce(xs, Reduce::Sum)?);
        }
        BenchOp::Sumsq => {
            black_box(engine.map_reduce(xs, Op::Square, Reduce::Sum)?);
        }
        BenchOp::Expr => {
            engine.eval_into(&Expr::parse(EXPR)?, &Inputs::new().with("x", xs), out)?;
            black_box(out);
        }
        BenchOp::Chain10 => {
            chain10(engine, xs, out)?;
            black_box(out);
        }
        BenchOp::SquareNew => {
            black_box(engine.map(xs, Op::Square)?);
        }
        BenchOp::Transcendental => {
            black_box(engine.eval::<f32>(&Expr::parse(TRANSCENDENTAL)?, &Inputs::new().with("x", xs))?);
        }
        BenchOp::Scan => {
            black_box(engine.scan(xs, Scan::inclusive(Reduce::Sum))?);
        }
        BenchOp::ScanInto => {
            engine.scan_into(xs, Scan::inclusive(Reduce::Sum), out)?;
            black_box(out);
        }
        BenchOp::Filter => {
            black_box(engine.filter(xs, &var("x").gt(THRESHOLD))?);
        }
        BenchOp::FilterInto => {
            black_box(engine.filter_into(xs, &var("x").gt(THRESHOLD), out)?);
        }
        BenchOp::Argmax => {
            black_box(engine.argmax(xs)?);
        }
        BenchOp::Histogram => {
            black_box(engine.histogram(xs, BINS, RANGE.0, RANGE.1)?);
        }
    }
    Ok(())
}

/// The chain as one pipeline from `xs` into `out`, as the plain loop writes it: read and written in
/// place on the CPU; on the GPU, one upload and one readback.
fn chain10(engine: &Engine, xs: &[f32], out: &mut [f32]) -> swath::Result<Device> {
    let mut pipeline = engine.pipeline().input_slice("s0", xs);
    for (k, stage) in CHAIN.iter().enumerate() {
        pipeline = pipeline.map::<f32>(&format!("s{}", k + 1), &Expr::parse(stage)?);
    }
    Ok(pipeline.output_into("s10", out).run()?.device())
}

/// Runs the op once through swath and says which device computed the result: the CPU after a GPU
/// fault. A GPU cell is warmed up with this, so that a fallback is never timed as the GPU.
pub fn swath_device(engine: &Engine, op: BenchOp, xs: &[f32], out: &mut [f32]) -> swath::Result<Device> {
    match op {
        BenchOp::Square => engine.map_into(xs, out, Op::Square),
        BenchOp::Expr => engine.eval_into(&Expr::parse(EXPR)?, &Inputs::new().with("x", xs), out),
        BenchOp::Chain10 => chain10(engine, xs, out),
        BenchOp::ScanInto => engine.scan_into(xs, Scan::inclusive(Reduce::Sum), out),
        _ => match job(op, xs)? {
            Some(job) => Ok(engine.run(&job)?.device),
            None => Ok(Device::Cpu),
        },
    }
}

/// The op's GPU phases (upload, kernel, readback), timed one after another by the engine; `None`
/// for a pipeline, whose stages are one submission with nothing between them to time, and for the
/// primitives, whose passes are too.
pub fn gpu_profile(engine: &Engine, op: BenchOp, xs: &[f32]) -> swath::Result<Option<GpuProfile>> {
    if op.is_primitive() {
        return Ok(None);
    }
    match job(op, xs)? {
        Some(job) => Ok(Some(engine.profile_gpu(&job)?.1)),
        None => Ok(None),
    }
}

/// The op as one job; `None` for the pipeline.
fn job(op: BenchOp, xs: &[f32]) -> swath::Result<Option<Job<'_, f32>>> {
    Ok(Some(match op {
        BenchOp::Square | BenchOp::SquareNew => Job::map(xs, Op::Square),
        BenchOp::Sum => Job::reduce(xs, Reduce::Sum),
        BenchOp::Sumsq => Job::map_reduce(xs, Op::Square, Reduce::Sum),
        BenchOp::Expr => Job::expr(Inputs::new().with("x", xs), Expr::parse(EXPR)?),
        BenchOp::Transcendental => Job::expr(Inputs::new().with("x", xs), Expr::parse(TRANSCENDENTAL)?),
        BenchOp::Scan | BenchOp::ScanInto => Job::scan(xs, Scan::inclusive(Reduce::Sum)),
        BenchOp::Filter | BenchOp::FilterInto => Job::filter(xs, var("x").gt(THRESHOLD)),
        BenchOp::Argmax => Job::argmax(xs),
        BenchOp::Histogram => Job::histogram(xs, BINS, RANGE.0, RANGE.1),
        BenchOp::Chain10 => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swath_agrees_with_the_plain_loop() {
        let xs: Vec<f32> = (0..5000).map(|i| 0.5 + (i % 7) as f32 / 8.0).collect();
        let (mut expected, mut actual) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
        plain_loop(BenchOp::Square, &xs, &mut expected);
        let engine = Engine::cpu();
        assert!(swath(&engine, BenchOp::Square, &xs, &mut actual).is_ok());
        assert_eq!(expected, actual);
        assert!(matches!(swath_device(&engine, BenchOp::Sum, &xs, &mut actual), Ok(Device::Cpu)));
        for op in [BenchOp::Expr, BenchOp::Chain10] {
            plain_loop(op, &xs, &mut expected);
            assert!(swath(&engine, op, &xs, &mut actual).is_ok());
            assert_eq!(expected, actual, "{op:?} matches the plain loop");
        }
    }

    #[test]
    fn the_new_vector_ops_compute_what_the_baselines_do() {
        let xs: Vec<f32> = (0..5000).map(|i| 0.5 + (i % 7) as f32 / 8.0).collect();
        let engine = Engine::cpu();
        let squares: Vec<f32> = xs.iter().map(|&x| x * x).collect();
        assert_eq!(engine.map(&xs, Op::Square).ok(), Some(squares));
        let inputs = Inputs::new().with("x", &xs);
        let evaluated = Expr::parse(TRANSCENDENTAL).and_then(|expr| engine.eval::<f32>(&expr, &inputs));
        let evaluated = evaluated.unwrap_or_default();
        assert_eq!(evaluated.len(), xs.len());
        for (&x, &y) in xs.iter().zip(&evaluated) {
            assert!((y - transcendental(x)).abs() <= 1e-5 * transcendental(x).abs(), "{x}: {y}");
        }
        let mut out = vec![0.0; xs.len()];
        let cumsum: Vec<f32> = xs
            .iter()
            .scan(0.0, |s, &x| {
                Some({
                    *s += x;
                    *s
                })
            })
            .collect();
        let scanned = rayon_scan(&xs);
        assert!(scanned.iter().zip(&cumsum).all(|(a, b)| (a - b).abs() <= 1e-3 * b), "the rayon scan is a cumsum");
        let swath_scan = engine.scan(&xs, Scan::inclusive(Reduce::Sum)).unwrap_or_default();
        assert!(swath_scan.iter().zip(&cumsum).all(|(a, b)| (a - b).abs() <= 1e-3 * b), "so is swath's");
        assert!(swath(&engine, BenchOp::ScanInto, &xs, &mut out).is_ok());
        assert_eq!(out, swath_scan, "scan_into writes what scan returns");
        let kept: Vec<f32> = xs.iter().copied().filter(|&x| x > THRESHOLD).collect();
        assert_eq!(engine.filter_into(&xs, &var("x").gt(THRESHOLD), &mut out).ok(), Some(kept.len()));
        assert_eq!(out[..kept.len()], kept, "filter_into writes what filter returns");
        assert_eq!(
            engine.filter(&xs, &var("x").gt(THRESHOLD)).ok(),
            Some(xs.iter().copied().filter(|&x| x > THRESHOLD).collect())
        );
        let hist = engine.histogram(&xs, BINS, RANGE.0, RANGE.1).unwrap_or_default();
        let mut counts = vec![0u32; BINS];
        xs.iter().filter_map(|&x| bin(x)).for_each(|b| counts[b] += 1);
        assert_eq!(hist, counts, "the plain bins are numpy's for this data");
        for op in [
            BenchOp::SquareNew,
            BenchOp::Transcendental,
            BenchOp::Scan,
            BenchOp::ScanInto,
            BenchOp::Filter,
            BenchOp::FilterInto,
            BenchOp::Argmax,
            BenchOp::Histogram,
        ] {
            plain_loop(op, &xs, &mut out);
            rayon(op, &xs, &mut out);
            assert!(swath(&engine, op, &xs, &mut out).is_ok());
            assert!(matches!(swath_device(&engine, op, &xs, &mut out), Ok(Device::Cpu)));
        }
    }
}
