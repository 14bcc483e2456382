//! One job shared by the GPU and the CPU at the same time: the GPU takes
//! elements `[0, k)`, the CPU executor `[k, len)`, and `k` is chosen so
//! both finish together.
//!
//! ```text
//! let k = split_point(len, 0.6);                          // a multiple of TILE
//! let fault = split::map(&gpu, &cpu, task, &mut out, k);
//! let (sum, fault) = split::reduce(&gpu, &cpu, task, Reduce::Sum, k);
//! ```
//!
//! The answer is bit-identical to a run on either device alone. A map is
//! element-wise, so any `k` works. A reduction is cut on a tile boundary:
//! each side computes the first-level partials of its own tiles, exactly
//! those a single-device run computes, and the host folds the GPU's
//! partials followed by the CPU's with [`cpu::finish`], in the canonical
//! order of [`crate::canonical`].
//!
//! If the GPU's part fails, the CPU computes that part too (overwriting
//! whatever the GPU had written) and the fault is returned beside the
//! answer, as the engine's dispatch does for a whole job.

use super::{infallible, note_fault, CpuExec, Executor, Task};
use crate::canonical::{tiles, TILE};
use crate::cpu;
use crate::dtype::Element;
use crate::error::GpuError;
use crate::op::Reduce;

#[cfg(test)]
mod tests;

/// Elements of a `len`-element job the GPU takes when it should do
/// `gpu_share` of the work: the nearest multiple of [`TILE`], at most
/// `len`. A share that is NaN or not positive gives 0, one of 1 or more
/// gives `len`.
pub(crate) fn split_point(len: usize, gpu_share: f64) -> usize {
    if gpu_share.is_nan() || gpu_share <= 0.0 {
        return 0;
    }
    if gpu_share >= 1.0 {
        return len;
    }
    let tiles = (len as f64 * gpu_share / TILE as f64).round() as usize;
    tiles.saturating_mul(TILE).min(len)
}

/// `k` moved down to a tile boundary unless it covers all `len` elements:
/// a reduction cut anywhere else would fold a tile in two halves.
fn tile_boundary(len: usize, k: usize) -> usize {
    if k >= len {
        len
    } else {
        k - k % TILE
    }
}

/// Writes `task` into `out`, the GPU computing `[0, k)` (`k` clamped to
/// the task) while the CPU computes the rest. Returns the GPU's fault, if
/// it had one: the CPU has then written `[0, k)` as well, so `out` is
/// complete either way.
pub(crate) fn map<G, U>(gpu: &G, cpu: &CpuExec<'_>, task: Task<'_>, out: &mut [U], k: usize) -> Option<GpuError>
where
    G: Executor<Fault = GpuError>,
    U: Element,
{
    let len = task.len;
    let k = k.min(len);
    if k == 0 {
        infallible(cpu.map(task, out));
        return None;
    }
    let (head, tail) = out.split_at_mut(k);
    let (on_gpu, ()) =
        side_by_side(cpu, || gpu.map(task.part(0..k), &mut *head), || infallible(cpu.map(task.part(k..len), tail)));
    let fault = note_fault(on_gpu.err()?);
    infallible(cpu.map(task.part(0..k), head));
    Some(fault)
}

/// Reduces `task`, the GPU folding the tiles of `[0, k)` while the CPU
/// folds the rest. `k` is moved down to a tile boundary if it is not on
/// one. Returns the value and the GPU's fault, if it had one (the CPU
/// then folded `[0, k)` too).
pub(crate) fn reduce<G, U>(
    gpu: &G,
    cpu: &CpuExec<'_>,
    task: Task<'_>,
    reduce: Reduce,
    k: usize,
) -> (U, Option<GpuError>)
where
    G: Executor<Fault = GpuError>,
    U: Element,
{
    let len = task.len;
    let k = tile_boundary(len, k);
    if k == 0 {
        return (infallible(cpu.reduce(task, reduce)), None);
    }
    let (on_gpu, tail) = side_by_side(
        cpu,
        || gpu.partials(task.part(0..k), reduce),
        || infallible(cpu.partials::<U>(task.part(k..len), reduce)),
    );
    let (mut partials, fault) = match on_gpu {
        Ok(head) => (head, None),
        Err(fault) => (infallible(cpu.partials(task.part(0..k), reduce)), Some(note_fault(fault))),
    };
    debug_assert_eq!(partials.len(), tiles(k), "one GPU partial per tile of its part");
    debug_assert_eq!(tail.len(), tiles(len - k), "one CPU partial per tile of its part");
    partials.extend(tail);
    (cpu.install(|| cpu::finish(partials, reduce)), fault)
}

/// Runs `gpu_work` on a thread of its own while `cpu_work` runs on the
/// CPU executor's pool, and returns both results. The GPU side mostly
/// waits for the device, so it must not hold one of the pool's workers.
/// A thread that cannot start counts as a GPU fault: the caller then
/// computes the GPU's part on the CPU.
fn side_by_side<G: Send, C: Send>(
    cpu: &CpuExec<'_>,
    gpu_work: impl FnOnce() -> Result<G, GpuError> + Send,
    cpu_work: impl FnOnce() -> C + Send,
) -> (Result<G, GpuError>, C) {
    std::thread::scope(|scope| {
        let gpu = std::thread::Builder::new().name("swath-split-gpu".into()).spawn_scoped(scope, gpu_work);
        let cpu = cpu.install(cpu_work);
        let gpu = match gpu {
            // A panic on the GPU thread is a bug, not a fault: pass it on.
            Ok(thread) => thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(e) => Err(GpuError::Unsupported(format!("no thread for the GPU's part of a split job: {e}"))),
        };
        (gpu, cpu)
    })
}
