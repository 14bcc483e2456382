//! The one error type of swath.

use crate::dtype::DType;
use std::time::Duration;

/// Everything that can go wrong in a swath call.
///
/// Variants are meant to be matched on; each message says what to change.
/// GPU faults ([`GpuError`]) rarely reach a caller: a job that fails on the
/// GPU is rerun on the CPU, and the fault is reported in
/// [`Outcome::fallback`](crate::Outcome::fallback) instead.
#[derive(Debug, thiserror::Error)]
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
        reduce: crate::Reduce,
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
    /// The GPU was required (by policy) but no usable adapter exists.
    #[error("no usable GPU adapter{detail}; run on the CPU with the auto or cpu policy")]
    NoGpu {
        /// Extra context, such as the adapter filter that matched nothing.
        detail: String,
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
    Expr(String),
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
    Pipeline(String),
    /// A submitted job panicked; the panic is contained to its handle.
    #[error("job panicked: {0}")]
    JobPanicked(String),
    /// A GPU fault that could not be recovered on the CPU.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

fn describe_lengths(lengths: &[(String, usize)]) -> String {
    let each: Vec<String> = lengths.iter().map(|(name, len)| format!("{name} has {len}")).collect();
    each.join(", ")
}

/// A fault met while running a job on the GPU.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
