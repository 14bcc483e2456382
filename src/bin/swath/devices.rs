//! `swath devices`: what the engine can use, which adapter it opens, and how the policy routes a large job.

use crate::failure::Failure;
use std::io::Write;
use swath::schedule::Shape;
use swath::{DType, Engine, GpuInfo, Op, Policy, Reduce};

/// Elements of the job whose routing is shown: large enough that a real GPU wins under `auto`.
const EXAMPLE_LEN: usize = 1 << 26;

/// Prints the adapters, the policy and its routing, and the CPU threads. A policy that cannot be
/// honoured (an unknown `SWATH_DEVICE`, `gpu` with no adapter) is reported, then fails the command.
pub fn run(device: Option<Policy>, out: &mut impl Write) -> Result<(), Failure> {
    let adapters = swath::adapters();
    let policy = match device {
        Some(policy) => Ok(policy),
        None => Policy::from_env(),
    };
    let engine = policy.and_then(|policy| crate::engine::open(Some(policy), None));
    let opened = engine.as_ref().ok().and_then(Engine::gpu);
    write_adapters(out, &adapters, marked(&adapters, opened.as_ref()))?;
    writeln!(out)?;
    writeln!(out, "policy: {}", policy_source(device, &engine))?;
    let engine = match engine {
        Ok(engine) => engine,
        Err(error) => {
            writeln!(out, "engine: cannot be opened: {error}")?;
            writeln!(out, "cpu: {} threads (rayon)", Engine::cpu().threads())?;
            return Err(error.into());
        }
    };
    write_engine(out, &engine)?;
    writeln!(out, "cost model (measured once per machine and cached; `swath calibrate` measures again):")?;
    crate::calibrate::write_model(out, &engine.cost_model())?;
    write_routing(out, &engine)?;
    writeln!(out, "cpu: {} threads (rayon; RAYON_NUM_THREADS sets it)", engine.threads())?;
    Ok(())
}

/// The adapter to mark: the engine's own, or the one `auto` or `gpu` would open.
fn marked(adapters: &[GpuInfo], opened: Option<&GpuInfo>) -> Option<usize> {
    let preferred = swath::preferred_adapter().ok();
    let marked = opened.or(preferred.as_ref())?;
    adapters.iter().position(|info| info == marked)
}

fn write_adapters(out: &mut impl Write, adapters: &[GpuInfo], marked: Option<usize>) -> Result<(), Failure> {
    if adapters.is_empty() {
        writeln!(out, "GPU adapters: none found, so every job runs on the CPU.")?;
        for line in crate::vulkan::diagnose() {
            writeln!(out, "  {line}")?;
        }
        return Ok(());
    }
    writeln!(out, "GPU adapters, best first (* = the one an engine opens):")?;
    for (index, info) in adapters.iter().enumerate() {
        let mark = if marked == Some(index) { '*' } else { ' ' };
        let software =
            if info.software { "yes (correct, rarely fast; auto routes by its measured speed)" } else { "no" };
        writeln!(out, "{mark} {}", info.name)?;
        writeln!(out, "    backend {}, type {}, driver {}", info.backend, info.device_type, info.driver)?;
        writeln!(
            out,
            "    software: {software}; f64: {}; max binding: {} MiB",
            if info.shader_f64 { "yes" } else { "no (f64 jobs run on the CPU)" },
            info.max_binding_bytes / (1 << 20)
        )?;
    }
    Ok(())
}

fn policy_source(device: Option<Policy>, engine: &swath::Result<Engine>) -> String {
    let policy = match engine {
        Ok(engine) => engine.policy().to_string(),
        Err(_) => "not usable".into(),
    };
    match (device, std::env::var(Policy::ENV)) {
        (Some(_), _) => format!("{policy} (from --device)"),
        (None, Ok(text)) if !text.trim().is_empty() => format!("{policy} (from {}={text})", Policy::ENV),
        (None, _) => format!("{policy} (default; {} is not set)", Policy::ENV),
    }
}

fn write_engine(out: &mut impl Write, engine: &Engine) -> Result<(), Failure> {
    match engine.gpu() {
        Some(info) => writeln!(out, "engine: GPU open: {info}")?,
        None => writeln!(out, "engine: no GPU open ({}), jobs run on the CPU", engine.gpu_absent_reason())?,
    }
    Ok(())
}

/// How the policy routes a representative large job, without running it.
fn write_routing(out: &mut impl Write, engine: &Engine) -> Result<(), Failure> {
    writeln!(out, "routing of 2^26 = {EXAMPLE_LEN} elements under policy {}:", engine.policy())?;
    let shape = |dtype, reduce: Option<Reduce>| match reduce {
        Some(reduce) => Shape::reduce(dtype, EXAMPLE_LEN, Some(Op::Square), reduce),
        None => Shape::map(dtype, EXAMPLE_LEN, Op::Square),
    };
    let jobs = [
        ("f32 map square", shape(DType::F32, None)),
        ("f32 map square + sum", shape(DType::F32, Some(Reduce::Sum))),
        ("f64 map square + sum", shape(DType::F64, Some(Reduce::Sum))),
    ];
    for (name, shape) in jobs {
        writeln!(out, "  {name:<22} -> {}", engine.explain_shape(&shape))?;
    }
    Ok(())
}
