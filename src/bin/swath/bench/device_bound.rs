//! What bounds swath's GPU rows, measured on the GPU itself: the one rule behind the `% dev` column and
//! the JSON's `fraction_of_device_bandwidth`.
//!
//! - A resident row (`swath_gpu_resident`) is bounded by device memory. Its bytes count as every row's
//!   do (a map reads and writes each element, a reduction reads it) and are compared with the device
//!   copy, whose GB/s also count bytes read plus bytes written. Device memory serves reads and writes
//!   from one budget, so a reduction that reads at the copy's total rate is at 100%; comparing it with
//!   half the copy (the rate at which the copy reads) would let a good reduction show 200%.
//! - A host-path row (`swath_gpu`) is bounded by the link: its input goes up, and the rest of its bytes
//!   (a map's output, nothing of a reduction) come back. The bound is the time of that upload and that
//!   readback at the probed rates, one after the other, and the share is the bound's time over the
//!   row's; a driver that overlaps the two directions can pass 100%.
//! - Other rows, `swath_auto` and `swath_both` included, have no device share: they run partly or
//!   wholly on the CPU.

use super::matrix::{BenchOp, Contender};
use std::time::Duration;
use swath::GpuBandwidth;

/// The share of its device bound a row of `contender` reaches, running `op` over `n` f32 in `median`.
pub fn fraction(op: BenchOp, n: usize, contender: Contender, median: Duration, gpu: &GpuBandwidth) -> Option<f64> {
    let seconds = median.as_secs_f64();
    if seconds <= 0.0 {
        return None;
    }
    let bytes = op.bytes(n) as f64;
    let bound_seconds = match contender {
        Contender::SwathGpuResident => bytes / gigabytes(gpu.device_copy)?,
        Contender::SwathGpu => {
            let input = (n * std::mem::size_of::<f32>()) as f64;
            input / gigabytes(gpu.upload)? + (bytes - input).max(0.0) / gigabytes(gpu.readback)?
        }
        _ => return None,
    };
    Some(bound_seconds / seconds)
}

/// Bytes per second of a rate in GB/s, if it is a usable one.
fn gigabytes(gbps: f64) -> Option<f64> {
    (gbps.is_finite() && gbps > 0.0).then_some(gbps * 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GPU: GpuBandwidth =
        GpuBandwidth { bytes: 1 << 28, device_copy: 800.0, upload: 20.0, readback: 10.0, timestamps: true };

    #[test]
    fn resident_rows_compare_with_the_device_copy() {
        let n = 1 << 20;
        // A map moves 8n bytes: at the copy's 800 GB/s that takes 8n / 800e9 s.
        let ideal = Duration::from_secs_f64(8.0 * n as f64 / 800e9);
        let share = fraction(BenchOp::Square, n, Contender::SwathGpuResident, ideal, &GPU).unwrap_or_default();
        assert!((share - 1.0).abs() < 1e-3, "{share}");
        // A reduction reads 4n bytes, compared with the copy's whole rate, not half of it.
        let share = fraction(BenchOp::Sum, n, Contender::SwathGpuResident, ideal, &GPU).unwrap_or_default();
        assert!((share - 0.5).abs() < 1e-3, "{share}");
    }

    #[test]
    fn host_path_rows_compare_with_the_link() {
        let n = 1 << 20;
        let input = 4.0 * n as f64;
        let map = Duration::from_secs_f64(input / 20e9 + input / 10e9);
        let share = fraction(BenchOp::Square, n, Contender::SwathGpu, map, &GPU).unwrap_or_default();
        assert!((share - 1.0).abs() < 1e-3, "{share}");
        let reduce = Duration::from_secs_f64(2.0 * input / 20e9);
        let share = fraction(BenchOp::Sum, n, Contender::SwathGpu, reduce, &GPU).unwrap_or_default();
        assert!((share - 0.5).abs() < 1e-3, "{share}");
        assert_eq!(fraction(BenchOp::Sum, n, Contender::SwathCpu, reduce, &GPU), None);
        assert_eq!(fraction(BenchOp::Sum, n, Contender::SwathAuto, reduce, &GPU), None);
        assert_eq!(fraction(BenchOp::Sum, n, Contender::SwathGpu, Duration::ZERO, &GPU), None);
    }
}
