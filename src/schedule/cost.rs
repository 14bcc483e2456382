//! A first, fixed cost model: predicted seconds on each device.
//!
//! The numbers are deliberately conservative defaults for a desktop with a
//! discrete GPU; they only decide `auto` routing on real (not software)
//! adapters. Data lives on the host, so the GPU pays the upload of the
//! input and the readback of the result.

use super::Shape;
use crate::op::Op;

/// Throughputs and overheads the scheduler predicts with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    /// CPU memory bandwidth in bytes per second, all threads together.
    pub cpu_bytes_per_s: f64,
    /// CPU threads.
    pub cpu_threads: usize,
    /// Fixed cost of one GPU job (encode, submit, poll) in seconds.
    pub gpu_launch_s: f64,
    /// Host-device transfer bandwidth in bytes per second.
    pub transfer_bytes_per_s: f64,
    /// GPU memory bandwidth in bytes per second.
    pub gpu_bytes_per_s: f64,
}

impl CostModel {
    /// The default model for `threads` CPU threads.
    pub fn with_threads(threads: usize) -> Self {
        let threads = threads.max(1);
        CostModel {
            cpu_bytes_per_s: (6e9 * threads as f64).min(40e9),
            cpu_threads: threads,
            gpu_launch_s: 100e-6,
            transfer_bytes_per_s: 12e9,
            gpu_bytes_per_s: 400e9,
        }
    }

    /// Predicted `(cpu_seconds, gpu_seconds)` for a job of `shape`.
    pub fn predict(&self, shape: &Shape) -> (f64, f64) {
        let n = shape.len as f64;
        let size = shape.dtype.size() as f64;
        let read = n * shape.expr.map_or(size, |e| e.bytes_per_element as f64);
        let written = if shape.reduce.is_some() { 0.0 } else { n * size };
        let per_element_s = match (shape.map, shape.expr) {
            (Some(op), _) => cpu_element_seconds(op),
            (None, Some(expr)) => expr.transcendentals as f64 * TRANSCENDENTAL_S,
            (None, None) => 0.0,
        };
        let cpu = (read + written) / self.cpu_bytes_per_s + n * per_element_s / self.cpu_threads as f64;
        let gpu =
            self.gpu_launch_s + (read + written) / self.transfer_bytes_per_s + (read + written) / self.gpu_bytes_per_s;
        (cpu, gpu)
    }
}

/// Seconds one CPU core spends on a typical libm call.
const TRANSCENDENTAL_S: f64 = 6e-9;

/// Compute time per element on one CPU core beyond the memory traffic:
/// vectorised arithmetic is free next to memory, libm calls are not.
fn cpu_element_seconds(op: Op) -> f64 {
    match op {
        Op::Sqrt => 0.3e-9,
        Op::Exp | Op::Log => 4e-9,
        Op::Sin | Op::Cos => 8e-9,
        _ => 0.0,
    }
}
