//! The bench's buffers: its input data and the outputs it writes into, allocated so that running out of
//! memory is an error message rather than an abort.

use crate::sample::splitmix64;
use rayon::prelude::*;

/// Seed of the input data: every run measures the same values.
const SEED: u64 = 0x5eed;

/// `n` pseudo-random f32 in [0.5, 1.5): no zeros, subnormals, infinities or NaNs, whose timing could
/// differ from ordinary numbers. Generated in parallel; `None` if the memory cannot be had.
pub fn generate(n: usize) -> Option<Vec<f32>> {
    let mut values = Vec::new();
    values.try_reserve_exact(n).ok()?;
    (0..n).into_par_iter().map(|index| from_bits(splitmix64(SEED, index as u64))).collect_into_vec(&mut values);
    Some(values)
}

/// One value in [0.5, 1.5) from 64 random bits. The top 23 bits keep `0.5 + x` exact: with 24 the
/// largest value would round up to 1.5.
fn from_bits(bits: u64) -> f32 {
    0.5 + (bits >> 41) as f32 / (1u64 << 23) as f32
}

/// `n` copies of `value`, every page written so that first-touch faults stay out of the timings;
/// `None` if the memory cannot be had.
pub fn filled(n: usize, value: f32) -> Option<Vec<f32>> {
    let mut values = Vec::new();
    values.try_reserve_exact(n).ok()?;
    values.resize(n, value);
    Some(values)
}

/// A copy of `values`, for an engine to take; `None` if the memory cannot be had.
pub fn copied(values: &[f32]) -> Option<Vec<f32>> {
    let mut copy = Vec::new();
    copy.try_reserve_exact(values.len()).ok()?;
    copy.extend_from_slice(values);
    Some(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_in_range() {
        let values = generate(100_000).unwrap_or_default();
        assert_eq!(values.len(), 100_000);
        assert!(values.iter().all(|x| (0.5..1.5).contains(x)));
        assert_eq!(from_bits(u64::MAX), 1.5 - 1.0 / (1u64 << 23) as f32);
        assert_eq!(from_bits(0), 0.5);
        assert_eq!(generate(1000), generate(1000));
    }
}
