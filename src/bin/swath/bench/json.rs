//! `--json`: the report as JSON, for scripts and for comparing runs.

use super::matrix::{BenchOp, Bound};
use super::results::{Report, Row};
use crate::failure::Failure;
use serde::Serialize;
use swath::GpuProfile;

/// The document: the machine, the bandwidth of this run, and one result per row of the table.
#[derive(Serialize)]
struct Document<'a> {
    swath_version: &'a str,
    cpu: &'a str,
    threads: usize,
    /// The adapter of the swath_gpu rows; null when none was measured.
    adapter: Option<Adapter<'a>>,
    /// Timed runs asked for per cell (`runs` of a result may be lower, see the table).
    repeat: u32,
    bandwidth: Bandwidth,
    /// The GPU's device-to-device copy (bytes read plus written per second), null without a GPU.
    device_copy_gbps: Option<f64>,
    /// The GPU's host-visible to device copy, null without a GPU.
    upload_gbps: Option<f64>,
    /// The GPU's device to host-visible copy, null without a GPU.
    readback_gbps: Option<f64>,
    /// The ops measured, in the order asked for, with what each computes.
    ops: Vec<OpEntry>,
    results: Vec<ResultEntry<'a>>,
}

/// What an op computes, and which bandwidth its `fraction_of_bandwidth` is a share of.
#[derive(Serialize)]
struct OpEntry {
    op: &'static str,
    description: &'static str,
    bound: &'static str,
}

#[derive(Serialize)]
struct Adapter<'a> {
    name: &'a str,
    driver: &'a str,
    /// A software rasterizer: its speed says nothing about GPUs.
    software: bool,
}

/// Decimal GB/s of the probes, and the elements they ran over.
#[derive(Serialize)]
struct Bandwidth {
    copy_gbps: Option<f64>,
    read_gbps: Option<f64>,
    n: usize,
}

/// One row of the table.
#[derive(Serialize)]
struct ResultEntry<'a> {
    op: &'a str,
    n: usize,
    device: &'a str,
    median_s: f64,
    min_s: f64,
    max_s: f64,
    runs: u32,
    /// Runs per timed sample: quick runs are timed in batches, and their times are per run.
    batch: u32,
    gbps: Option<f64>,
    fraction_of_bandwidth: Option<f64>,
    speedup_over_rayon: Option<f64>,
    gpu_profile: Option<Phases>,
    /// swath_gpu_resident: the share of the device copy; swath_gpu: of the upload + readback bound.
    fraction_of_device_bandwidth: Option<f64>,
    /// swath_auto: its median over the fastest of swath_cpu, swath_gpu and swath_both.
    regret: Option<f64>,
    /// swath_auto and swath_both: where the warm-up run went (cpu, gpu, gpu+cpu).
    ran_on: Option<String>,
}

#[derive(Serialize)]
struct Phases {
    upload_s: f64,
    kernel_s: f64,
    readback_s: f64,
    /// Of the readback, the host's copy out of mapped memory.
    readback_copy_s: f64,
    /// True if the kernel time comes from GPU timestamps rather than the host clock.
    kernel_timestamps: bool,
}

/// The report as pretty-printed JSON.
pub fn render(report: &Report) -> Result<String, Failure> {
    let machine = &report.machine;
    let document = Document {
        swath_version: machine.swath_version,
        cpu: &machine.cpu,
        threads: machine.threads,
        adapter: machine.adapter.as_ref().map(|info| Adapter {
            name: &info.name,
            driver: &info.driver,
            software: info.software,
        }),
        repeat: report.budget.repeat,
        bandwidth: Bandwidth {
            copy_gbps: report.bandwidth.gbps(Bound::Copy),
            read_gbps: report.bandwidth.gbps(Bound::Read),
            n: report.bandwidth.n,
        },
        device_copy_gbps: report.gpu_bandwidth.map(|gpu| gpu.device_copy),
        upload_gbps: report.gpu_bandwidth.map(|gpu| gpu.upload),
        readback_gbps: report.gpu_bandwidth.map(|gpu| gpu.readback),
        ops: report.ops.iter().map(|&op| op_entry(op)).collect(),
        results: report.rows.iter().map(result).collect(),
    };
    serde_json::to_string_pretty(&document)
        .map(|mut text| {
            text.push('\n');
            text
        })
        .map_err(|error| Failure::Usage(format!("cannot encode the results as JSON: {error}")))
}

fn op_entry(op: BenchOp) -> OpEntry {
    OpEntry { op: op.name(), description: op.description(), bound: op.bound().name() }
}

fn result(row: &Row) -> ResultEntry<'_> {
    ResultEntry {
        op: row.op.name(),
        n: row.n,
        device: row.contender.name(),
        median_s: row.timing.median.as_secs_f64(),
        min_s: row.timing.min.as_secs_f64(),
        max_s: row.timing.max.as_secs_f64(),
        runs: row.timing.runs,
        batch: row.timing.batch,
        gbps: row.gbps,
        fraction_of_bandwidth: row.fraction_of_bandwidth,
        speedup_over_rayon: row.speedup_over_rayon,
        gpu_profile: row.gpu_profile.as_ref().map(phases),
        fraction_of_device_bandwidth: row.fraction_of_device_bandwidth,
        regret: row.regret,
        ran_on: row.ran_on.map(|device| device.to_string()),
    }
}

fn phases(profile: &GpuProfile) -> Phases {
    Phases {
        upload_s: profile.upload.as_secs_f64(),
        kernel_s: profile.kernel.as_secs_f64(),
        readback_s: profile.readback.as_secs_f64(),
        readback_copy_s: profile.readback_copy.as_secs_f64(),
        kernel_timestamps: profile.kernel_timestamps,
    }
}
