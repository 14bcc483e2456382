//! Helpers shared by the integration tests: engines, reproducible random
//! data, and reference semantics of every op and reduction written
//! independently of swath, so that a test never checks swath against itself.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Mutex, MutexGuard, OnceLock};
use swath::canonical::{tiles, LANES, ROWS, TILE};
use swath::{Decision, Device, Element, Engine, EngineBuilder, Job, Op, Outcome, Output, Policy, Reason, Reduce};

// ---------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------

/// Set to `1` (as CI does) to make a missing GPU adapter fail the GPU tests
/// instead of skipping them.
pub const REQUIRE_GPU: &str = "SWATH_REQUIRE_GPU";

/// An engine with the gpu policy, or `None` (after saying so on stderr) when
/// no adapter opens and [`REQUIRE_GPU`] is not set; the test then returns.
pub fn gpu_engine(test_name: &str) -> Option<Engine> {
    gpu_engine_from(test_name, Engine::builder().policy(Policy::Gpu))
}

/// `builder`'s engine, or `None` as for [`gpu_engine`]; `builder` should
/// ask for a GPU.
pub fn gpu_engine_from(test_name: &str, builder: EngineBuilder) -> Option<Engine> {
    match builder.build() {
        Ok(engine) => Some(engine),
        Err(error) if std::env::var(REQUIRE_GPU).is_ok_and(|v| v == "1") => {
            panic!("{test_name}: {REQUIRE_GPU}=1 but no GPU engine opens: {error}")
        }
        Err(error) => {
            // Written to stderr directly: libtest captures `eprintln!` of
            // passing tests, and a skip must never pass unnoticed.
            let _ = writeln!(std::io::stderr(), "SKIPPED {test_name}: no GPU adapter ({error})");
            None
        }
    }
}

/// One GPU engine for every test of the binary (pipelines stay compiled
/// across cases), or `None` when no adapter opens (reported once, named
/// `what`, as [`gpu_engine`] does).
pub fn shared_gpu_engine(what: &str) -> Option<&'static Engine> {
    static GPU: OnceLock<Option<Engine>> = OnceLock::new();
    GPU.get_or_init(|| gpu_engine(what)).as_ref()
}

/// One engine with the cpu policy for every test of the binary.
pub fn shared_cpu_engine() -> &'static Engine {
    static CPU: OnceLock<Engine> = OnceLock::new();
    CPU.get_or_init(|| Engine::builder().policy(Policy::Cpu).build().unwrap())
}

/// The decision of the gpu policy for a job the GPU can run.
pub const ON_GPU: Decision = Decision::new(Device::Gpu, Reason::PolicyGpu);

/// The decision of the cpu policy.
pub const ON_CPU: Decision = Decision::new(Device::Cpu, Reason::PolicyCpu);

/// Runs `job` and checks that the scheduler decided `expected` and that the
/// job ran there, with no fallback.
pub fn run_as<T: Element>(engine: &Engine, job: &Job<'_, T>, expected: Decision) -> Outcome<Output<T>> {
    let outcome = engine.run(job).unwrap_or_else(|e| panic!("{} job of {} elements failed: {e}", T::DTYPE, job.len()));
    let what = describe(job);
    assert_eq!(outcome.decision, expected, "decision for {what}");
    assert_eq!(outcome.device, expected.device, "device that ran {what}");
    assert_eq!(outcome.fallback, None, "fallback of {what}");
    outcome
}

/// `f32 sin + sum of 257 elements`: for assertion messages.
pub fn describe<T: Element>(job: &Job<'_, T>) -> String {
    let op = job.op().map_or(String::new(), |op| op.to_string());
    let reduce = job.reduction().map_or(String::new(), |r| r.to_string());
    let joiner = if op.is_empty() || reduce.is_empty() { "" } else { " + " };
    format!("{} {op}{joiner}{reduce} of {} elements", T::DTYPE, job.len())
}

/// The array of a map's outcome.
pub fn array<T: Element>(outcome: &Outcome<Output<T>>) -> &[T] {
    outcome.value.array().expect("a map returns an array")
}

/// The scalar of a reduction's outcome.
pub fn scalar<T: Element>(outcome: &Outcome<Output<T>>) -> T {
    outcome.value.scalar().expect("a reduction returns a scalar")
}

static LARGE_INPUTS: Mutex<()> = Mutex::new(());

/// Held by every test with inputs of tens of millions of elements, so that
/// tests running in parallel never hold several such inputs at once.
pub fn large_input_lock() -> MutexGuard<'static, ()> {
    // A test that panicked while holding the lock leaves nothing to repair.
    LARGE_INPUTS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------
// Random data
// ---------------------------------------------------------------------------

/// splitmix64: a small, fast, reproducible generator (no dependency needed).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// A generator seeded by a label, so each case has its own data and a
    /// failing case can be reproduced from its message.
    pub fn labelled(label: &str) -> Self {
        // FNV-1a.
        let hash = label.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        Rng(hash)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi]` (`hi` only through rounding).
    pub fn uniform(&mut self, (lo, hi): (f64, f64)) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// `n` values: floats uniform in `range`, integers over their full range.
    pub fn values<T: TestElement>(&mut self, n: usize, range: (f64, f64)) -> Vec<T> {
        (0..n).map(|_| T::random(self, range)).collect()
    }
}

/// `n` values from the generator labelled `label` (see [`Rng::values`]).
pub fn random<T: TestElement>(label: &str, n: usize, range: (f64, f64)) -> Vec<T> {
    Rng::labelled(label).values(n, range)
}

// ---------------------------------------------------------------------------
// Element types as the tests see them
// ---------------------------------------------------------------------------

/// An element type with test data and reference semantics.
///
/// The references follow the semantics documented in `swath::op`: integers
/// wrap, min/max propagate NaN, scalars are converted to the element type
/// first. Float references are computed in f64 and rounded once to the
/// type, which is correctly rounded for `+`, `*` and `sqrt` of f32 (f64 has
/// more than twice f32's precision, so the double rounding is harmless).
pub trait TestElement: Element {
    /// True for f32 and f64.
    const FLOAT: bool;
    /// The gap between 1 and the next value; 0 for integers, which are exact.
    const EPSILON: f64;
    /// The smallest positive normal value; 0 for integers.
    const MIN_NORMAL: f64;
    /// Values where wrapping shows (`abs(i32::MIN)`, `neg(0u32)`), which
    /// full-range random integers practically never hit. Empty for floats,
    /// whose special values need tests of their own.
    const EDGES: &'static [Self];

    /// One random value: a float uniform in `range` and never subnormal (a
    /// GPU may flush subnormals to zero), an integer over its full range.
    fn random(rng: &mut Rng, range: (f64, f64)) -> Self;
    /// The value as f64 (exact for every element type).
    fn as_f64(self) -> f64;
    /// `x` rounded to this type (integers: truncated, for test constants).
    fn of_f64(x: f64) -> Self;
    /// `op(x)` by the reference semantics.
    fn reference_op(op: Op, x: Self) -> Self;
    /// `reduce` of `values` by the reference semantics: floats summed with
    /// compensation and multiplied in f64, then rounded once.
    fn reference_reduce(reduce: Reduce, values: &[Self]) -> Self;
    /// Equal bits, except that any NaN equals any NaN.
    fn same_as(self, other: Self) -> bool;
    /// Representable values between `self` and `other` (0 for equal values).
    fn ulps_from(self, other: Self) -> u64;
    /// The gap from `|self|` to the next larger value.
    fn ulp(self) -> f64;
    /// Integers: the value with its lowest bit set (odd factors keep a
    /// wrapping product from collapsing to 0). Floats: unchanged.
    fn odd(self) -> Self;
}

/// `op(x)` in f64 with swath's semantics; `scalar` converts an op's scalar
/// to the element type.
fn reference_float_op(op: Op, x: f64, scalar: impl Fn(f64) -> f64) -> f64 {
    match op {
        Op::Square => x * x,
        Op::Abs => x.abs(),
        Op::Neg => -x,
        Op::Sqrt => x.sqrt(),
        Op::Exp => x.exp(),
        Op::Log => x.ln(),
        Op::Sin => x.sin(),
        Op::Cos => x.cos(),
        Op::Floor => x.floor(),
        Op::Ceil => x.ceil(),
        Op::Round => x.round_ties_even(),
        Op::Add(s) => x + scalar(s),
        Op::Mul(s) => x * scalar(s),
        Op::Min(s) => min_nan(x, scalar(s)),
        Op::Max(s) => max_nan(x, scalar(s)),
        Op::Clamp { lo, hi } => min_nan(max_nan(x, scalar(lo)), scalar(hi)),
    }
}

/// NaN if `a` is NaN, else `a` if it is smaller, else `b` (swath's rule).
fn min_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || a < b {
        a
    } else {
        b
    }
}

/// NaN if `a` is NaN, else `a` if it is larger, else `b` (swath's rule).
fn max_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || a > b {
        a
    } else {
        b
    }
}

/// Sum with Neumaier's compensation: accurate to about one f64 rounding
/// whatever the order, so it can judge an f64 reduction too.
pub fn compensated_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut compensation) = (0.0f64, 0.0f64);
    for x in values {
        let next = sum + x;
        compensation += if sum.abs() >= x.abs() { (sum - next) + x } else { (x - next) + sum };
        sum = next;
    }
    // With an infinity or NaN the compensation is NaN; the plain sum is right.
    if sum.is_finite() {
        sum + compensation
    } else {
        sum
    }
}

fn reference_float_reduce(reduce: Reduce, values: impl Iterator<Item = f64>) -> f64 {
    match reduce {
        Reduce::Sum => compensated_sum(values),
        Reduce::Product => values.product(),
        Reduce::Min => values.fold(f64::INFINITY, min_nan),
        Reduce::Max => values.fold(f64::NEG_INFINITY, max_nan),
    }
}

macro_rules! float_test_element {
    ($t:ty, $bits:ty, $signed:ty) => {
        impl TestElement for $t {
            const FLOAT: bool = true;
            const EPSILON: f64 = <$t>::EPSILON as f64;
            const MIN_NORMAL: f64 = <$t>::MIN_POSITIVE as f64;
            const EDGES: &'static [Self] = &[];

            fn random(rng: &mut Rng, range: (f64, f64)) -> Self {
                loop {
                    let x = rng.uniform(range) as $t;
                    if !x.is_subnormal() {
                        return x;
                    }
                }
            }

            fn as_f64(self) -> f64 {
                self as f64
            }

            fn of_f64(x: f64) -> Self {
                x as $t
            }

            fn reference_op(op: Op, x: Self) -> Self {
                reference_float_op(op, x as f64, |s| s as $t as f64) as $t
            }

            fn reference_reduce(reduce: Reduce, values: &[Self]) -> Self {
                reference_float_reduce(reduce, values.iter().map(|&x| x as f64)) as $t
            }

            fn same_as(self, other: Self) -> bool {
                (self.is_nan() && other.is_nan()) || self.to_bits() == other.to_bits()
            }

            fn ulps_from(self, other: Self) -> u64 {
                // Maps the bits to integers that are ordered like the floats
                // (and equal for -0 and +0), so ULPs are a difference.
                fn ordered(x: $t) -> i128 {
                    let bits = x.to_bits() as $signed;
                    (if bits < 0 { <$signed>::MIN.wrapping_sub(bits) } else { bits }) as i128
                }
                (ordered(self) - ordered(other)).unsigned_abs() as u64
            }

            fn ulp(self) -> f64 {
                let a = self.abs();
                if !a.is_finite() {
                    return f64::INFINITY;
                }
                let next = <$t>::from_bits(a.to_bits() + 1);
                (next as f64) - (a as f64)
            }

            fn odd(self) -> Self {
                self
            }
        }
    };
}

float_test_element!(f32, u32, i32);
float_test_element!(f64, u64, i64);

macro_rules! int_test_element {
    ($t:ty, $abs:expr, $edges:expr) => {
        impl TestElement for $t {
            const FLOAT: bool = false;
            const EPSILON: f64 = 0.0;
            const MIN_NORMAL: f64 = 0.0;
            const EDGES: &'static [Self] = &$edges;

            fn random(rng: &mut Rng, _range: (f64, f64)) -> Self {
                rng.next_u64() as $t
            }

            fn as_f64(self) -> f64 {
                self as f64
            }

            fn of_f64(x: f64) -> Self {
                x as $t
            }

            fn reference_op(op: Op, x: Self) -> Self {
                let scalar = |s: f64| s as $t;
                let abs: fn($t) -> $t = $abs;
                match op {
                    Op::Square => x.wrapping_mul(x),
                    Op::Abs => abs(x),
                    Op::Neg => (0 as $t).wrapping_sub(x),
                    Op::Add(s) => x.wrapping_add(scalar(s)),
                    Op::Mul(s) => x.wrapping_mul(scalar(s)),
                    Op::Min(s) => x.min(scalar(s)),
                    Op::Max(s) => x.max(scalar(s)),
                    Op::Clamp { lo, hi } => x.max(scalar(lo)).min(scalar(hi)),
                    op => panic!("{op} is defined for floats only; no integer reference"),
                }
            }

            fn reference_reduce(reduce: Reduce, values: &[Self]) -> Self {
                let values = values.iter().copied();
                match reduce {
                    Reduce::Sum => values.fold(0, <$t>::wrapping_add),
                    Reduce::Product => values.fold(1, <$t>::wrapping_mul),
                    Reduce::Min => values.fold(<$t>::MAX, <$t>::min),
                    Reduce::Max => values.fold(<$t>::MIN, <$t>::max),
                }
            }

            fn same_as(self, other: Self) -> bool {
                self == other
            }

            fn ulps_from(self, other: Self) -> u64 {
                (self as i64 - other as i64).unsigned_abs()
            }

            fn ulp(self) -> f64 {
                1.0
            }

            fn odd(self) -> Self {
                self | 1
            }
        }
    };
}

int_test_element!(i32, i32::wrapping_abs, [i32::MIN, i32::MAX, 0, -1, 1, i32::MIN + 1]);
int_test_element!(u32, |x| x, [0, u32::MAX, 1, 1 << 31]);

/// `op` applied to every element by the reference semantics.
pub fn reference_map<T: TestElement>(op: Op, input: &[T]) -> Vec<T> {
    input.iter().map(|&x| T::reference_op(op, x)).collect()
}

/// Asserts that `got` and `expected` are equal element for element (floats
/// by bits, NaN by NaN-ness), naming the first difference.
pub fn assert_same_elements<T: TestElement>(got: &[T], expected: &[T], what: &str) {
    assert_eq!(got.len(), expected.len(), "length of {what}");
    if let Some(i) = (0..got.len()).find(|&i| !got[i].same_as(expected[i])) {
        panic!("{what}: element {i} is {:?}, expected {:?}", got[i], expected[i]);
    }
}

/// Asserts that two scalars are equal (floats by bits, NaN by NaN-ness).
pub fn assert_same<T: TestElement>(got: T, expected: T, what: &str) {
    assert!(got.same_as(expected), "{what}: got {got:?}, expected {expected:?}");
}

// ---------------------------------------------------------------------------
// Canonical reduction order
// ---------------------------------------------------------------------------

/// The most roundings one element goes through in a canonical reduction of
/// `n` elements: per level of tiles, up to [`ROWS`] combines in its lane and
/// log2([`LANES`]) in the tree. A float sum's error is at most this many
/// epsilons times the sum of magnitudes.
pub fn canonical_depth(n: usize) -> usize {
    let mut levels = 1;
    let mut len = n;
    while len > TILE {
        len = tiles(len);
        levels += 1;
    }
    levels * (ROWS + LANES.trailing_zeros() as usize)
}
