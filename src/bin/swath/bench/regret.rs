//! Routing regret: how much longer the `auto` policy took than the fastest of the options it chooses
//! from (swath_cpu, swath_gpu, swath_both), at the same op and size. 1.00x is a perfect choice; above
//! it, auto picked a slower device or paid for deciding. Below 1.00x is noise, or auto's engine doing
//! better than the fixed-policy one (a warmer cache, a luckier split).

use super::matrix::{size_name, BenchOp, Contender};
use super::results::Row;
use swath::Device;

/// The contenders auto chooses between: the one device each, and the split.
const OPTIONS: [Contender; 3] = [Contender::SwathCpu, Contender::SwathGpu, Contender::SwathBoth];

/// The regret of a swath_auto row: its median over the fastest measured option's at its op and size;
/// `None` for other rows, or when no option was measured there.
pub fn of(rows: &[Row], auto: &Row) -> Option<f64> {
    if auto.contender != Contender::SwathAuto {
        return None;
    }
    let fastest = fastest_option(rows, auto.op, auto.n)?.timing.median.as_secs_f64();
    (fastest > 0.0).then(|| auto.timing.median.as_secs_f64() / fastest)
}

/// The fastest of the measured options at `op` and `n`.
fn fastest_option(rows: &[Row], op: BenchOp, n: usize) -> Option<&Row> {
    rows.iter()
        .filter(|row| row.op == op && row.n == n && OPTIONS.contains(&row.contender))
        .min_by_key(|row| row.timing.median)
}

/// The highest regret of the report, and what auto did there.
#[derive(Debug, Clone, PartialEq)]
pub struct WorstRegret {
    pub op: BenchOp,
    pub n: usize,
    pub regret: f64,
    /// Where auto's job ran, when the warm-up told.
    pub ran_on: Option<Device>,
    /// The fastest option there.
    pub fastest: Contender,
}

/// The swath_auto row of highest regret; `None` without any.
pub fn worst(rows: &[Row]) -> Option<WorstRegret> {
    let (row, regret) =
        rows.iter().filter_map(|row| Some((row, row.regret?))).max_by(|(_, a), (_, b)| a.total_cmp(b))?;
    let fastest = fastest_option(rows, row.op, row.n)?.contender;
    Some(WorstRegret { op: row.op, n: row.n, regret, ran_on: row.ran_on, fastest })
}

impl std::fmt::Display for WorstRegret {
    /// `1.84x (sum at 2^20: auto ran on gpu, cpu was faster)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fastest = option_device(self.fastest);
        write!(f, "{:.2}x ({} at {}: ", self.regret, self.op.name(), size_name(self.n))?;
        match self.ran_on {
            Some(device) if device == fastest => write!(f, "auto ran on {device}, as the fastest did)"),
            Some(device) => write!(f, "auto ran on {device}, {fastest} was faster)"),
            None => write!(f, "{fastest} was fastest)"),
        }
    }
}

/// Where an option runs.
fn option_device(contender: Contender) -> Device {
    match contender {
        Contender::SwathGpu | Contender::SwathGpuResident => Device::Gpu,
        Contender::SwathBoth => Device::Both,
        _ => Device::Cpu,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::results::fixtures::{cell, report};

    #[test]
    fn regret_is_auto_over_the_fastest_option() {
        let mut auto = cell(BenchOp::Sum, 20, Contender::SwathAuto, 300);
        auto.ran_on = Some(Device::Gpu);
        let report = report(vec![
            cell(BenchOp::Sum, 20, Contender::Rayon, 100),
            cell(BenchOp::Sum, 20, Contender::SwathCpu, 150),
            cell(BenchOp::Sum, 20, Contender::SwathGpu, 400),
            auto,
            cell(BenchOp::Sum, 22, Contender::SwathCpu, 600),
            cell(BenchOp::Sum, 22, Contender::SwathAuto, 450),
            cell(BenchOp::Square, 22, Contender::SwathAuto, 10),
        ]);
        let regrets: Vec<Option<f64>> = report.rows.iter().map(|row| row.regret).collect();
        assert_eq!(regrets, [None, None, None, Some(2.0), None, Some(0.75), None], "rayon is no option");
        let worst = worst(&report.rows);
        assert_eq!(worst.as_ref().map(|w| (w.regret, w.fastest)), Some((2.0, Contender::SwathCpu)));
        let text = worst.map(|w| w.to_string()).unwrap_or_default();
        assert_eq!(text, "2.00x (sum at 2^20: auto ran on gpu, cpu was faster)");
    }
}
