//! `--plot`: GB/s against log2(n) as an SVG chart, one panel per op, one line per device (the resident
//! GPU rows dashed, with triangles, beside the host-path GPU line), the measured bandwidth as a dashed
//! line, the GPU's device copy as a dotted one, and the CPU/GPU crossover marked.

use super::matrix::{size_name, BenchOp, Contender, CONTENDERS};
use super::results::{Crossover, Report};
use crate::failure::Failure;
use plotters::coord::types::RangedCoordi32;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const PANEL_WIDTH: u32 = 600;
const HEIGHT: u32 = 560;
const FONT: &str = "sans-serif";

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

/// The chart as an SVG document. The SVG backend writes text as `<text>` elements, which needs no font
/// files: the viewer picks a sans-serif font.
pub fn render(report: &Report) -> Result<String, Failure> {
    let mut svg = String::new();
    {
        let width = PANEL_WIDTH * report.ops.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (width, HEIGHT)).into_drawing_area();
        let drawn = draw(&root, report).and_then(|()| Ok(root.present()?));
        drawn.map_err(|error| Failure::Usage(format!("cannot draw the chart: {error}")))?;
    }
    Ok(svg)
}

fn draw(root: &Area<'_>, report: &Report) -> Drawn {
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(56);
    draw_title(&title, report)?;
    let (panels, footer) = body.split_vertically(HEIGHT - 56 - 28);
    for (panel, &op) in panels.split_evenly((1, report.ops.len().max(1))).iter().zip(&report.ops) {
        draw_panel(panel, report, op)?;
    }
    let footnote = "GB/s: bytes read + written per second, decimal. Dashed black: the CPU's copy (maps) or read \
                    (reductions) bandwidth; dotted: the GPU's device copy, the bound of the resident rows.";
    footer.draw(&Text::new(footnote, (12, 6), (FONT, 13).into_font().color(&BLACK.mix(0.7))))?;
    Ok(())
}

fn draw_title(area: &Area<'_>, report: &Report) -> Drawn {
    let machine = &report.machine;
    let heading = format!("swath {} bench: {}, {} threads", machine.swath_version, machine.cpu, machine.threads);
    area.draw(&Text::new(heading, (12, 8), (FONT, 20).into_font()))?;
    let adapter = match &machine.adapter {
        Some(adapter) if adapter.software => {
            format!("swath_gpu ran on {}, a SOFTWARE adapter: its speed says nothing about GPUs", adapter.name)
        }
        Some(adapter) => format!("swath_gpu ran on {} ({})", adapter.name, adapter.driver),
        None => format!("no swath_gpu rows: {}", machine.adapter_absent),
    };
    let style = (FONT, 14).into_font().color(if machine.software_gpu() { &RED } else { &BLACK });
    area.draw(&Text::new(adapter, (12, 34), style))?;
    Ok(())
}

/// Colours that stay apart in print and for the common colour-vision deficiencies (Okabe-Ito).
fn color(contender: Contender) -> RGBColor {
    match contender {
        Contender::PlainLoop => RGBColor(120, 120, 120),
        Contender::Rayon => RGBColor(230, 159, 0),
        Contender::SwathCpu => RGBColor(0, 114, 178),
        Contender::SwathGpu => RGBColor(0, 158, 115),
        Contender::SwathGpuResident => RGBColor(213, 94, 0),
        Contender::SwathBoth => RGBColor(86, 180, 233),
        Contender::SwathAuto => RGBColor(204, 121, 167),
    }
}

/// The plotted ranges: exponents from `left` to `right`, GB/s from `bottom` to `top`.
#[derive(Debug, Clone, Copy)]
struct Frame {
    left: i32,
    right: i32,
    bottom: f64,
    top: f64,
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordi32, LogCoord<f64>>>;

fn draw_panel(area: &Area<'_>, report: &Report, op: BenchOp) -> Drawn {
    let bandwidth = report.bandwidth.gbps(op.bound());
    let frame = frame(report, op, [bandwidth, device_copy(report, op)]);
    let caption = format!("{}: {}", op.name(), op.description());
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 17))
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(52)
        .build_cartesian_2d(frame.left..frame.right, (frame.bottom..frame.top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("log2(n)")
        .y_desc("GB/s (log scale)")
        .x_labels((frame.right - frame.left + 1) as usize)
        .y_label_formatter(&|gbps| format!("{gbps}"))
        .light_line_style(BLACK.mix(0.04))
        .bold_line_style(BLACK.mix(0.12))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    draw_lines(&mut chart, report, op)?;
    if let Some(gbps) = bandwidth {
        let dashed = BLACK.mix(0.8).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new([(frame.left, gbps), (frame.right, gbps)], 6, 4, dashed))?
            .label(format!("{} bandwidth {gbps:.1} GB/s", op.bound().name()))
            .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 20, y)], 6, 4, dashed));
    }
    draw_device_copy(&mut chart, report, op, frame)?;
    mark_crossover(&mut chart, report, op, frame)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 13))
        .draw()?;
    Ok(())
}

/// One step of log2(n) beyond the sizes on each side; a logarithmic GB/s axis, since from a GPU's
/// launch-bound small sizes to in-cache CPU rows throughputs span four orders of magnitude, with its top
/// third left empty for the legend and the notes.
fn frame(report: &Report, op: BenchOp, bandwidths: [Option<f64>; 2]) -> Frame {
    let left = report.exponents.iter().min().map_or(0, |&exponent| exponent as i32 - 1);
    let right = report.exponents.iter().max().map_or(0, |&exponent| exponent as i32 + 1);
    let gbps = || {
        let rows = report.rows.iter().filter(|row| row.op == op).filter_map(|row| row.gbps);
        rows.chain(bandwidths.into_iter().flatten()).filter(|&gbps| gbps > 0.0 && gbps.is_finite())
    };
    let lowest = gbps().fold(f64::INFINITY, f64::min);
    let highest = gbps().fold(0.0, f64::max);
    if highest <= 0.0 {
        return Frame { left, right, bottom: 0.01, top: 100.0 };
    }
    let bottom = lowest / 2.0;
    Frame { left, right, bottom, top: bottom * (highest / bottom).powf(1.5) }
}

/// One line per contender that has rows for `op`: solid with dots, or dashed with triangles for the
/// resident GPU rows, so that they stand apart from the host-path GPU line.
fn draw_lines(chart: &mut Chart<'_, '_>, report: &Report, op: BenchOp) -> Drawn {
    for contender in CONTENDERS {
        let points: Vec<(i32, f64)> = report
            .rows
            .iter()
            .filter(|row| row.op == op && row.contender == contender)
            .filter_map(|row| Some((row.n.trailing_zeros() as i32, row.gbps?)))
            .collect();
        if points.is_empty() {
            continue;
        }
        let line = color(contender).stroke_width(2);
        let fill = color(contender).filled();
        if contender == Contender::SwathGpuResident {
            chart
                .draw_series(DashedLineSeries::new(points.iter().copied(), 8, 4, line))?
                .label(legend_name(report, contender))
                .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 20, y)], 8, 4, line));
            chart.draw_series(points.iter().map(|&point| TriangleMarker::new(point, 5, fill)))?;
        } else {
            chart
                .draw_series(LineSeries::new(points.iter().copied(), line))?
                .label(legend_name(report, contender))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], line));
            chart.draw_series(points.iter().map(|&point| Circle::new(point, 3, fill)))?;
        }
    }
    Ok(())
}

/// The GPU's device copy, where `op` has resident rows to compare with it.
fn device_copy(report: &Report, op: BenchOp) -> Option<f64> {
    let resident = report.rows.iter().any(|row| row.op == op && row.contender == Contender::SwathGpuResident);
    report.gpu_bandwidth.filter(|_| resident).map(|gpu| gpu.device_copy)
}

/// The GPU's device copy as a dotted line, where `op` has resident rows.
fn draw_device_copy(chart: &mut Chart<'_, '_>, report: &Report, op: BenchOp, frame: Frame) -> Drawn {
    let Some(gbps) = device_copy(report, op) else { return Ok(()) };
    let dotted = color(Contender::SwathGpuResident).mix(0.8).stroke_width(1);
    chart
        .draw_series(DashedLineSeries::new([(frame.left, gbps), (frame.right, gbps)], 2, 3, dotted))?
        .label(format!("GPU device copy {gbps:.1} GB/s"))
        .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 20, y)], 2, 3, dotted));
    Ok(())
}

fn legend_name(report: &Report, contender: Contender) -> String {
    match contender {
        contender if contender.uses_gpu() && report.machine.software_gpu() => {
            format!("{} (software adapter)", contender.name())
        }
        _ => contender.name().into(),
    }
}

/// A vertical line at the crossover size, or a note that there is none; nothing without GPU rows. The
/// note goes in the top right corner of the plot.
fn mark_crossover(chart: &mut Chart<'_, '_>, report: &Report, op: BenchOp, frame: Frame) -> Drawn {
    let corner = (frame.right, frame.top);
    let note_style = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Right, VPos::Top));
    match report.crossover(op) {
        Crossover::NotMeasured => {}
        Crossover::Never => {
            let largest = report.exponents.iter().max().map_or(0, |&exponent| 1usize << exponent);
            let note = format!("no CPU/GPU crossover up to {}", size_name(largest));
            chart.draw_series(std::iter::once(Text::new(note, corner, note_style)))?;
        }
        Crossover::From(n) => {
            let x = n.trailing_zeros() as i32;
            let style = color(Contender::SwathGpu).stroke_width(1);
            chart.draw_series(DashedLineSeries::new([(x, frame.bottom), (x, frame.top)], 4, 4, style))?;
            let note = format!("swath_gpu faster from {}", size_name(n));
            chart.draw_series(std::iter::once(Text::new(note, corner, note_style)))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::results::fixtures::{cell, report, with_gpu};

    /// Square at 2^10..2^26 where the GPU wins from 2^18, and sum where it never does.
    fn report_with_a_gpu() -> Report {
        let mut cells = Vec::new();
        for exponent in (10..=26).step_by(4) {
            let n = (1u64 << exponent) / 1000;
            let gpu = 40 + n / 8;
            for (op, cpu) in [(BenchOp::Square, 1 + n / 2), (BenchOp::Sum, 1 + n / 16)] {
                cells.push(cell(op, exponent, Contender::PlainLoop, 1 + n));
                cells.push(cell(op, exponent, Contender::Rayon, 10 + n / 2));
                cells.push(cell(op, exponent, Contender::SwathCpu, cpu));
                cells.push(cell(op, exponent, Contender::SwathGpu, gpu));
                cells.push(cell(op, exponent, Contender::SwathGpuResident, 10 + n / 400));
            }
        }
        with_gpu(report(cells))
    }

    #[test]
    fn the_chart_marks_the_crossover_or_its_absence() {
        let svg = render(&report_with_a_gpu()).unwrap_or_default();
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(100)]);
        assert!(svg.contains("swath_gpu faster from 2^18"));
        assert!(svg.contains("no CPU/GPU crossover up to 2^26"));
        assert!(svg.contains("copy bandwidth") && svg.contains("read bandwidth"));
        assert!(svg.contains("swath_gpu_resident") && svg.contains("GPU device copy 800.0 GB/s"));
    }
}
