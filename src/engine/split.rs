//! One job shared by the GPU and the CPU at the same time: the GPU takes
//! elements `[0, k)`, the engine's pool `[k, len)`, and `k` is chosen so
//! both finish together.
//!
//! ```text
//! let k = split_point(len, 0.6);                    // a multiple of TILE
//! let fault = engine.split_op_map(gpu, &xs, &mut out, Op::Square, k);
//! let (sum, fault) = engine.split_op_reduce(gpu, &xs, None, Reduce::Sum, k);
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
//! answer, as [`Engine::dispatch`] does for a whole job.

use super::dispatch::op_program;
use super::Engine;
use crate::canonical::{tiles, TILE};
use crate::cpu;
use crate::dtype::Element;
use crate::error::GpuError;
use crate::expr::eval;
use crate::expr::program::Program;
use crate::gpu::{Gpu, Stopwatch};
use crate::inputs::Column;
use crate::op::{Op, Reduce};
use std::ops::Range;

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

impl Engine {
    /// Writes the GPU's part (elements `[0, k)`) of `out` with `gpu_part`
    /// while the pool writes the rest with `cpu_part`; `k` is clamped to
    /// `out.len()`. Returns the GPU's fault, if it had one: `cpu_part` has
    /// then written `[0, k)` as well, so `out` is complete either way.
    pub(super) fn split_map<U: Element>(
        &self,
        gpu: &Gpu,
        out: &mut [U],
        k: usize,
        gpu_part: impl FnOnce(&Gpu, Range<usize>, &mut [U]) -> Result<(), GpuError> + Send,
        cpu_part: impl Fn(Range<usize>, &mut [U]) + Sync,
    ) -> Option<GpuError> {
        let len = out.len();
        let k = k.min(len);
        if k == 0 {
            self.on_pool(|| cpu_part(0..len, out));
            return None;
        }
        let (head, tail) = out.split_at_mut(k);
        let (on_gpu, ()) = self.side_by_side(|| gpu_part(gpu, 0..k, &mut *head), || cpu_part(k..len, tail));
        let Err(fault) = on_gpu else { return None };
        let fault = self.note_fault(fault);
        self.on_pool(|| cpu_part(0..k, head));
        Some(fault)
    }

    /// Reduces `len` elements, the GPU folding the tiles of `[0, k)` with
    /// `gpu_partials` while the pool folds the rest with `cpu_partials`
    /// (each gives one partial per tile of its range). `k` is moved down
    /// to a tile boundary if it is not on one. Returns the value and the
    /// GPU's fault, if it had one (the CPU then folded `[0, k)` too).
    pub(super) fn split_reduce<U: Element>(
        &self,
        gpu: &Gpu,
        len: usize,
        k: usize,
        reduce: Reduce,
        gpu_partials: impl FnOnce(&Gpu, Range<usize>) -> Result<Vec<U>, GpuError> + Send,
        cpu_partials: impl Fn(Range<usize>) -> Vec<U> + Sync,
    ) -> (U, Option<GpuError>) {
        let k = tile_boundary(len, k);
        if k == 0 {
            return (self.on_pool(|| cpu::finish(cpu_partials(0..len), reduce)), None);
        }
        let (on_gpu, tail) = self.side_by_side(|| gpu_partials(gpu, 0..k), || cpu_partials(k..len));
        let (mut partials, fault) = match on_gpu {
            Ok(head) => (head, None),
            Err(fault) => {
                let fault = self.note_fault(fault);
                (self.on_pool(|| cpu_partials(0..k)), Some(fault))
            }
        };
        debug_assert_eq!(partials.len(), tiles(k), "one GPU partial per tile of its part");
        debug_assert_eq!(tail.len(), tiles(len - k), "one CPU partial per tile of its part");
        partials.extend(tail);
        (self.on_pool(|| cpu::finish(partials, reduce)), fault)
    }

    /// Runs `gpu_work` on a thread of its own while `cpu_work` runs on the
    /// engine's pool, and returns both results. The GPU side mostly waits
    /// for the device, so it must not hold one of the pool's workers. A
    /// thread that cannot start counts as a GPU fault: the caller then
    /// computes the GPU's part on the CPU.
    fn side_by_side<G: Send, C: Send>(
        &self,
        gpu_work: impl FnOnce() -> Result<G, GpuError> + Send,
        cpu_work: impl FnOnce() -> C + Send,
    ) -> (Result<G, GpuError>, C) {
        std::thread::scope(|scope| {
            let gpu = std::thread::Builder::new().name("swath-split-gpu".into()).spawn_scoped(scope, gpu_work);
            let cpu = self.on_pool(cpu_work);
            let gpu = match gpu {
                // A panic on the GPU thread is a bug, not a fault: pass it on.
                Ok(thread) => thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(e) => Err(GpuError::Unsupported(format!("no thread for the GPU's part of a split job: {e}"))),
            };
            (gpu, cpu)
        })
    }

    /// [`Engine::split_map`] of `op` over `input` into `out` (of equal
    /// lengths); the caller has checked `op` for `T`.
    pub(super) fn split_op_map<T: Element>(
        &self,
        gpu: &Gpu,
        input: &[T],
        out: &mut [T],
        op: Op,
        k: usize,
    ) -> Option<GpuError> {
        debug_assert_eq!(input.len(), out.len());
        self.split_map(
            gpu,
            out,
            k,
            |gpu, range, out| {
                gpu.map(&op_program::<T>(Some(op))?, &[Column::of(&input[range])], out, &mut Stopwatch::off())
            },
            |range, out| cpu::map_into(&input[range], out, op),
        )
    }

    /// [`Engine::split_reduce`] of `map(input)`; the caller has checked
    /// `map` for `T`.
    pub(super) fn split_op_reduce<T: Element>(
        &self,
        gpu: &Gpu,
        input: &[T],
        map: Option<Op>,
        reduce: Reduce,
        k: usize,
    ) -> (T, Option<GpuError>) {
        self.split_reduce(
            gpu,
            input.len(),
            k,
            reduce,
            |gpu, range| {
                let columns = [Column::of(&input[range.clone()])];
                gpu.map_reduce_partials(&op_program::<T>(map)?, &columns, range.len(), reduce)
            },
            |range| cpu::map_partials(&input[range], map, reduce),
        )
    }

    /// [`Engine::split_map`] of a compiled expression over `columns` (each
    /// as long as `out`) into `out`.
    pub(super) fn split_expr_map<U: Element>(
        &self,
        gpu: &Gpu,
        program: &Program,
        columns: &[Column<'_>],
        out: &mut [U],
        k: usize,
    ) -> Option<GpuError> {
        self.split_map(
            gpu,
            out,
            k,
            |gpu, range, out| gpu.map(program, &prefix(columns, range), out, &mut Stopwatch::off()),
            |range, out| eval::map_at(program, columns, range.start, out),
        )
    }

    /// [`Engine::split_reduce`] of a compiled expression over `columns`,
    /// `len` elements.
    pub(super) fn split_expr_reduce<U: Element>(
        &self,
        gpu: &Gpu,
        program: &Program,
        columns: &[Column<'_>],
        len: usize,
        reduce: Reduce,
        k: usize,
    ) -> (U, Option<GpuError>) {
        self.split_reduce(
            gpu,
            len,
            k,
            reduce,
            |gpu, range| gpu.map_reduce_partials(program, &prefix(columns, range.clone()), range.len(), reduce),
            |range| eval::map_partials(program, columns, range, reduce),
        )
    }
}

/// `columns` cut to the GPU's part. The GPU numbers elements from its
/// first one, so its part must start at 0 for the index `i` to be right.
fn prefix<'a>(columns: &[Column<'a>], range: Range<usize>) -> Vec<Column<'a>> {
    debug_assert_eq!(range.start, 0, "the GPU takes a prefix of a split job");
    columns.iter().map(|c| c.slice(range.clone())).collect()
}
