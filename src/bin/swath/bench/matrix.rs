//! What `swath bench` measures: each op, at each size, by each contender.

use clap::ValueEnum;

/// An operation the bench measures, over f32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchOp {
    /// `x * x` written into a reused output buffer: a map.
    Square,
    /// The sum: a reduction.
    Sum,
    /// `x * x` fused into the sum: one pass, no intermediate array.
    Sumsq,
    /// The expression `x * 2.5 + 1` into a reused buffer: a generated kernel.
    Expr,
    /// A chain of ten element-wise stages from host data to host data: swath uploads once, runs a
    /// pipeline, reads back once; the baselines fuse the chain by hand.
    Chain10,
    /// `x * x` into a new vector on every call, as `engine.map` and `collect` return one: the cost of
    /// allocating and first touching the output counts.
    #[value(name = "square_new")]
    SquareNew,
    /// `sin(x) * cos(x) + sqrt(x)` into a new vector on every call: compute rather than memory bound
    /// on most CPUs.
    Transcendental,
    /// The inclusive sum scan (numpy's `cumsum`) into a new vector on every call.
    Scan,
    /// The same scan into a reused buffer, as `np.cumsum(x, out=out)`: no new pages to fault in.
    #[value(name = "scan_into")]
    ScanInto,
    /// The elements above the middle of the data's range (about half) into a new vector: `x[x > 1]`.
    Filter,
    /// The same filter into the front of a reused buffer.
    #[value(name = "filter_into")]
    FilterInto,
    /// The index and value of the first maximum.
    Argmax,
    /// numpy's histogram in 256 bins over the data's range.
    Histogram,
}

/// The memory bandwidth that bounds an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Read and write, as a map does: the parallel copy probe.
    Copy,
    /// Read only, as a reduction does: the parallel read probe.
    Read,
}

impl BenchOp {
    /// The name used in the table, the JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BenchOp::Square => "square",
            BenchOp::Sum => "sum",
            BenchOp::Sumsq => "sumsq",
            BenchOp::Expr => "expr",
            BenchOp::Chain10 => "chain10",
            BenchOp::SquareNew => "square_new",
            BenchOp::Transcendental => "transcendental",
            BenchOp::Scan => "scan",
            BenchOp::ScanInto => "scan_into",
            BenchOp::Filter => "filter",
            BenchOp::FilterInto => "filter_into",
            BenchOp::Argmax => "argmax",
            BenchOp::Histogram => "histogram",
        }
    }

    /// What the op computes and where its result goes, for the chart's captions and the JSON.
    pub fn description(self) -> &'static str {
        match self {
            BenchOp::Square => "x * x into a reused buffer",
            BenchOp::Sum => "the sum: a reduction",
            BenchOp::Sumsq => "x * x fused into the sum",
            BenchOp::Expr => "x * 2.5 + 1 into a reused buffer",
            BenchOp::Chain10 => "ten stages, from host data into a reused buffer",
            BenchOp::SquareNew => "x * x, a new vector per call",
            BenchOp::Transcendental => "sin(x)*cos(x)+sqrt(x), a new vector per call",
            BenchOp::Scan => "cumsum, a new vector per call",
            BenchOp::ScanInto => "cumsum into a reused buffer",
            BenchOp::Filter => "x[x > 1], about half kept, a new vector per call",
            BenchOp::FilterInto => "x[x > 1], about half kept, into a reused buffer",
            BenchOp::Argmax => "index and value of the first maximum",
            BenchOp::Histogram => "histogram, 256 bins",
        }
    }

    /// Bytes one run moves over `n` f32: a map reads and writes every element, a reduction reads each
    /// once (its one-value result is not worth counting), a filter reads every element and writes the
    /// half it keeps.
    pub fn bytes(self, n: usize) -> u64 {
        let input = n as u64 * std::mem::size_of::<f32>() as u64;
        match self {
            BenchOp::Square
            | BenchOp::Expr
            | BenchOp::Chain10
            | BenchOp::SquareNew
            | BenchOp::Transcendental
            | BenchOp::Scan
            | BenchOp::ScanInto => 2 * input,
            BenchOp::Filter | BenchOp::FilterInto => input + input / 2,
            BenchOp::Sum | BenchOp::Sumsq | BenchOp::Argmax | BenchOp::Histogram => input,
        }
    }

    /// True if the op has a form over an array already on the device: the maps and reductions that
    /// `Array` and pipelines run. The primitives (scan, filter, argmax, histogram) have none.
    pub fn has_resident_form(self) -> bool {
        !self.is_primitive()
    }

    /// True for the primitives beyond map and reduce (scan, filter, argmax, histogram), which run as
    /// several passes in one submission on the GPU.
    pub fn is_primitive(self) -> bool {
        matches!(
            self,
            BenchOp::Scan
                | BenchOp::ScanInto
                | BenchOp::Filter
                | BenchOp::FilterInto
                | BenchOp::Argmax
                | BenchOp::Histogram
        )
    }

    /// The bandwidth the op is compared with: the copy for every map (a compute-bound one such as
    /// `transcendental` stays well below it, which is what its row shows), the read for a reduction.
    pub fn bound(self) -> Bound {
        match self {
            BenchOp::Square
            | BenchOp::Expr
            | BenchOp::Chain10
            | BenchOp::SquareNew
            | BenchOp::Transcendental
            | BenchOp::Scan
            | BenchOp::ScanInto
            | BenchOp::Filter
            | BenchOp::FilterInto => Bound::Copy,
            BenchOp::Sum | BenchOp::Sumsq | BenchOp::Argmax | BenchOp::Histogram => Bound::Read,
        }
    }
}

impl Bound {
    pub fn name(self) -> &'static str {
        match self {
            Bound::Copy => "copy",
            Bound::Read => "read",
        }
    }
}

/// Who runs an op: two baselines, then swath's paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    /// A sequential loop, as anyone would write it without a library.
    PlainLoop,
    /// The obvious rayon one-liner; the reference of the speed-up column.
    Rayon,
    /// swath's CPU path.
    SwathCpu,
    /// swath's GPU path on host data: upload, kernel, readback.
    SwathGpu,
    /// swath's GPU path on an array already on the device, the result left there (`--resident`).
    SwathGpuResident,
    /// The `both` policy: every job split between the GPU and the CPU.
    SwathBoth,
    /// The `auto` policy: the scheduler picks the device; its regret is measured against the others.
    SwathAuto,
}

/// Every contender, in the order of the table and the chart's legend.
pub const CONTENDERS: [Contender; 7] = [
    Contender::PlainLoop,
    Contender::Rayon,
    Contender::SwathCpu,
    Contender::SwathGpu,
    Contender::SwathGpuResident,
    Contender::SwathBoth,
    Contender::SwathAuto,
];

impl Contender {
    /// The name used in the table's device column, the JSON and the chart's legend.
    pub fn name(self) -> &'static str {
        match self {
            Contender::PlainLoop => "plain_loop",
            Contender::Rayon => "rayon",
            Contender::SwathCpu => "swath_cpu",
            Contender::SwathGpu => "swath_gpu",
            Contender::SwathGpuResident => "swath_gpu_resident",
            Contender::SwathBoth => "swath_both",
            Contender::SwathAuto => "swath_auto",
        }
    }

    /// True if the contender has a row for `op`: every op but the resident path's missing forms.
    pub fn measures(self, op: BenchOp) -> bool {
        self != Contender::SwathGpuResident || op.has_resident_form()
    }

    /// True if the contender runs on the GPU, on its own or split with the CPU.
    pub fn uses_gpu(self) -> bool {
        matches!(self, Contender::SwathGpu | Contender::SwathGpuResident | Contender::SwathBoth)
    }
}

/// Every cell to measure: sizes (as exponents of two) by ops by contenders.
#[derive(Debug, Clone)]
pub struct Matrix {
    pub exponents: Vec<u32>,
    pub ops: Vec<BenchOp>,
    pub contenders: Vec<Contender>,
}

impl Matrix {
    /// Cells in the matrix, for the progress bar.
    pub fn cells(&self) -> u64 {
        let per_size = self.ops.iter().map(|&op| self.contenders.iter().filter(|c| c.measures(op)).count());
        (self.exponents.len() * per_size.sum::<usize>()) as u64
    }

    /// The largest size measured, in elements.
    pub fn largest(&self) -> usize {
        self.exponents.iter().max().map_or(0, |&exponent| 1 << exponent)
    }
}

/// `2^20` for 1048576: sizes are powers of two, and read best as such.
pub fn size_name(n: usize) -> String {
    if n.is_power_of_two() {
        format!("2^{}", n.trailing_zeros())
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_count_both_directions() {
        assert_eq!(BenchOp::Square.bytes(1000), 8000);
        assert_eq!(BenchOp::Sum.bytes(1000), 4000);
        assert_eq!(BenchOp::Sumsq.bytes(1000), 4000);
        assert_eq!(BenchOp::Chain10.bytes(1000), 8000);
        assert_eq!(BenchOp::SquareNew.bytes(1000), 8000);
        assert_eq!(BenchOp::Transcendental.bytes(1000), 8000);
        assert_eq!(BenchOp::Transcendental.bound(), Bound::Copy);
        assert_eq!((BenchOp::Scan.bytes(1000), BenchOp::Scan.bound()), (8000, Bound::Copy));
        assert_eq!(BenchOp::Square.bound(), Bound::Copy);
        assert_eq!(BenchOp::Sumsq.bound(), Bound::Read);
        assert_eq!(size_name(1 << 20), "2^20");
        assert_eq!(size_name(1), "2^0");
        assert_eq!(size_name(1000), "1000");
    }

    #[test]
    fn resident_rows_exist_for_maps_and_reductions_only() {
        let measured = |op| Contender::SwathGpuResident.measures(op);
        assert!(measured(BenchOp::Square) && measured(BenchOp::Sum) && measured(BenchOp::Chain10));
        assert!(!measured(BenchOp::Scan) && !measured(BenchOp::Histogram));
        assert!(Contender::SwathAuto.measures(BenchOp::Scan));
        let matrix = Matrix {
            exponents: vec![10, 12],
            ops: vec![BenchOp::Sum, BenchOp::Filter],
            contenders: vec![Contender::Rayon, Contender::SwathGpuResident],
        };
        assert_eq!(matrix.cells(), 2 * 3);
    }
}
