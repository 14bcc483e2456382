//! Deterministic input data: splitmix64, indexed so element `i` depends only on the seed and `i`.

use swath::Element;

/// splitmix64's increment: the golden ratio in 64-bit fixed point.
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// Output number `index` (from 0) of a splitmix64 generator started at `seed`.
pub fn splitmix64(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An element type the demo can generate from random bits.
pub trait Sample: Element {
    /// The distribution, as the report names it.
    const DISTRIBUTION: &'static str;
    /// One value from 64 random bits.
    fn from_bits(bits: u64) -> Self;
}

/// Integers stay below this so that squares and short sums do not wrap.
const INTEGER_BOUND: u64 = 1000;

impl Sample for f32 {
    const DISTRIBUTION: &'static str = "uniform in [0, 1)";
    fn from_bits(bits: u64) -> Self {
        // The top 24 bits fill the mantissa exactly.
        (bits >> 40) as f32 / (1u64 << 24) as f32
    }
}

impl Sample for f64 {
    const DISTRIBUTION: &'static str = "uniform in [0, 1)";
    fn from_bits(bits: u64) -> Self {
        (bits >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Sample for i32 {
    const DISTRIBUTION: &'static str = "uniform in 0..1000";
    fn from_bits(bits: u64) -> Self {
        (bits % INTEGER_BOUND) as i32
    }
}

impl Sample for u32 {
    const DISTRIBUTION: &'static str = "uniform in 0..1000";
    fn from_bits(bits: u64) -> Self {
        (bits % INTEGER_BOUND) as u32
    }
}

/// `len` values from `seed`; `None` if memory for them cannot be had.
pub fn generate<T: Sample>(len: usize, seed: u64) -> Option<Vec<T>> {
    generate_at(0, len, seed)
}

/// Elements `offset..offset + len` of the values from `seed`, as [`generate`] makes them: one MPI
/// rank's shard. `None` if memory for them cannot be had.
pub fn generate_at<T: Sample>(offset: usize, len: usize, seed: u64) -> Option<Vec<T>> {
    let mut values = Vec::new();
    values.try_reserve_exact(len).ok()?;
    values.extend((offset..offset + len).map(|index| T::from_bits(splitmix64(seed, index as u64))));
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference() {
        // The first outputs of the reference implementation seeded with 0.
        assert_eq!(splitmix64(0, 0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(0, 1), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn samples_stay_in_range_and_repeat() {
        let floats: Vec<f32> = generate(10_000, 7).unwrap_or_default();
        assert!(floats.iter().all(|x| (0.0..1.0).contains(x)));
        let ints: Vec<i32> = generate(10_000, 7).unwrap_or_default();
        assert!(ints.iter().all(|x| (0..1000).contains(x)));
        assert_eq!(generate::<f64>(100, 3), generate::<f64>(100, 3));
        assert_ne!(generate::<u32>(100, 3), generate::<u32>(100, 4));
    }

    #[test]
    fn a_shard_is_the_slice_of_the_whole() {
        let whole: Vec<f32> = generate(10_000, 9).unwrap_or_default();
        assert_eq!(generate_at::<f32>(4096, 5000, 9).as_deref(), Some(&whole[4096..9096]));
        assert_eq!(generate_at::<i32>(10_000, 0, 9), Some(Vec::new()));
    }
}
