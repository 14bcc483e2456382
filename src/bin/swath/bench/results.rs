//! The report: every measured cell with its throughput, its share of the measured bandwidth (the CPU's,
//! and for GPU rows the GPU's own), its speed-up over rayon, auto's routing regret, and where the GPU
//! starts to beat the CPU.

use super::device_bound;
use super::machine::Machine;
use super::matrix::{BenchOp, Contender};
use super::measure::{Budget, Timing};
use super::probe::Bandwidth;
use super::regret;
use super::runner::Measured;
use crate::format;
use std::time::Duration;
use swath::{Device, GpuBandwidth, GpuProfile};

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub op: BenchOp,
    pub n: usize,
    pub contender: Contender,
    pub timing: Timing,
    pub gpu_profile: Option<GpuProfile>,
    /// Decimal GB/s (bytes read plus bytes written) at the median time.
    pub gbps: Option<f64>,
    /// `gbps` over the bandwidth that bounds the op, as measured in the same run.
    pub fraction_of_bandwidth: Option<f64>,
    /// Median time of rayon over this row's median time: above 1, faster than rayon.
    pub speedup_over_rayon: Option<f64>,
    /// The share of the GPU's own bound (see `device_bound`): resident rows of the device copy,
    /// host-path GPU rows of the link; `None` for other rows or without a GPU probe.
    pub fraction_of_device_bandwidth: Option<f64>,
    /// swath_auto rows: the median over the fastest of swath_cpu, swath_gpu, swath_both (see `regret`).
    pub regret: Option<f64>,
    /// swath_auto and swath_both rows: where the warm-up run went.
    pub ran_on: Option<Device>,
}

/// Everything the table, the JSON and the chart show.
#[derive(Debug)]
pub struct Report {
    pub machine: Machine,
    pub bandwidth: Bandwidth,
    /// The GPU's copy and transfer bandwidth, measured in the same run; `None` without a GPU.
    pub gpu_bandwidth: Option<GpuBandwidth>,
    pub budget: Budget,
    pub ops: Vec<BenchOp>,
    pub exponents: Vec<u32>,
    pub rows: Vec<Row>,
    /// Cells that could not be measured, and why.
    pub notes: Vec<String>,
}

/// Where swath_gpu starts to beat swath_cpu for one op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossover {
    /// swath_cpu and swath_gpu were not both measured at any size.
    NotMeasured,
    /// swath_gpu is not faster at the largest size measured.
    Never,
    /// The smallest n from which swath_gpu's median is faster, there and at every larger size.
    From(usize),
}

/// Rows for the measured cells, compared with `bandwidth` (and `gpu`, for GPU rows), with the rayon row
/// of the same op and size, and, for swath_auto, with the options it chose from.
pub fn rows(cells: Vec<Measured>, bandwidth: &Bandwidth, gpu: Option<&GpuBandwidth>) -> Vec<Row> {
    let rayon_medians: Vec<(BenchOp, usize, Duration)> = cells
        .iter()
        .filter(|cell| cell.contender == Contender::Rayon)
        .map(|cell| (cell.op, cell.n, cell.timing.median))
        .collect();
    let mut rows: Vec<Row> = cells
        .into_iter()
        .map(|cell| {
            let gbps = format::gigabytes_per_second(cell.op.bytes(cell.n), cell.timing.median);
            let bound = bandwidth.gbps(cell.op.bound());
            let rayon = rayon_medians.iter().find(|(op, n, _)| *op == cell.op && *n == cell.n);
            let median = cell.timing.median;
            Row {
                fraction_of_bandwidth: gbps.zip(bound).map(|(gbps, bound)| gbps / bound),
                speedup_over_rayon: rayon.and_then(|&(_, _, rayon)| ratio(rayon, median)),
                fraction_of_device_bandwidth: gpu
                    .and_then(|gpu| device_bound::fraction(cell.op, cell.n, cell.contender, median, gpu)),
                regret: None,
                ran_on: cell.ran_on,
                op: cell.op,
                n: cell.n,
                contender: cell.contender,
                timing: cell.timing,
                gpu_profile: cell.gpu_profile,
                gbps,
            }
        })
        .collect();
    let regrets: Vec<Option<f64>> = rows.iter().map(|row| regret::of(&rows, row)).collect();
    for (row, regret) in rows.iter_mut().zip(regrets) {
        row.regret = regret;
    }
    rows
}

fn ratio(numerator: Duration, denominator: Duration) -> Option<f64> {
    (!denominator.is_zero()).then(|| numerator.as_secs_f64() / denominator.as_secs_f64())
}

impl Report {
    /// The CPU/GPU crossover of `op`, from the sizes where both swath_cpu and swath_gpu were measured.
    pub fn crossover(&self, op: BenchOp) -> Crossover {
        let median = |contender, n| {
            self.rows
                .iter()
                .find(|row| row.op == op && row.n == n && row.contender == contender)
                .map(|row| row.timing.median)
        };
        let mut sizes: Vec<usize> = self.rows.iter().filter(|row| row.op == op).map(|row| row.n).collect();
        sizes.sort_unstable();
        sizes.dedup();
        let both: Vec<(usize, Duration, Duration)> = sizes
            .into_iter()
            .filter_map(|n| Some((n, median(Contender::SwathCpu, n)?, median(Contender::SwathGpu, n)?)))
            .collect();
        if both.is_empty() {
            return Crossover::NotMeasured;
        }
        let gpu_faster_from = both.iter().rev().take_while(|(_, cpu, gpu)| gpu < cpu).last();
        gpu_faster_from.map_or(Crossover::Never, |&(n, _, _)| Crossover::From(n))
    }

    /// True if any swath_gpu row was measured.
    pub fn has_gpu_rows(&self) -> bool {
        self.rows.iter().any(|row| row.contender == Contender::SwathGpu)
    }

    /// True if any swath_auto row was measured.
    pub fn has_auto_rows(&self) -> bool {
        self.rows.iter().any(|row| row.contender == Contender::SwathAuto)
    }
}

/// Reports built from made-up timings, for the tests of the report and of its renderings.
#[cfg(test)]
pub mod fixtures {
    use super::*;
    use crate::bench::measure::CELL_BUDGET;

    pub fn timing(micros: u64) -> Timing {
        let median = Duration::from_micros(micros);
        Timing { median, min: median, max: median, runs: 5, batch: 1, lowered: false }
    }

    /// A cell of `op` over 2^`exponent` elements whose runs took `micros` each.
    pub fn cell(op: BenchOp, exponent: u32, contender: Contender, micros: u64) -> Measured {
        Measured { op, n: 1 << exponent, contender, timing: timing(micros), gpu_profile: None, ran_on: None }
    }

    /// A report of `cells`, with a read bandwidth of 10 GB/s and a copy bandwidth of 5.37 GB/s.
    pub fn report(cells: Vec<Measured>) -> Report {
        let bandwidth = Bandwidth { n: 1 << 26, copy: timing(100_000), read: timing(26_844) };
        let mut ops: Vec<BenchOp> = Vec::new();
        let mut exponents: Vec<u32> = Vec::new();
        for cell in &cells {
            if !ops.contains(&cell.op) {
                ops.push(cell.op);
            }
            exponents.push(cell.n.trailing_zeros());
        }
        exponents.sort_unstable();
        exponents.dedup();
        Report {
            machine: Machine::new(2, None, "none in this test".into()),
            rows: rows(cells, &bandwidth, None),
            bandwidth,
            gpu_bandwidth: None,
            budget: Budget { repeat: 5, per_cell: CELL_BUDGET },
            ops,
            exponents,
            notes: vec![],
        }
    }

    /// `report` with a GPU probe of 800 GB/s device copy, 20 GB/s upload and 10 GB/s readback, its
    /// rows' device shares computed from it.
    pub fn with_gpu(mut report: Report) -> Report {
        let gpu = GpuBandwidth { bytes: 1 << 28, device_copy: 800.0, upload: 20.0, readback: 10.0, timestamps: true };
        for row in &mut report.rows {
            let (op, n, contender, median) = (row.op, row.n, row.contender, row.timing.median);
            row.fraction_of_device_bandwidth = super::device_bound::fraction(op, n, contender, median, &gpu);
        }
        report.gpu_bandwidth = Some(gpu);
        report
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{cell, report};
    use super::*;

    #[test]
    fn rows_compare_with_rayon_and_the_bandwidth() {
        let report = report(vec![
            cell(BenchOp::Sum, 20, Contender::Rayon, 400),
            cell(BenchOp::Sum, 20, Contender::SwathCpu, 200),
        ]);
        let swath = &report.rows[1];
        assert_eq!(swath.speedup_over_rayon, Some(2.0));
        let gbps = swath.gbps.unwrap_or_default();
        assert!((gbps - 4.0 * (1 << 20) as f64 / 200e-6 / 1e9).abs() < 1e-9);
        let read_gbps = 4.0 * (1 << 26) as f64 / 26_844e-6 / 1e9;
        assert!((swath.fraction_of_bandwidth.unwrap_or_default() - gbps / read_gbps).abs() < 1e-9);
        assert_eq!(report.crossover(BenchOp::Sum), Crossover::NotMeasured);
    }

    #[test]
    fn the_crossover_is_where_the_gpu_stays_faster() {
        let pair = |exponent, cpu, gpu| {
            [
                cell(BenchOp::Sum, exponent, Contender::SwathCpu, cpu),
                cell(BenchOp::Sum, exponent, Contender::SwathGpu, gpu),
            ]
        };
        let faster_at_the_end = [pair(0, 10, 50), pair(1, 20, 10), pair(2, 40, 50), pair(3, 80, 60), pair(4, 160, 70)];
        assert_eq!(report(faster_at_the_end.concat()).crossover(BenchOp::Sum), Crossover::From(8));
        let never = [pair(0, 10, 5), pair(1, 20, 30)];
        assert_eq!(report(never.concat()).crossover(BenchOp::Sum), Crossover::Never);
        let always = [pair(0, 10, 5), pair(1, 20, 10)];
        assert_eq!(report(always.concat()).crossover(BenchOp::Sum), Crossover::From(1));
    }
}
