//! The inputs of the check: random values from a fixed seed, so every run on every machine checks the
//! same data, with special values at fixed places, so every length from 257 on meets each of them.

use super::value::CheckValue;
use crate::sample::splitmix64;
use rayon::prelude::*;

/// Seed of every input; each group, length and input draws its own stream from it.
const SEED: u64 = 0x5eed_c0de;

/// Every `SPECIAL_EVERY`-th element, from element `SPECIAL_FROM` on, is a special value, so a single
/// element is an ordinary one and 257 elements hold five specials.
const SPECIAL_EVERY: usize = 61;
const SPECIAL_FROM: usize = 7;

/// Which special values an input holds besides its random ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// None for floats (a sum of them is a number worth comparing); the extremes for integers.
    Plain,
    /// Both zeros for floats: expressions, whose contract covers finite values only.
    Zeros,
    /// NaN, both infinities and both zeros for floats.
    Special,
}

impl Flavor {
    /// How a mismatch names the data, for floats: empty for plain data.
    pub fn label(self) -> &'static str {
        match self {
            Flavor::Plain => "",
            Flavor::Zeros => ", data with signed zeros",
            Flavor::Special => ", data with NaN, infinities and signed zeros",
        }
    }
}

/// How the values of one input are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipe {
    /// Uniform in this range; integers without one span their type.
    pub range: Option<(f64, f64)>,
    /// The special values mixed in.
    pub flavor: Flavor,
    /// Integers made odd, for products.
    pub odd: bool,
}

/// `n` values of input number `input` of the group named `group`, or `None` if memory for them cannot
/// be had. Drawn in parallel: the largest inputs are gigabytes.
pub fn values<T: CheckValue>(recipe: &Recipe, group: &str, n: usize, input: usize) -> Option<Vec<T>> {
    let stream = splitmix64(SEED, fnv1a(group) ^ (n as u64).rotate_left(32) ^ input as u64);
    let specials = T::specials(recipe.flavor);
    let mut values = Vec::new();
    values.try_reserve_exact(n).ok()?;
    (0..n)
        .into_par_iter()
        .map(|p| {
            let value = match specials.len() {
                len if len > 0 && p % SPECIAL_EVERY == SPECIAL_FROM => {
                    // Input b takes the special three places after a's: integer `MIN / -1` occurs.
                    specials[(p / SPECIAL_EVERY + 3 * input) % len]
                }
                _ => T::random(splitmix64(stream, p as u64), recipe.range),
            };
            if recipe.odd {
                value.odd()
            } else {
                value
            }
        })
        .collect_into_vec(&mut values);
    Some(values)
}

/// FNV-1a of a name: a stream per group.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ byte as u64).wrapping_mul(0x100_0000_01b3))
}

/// Bytes of memory the system can still give, where it says (Linux's `MemAvailable`).
pub fn host_memory_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|line| line.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_repeat_and_hold_their_specials() {
        let recipe = Recipe { range: Some((-4.0, 4.0)), flavor: Flavor::Special, odd: false };
        let bits = |input| -> Vec<u32> {
            values::<f32>(&recipe, "map f32 square", 257, input)
                .unwrap_or_default()
                .iter()
                .map(|x| x.to_bits())
                .collect()
        };
        assert_eq!(bits(0), bits(0));
        assert_ne!(bits(0), bits(1));
        let a: Vec<f32> = values(&recipe, "map f32 square", 257, 0).unwrap_or_default();
        assert!(a[SPECIAL_FROM].is_nan() && a[SPECIAL_FROM + SPECIAL_EVERY] == f32::INFINITY);
        assert!(a.iter().filter(|x| x.is_finite()).all(|x| (-4.0..=4.0).contains(x)));
        let plain = Recipe { flavor: Flavor::Plain, ..recipe };
        assert!(values::<f32>(&plain, "sum", 257, 0).unwrap_or_default().iter().all(|x| x.is_finite() && *x != 0.0));
    }

    #[test]
    fn integer_inputs_meet_min_over_minus_one() {
        let recipe = Recipe { range: None, flavor: Flavor::Zeros, odd: false };
        let a: Vec<i32> = values(&recipe, "division", 257, 0).unwrap_or_default();
        let b: Vec<i32> = values(&recipe, "division", 257, 1).unwrap_or_default();
        assert!(a.iter().zip(&b).any(|(&a, &b)| a == i32::MIN && b == -1));
    }
}
