//! The one error type of swath, and the typed details of expression and
//! pipeline errors.
//!
//! Every enum here is `#[non_exhaustive]`, so swath can report new kinds
//! of mistakes without breaking a caller's `match`. Fields hold values
//! (names, types, positions), never display punctuation: the messages are
//! made by `Display` alone.

use crate::dtype::DType;
use crate::op::{Reduce, Scan};
use std::time::Duration;

/// Everything that can go wrong in a swath call.
///
/// Variants are meant to be matched on; each message says what to change.
/// GPU faults ([`GpuError`]) rarely reach a caller: a job that fails on the
/// GPU is rerun on the CPU, and the fault is reported in
/// [`Outcome::fallback`](crate::Outcome::fallback) instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input and output (or several inputs) differ in length.
    #[error("length mismatch: input has {input} elements but output has {output}")]
    LengthMismatch {
        /// Elements in the input.
        input: usize,
        /// Elements in the output.
        output: usize,
    },
    /// `min` or `max` of an empty array, which has no value.
    #[error("{reduce} of an empty array has no value; check for empty input first")]
    EmptyReduction {
        /// The reduction that was asked for.
        reduce: Reduce,
    },
    /// argmin or argmax of an empty array, which has no element to point at.
    #[error("{op} of an empty array has no index; check for empty input first")]
    EmptyArg {
        /// `argmin` or `argmax`.
        op: &'static str,
    },
    /// A histogram asked for no bins, or for more than swath counts.
    #[error("a histogram needs between 1 and {max} bins, not {bins}")]
    InvalidBins {
        /// Bins asked for.
        bins: usize,
        /// Most bins allowed.
        max: usize,
    },
    /// A histogram's range is not finite numbers `lo < hi`.
    #[error("a histogram's range must be finite with lo < hi (and hi - lo finite), not lo {lo}, hi {hi}")]
    InvalidRange {
        /// Lower end of the range.
        lo: f64,
        /// Upper end of the range.
        hi: f64,
    },
    /// bincount was given float keys.
    #[error("bincount counts integer keys, not {dtype}; convert the keys to i32 or u32 first")]
    FloatKeys {
        /// Element type of the keys.
        dtype: DType,
    },
    /// More values than a `u32` count can hold.
    #[error("counts are u32: a histogram takes at most {max} values, not {len}; count pieces and add the counts")]
    TooManyToCount {
        /// Values given.
        len: usize,
        /// Most values one histogram counts.
        max: usize,
    },
    /// The operation is not defined for this element type.
    #[error("{op} is not defined for {dtype}; convert the data to f32 or f64 first")]
    Unsupported {
        /// Name of the operation.
        op: &'static str,
        /// Element type of the data.
        dtype: DType,
    },
    /// A scalar argument cannot be represented exactly in the element type.
    #[error("scalar {value} of {op} cannot be represented as {dtype}")]
    InvalidScalar {
        /// Name of the operation.
        op: &'static str,
        /// The scalar as given.
        value: f64,
        /// Element type of the data.
        dtype: DType,
    },
    /// `clamp` with a lower bound above the upper bound.
    #[error("clamp bounds are reversed: lo {lo} is greater than hi {hi}")]
    InvalidClamp {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// A GPU was asked for, but there is none to use.
    #[error("no usable GPU: {reason}")]
    NoGpu {
        /// Why, such as the adapter filter that matched nothing.
        reason: String,
    },
    /// A text could not be parsed (an op, a reduction, a dtype, a policy).
    #[error("cannot parse {what} from {input:?}: expected {expected}")]
    Parse {
        /// What was being parsed.
        what: &'static str,
        /// The text as given.
        input: String,
        /// What would have been accepted.
        expected: String,
    },
    /// An expression's text is malformed; `line` and `column` count from 1
    /// and point at the first character that could not be read.
    #[error("syntax error at line {line}, column {column}: {message}")]
    Syntax {
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error in characters, from 1.
        column: usize,
        /// What was expected there.
        message: String,
    },
    /// An expression is well formed but cannot be computed as asked: an
    /// unknown input, mismatched types, a function the type lacks.
    #[error("invalid expression: {0}")]
    Expr(ExprError),
    /// Zipped inputs differ in length.
    #[error("inputs differ in length: {}", describe_lengths(.lengths))]
    InputLengths {
        /// Each input's name and length, in the order given.
        lengths: Vec<(String, usize)>,
    },
    /// The CPU thread pool could not be built.
    #[error("cannot build the CPU thread pool: {0}")]
    ThreadPool(String),
    /// A pipeline is described wrongly: a name used twice or unknown, a
    /// stage that reads no array, an output of another type.
    #[error("pipeline: {0}")]
    Pipeline(PipelineError),
    /// The host memory for a result could not be allocated.
    #[error("cannot allocate {bytes} bytes for the result of {len} elements; run on smaller pieces")]
    OutOfMemory {
        /// Bytes asked for (saturated at `u64::MAX`).
        bytes: u64,
        /// Elements of the result.
        len: usize,
    },
    /// A submitted job panicked; the panic is contained to its handle.
    #[error("job panicked: {0}")]
    JobPanicked(String),
    /// A GPU fault that could not be recovered on the CPU.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

impl From<ExprError> for Error {
    fn from(e: ExprError) -> Error {
        Error::Expr(e)
    }
}

impl From<PipelineError> for Error {
    fn from(e: PipelineError) -> Error {
        Error::Pipeline(e)
    }
}

fn describe_lengths(lengths: &[(String, usize)]) -> String {
    let each: Vec<String> = lengths.iter().map(|(name, len)| format!("{name} has {len}")).collect();
    each.join(", ")
}

/// Why a well-formed expression cannot be computed as asked. Each variant
/// names the (sub)expression at fault as text, in `expr`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExprError {
    /// The expression reads an input that the job does not have.
    #[error("unknown input `{name}`; the inputs are: {}", list_or(.known, "there are none"))]
    UnknownInput {
        /// The name read.
        name: String,
        /// The inputs the job has.
        known: Vec<String>,
    },
    /// The operands of an operator or function have different types.
    #[error("the operands of `{expr}` differ in type ({left} and {right}); convert one, e.g. f32(...)")]
    TypeMismatch {
        /// The expression.
        expr: String,
        /// Type of the first operand (a dtype name, or `condition`).
        left: &'static str,
        /// Type of the second operand.
        right: &'static str,
    },
    /// A float-only function applied to integers.
    #[error("{function} is defined for floats only, not {dtype}: `{expr}`")]
    FloatOnly {
        /// The function.
        function: &'static str,
        /// The integer type it was given.
        dtype: DType,
        /// The expression.
        expr: String,
    },
    /// Arithmetic on a condition (`(x > 0) + 1`).
    #[error("`{expr}` does arithmetic on a condition; use select(cond, 1, 0) or a cast")]
    ArithmeticOnCondition {
        /// The expression.
        expr: String,
    },
    /// A number where a condition is needed (`select(x, 1, 0)`).
    #[error("`{expr}` is a {dtype}, not a condition; compare it, e.g. {expr} > 0")]
    NotACondition {
        /// The expression.
        expr: String,
        /// Its type.
        dtype: DType,
    },
    /// The whole expression is a condition, but the job wants numbers.
    #[error("`{expr}` is a condition, not a number; write select({expr}, 1, 0)")]
    ConditionResult {
        /// The expression.
        expr: String,
    },
    /// The expression gives another type than the job's output.
    #[error("`{expr}` gives {found} but the output is {expected}; convert it with {expected}(...)")]
    OutputType {
        /// The expression.
        expr: String,
        /// The type it gives.
        found: DType,
        /// The output type asked for.
        expected: DType,
    },
    /// A number that the type it is used at cannot hold.
    #[error("the number {value} is used as {dtype}, which cannot hold it")]
    LiteralRange {
        /// The number.
        value: f64,
        /// The type it is used at.
        dtype: DType,
    },
    /// The expression reads the element index `i`, a `u32`, over more
    /// than 2^32 elements, where `i` would wrap.
    #[error("the element index `i` is a u32, so an expression that reads it runs over at most 2^32 elements; this job has {len}")]
    IndexRange {
        /// Elements of the job.
        len: usize,
    },
    /// An input name that is not a plain name (letters, digits and `_`,
    /// not starting with a digit) or is reserved (`i`, `inf`, `nan`, a
    /// function's name): its expression could not print as text that
    /// reads back.
    #[error("`{name}` cannot name an input: use letters, digits and _, not starting with a digit, and not i, inf, nan or a function's name")]
    InvalidName {
        /// The name (its first 80 characters).
        name: String,
    },
    /// The tree is deeper than [`MAX_DEPTH`](crate::expr::MAX_DEPTH).
    #[error("the expression is {depth} levels deep; swath runs expressions at most {max} deep")]
    TooDeep {
        /// Levels of the expression.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// [`Job::then`](crate::Job::then) after a reduction.
    #[error("cannot map after {reduce}: chain maps first, then reduce")]
    MapAfterReduce {
        /// The job's reduction.
        reduce: Reduce,
    },
    /// [`Job::then`](crate::Job::then) after a scan.
    #[error("cannot map after an {scan}: chain maps first, then scan")]
    MapAfterScan {
        /// The job's scan.
        scan: Scan,
    },
    /// [`Job::then`](crate::Job::then) after a filter.
    #[error("cannot map after a filter: chain maps first, then filter")]
    MapAfterFilter,
    /// [`Job::then`](crate::Job::then) with an expression that does not
    /// read exactly one input.
    #[error("a chained map reads one input, the previous map's value; `{expr}` reads {}", list_or(.inputs, "none"))]
    ChainInputs {
        /// The expression.
        expr: String,
        /// The inputs it reads.
        inputs: Vec<String>,
    },
}

/// Why a pipeline's description is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// Two arrays (inputs or stages) share a name.
    #[error("two arrays are named {name:?}")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// A stage reads no array, so it has no length.
    #[error("stage {stage:?} reads no array, so it has no length; read one of its inputs")]
    ReadsNoArray {
        /// The stage.
        stage: String,
    },
    /// [`Pipeline::output`](crate::Pipeline::output) names no stage.
    #[error("{name:?} is not a stage of this pipeline")]
    UnknownStage {
        /// The name given.
        name: String,
    },
    /// [`Outputs`](crate::Outputs) has no array of that name.
    #[error("no output named {name:?} (kept: {}); keep a stage with .output(name)", .kept.join(", "))]
    NoOutput {
        /// The name asked for.
        name: String,
        /// The arrays the run kept.
        kept: Vec<String>,
    },
    /// [`Pipeline::output_into`](crate::Pipeline::output_into) gives a
    /// slice whose length is not the stage's.
    #[error("stage {name:?} has {len} elements, but the slice to write it into has {slice}")]
    IntoLength {
        /// The stage.
        name: String,
        /// Its number of elements (1 for a reduction).
        len: usize,
        /// The slice's.
        slice: usize,
    },
    /// An output asked for as another type than its own.
    #[error("{name} is an array of {dtype}, not {asked}")]
    OutputType {
        /// The output.
        name: String,
        /// Its element type.
        dtype: DType,
        /// The type asked for.
        asked: DType,
    },
}

/// Characters of the user's text an error message quotes at most.
pub(crate) const EXCERPT_CHARS: usize = 80;

/// `text` as an error message quotes it: whole if short, else its first
/// [`EXCERPT_CHARS`] characters and `...`. Stops formatting there, so a
/// huge expression costs no more to quote than a short one.
pub(crate) fn excerpt(text: impl std::fmt::Display) -> String {
    struct Bounded(String, usize);
    impl std::fmt::Write for Bounded {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            for c in s.chars() {
                if self.1 == EXCERPT_CHARS {
                    return Err(std::fmt::Error);
                }
                self.0.push(c);
                self.1 += 1;
            }
            Ok(())
        }
    }
    let mut out = Bounded(String::new(), 0);
    if std::fmt::write(&mut out, format_args!("{text}")).is_err() {
        out.0.push_str("...");
    }
    out.0
}

fn list_or(names: &[String], none: &str) -> String {
    if names.is_empty() {
        none.to_string()
    } else {
        names.join(", ")
    }
}

/// A fault met while running a job on the GPU.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// wgpu rejected a resource or command (caught by an error scope).
    #[error("GPU validation error: {0}")]
    Validation(String),
    /// The device ran out of memory.
    #[error("GPU out of memory: {0}")]
    OutOfMemory(String),
    /// The device was lost (driver reset, removal, or destruction).
    #[error("GPU device lost: {0}")]
    DeviceLost(String),
    /// The GPU did not finish within the engine's poll timeout.
    #[error("GPU did not finish within {0:?}")]
    Timeout(Duration),
    /// The job cannot run on this adapter (a missing feature or limit).
    #[error("not supported on this GPU: {0}")]
    Unsupported(String),
    /// The driver did not compile a kernel within the engine's timeout.
    /// The job runs on the CPU; the compilation goes on, for later jobs.
    /// Not a fault of the device.
    #[error("the GPU driver did not compile the kernel within {0:?}")]
    CompileTimeout(Duration),
    /// swath asked the GPU for something inconsistent: a bug in swath, not
    /// a fault of the device, so it never counts against the GPU's health.
    #[error("internal error in swath (please report it): {0}")]
    Internal(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
