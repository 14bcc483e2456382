//! Prefetch of the next chunk's inputs, a part before each step of the
//! current chunk.
//!
//! A chunk's first steps read the inputs from memory, and its other
//! steps work in L1 for a while: the hardware prefetcher, which follows
//! the loads, has stopped by the time the next chunk starts, so each
//! chunk began with its inputs' cache misses. Asking for the next
//! chunk's lines a part at a time, spread over the current chunk's steps,
//! keeps memory busy while the steps compute, without flooding the few
//! line fill buffers at once. The lines go to L2, not L1, where they
//! would evict the registers of a long program.
//!
//! Measured on the ten-stage chain of `swath bench`, fused into one
//! expression over 2^23 `f32` on one thread (CPU time, best of 30, in
//! alternating runs): 14.1 to 14.7 ms without, 12.1 to 12.7 ms with. A
//! compute-bound program (`sin(x)*cos(x) + sqrt(x)`) and a two-step one
//! (`x * 2.5 + 1`) showed no difference beyond the noise.

use crate::column::Column;

/// Bytes per cache line.
const LINE: usize = 64;

/// Prefetches part `k` of `parts` of elements `next..next + len` of each
/// column (those past a column's end are skipped).
#[inline]
pub(super) fn next_chunk_part(columns: &[Column<'_>], next: usize, len: usize, (k, parts): (usize, usize)) {
    #[cfg(target_arch = "x86_64")]
    for column in columns {
        let bytes = column.bytes();
        let size = column.dtype().size();
        let from = (next * size).min(bytes.len());
        let to = ((next + len) * size).min(bytes.len());
        let lines = (to - from).div_ceil(LINE);
        for line in lines * k / parts..lines * (k + 1) / parts {
            let at = bytes[from..].as_ptr().wrapping_add(line * LINE);
            // SAFETY: a prefetch only hints to the cache: it never faults,
            // whatever the address, and changes no value.
            #[allow(unused_unsafe)]
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T1 }>(at.cast())
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (columns, next, len, k, parts);
}
