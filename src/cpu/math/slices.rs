//! The slice loops, compiled twice: for the baseline CPU and, chosen at
//! run time, for AVX2, where one instruction works on 8 `f32` or 4 `f64`
//! lanes. The element functions are branch-free and inline into the
//! loop, so LLVM vectorises the loop body; the scalar tail of a slice runs
//! the same function on one lane. Both versions are the same IEEE
//! operations in the same order (Rust never contracts `a * b + c`, and
//! FMA is not enabled), so an element's bits never depend on which
//! version ran or where a chunk boundary fell.

/// Calls `$each($args)`, an `#[inline(always)]` loop, through a copy
/// compiled for AVX2 where the CPU has it. For an element function too
/// large for LLVM to inline through a generic `F` (`pow`: its `Fn::call`
/// shim stayed a call per element, unvectorised), the loop names the
/// function itself, so it always inlines.
macro_rules! avx2_or_baseline {
    ($each:ident($($arg:ident: $ty:ty),*)) => {{
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2($($arg: $ty),*) {
                $each($($arg),*)
            }
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { avx2($($arg),*) };
        }
        $each($($arg),*)
    }};
}

/// `out[i] = f(xs[i])`.
#[inline]
pub(super) fn map<T: Copy, F: Fn(T) -> T + Copy>(xs: &[T], out: &mut [T], f: F) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2::map(xs, out, f) };
    }
    map_loop(xs, out, f)
}

/// Rewrites `out[i] = slow(xs[i])` where `far(xs[i])`: the arguments a
/// branch-free kernel does not cover, found by one vectorised pass that
/// usually finds none.
#[inline]
pub(super) fn patch<T: Copy>(xs: &[T], out: &mut [T], far: impl Fn(T) -> bool + Copy, slow: impl Fn(T) -> T) {
    if !any(xs, far) {
        return;
    }
    for (o, &x) in out.iter_mut().zip(xs) {
        if far(x) {
            *o = slow(x);
        }
    }
}

/// True if `p(x)` holds for some `x` in `xs`.
#[inline]
fn any<T: Copy, P: Fn(T) -> bool + Copy>(xs: &[T], p: P) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { avx2::any(xs, p) };
    }
    any_loop(xs, p)
}

#[inline(always)]
fn map_loop<T: Copy, F: Fn(T) -> T>(xs: &[T], out: &mut [T], f: F) {
    for (o, &x) in out.iter_mut().zip(xs) {
        *o = f(x);
    }
}

/// An OR over the whole slice, without an early exit, so it vectorises.
#[inline(always)]
fn any_loop<T: Copy, P: Fn(T) -> bool>(xs: &[T], p: P) -> bool {
    xs.iter().fold(false, |found, &x| found | p(x))
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn map<T: Copy, F: Fn(T) -> T>(xs: &[T], out: &mut [T], f: F) {
        super::map_loop(xs, out, f)
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn any<T: Copy, P: Fn(T) -> bool>(xs: &[T], p: P) -> bool {
        super::any_loop(xs, p)
    }
}
