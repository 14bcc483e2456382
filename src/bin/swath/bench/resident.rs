//! The `swath_gpu_resident` rows (`--resident`): each op over an array uploaded once, before the timed
//! runs, with its result left on the device, so that the rows time the kernels rather than the link.
//! A map's output array stays on the device, and the engine waits for the queue before the timer
//! stops; a reduction's one value comes back, which waits for the work by itself.

use super::contenders::{CHAIN, EXPR, TRANSCENDENTAL};
use super::matrix::BenchOp;
use std::hint::black_box;
use swath::expr::Expr;
use swath::{Array, Device, Engine, Reduce};

/// An op as a pipeline over one resident input, its expressions parsed once for every run.
pub struct ResidentJob {
    /// The name the stages read the input by.
    input: &'static str,
    /// Named stages, each reading the input or the stage before.
    stages: Vec<(String, Expr)>,
    /// The last stage's reduction, for `sum` and `sumsq`.
    reduce: Option<Reduce>,
}

impl ResidentJob {
    /// The resident form of `op`; `None` for an op that has none (see [`BenchOp::has_resident_form`]).
    pub fn new(op: BenchOp) -> swath::Result<Option<ResidentJob>> {
        let one = |text: &str, reduce| -> swath::Result<Option<ResidentJob>> {
            Ok(Some(ResidentJob { input: "x", stages: vec![("y".into(), Expr::parse(text)?)], reduce }))
        };
        match op {
            BenchOp::Square | BenchOp::SquareNew => one("x * x", None),
            BenchOp::Expr => one(EXPR, None),
            BenchOp::Transcendental => one(TRANSCENDENTAL, None),
            BenchOp::Sum => one("x", Some(Reduce::Sum)),
            BenchOp::Sumsq => one("x * x", Some(Reduce::Sum)),
            BenchOp::Chain10 => {
                let stages =
                    CHAIN.iter().enumerate().map(|(k, stage)| Ok((format!("s{}", k + 1), Expr::parse(stage)?)));
                Ok(Some(ResidentJob { input: "s0", stages: stages.collect::<swath::Result<_>>()?, reduce: None }))
            }
            BenchOp::Scan
            | BenchOp::ScanInto
            | BenchOp::Filter
            | BenchOp::FilterInto
            | BenchOp::Argmax
            | BenchOp::Histogram => Ok(None),
        }
    }

    /// Runs the job once over `xs` and waits for it; says where it ran (the CPU after a GPU fault).
    pub fn run(&self, engine: &Engine, xs: &Array<f32>) -> swath::Result<Device> {
        let mut pipeline = engine.pipeline().input(self.input, xs);
        let last = self.stages.len().saturating_sub(1);
        for (k, (name, expr)) in self.stages.iter().enumerate() {
            pipeline = match self.reduce {
                Some(reduce) if k == last => pipeline.reduce::<f32>(name, expr, reduce),
                _ => pipeline.map::<f32>(name, expr),
            };
        }
        let outputs = pipeline.run()?;
        let result = self.stages.last().map_or("y", |(name, _)| name.as_str());
        if self.reduce.is_some() {
            black_box(outputs.scalar::<f32>(result)?);
        } else {
            let array = outputs.array::<f32>(result)?;
            engine.synchronize()?;
            black_box(&array);
        }
        Ok(outputs.device())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::contenders;

    #[test]
    fn resident_jobs_compute_what_the_host_rows_do() {
        let xs: Vec<f32> = (0..5000).map(|i| 0.5 + (i % 7) as f32 / 8.0).collect();
        let engine = Engine::cpu();
        let array = engine.array(xs.clone());
        for op in [BenchOp::Square, BenchOp::Expr, BenchOp::Chain10, BenchOp::Sum, BenchOp::Sumsq] {
            let job = ResidentJob::new(op).ok().flatten();
            let ran = job.map(|job| job.run(&engine, &array));
            assert!(matches!(ran, Some(Ok(Device::Cpu))), "{op:?}: {ran:?}");
        }
        assert!(matches!(ResidentJob::new(BenchOp::Scan), Ok(None)));
        // The chain's stages are the ones the host rows run.
        let job = ResidentJob::new(BenchOp::Chain10).ok().flatten().map(|job| job.stages.len());
        assert_eq!(job, Some(contenders::CHAIN.len()));
    }
}
