//! The report as text on stdout: what it was measured on, the bandwidth probes, one row per cell, the
//! GPU phases, the CPU/GPU crossover and the worst routing regret.

use super::matrix::{size_name, Bound};
use super::measure::{MIN_RUNS, MIN_SAMPLE};
use super::regret;
use super::results::{Crossover, Report, Row};
use crate::failure::Failure;
use crate::format;
use std::io::Write;
use std::time::Duration;

/// Writes the whole report.
pub fn write(out: &mut impl Write, report: &Report) -> Result<(), Failure> {
    write_header(out, report)?;
    writeln!(out)?;
    write_rows(out, report)?;
    if report.has_gpu_rows() {
        writeln!(out)?;
        write_gpu_phases(out, report)?;
        writeln!(out)?;
        write_crossovers(out, report)?;
    }
    if let Some(worst) = regret::worst(&report.rows) {
        writeln!(out)?;
        writeln!(out, "worst routing regret: {worst}")?;
    }
    for note in &report.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

fn write_header(out: &mut impl Write, report: &Report) -> Result<(), Failure> {
    let machine = &report.machine;
    writeln!(out, "swath {} bench, f32 data in [0.5, 1.5)", machine.swath_version)?;
    writeln!(out, "cpu:       {}, {} threads (rayon, shared by every CPU row)", machine.cpu, machine.threads)?;
    match &machine.adapter {
        Some(adapter) => writeln!(out, "adapter:   {}, driver {}", adapter.name, adapter.driver)?,
        None => writeln!(out, "adapter:   none ({})", machine.adapter_absent)?,
    }
    if machine.software_gpu() {
        writeln!(out, "           SOFTWARE adapter, marked (sw): its swath_gpu rows time a CPU emulating a GPU")?;
        writeln!(out, "           and say nothing about how fast a GPU is")?;
    }
    let bandwidth = &report.bandwidth;
    let gbps =
        |bound| bandwidth.gbps(bound).map_or_else(|| "too fast to measure".into(), |gbps| format!("{gbps:.2} GB/s"));
    writeln!(
        out,
        "bandwidth: copy {} (read + write), read {}; over {} f32 ({}), median of {} runs",
        gbps(Bound::Copy),
        gbps(Bound::Read),
        size_name(bandwidth.n),
        format::bytes(bandwidth.n as u64 * 4),
        bandwidth.copy.runs.min(bandwidth.read.runs)
    )?;
    write_gpu_bandwidth(out, report)?;
    writeln!(
        out,
        "method:    one warm-up, then {} timed runs per cell (fewer, at least {MIN_RUNS}, where a cell would pass ~{} s);",
        report.budget.repeat,
        report.budget.per_cell.as_secs()
    )?;
    writeln!(out, "           runs under {} are timed in batches, as the time per run", duration(MIN_SAMPLE))?;
    writeln!(out, "columns:   median and min..max of the timed runs; GB/s = bytes read + written per second (1e9);")?;
    writeln!(out, "           % bw = share of the copy (maps) or read (sum, sumsq) bandwidth above;")?;
    writeln!(out, "           vs rayon = rayon's median time / this row's")?;
    if report.gpu_bandwidth.is_some() {
        writeln!(out, "           % dev = share of the GPU's own bound: the device copy for resident rows (bytes")?;
        writeln!(
            out,
            "           counted as for GB/s), upload + readback for swath_gpu rows (the time the link needs)"
        )?;
    }
    if report.has_auto_rows() {
        writeln!(out, "           regret = swath_auto's median / the fastest of swath_cpu, swath_gpu, swath_both")?;
    }
    Ok(())
}

/// The GPU's own probes, when there is a GPU.
fn write_gpu_bandwidth(out: &mut impl Write, report: &Report) -> Result<(), Failure> {
    let Some(gpu) = &report.gpu_bandwidth else { return Ok(()) };
    let clock = if gpu.timestamps { "GPU timestamps" } else { "host clock" };
    writeln!(
        out,
        "gpu bw:    device copy {:.2} GB/s (read + write), upload {:.2} GB/s, readback {:.2} GB/s;",
        gpu.device_copy, gpu.upload, gpu.readback
    )?;
    writeln!(out, "           copies of {}, median of 5, timed by {clock}", format::bytes(gpu.bytes))?;
    Ok(())
}

/// Width of the op column: the longest name measured, at least that of `chain10`, so that a table of
/// the default ops keeps its layout.
fn op_width(report: &Report) -> usize {
    report.ops.iter().map(|op| op.name().len()).max().unwrap_or(0).max(7)
}

/// How a column lines up: its width, the spaces before it, and which side it keeps to.
#[derive(Clone, Copy)]
struct Column {
    heading: &'static str,
    width: usize,
    gap: usize,
    left: bool,
}

const fn column(heading: &'static str, width: usize, gap: usize, left: bool) -> Column {
    Column { heading, width, gap, left }
}

/// The columns of this report: `% dev` only with a GPU probe, `regret` only with swath_auto rows.
fn columns(report: &Report) -> Vec<Column> {
    let device_width = report.rows.iter().map(|row| device_name(report, row).len()).max().unwrap_or(0).max(14);
    let mut columns = vec![
        column("op", op_width(report), 0, true),
        column("n", 5, 1, true),
        column("device", device_width, 1, true),
        column("median", 10, 1, false),
        column("min..max", 21, 2, true),
        column("GB/s", 8, 1, false),
        column("% bw", 6, 1, false),
    ];
    if report.gpu_bandwidth.is_some() {
        columns.push(column("% dev", 6, 1, false));
    }
    columns.push(column("vs rayon", 9, 1, false));
    if report.has_auto_rows() {
        columns.push(column("regret", 7, 1, false));
    }
    columns.push(column("runs", 5, 1, false));
    columns
}

/// The texts of `row` under `columns`.
fn cells(report: &Report, row: &Row, columns: &[Column]) -> Vec<String> {
    let timing = &row.timing;
    let percent = |fraction: Option<f64>| fraction.map_or_else(|| "-".into(), |f| format!("{:.0}%", 100.0 * f));
    let times = |ratio: Option<f64>| ratio.map_or_else(|| "-".into(), |r| format!("{r:.2}x"));
    let lowered = if timing.lowered { "*" } else { "" };
    columns
        .iter()
        .map(|column| match column.heading {
            "op" => row.op.name().to_string(),
            "n" => size_name(row.n),
            "device" => device_name(report, row),
            "median" => duration(timing.median),
            "min..max" => spread(timing.min, timing.max),
            "GB/s" => row.gbps.map_or_else(|| "-".into(), |gbps| format!("{gbps:.2}")),
            "% bw" => percent(row.fraction_of_bandwidth),
            "% dev" => percent(row.fraction_of_device_bandwidth),
            "vs rayon" => times(row.speedup_over_rayon),
            "regret" => times(row.regret),
            _ => format!("{}{lowered}", timing.runs),
        })
        .collect()
}

/// One line of the table: `texts` laid out under `columns`.
fn line(columns: &[Column], texts: &[String]) -> String {
    let mut line = String::new();
    for (column, text) in columns.iter().zip(texts) {
        line.push_str(&" ".repeat(column.gap));
        let width = column.width;
        line.push_str(&if column.left { format!("{text:<width$}") } else { format!("{text:>width$}") });
    }
    line.trim_end().to_string()
}

fn write_rows(out: &mut impl Write, report: &Report) -> Result<(), Failure> {
    let columns = columns(report);
    let headings: Vec<String> = columns.iter().map(|column| column.heading.to_string()).collect();
    writeln!(out, "{}", line(&columns, &headings))?;
    for row in &report.rows {
        writeln!(out, "{}", line(&columns, &cells(report, row, &columns)))?;
    }
    if report.rows.iter().any(|row| row.timing.lowered) {
        writeln!(out, "* fewer runs than --repeat, to keep the cell near {} s", report.budget.per_cell.as_secs())?;
    }
    Ok(())
}

/// A duration with four significant digits at most, in a unit that keeps it readable down to
/// nanoseconds, which the quickest in-cache rows take: `23 ns`, `651.2 us`, `1.94 ms`, `1.25 s`.
fn duration(elapsed: Duration) -> String {
    let (value, unit) = scaled(elapsed);
    format!("{value} {unit}")
}

/// `529.2..593.1 us`, or `599.0 us..5.66 ms` when the two need different units.
fn spread(min: Duration, max: Duration) -> String {
    match (scaled(min), scaled(max)) {
        ((low, low_unit), (high, high_unit)) if low_unit == high_unit => format!("{low}..{high} {low_unit}"),
        ((low, low_unit), (high, high_unit)) => format!("{low} {low_unit}..{high} {high_unit}"),
    }
}

/// The value and its unit. Each threshold sits where the smaller unit's rounding would reach 1000, so
/// that 999.96 us shows as `1.00 ms` rather than `1000.0 us`.
fn scaled(elapsed: Duration) -> (String, &'static str) {
    let seconds = elapsed.as_secs_f64();
    if seconds < 999.5e-9 {
        // Whole nanoseconds: a batch's time per run is divided down to them.
        (format!("{:.0}", seconds * 1e9), "ns")
    } else if seconds < 999.95e-6 {
        (format!("{:.1}", seconds * 1e6), "us")
    } else if seconds < 999.995e-3 {
        (format!("{:.2}", seconds * 1e3), "ms")
    } else {
        (format!("{seconds:.2}"), "s")
    }
}

/// The contender's name, with `(sw)` on rows that used a software adapter (auto's, where its warm-up
/// went to the GPU).
fn device_name(report: &Report, row: &Row) -> String {
    let name = row.contender.name();
    let used_gpu = row.contender.uses_gpu() || row.ran_on.is_some_and(|device| device != swath::Device::Cpu);
    if used_gpu && report.machine.software_gpu() {
        format!("{name}(sw)")
    } else {
        name.to_string()
    }
}

fn write_gpu_phases(out: &mut impl Write, report: &Report) -> Result<(), Failure> {
    writeln!(out, "GPU phases of one more run (profile_gpu: the phases run one after another, so they add up to")?;
    writeln!(out, "more than the median above; kernel clock: gpu = timestamp queries, host = wall time):")?;
    writeln!(out, "(mapped->Vec: of the readback, the copy out of mapped memory)")?;
    let ow = op_width(report);
    writeln!(
        out,
        "{:<ow$} {:<5} {:>10} {:>10} {:>10} {:>12}  kernel clock",
        "op", "n", "upload", "kernel", "readback", "mapped->Vec"
    )?;
    for row in &report.rows {
        let Some(profile) = &row.gpu_profile else { continue };
        writeln!(
            out,
            "{:<ow$} {:<5} {:>10} {:>10} {:>10} {:>12}  {}",
            row.op.name(),
            size_name(row.n),
            duration(profile.upload),
            duration(profile.kernel),
            duration(profile.readback),
            duration(profile.readback_copy),
            if profile.kernel_timestamps { "gpu" } else { "host" }
        )?;
    }
    Ok(())
}

fn write_crossovers(out: &mut impl Write, report: &Report) -> Result<(), Failure> {
    writeln!(out, "CPU/GPU crossover (the smallest n from which swath_gpu beats swath_cpu at every larger n):")?;
    if report.machine.software_gpu() {
        writeln!(out, "  (on a software adapter: meaningless)")?;
    }
    let largest = report.exponents.iter().max().map_or(0, |&exponent| 1usize << exponent);
    for &op in &report.ops {
        let crossover = match report.crossover(op) {
            Crossover::From(n) => format!("from {}", size_name(n)),
            Crossover::Never => format!("none up to {}", size_name(largest)),
            Crossover::NotMeasured => "not measured (needs both swath_cpu and swath_gpu)".into(),
        };
        writeln!(out, "  {:<ow$} {crossover}", op.name(), ow = op_width(report))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_stay_readable_down_to_nanoseconds() {
        assert_eq!(duration(Duration::from_nanos(23)), "23 ns");
        assert_eq!(duration(Duration::from_nanos(651_240)), "651.2 us");
        assert_eq!(duration(Duration::from_micros(1940)), "1.94 ms");
        assert_eq!(duration(Duration::from_millis(1250)), "1.25 s");
        assert_eq!(duration(Duration::from_nanos(999_960)), "1.00 ms");
        assert_eq!(duration(Duration::from_nanos(999_600)), "999.6 us");
        assert_eq!(duration(Duration::from_nanos(999)), "999 ns");
        assert_eq!(spread(Duration::from_micros(529), Duration::from_micros(593)), "529.0..593.0 us");
        assert_eq!(spread(Duration::from_micros(599), Duration::from_micros(5660)), "599.0 us..5.66 ms");
    }
}
