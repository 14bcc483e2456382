//! The element types as the check sees them: how a random value is drawn, which special values every
//! input holds, and how a value's bits are compared, shown and (for `--corrupt`) damaged.

use super::data::Flavor;
use swath::Element;

/// An element type the check can generate, compare and report.
pub trait CheckValue: Element {
    /// NaN, both infinities and both zeros for floats; the extremes for integers.
    const SPECIALS: &'static [Self];
    /// The special values that are finite: the zeros for floats, the extremes for integers.
    const FINITE_SPECIALS: &'static [Self];

    /// A value from 64 random bits: uniform in `range`, or over the whole type for an integer without one.
    fn random(bits: u64, range: Option<(f64, f64)>) -> Self;
    /// The same value with its lowest bit set, for integers (odd factors keep a wrapping product from
    /// collapsing to 0); floats are unchanged.
    fn odd(self) -> Self;
    /// The value as f64 (exact for every element type).
    fn as_f64(self) -> f64;
    /// The bits, widened.
    fn bits(self) -> u64;
    /// True for a NaN.
    fn is_nan_value(self) -> bool;
    /// The value with its second-highest bit flipped (a float's top exponent bit): far from the original
    /// under every comparison the check makes, whatever the value.
    fn flipped(self) -> Self;
    /// Hexadecimal digits of the bits.
    const HEX_DIGITS: usize;

    /// The special values an input of this flavor holds.
    fn specials(flavor: Flavor) -> &'static [Self] {
        match flavor {
            Flavor::Plain if Self::DTYPE.is_float() => &[],
            Flavor::Plain | Flavor::Zeros => Self::FINITE_SPECIALS,
            Flavor::Special => Self::SPECIALS,
        }
    }

    /// Same bits, except that any NaN equals any NaN (its payload is not promised).
    fn same_bits(self, other: Self) -> bool {
        self.bits() == other.bits() || (self.is_nan_value() && other.is_nan_value())
    }

    /// The value and its bits, as a mismatch shows it: `1.5 (0x3fc00000)`.
    fn show(self) -> String {
        format!("{self:?} ({})", self.hex())
    }

    /// The bits as `0x3fc00000`.
    fn hex(self) -> String {
        format!("{:#0width$x}", self.bits(), width = Self::HEX_DIGITS + 2)
    }
}

macro_rules! float_value {
    ($t:ty, $bits:ty) => {
        impl CheckValue for $t {
            const SPECIALS: &'static [Self] = &[<$t>::NAN, <$t>::INFINITY, <$t>::NEG_INFINITY, -0.0, 0.0];
            const FINITE_SPECIALS: &'static [Self] = &[-0.0, 0.0];
            const HEX_DIGITS: usize = 2 * size_of::<$t>();

            fn random(bits: u64, range: Option<(f64, f64)>) -> Self {
                let (lo, hi) = range.unwrap_or((-1.0, 1.0));
                let unit = (bits >> 11) as f64 / (1u64 << 53) as f64;
                (lo + (hi - lo) * unit) as $t
            }

            fn odd(self) -> Self {
                self
            }

            fn as_f64(self) -> f64 {
                self as f64
            }

            fn bits(self) -> u64 {
                self.to_bits() as u64
            }

            fn is_nan_value(self) -> bool {
                self.is_nan()
            }

            fn flipped(self) -> Self {
                <$t>::from_bits(self.to_bits() ^ (1 << (<$bits>::BITS - 2)))
            }
        }
    };
}

float_value!(f32, u32);
float_value!(f64, u64);

macro_rules! integer_value {
    ($t:ty, $specials:expr) => {
        impl CheckValue for $t {
            const SPECIALS: &'static [Self] = &$specials;
            const FINITE_SPECIALS: &'static [Self] = &$specials;
            const HEX_DIGITS: usize = 2 * size_of::<$t>();

            fn random(bits: u64, range: Option<(f64, f64)>) -> Self {
                match range {
                    Some((lo, hi)) => (lo as i64 + (bits % (hi - lo + 1.0) as u64) as i64) as $t,
                    None => bits as $t,
                }
            }

            fn odd(self) -> Self {
                self | 1
            }

            fn as_f64(self) -> f64 {
                self as f64
            }

            fn bits(self) -> u64 {
                self as u32 as u64
            }

            fn is_nan_value(self) -> bool {
                false
            }

            fn flipped(self) -> Self {
                self ^ (1 << 30)
            }
        }
    };
}

// The order matters: input b takes the value three places after input a's, so that `MIN / -1` occurs.
integer_value!(i32, [i32::MIN, i32::MAX, 0, -1, 1]);
integer_value!(u32, [0, u32::MAX, 1, 1 << 31, 2]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_equals_nan_and_bits_are_shown() {
        assert!(f32::NAN.same_bits(-f32::NAN));
        assert!(!0.0f32.same_bits(-0.0));
        assert_eq!(1.5f32.show(), "1.5 (0x3fc00000)");
        assert_eq!((-1i32).hex(), "0xffffffff");
        assert_eq!(1.0f64.hex(), "0x3ff0000000000000");
    }

    #[test]
    fn a_flipped_value_is_far_from_the_original() {
        for x in [0.0f32, -0.0, 1.0, f32::NAN, f32::INFINITY, 3.0e38] {
            let y = x.flipped();
            assert!(!x.same_bits(y) && (y.is_nan() != x.is_nan() || (y - x).abs() > 1.0), "{x} -> {y}");
        }
        assert_eq!(5i32.flipped(), 5 + (1 << 30));
        assert!(!f64::NAN.flipped().is_nan());
    }

    #[test]
    fn random_values_stay_in_their_range() {
        for bits in [0, u64::MAX, 0x1234_5678_9abc_def0] {
            assert!((-4.0..=4.0).contains(&f32::random(bits, Some((-4.0, 4.0)))));
            assert!((-100..=1100).contains(&i32::random(bits, Some((-100.0, 1100.0)))));
            assert!(u32::random(bits, Some((0.0, 1100.0))) <= 1100);
        }
    }
}
