//! Element types: [`DType`] names them, [`Element`] is implemented by the
//! Rust types a job can run on (`f32`, `f64`, `i32`, `u32`).

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// The element type of a job's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 64-bit float (GPU only where the adapter has `SHADER_F64`).
    F64,
    /// 32-bit signed integer (wrapping arithmetic).
    I32,
    /// 32-bit unsigned integer (wrapping arithmetic).
    U32,
}

impl DType {
    /// Every element type.
    pub const ALL: [DType; 4] = [DType::F32, DType::F64, DType::I32, DType::U32];

    /// The type's name, as Rust and the CLI spell it.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I32 => "i32",
            DType::U32 => "u32",
        }
    }

    /// The type's name in WGSL.
    pub fn wgsl(self) -> &'static str {
        self.name()
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::F64 => 8,
            _ => 4,
        }
    }

    /// True for `f32` and `f64`.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// True if `value` converts to this type without loss (floats also take
    /// NaN, infinities and values that round, but not a finite value too
    /// large for the type, which would become an infinity).
    pub fn holds_exactly(self, value: f64) -> bool {
        match self {
            DType::F32 => !value.is_finite() || (value as f32).is_finite(),
            DType::F64 => true,
            DType::I32 => value.fract() == 0.0 && (i32::MIN as f64..=i32::MAX as f64).contains(&value),
            DType::U32 => value.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&value),
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DType {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        DType::ALL.into_iter().find(|d| d.name().eq_ignore_ascii_case(text.trim())).ok_or_else(|| Error::Parse {
            what: "element type",
            input: text.to_string(),
            expected: "f32, f64, i32 or u32".to_string(),
        })
    }
}

/// A Rust type whose slices swath can map and reduce.
///
/// Implemented for `f32`, `f64`, `i32` and `u32`; sealed, so the set of
/// types stays the set that has WGSL kernels.
pub trait Element:
    Copy + Send + Sync + PartialEq + PartialOrd + Default + fmt::Debug + fmt::Display + bytemuck::Pod + sealed::Arith
{
    /// The matching [`DType`].
    const DTYPE: DType;
}

mod sealed {
    /// Element arithmetic with swath's semantics (wrapping integers,
    /// NaN-propagating min/max). Private: only swath calls it.
    pub trait Arith: Sized + Copy {
        /// Identity of `max` (`-inf` or the type's minimum).
        const LOWEST: Self;
        /// Identity of `min` (`+inf` or the type's maximum).
        const HIGHEST: Self;
        const ZERO: Self;
        const ONE: Self;
        /// Converts a scalar already checked by `DType::holds_exactly`.
        fn from_f64(value: f64) -> Self;
        fn to_f64(self) -> f64;
        fn add(self, other: Self) -> Self;
        fn mul(self, other: Self) -> Self;
        fn neg(self) -> Self;
        fn abs(self) -> Self;
        fn is_nan(self) -> bool;
        /// `self` if it is NaN or less than `other`, else `other`.
        #[inline(always)]
        fn min_nan(self, other: Self) -> Self
        where
            Self: PartialOrd,
        {
            if self.is_nan() || self < other {
                self
            } else {
                other
            }
        }
        /// `self` if it is NaN or greater than `other`, else `other`.
        #[inline(always)]
        fn max_nan(self, other: Self) -> Self
        where
            Self: PartialOrd,
        {
            if self.is_nan() || self > other {
                self
            } else {
                other
            }
        }
        /// Float-only (the transcendental functions are `cpu::math`'s).
        /// Integer types implement it through `f64` only to be total:
        /// `Op::check` rejects it before any job runs.
        fn sqrt(self) -> Self;
    }
}

macro_rules! float_element {
    ($t:ty, $dtype:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dtype;
        }
        impl sealed::Arith for $t {
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn from_f64(value: f64) -> Self {
                value as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn add(self, other: Self) -> Self {
                self + other
            }
            #[inline(always)]
            fn mul(self, other: Self) -> Self {
                self * other
            }
            #[inline(always)]
            fn neg(self) -> Self {
                -self
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
        }
    };
}

macro_rules! int_element {
    ($t:ty, $dtype:expr, $abs:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dtype;
        }
        impl sealed::Arith for $t {
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
            const ZERO: Self = 0;
            const ONE: Self = 1;
            #[inline(always)]
            fn from_f64(value: f64) -> Self {
                value as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn add(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            #[inline(always)]
            fn mul(self, other: Self) -> Self {
                self.wrapping_mul(other)
            }
            #[inline(always)]
            fn neg(self) -> Self {
                self.wrapping_neg()
            }
            #[inline(always)]
            fn abs(self) -> Self {
                let abs: fn($t) -> $t = $abs;
                abs(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                false
            }
            fn sqrt(self) -> Self {
                (self as f64).sqrt() as $t
            }
        }
    };
}

float_element!(f32, DType::F32);
float_element!(f64, DType::F64);
int_element!(i32, DType::I32, i32::wrapping_abs);
int_element!(u32, DType::U32, |x| x);
