//! Predicted completion times: [`Prediction`] of each option for one job,
//! counting the [`Load`] already waiting on each device.

use super::{CostModel, Device, Shape};
use std::fmt;

/// Seconds of work already queued or running on each device.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Load {
    /// Predicted seconds of the jobs on the CPU pool.
    pub cpu_s: f64,
    /// Predicted seconds of the jobs on or waiting for the GPU.
    pub gpu_s: f64,
}

impl Load {
    /// Nothing queued anywhere.
    pub const IDLE: Load = Load { cpu_s: 0.0, gpu_s: 0.0 };
}

/// A job cut in two: the GPU takes the first `gpu_share` of it, the CPU
/// the rest, at the same time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// Fraction of the elements the GPU takes (before rounding to whole tiles).
    pub gpu_share: f64,
    /// Predicted completion, queued work included.
    pub seconds: f64,
}

impl Split {
    /// True if each device takes at least 2% of the job: a split that
    /// leaves one side almost idle is not worth its merge.
    pub fn shares_work(&self) -> bool {
        (0.02..=0.98).contains(&self.gpu_share)
    }
}

/// Predicted completion of a job on each option, queued work included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// On the CPU pool.
    pub cpu_s: f64,
    /// On the GPU, transfers included; `None` if it cannot run the job.
    pub gpu_s: Option<f64>,
    /// Split between both, if that can gain.
    pub both: Option<Split>,
}

/// A split must beat the better single device by this factor to be
/// chosen: merging costs a little, and a close call is not worth the risk.
const SPLIT_GAIN: f64 = 0.85;

impl Prediction {
    /// The options for a job of `shape`; the GPU's only if `gpu_can_run`.
    pub fn of(model: &CostModel, shape: &Shape, load: Load, gpu_can_run: bool) -> Prediction {
        let cpu_s = load.cpu_s + model.cpu_seconds(shape);
        if !gpu_can_run {
            return Prediction { cpu_s, gpu_s: None, both: None };
        }
        let gpu_s = model.gpu_seconds(shape).map(|s| load.gpu_s + s);
        // Both devices must be free for a split to finish when predicted.
        let both = model
            .split(shape)
            .map(|(gpu_share, seconds)| Split { gpu_share, seconds: seconds + load.cpu_s.max(load.gpu_s) });
        Prediction { cpu_s, gpu_s, both }
    }

    /// The options for a chain of `stages` submitted as one unit, whose
    /// inputs hold `host_bytes` in host memory and `device_bytes` on the GPU.
    pub fn of_chain(
        model: &CostModel,
        stages: &[Shape],
        (host_bytes, device_bytes): (u64, u64),
        load: Load,
        gpu_can_run: bool,
    ) -> Prediction {
        let cpu_s = load.cpu_s + model.cpu_chain_seconds(stages, device_bytes);
        let gpu_s = model.gpu_chain_seconds(stages, host_bytes).filter(|_| gpu_can_run).map(|s| load.gpu_s + s);
        Prediction { cpu_s, gpu_s, both: None }
    }

    /// The option predicted to finish first for a job of `len` elements
    /// (a split needs [`SPLIT_MIN`](super::SPLIT_MIN) of them).
    pub fn fastest(&self, len: usize) -> Device {
        let single = match self.gpu_s {
            Some(gpu_s) if gpu_s < self.cpu_s => (Device::Gpu, gpu_s),
            _ => (Device::Cpu, self.cpu_s),
        };
        match self.both {
            Some(split) if split.seconds < SPLIT_GAIN * single.1 && split.shares_work() && len >= super::SPLIT_MIN => {
                Device::Both
            }
            _ => single.0,
        }
    }
}

impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "predicted cpu {}", seconds(self.cpu_s))?;
        if let Some(gpu_s) = self.gpu_s {
            write!(f, ", gpu {}", seconds(gpu_s))?;
        }
        // A split giving one side almost nothing is not an option worth naming.
        if let Some(split) = self.both.filter(Split::shares_work) {
            write!(f, ", both {} with {:.0}% on the gpu", seconds(split.seconds), split.gpu_share * 100.0)?;
        }
        Ok(())
    }
}

/// `s` seconds in the unit that reads best.
fn seconds(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.0} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.1} us", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}
