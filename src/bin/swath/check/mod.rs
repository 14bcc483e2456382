//! `swath check`: whether this machine's GPU computes what its CPU does, with nothing but the binary.
//!
//! Every group (a job shape on one element type: see [`groups`]) runs at several lengths on a GPU-only
//! engine and on a CPU engine, and the results are compared under swath's documented contract (see
//! [`compare`]). A job the GPU did not run, a fault rerun on the CPU included, fails its group: the
//! check would otherwise compare the CPU with itself.

mod compare;
mod data;
mod groups;
mod jobs;
mod value;

use crate::cli::CheckArgs;
use crate::failure::Failure;
use crate::format;
use data::Flavor;
use groups::Group;
use jobs::{Checker, Problem};
use std::io::Write;
use std::time::Instant;
use swath::schedule::CostModel;
use swath::{DType, Engine, GpuInfo, Policy};

/// Lengths of every group: nothing, one element, one past a 256-lane workgroup, one past a tile of
/// 4096, and many tiles (two levels of the canonical tree).
const QUICK_LENGTHS: [usize; 5] = [0, 1, 257, 4097, 70_001];
const FULL_LENGTHS: [usize; 5] = [0, 1, 257, 4097, (1 << 20) + 3];

/// Host memory the length past the largest binding needs, per byte of its input: the input, the GPU's
/// and the CPU's results, and as much again for the driver (a software adapter's buffers are host memory).
const LARGE_MEMORY_PER_INPUT_BYTE: u64 = 5;

/// How the groups fared.
#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    failed: usize,
    skipped: usize,
}

/// The verdict on one group.
enum Verdict {
    /// Every length agreed; a note says why a length was left out.
    Ok {
        lengths: usize,
        note: Option<String>,
    },
    Fail(String),
    Skip(String),
}

/// Checks every group (or those `--only` names), prints a line for each and a summary, and fails if
/// any group failed or there is no GPU to check.
pub fn run(args: &CheckArgs, device: Option<Policy>, out: &mut impl Write) -> Result<(), Failure> {
    if device.is_some() {
        return Err(Failure::Usage("swath check compares the GPU with the CPU: --device does not apply".into()));
    }
    let start = Instant::now();
    let gpu = open_gpu()?;
    let info = gpu.gpu().ok_or_else(|| Failure::Check(format!("no GPU open ({})", gpu.gpu_absent_reason())))?;
    let mut groups = selected(args.only.as_deref())?;
    let lengths: &[usize] = if args.quick { &QUICK_LENGTHS } else { &FULL_LENGTHS };
    // The length past the largest binding, or why it is left out; none at all in a quick check.
    let large = (!args.quick).then(|| large_length(&info));
    let cpu = Engine::cpu();
    write_header(out, &info, &cpu, lengths, &large, &groups)?;

    let mut tally = Tally { skipped: without_f64(out, &mut groups, &info)?, ..Tally::default() };
    let large_len = large.as_ref().and_then(|large| large.as_ref().ok()).copied();
    let mut checker = Checker::new(gpu, cpu, args.corrupt.clone(), large_len);
    for group in &groups {
        let verdict = check_group(&mut checker, group, lengths, large_len);
        write_verdict(out, group, &verdict, &mut tally)?;
    }
    let kind = if info.software { "software" } else { "hardware" };
    let elapsed = format::duration(start.elapsed());
    let Tally { ok, failed, skipped } = tally;
    writeln!(
        out,
        "check: {ok} groups ok, {failed} failed, {skipped} skipped in {elapsed} on {} ({kind} adapter)",
        info.name
    )?;
    match failed {
        0 => Ok(()),
        _ => Err(Failure::Check(format!("{failed} of {} groups failed (see the FAIL lines)", ok + failed))),
    }
}

/// A GPU-only engine, or why there is nothing to check. Its cost model is fixed: routing under the gpu
/// policy needs none, and measuring one would take time from the check.
fn open_gpu() -> Result<Engine, Failure> {
    if swath::adapters().is_empty() {
        return Err(Failure::Check("no GPU adapter: nothing to check (`swath devices` says what is missing)".into()));
    }
    let model = CostModel::with_threads(rayon::current_num_threads());
    Engine::builder()
        .policy(Policy::Gpu)
        .cost_model(model)
        .build()
        .map_err(|error| Failure::Check(format!("{error}: nothing to check")))
}

/// Leaves out the f64 groups, in one line, if the adapter has no f64: returns how many.
fn without_f64(out: &mut impl Write, groups: &mut Vec<Group>, info: &GpuInfo) -> Result<usize, Failure> {
    if info.shader_f64 {
        return Ok(0);
    }
    let before = groups.len();
    groups.retain(|group| group.dtype != DType::F64);
    let skipped = before - groups.len();
    if skipped > 0 {
        writeln!(out, "skip  f64: {skipped} groups (the adapter has no SHADER_F64, so f64 runs on the CPU)")?;
    }
    Ok(skipped)
}

/// The groups whose name contains `only` (all without it); an error if none does.
fn selected(only: Option<&str>) -> Result<Vec<Group>, Failure> {
    let groups = groups::all();
    let Some(part) = only else { return Ok(groups) };
    let chosen: Vec<Group> = groups.into_iter().filter(|group| group.name.contains(part)).collect();
    if chosen.is_empty() {
        return Err(Failure::Usage(format!("no group name contains {part:?}; names are like \"map f32 square\"")));
    }
    Ok(chosen)
}

/// One f32 element past the adapter's largest storage binding, if this machine has the memory for it.
fn large_length(info: &GpuInfo) -> Result<usize, String> {
    let len = usize::try_from(info.max_binding_bytes / size_of::<f32>() as u64 + 1).map_err(|e| e.to_string())?;
    let needed = LARGE_MEMORY_PER_INPUT_BYTE * (len * size_of::<f32>()) as u64;
    match data::host_memory_available() {
        Some(available) if available >= needed => Ok(len),
        Some(available) => Err(format!(
            "{len} elements need about {} of host memory, {} is available",
            format::bytes(needed),
            format::bytes(available)
        )),
        None => Err(format!("{len} elements need about {}; the free host memory is unknown", format::bytes(needed))),
    }
}

fn write_header(
    out: &mut impl Write,
    info: &GpuInfo,
    cpu: &Engine,
    lengths: &[usize],
    large: &Option<Result<usize, String>>,
    groups: &[Group],
) -> Result<(), Failure> {
    writeln!(out, "adapter:  {info}")?;
    if info.software {
        writeln!(
            out,
            "          software adapter: it runs swath's GPU path on the CPU, so this checks swath, not a GPU"
        )?;
    } else {
        writeln!(out, "          hardware adapter")?;
    }
    let chosen = match std::env::var("WGPU_ADAPTER_NAME") {
        Ok(name) if !name.is_empty() => format!("chosen by WGPU_ADAPTER_NAME={name}"),
        _ => "the best adapter; WGPU_ADAPTER_NAME picks another (see `swath devices`)".into(),
    };
    writeln!(out, "          {chosen}")?;
    let f64_support = if info.shader_f64 { "yes" } else { "no" };
    let binding = format::bytes(info.max_binding_bytes);
    writeln!(out, "          f64: {f64_support}; largest storage binding: {binding}")?;
    writeln!(out, "against:  the CPU, {} threads", cpu.threads())?;
    let listed: Vec<String> = lengths.iter().map(ToString::to_string).collect();
    writeln!(out, "lengths:  {}", listed.join(", "))?;
    let large_groups = groups.iter().filter(|group| group.large).count();
    match large {
        Some(Ok(len)) if large_groups > 0 => {
            writeln!(out, "          and {len} (one past the largest binding) for {large_groups} f32 groups")?
        }
        Some(Err(why)) => writeln!(out, "          not past the largest binding: {why}")?,
        _ => {}
    }
    Ok(())
}

/// Checks `group` at every length, and past the largest binding if it is one of the large groups.
fn check_group(checker: &mut Checker, group: &Group, lengths: &[usize], large: Option<usize>) -> Verdict {
    let mut checked = 0;
    for &n in lengths {
        for &flavor in group.flavors() {
            match checker.case(group, n, flavor) {
                Ok(()) => {}
                Err(Problem::Skip(why)) => return Verdict::Skip(why),
                Err(Problem::Fail(line)) => return Verdict::Fail(line),
            }
        }
        checked += 1;
    }
    let mut note = None;
    if let Some(n) = large.filter(|_| group.large) {
        // Plain data: what matters at this length is that every piece of the input is read.
        match checker.case(group, n, Flavor::Plain) {
            Ok(()) => checked += 1,
            Err(Problem::Skip(why)) => note = Some(format!("{n} skipped: {why}")),
            Err(Problem::Fail(line)) => return Verdict::Fail(line),
        }
    }
    Verdict::Ok { lengths: checked, note }
}

fn write_verdict(out: &mut impl Write, group: &Group, verdict: &Verdict, tally: &mut Tally) -> Result<(), Failure> {
    let name = &group.name;
    match verdict {
        Verdict::Ok { lengths, note } => {
            tally.ok += 1;
            let note = note.as_ref().map_or(String::new(), |note| format!("; {note}"));
            writeln!(out, "ok    {name} ({lengths} lengths{note})")?;
        }
        Verdict::Fail(line) => {
            tally.failed += 1;
            writeln!(out, "FAIL  {name} {line}")?;
        }
        Verdict::Skip(why) => {
            tally.skipped += 1;
            writeln!(out, "skip  {name}: {why}")?;
        }
    }
    Ok(())
}
