//! `swath calibrate`: measure the cost model the scheduler routes by, cache it, and print it.

use crate::failure::Failure;
use crate::format;
use std::io::Write;
use std::time::{Duration, Instant};
use swath::schedule::{CostModel, ModelCache};
use swath::Policy;

/// Measures the model of an engine with `policy` and `threads`, stores it in the cache and prints it.
pub fn run(policy: Option<Policy>, threads: Option<usize>, out: &mut impl Write) -> Result<(), Failure> {
    let engine = crate::engine::open(policy, threads)?;
    let started = Instant::now();
    let model = engine.calibrate();
    let took = started.elapsed();
    match engine.gpu() {
        Some(gpu) => {
            writeln!(out, "measured in {}: {} CPU threads and {gpu}", format::duration(took), engine.threads())?
        }
        None => writeln!(out, "measured in {}: {} CPU threads, no GPU", format::duration(took), engine.threads())?,
    }
    write_model(out, &model)?;
    match ModelCache::from_env().path(&engine.cache_key()) {
        Some(path) if path.exists() => writeln!(out, "cached in:  {}", path.display())?,
        Some(path) => writeln!(out, "not cached: could not write {}", path.display())?,
        None => writeln!(out, "not cached: {}=off", ModelCache::ENV)?,
    }
    Ok(())
}

/// The model's rates, one device per line.
pub fn write_model(out: &mut impl Write, model: &CostModel) -> Result<(), Failure> {
    let rate = |bytes_per_s: f64| format!("{:.2} GB/s", bytes_per_s / 1e9);
    let time = |s: f64| format::duration(Duration::from_secs_f64(s));
    let cpu = &model.cpu;
    writeln!(
        out,
        "cpu:        {} threads; job launch {}; map {} on one thread, on all {} in cache (up to {}), {} from memory;",
        cpu.threads,
        time(cpu.launch_s),
        rate(cpu.serial_bytes_per_s),
        rate(cpu.bytes_per_s),
        format::bytes(cpu.cache_bytes),
        rate(cpu.memory_bytes_per_s),
    )?;
    writeln!(
        out,
        "            a new result's first write {} (page faults); {:.2} ns per exp per thread",
        rate(cpu.first_touch_bytes_per_s),
        cpu.transcendental_s * 1e9
    )?;
    match &model.gpu {
        Some(gpu) => writeln!(
            out,
            "gpu:        job launch {}; upload {}, readback {}, kernels {}; {:.3} ns per exp{}",
            time(gpu.launch_s),
            rate(gpu.upload_bytes_per_s),
            rate(gpu.readback_bytes_per_s),
            rate(gpu.bytes_per_s),
            gpu.transcendental_s * 1e9,
            if gpu.shares_cpu { "; computes on the CPU's cores (no split)" } else { "" }
        )?,
        None => writeln!(out, "gpu:        none")?,
    }
    Ok(())
}
