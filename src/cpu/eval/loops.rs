//! The evaluator's slice loops, compiled twice: for the baseline CPU
//! (SSE2, four `f32` lanes) and, chosen at run time once per step and
//! chunk, for AVX2 (eight). A chain of cheap steps is bound by these
//! loops, not by memory: each step reads and writes registers in L1.
//!
//! Both versions run the same IEEE operations in the same order: Rust
//! never contracts `a * b + c`, and FMA is not enabled, so an element's
//! bits never depend on which version ran. The element function is
//! generic, so it inlines into each version and is compiled with the
//! version's instructions.

#[cfg(test)]
use std::cell::Cell;

#[cfg(test)]
thread_local! {
    /// Set by [`baseline_only`]: this thread runs the baseline loops.
    static BASELINE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `work` with the baseline loops on this thread, for tests that
/// compare the two versions (work below the parallel threshold stays on
/// the calling thread).
#[cfg(test)]
pub(super) fn baseline_only<R>(work: impl FnOnce() -> R) -> R {
    BASELINE.with(|b| b.set(true));
    let result = work();
    BASELINE.with(|b| b.set(false));
    result
}

/// True if the AVX2 versions may run: checked per call, which costs a
/// load of the cached detection result.
#[inline(always)]
fn avx2() -> bool {
    #[cfg(test)]
    if BASELINE.with(Cell::get) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `out[j] = f(a[j])`.
#[inline(always)]
pub(super) fn each1<A: Copy, O: Copy, F: Fn(A) -> O>(a: &[A], out: &mut [O], f: F) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2::each1(a, out, f) };
    }
    loop1(a, out, f)
}

/// `out[j] = f(a[j], b[j])`.
#[inline(always)]
pub(super) fn each2<A: Copy, B: Copy, O: Copy, F: Fn(A, B) -> O>(a: &[A], b: &[B], out: &mut [O], f: F) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2::each2(a, b, out, f) };
    }
    loop2(a, b, out, f)
}

/// `out[j] = f(a[j], b[j], c[j])`.
#[inline(always)]
pub(super) fn each3<A: Copy, B: Copy, C: Copy, O: Copy, F: Fn(A, B, C) -> O>(
    a: &[A],
    b: &[B],
    c: &[C],
    out: &mut [O],
    f: F,
) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2::each3(a, b, c, out, f) };
    }
    loop3(a, b, c, out, f)
}

#[inline(always)]
fn loop1<A: Copy, O: Copy, F: Fn(A) -> O>(a: &[A], out: &mut [O], f: F) {
    for (o, &a) in out.iter_mut().zip(a) {
        *o = f(a);
    }
}

#[inline(always)]
fn loop2<A: Copy, B: Copy, O: Copy, F: Fn(A, B) -> O>(a: &[A], b: &[B], out: &mut [O], f: F) {
    for (o, (&a, &b)) in out.iter_mut().zip(a.iter().zip(b)) {
        *o = f(a, b);
    }
}

#[inline(always)]
fn loop3<A: Copy, B: Copy, C: Copy, O: Copy, F: Fn(A, B, C) -> O>(a: &[A], b: &[B], c: &[C], out: &mut [O], f: F) {
    for (o, (&a, (&b, &c))) in out.iter_mut().zip(a.iter().zip(b.iter().zip(c))) {
        *o = f(a, b, c);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn each1<A: Copy, O: Copy, F: Fn(A) -> O>(a: &[A], out: &mut [O], f: F) {
        super::loop1(a, out, f)
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn each2<A: Copy, B: Copy, O: Copy, F: Fn(A, B) -> O>(a: &[A], b: &[B], out: &mut [O], f: F) {
        super::loop2(a, b, out, f)
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn each3<A: Copy, B: Copy, C: Copy, O: Copy, F: Fn(A, B, C) -> O>(
        a: &[A],
        b: &[B],
        c: &[C],
        out: &mut [O],
        f: F,
    ) {
        super::loop3(a, b, c, out, f)
    }
}
