//! New result arrays, allocated so that filling them is parallel.
//!
//! A map into a new vector of 2^26 `f32` took three times as long as the
//! same map into a reused buffer, and not because of a zero-fill: a large
//! zeroed allocation is already lazy (the allocator maps fresh pages,
//! which the OS zeroes on first touch, and the parallel map touches them
//! from every thread). The cost is the first touch itself: one page fault
//! per 4 KiB page, 65,536 of them for 256 MiB. Advising the kernel to
//! back the vector with transparent huge pages, as numpy does on Linux
//! for arrays of 4 MiB and more, makes that 128 faults of 2 MiB and
//! halves the call. What remains is the kernel zeroing fresh memory,
//! which no allocator can skip for pages new to the process.

use crate::cpu::{SERIAL_BELOW, TASK_ELEMENTS};
use crate::dtype::Element;
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::alloc::{alloc_zeroed, Layout};

/// Vectors of at least this many bytes are advised onto huge pages:
/// smaller ones come from the allocator's heap, not fresh pages.
const HUGE_PAGES_FROM: usize = 4 << 20;

/// A new zeroed vector of `len` elements for a result, or
/// [`Error::OutOfMemory`] where the allocator refuses it (never an
/// abort). Its pages are untouched until the job writes them.
pub(crate) fn result_vec<T: Element>(len: usize) -> Result<Vec<T>> {
    let bytes = (len as u64).saturating_mul(T::DTYPE.size() as u64);
    let out_of_memory = || Error::OutOfMemory { bytes, len };
    let layout = Layout::array::<T>(len).map_err(|_| out_of_memory())?;
    if layout.size() == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { alloc_zeroed(layout) }.cast::<T>();
    if ptr.is_null() {
        return Err(out_of_memory());
    }
    advise_huge_pages(ptr.cast(), layout.size());
    // SAFETY: `ptr` was allocated by the global allocator with the layout
    // of `len` values of `T`, and all-zero bytes are a valid `T` (`Pod`).
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// A new vector holding `values`, copied by the current rayon pool in
/// pieces, so that the first touch of a large result is parallel too.
pub(crate) fn copy_of<T: Element>(values: &[T]) -> Result<Vec<T>> {
    let mut out = result_vec(values.len())?;
    if values.len() < SERIAL_BELOW {
        out.copy_from_slice(values);
    } else {
        out.par_chunks_mut(TASK_ELEMENTS).zip(values.par_chunks(TASK_ELEMENTS)).for_each(|(out, values)| {
            out.copy_from_slice(values);
        });
    }
    Ok(out)
}

/// Bytes from which [`copy_bytes`] copies in parallel: below it, waking
/// the pool costs more than one core's copy.
pub(crate) const PARALLEL_COPY_FROM: usize = 4 << 20;

/// Bytes of one task of a parallel copy.
pub(crate) const COPY_PIECE: usize = 1 << 20;

/// Copies `src` into `dst` (of equal length), in pieces on the current
/// rayon pool when large. Memory a GPU maps for the host (staging and
/// readback buffers) is often uncached or write-combined, where one core
/// copies slower than the link to the device moves the bytes.
pub(crate) fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    if src.len() < PARALLEL_COPY_FROM {
        dst.copy_from_slice(src);
    } else {
        dst.par_chunks_mut(COPY_PIECE).zip(src.par_chunks(COPY_PIECE)).for_each(|(dst, src)| dst.copy_from_slice(src));
    }
}

/// Asks the kernel to back `bytes` at `ptr` with transparent huge pages,
/// where the system allows it (a hint: failure changes nothing).
#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *mut u8, bytes: usize) {
    const PAGE: usize = 4096;
    if bytes < HUGE_PAGES_FROM {
        return;
    }
    // madvise takes a page-aligned start; the allocation's first partial
    // page keeps small pages.
    let start = (ptr as usize).next_multiple_of(PAGE);
    let len = (ptr as usize + bytes - start) / PAGE * PAGE;
    // SAFETY: the range lies inside one live allocation of ours, and
    // MADV_HUGEPAGE changes no contents.
    unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *mut u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_vector_is_zeroed_and_as_long_as_asked() {
        for len in [0, 1, 257, (HUGE_PAGES_FROM / 4) + 3] {
            let v = result_vec::<f32>(len).unwrap();
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x.to_bits() == 0));
        }
    }

    #[test]
    fn a_copy_holds_the_values() {
        for len in [0, 1, SERIAL_BELOW + 5] {
            let values: Vec<u32> = (0..len as u32).map(|i| i.wrapping_mul(2_654_435_761)).collect();
            assert_eq!(copy_of(&values).unwrap(), values);
        }
    }

    #[test]
    fn an_impossible_size_is_an_error() {
        assert!(matches!(result_vec::<f64>(usize::MAX / 2), Err(Error::OutOfMemory { .. })));
    }
}
