//! The contract between the GPU and the CPU, as swath documents it, and the first place two results
//! break it.
//!
//! - Bits (any NaN equals any NaN, its payload being unspecified): integers, reductions and scans
//!   (the canonical order of `swath::canonical`), and the primitives (filters, partitions, argmin,
//!   argmax, histograms and bincount copy, locate or count values).
//! - The same value (bits, or both NaN, or both zero whatever their signs): maps and expressions of the
//!   operations `swath::expr` calls bit for bit, since a GPU compiler may change the sign of a zero.
//! - Within `swath::expr::REL_BOUND` of the CPU relative to `max(|cpu|, 1)`: float division and
//!   `sqrt exp log tanh pow` over the arguments the contract names; `sin` and `cos` on [-pi, pi] within
//!   `swath::expr::SIN_COS_ABS_BOUND`. A NaN or infinite CPU value must be met exactly.
//! - An f64 map fused into a sum may be contracted into fused multiply-adds (f64 steps have no
//!   optimisation barrier): each side within `(ROWS + 8) * levels` roundings of the magnitude of the
//!   mapped values, the accuracy `swath::canonical` states for a sum.

use super::value::CheckValue;
use rayon::prelude::*;
use swath::canonical::{tiles, ROWS, TILE};
use swath::expr::{REL_BOUND, SIN_COS_ABS_BOUND};
use swath::{Located, Output, Partition};

/// Arrays at least this long are compared in parallel.
const PARALLEL_FROM: usize = 1 << 16;

/// How close a GPU value must be to the CPU's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// The same bits; any NaN equals any NaN.
    Bits,
    /// The same bits, or both NaN, or both zero.
    Value,
    /// Within [`REL_BOUND`] of the CPU, relative to the larger of its magnitude and 1.
    Relative,
    /// Within this distance of the CPU.
    Absolute(f64),
}

impl Rule {
    /// `sin` and `cos` on [-pi, pi].
    pub const SIN_COS: Rule = Rule::Absolute(SIN_COS_ABS_BOUND);

    /// True if `gpu` is close enough to `cpu`.
    pub fn admits<T: CheckValue>(self, gpu: T, cpu: T) -> bool {
        if gpu.same_bits(cpu) {
            return true;
        }
        let (g, c) = (gpu.as_f64(), cpu.as_f64());
        match self {
            Rule::Bits => false,
            _ if !c.is_finite() => false,
            Rule::Value => g == 0.0 && c == 0.0,
            Rule::Relative => (g - c).abs() <= REL_BOUND * c.abs().max(1.0),
            Rule::Absolute(bound) => (g - c).abs() <= bound,
        }
    }

    /// The rule for a sum of `n` mapped values of total magnitude `magnitude`, where a GPU compiler may
    /// fuse the map's multiply with the sum's add: twice the accuracy of one canonical sum.
    pub fn contracted_sum(n: usize, magnitude: f64) -> Rule {
        let levels = std::iter::successors(Some(n), |&len| (len > TILE).then(|| tiles(len))).count();
        let roundings = ((ROWS + 8) * levels) as f64;
        Rule::Absolute(2.0 * roundings * f64::EPSILON * magnitude)
    }
}

/// Where two results first differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The element of the result, for arrays.
    pub index: Option<usize>,
    /// The GPU's and the CPU's values, as shown.
    pub gpu: String,
    pub cpu: String,
    /// Their bits, for single values.
    pub bits: Option<(String, String)>,
}

impl Difference {
    fn values<T: CheckValue>(index: Option<usize>, gpu: T, cpu: T) -> Difference {
        Difference { index, gpu: format!("{gpu:?}"), cpu: format!("{cpu:?}"), bits: Some((gpu.hex(), cpu.hex())) }
    }

    fn described(gpu: String, cpu: String) -> Difference {
        Difference { index: None, gpu, cpu, bits: None }
    }
}

impl std::fmt::Display for Difference {
    /// `gpu 1.2 cpu 1.3 (bits 0x3f99999a vs 0x3fa66666)`; the index is the caller's to place.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "gpu {} cpu {}", self.gpu, self.cpu)?;
        match &self.bits {
            Some((gpu, cpu)) => write!(f, " (bits {gpu} vs {cpu})"),
            None => Ok(()),
        }
    }
}

/// The first element where `gpu` and `cpu` differ under `rule`, or a difference in length.
pub fn arrays<T: CheckValue>(gpu: &[T], cpu: &[T], rule: Rule) -> Option<Difference> {
    if gpu.len() != cpu.len() {
        return Some(Difference::described(format!("{} values", gpu.len()), format!("{} values", cpu.len())));
    }
    let differs = |&i: &usize| !rule.admits(gpu[i], cpu[i]);
    let first = if gpu.len() >= PARALLEL_FROM {
        (0..gpu.len()).into_par_iter().find_first(differs)
    } else {
        (0..gpu.len()).find(differs)
    };
    first.map(|i| Difference::values(Some(i), gpu[i], cpu[i]))
}

/// The difference between two single values, if `rule` does not admit it.
pub fn scalars<T: CheckValue>(gpu: T, cpu: T, rule: Rule) -> Option<Difference> {
    (!rule.admits(gpu, cpu)).then(|| Difference::values(None, gpu, cpu))
}

/// argmin or argmax: the same index, and the same value there.
pub fn located<T: CheckValue>(gpu: Located<T>, cpu: Located<T>) -> Option<Difference> {
    if gpu.index == cpu.index && gpu.value.same_bits(cpu.value) {
        return None;
    }
    let show = |at: Located<T>| format!("index {} value {}", at.index, at.value.show());
    Some(Difference::described(show(gpu), show(cpu)))
}

/// A partition: the same kept count, and the same values in the same order.
pub fn partitions<T: CheckValue>(gpu: &Partition<T>, cpu: &Partition<T>) -> Option<Difference> {
    if gpu.kept != cpu.kept {
        return Some(Difference::described(format!("{} kept", gpu.kept), format!("{} kept", cpu.kept)));
    }
    arrays(&gpu.values, &cpu.values, Rule::Bits)
}

/// Two results of one job, compared under `rule` (counts and positions exactly).
pub fn outputs<T: CheckValue>(gpu: &Output<T>, cpu: &Output<T>, rule: Rule) -> Option<Difference> {
    match (gpu, cpu) {
        (Output::Array(g), Output::Array(c)) => arrays(g, c, rule),
        (Output::Scalar(g), Output::Scalar(c)) => scalars(*g, *c, rule),
        (Output::Located(g), Output::Located(c)) => located(*g, *c),
        (Output::Counts(g), Output::Counts(c)) => arrays(g, c, Rule::Bits),
        _ => Some(Difference::described(kind(gpu).into(), kind(cpu).into())),
    }
}

fn kind<T>(output: &Output<T>) -> &'static str {
    match output {
        Output::Array(_) => "an array",
        Output::Scalar(_) => "a scalar",
        Output::Located(_) => "a position",
        Output::Counts(_) => "counts",
        _ => "another kind of result",
    }
}

/// Flips one bit of the middle element of `output` (`--corrupt`); false if it holds nothing.
pub fn corrupt<T: CheckValue>(output: &mut Output<T>) -> bool {
    match output {
        Output::Array(values) => corrupt_slice(values),
        Output::Counts(counts) => corrupt_slice(counts),
        Output::Scalar(value) => {
            *value = value.flipped();
            true
        }
        Output::Located(at) => {
            at.value = at.value.flipped();
            true
        }
        _ => false,
    }
}

/// Flips one bit of the middle element of `values`; false if there is none.
pub fn corrupt_slice<T: CheckValue>(values: &mut [T]) -> bool {
    let middle = values.len() / 2;
    match values.get_mut(middle) {
        Some(value) => {
            *value = value.flipped();
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_follow_the_contract() {
        assert!(Rule::Bits.admits(f32::NAN, -f32::NAN));
        assert!(!Rule::Bits.admits(0.0f32, -0.0));
        assert!(Rule::Value.admits(0.0f32, -0.0));
        assert!(!Rule::Value.admits(1.0f32, 1.0f32.next_up()));
        assert!(Rule::Relative.admits(1000.0f32, 1000.01));
        assert!(!Rule::Relative.admits(1000.0f32, 1000.1));
        assert!(Rule::Relative.admits(1e-6f32, 0.0));
        assert!(!Rule::Relative.admits(f32::MAX, f32::INFINITY));
        assert!(Rule::SIN_COS.admits(0.5f32, 0.5004));
        assert!(!Rule::SIN_COS.admits(0.5f32, f32::NAN));
        assert!(!Rule::Value.admits(1i32, 2));
    }

    #[test]
    fn the_first_difference_is_named() {
        let cpu = [1.0f32, 2.0, 3.0, 4.0];
        let mut gpu = cpu;
        assert_eq!(arrays(&gpu, &cpu, Rule::Bits), None);
        assert!(corrupt_slice(&mut gpu));
        let difference = arrays(&gpu, &cpu, Rule::Relative).expect("a flipped bit is caught");
        assert_eq!(difference.index, Some(2));
        assert_eq!(difference.to_string(), "gpu 5.877472e-39 cpu 3.0 (bits 0x00400000 vs 0x40400000)");
        assert!(arrays(&gpu[..3], &cpu, Rule::Bits).is_some_and(|d| d.gpu == "3 values"));
    }

    #[test]
    fn a_contracted_sum_allows_more_for_longer_inputs() {
        let (Rule::Absolute(short), Rule::Absolute(long)) =
            (Rule::contracted_sum(10, 1.0), Rule::contracted_sum(1 << 20, 1.0))
        else {
            panic!("a contracted sum has an absolute bound");
        };
        assert!(short > 0.0 && long > short);
    }
}
