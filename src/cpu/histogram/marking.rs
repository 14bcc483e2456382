//! The vectorised marking pass, compiled for the baseline CPU and, chosen
//! at run time, for AVX2. The marks are integers and comparisons, so
//! both give the same marks.

use crate::binning::{Margins, Precision};
use crate::dtype::Element;

#[inline]
pub(super) fn mark<U: Element, F: Precision>(margins: &Margins<U, F>, values: &[U], marks: &mut [u32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { mark_avx2(margins, values, marks) };
    }
    mark_loop(margins, values, marks)
}

#[inline(always)]
fn mark_loop<U: Element, F: Precision>(margins: &Margins<U, F>, values: &[U], marks: &mut [u32]) {
    for (mark, &x) in marks.iter_mut().zip(values) {
        *mark = margins.bin(x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn mark_avx2<U: Element, F: Precision>(margins: &Margins<U, F>, values: &[U], marks: &mut [u32]) {
    mark_loop(margins, values, marks)
}
