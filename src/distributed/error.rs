//! What can go wrong in a distributed run, on this rank or on another.

use crate::DType;
use std::io;
use std::path::PathBuf;

/// An error of a distributed run.
///
/// Collective calls ([`Cluster`](super::Cluster)'s methods) return [`Error::Rank`] on every rank
/// when any rank fails, so that every rank stops together instead of waiting for the one that
/// failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `MPI_Init` was already called in this process: there is one [`Cluster`](super::Cluster) per process.
    #[error("MPI is already initialized in this process; create one Cluster and pass it around")]
    AlreadyInitialized,
    /// An error from the local engine.
    #[error(transparent)]
    Swath(#[from] crate::Error),
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done: "open", "read", "create", "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: io::Error,
    },
    /// A file of raw values whose length is not a whole number of elements.
    #[error("{} holds {bytes} bytes, not a whole number of {dtype} values ({} bytes each)", path.display(), dtype.size())]
    RaggedFile {
        /// The file.
        path: PathBuf,
        /// Its length in bytes.
        bytes: u64,
        /// The element type it was read as.
        dtype: DType,
    },
    /// A buffer could not be allocated.
    #[error("cannot allocate {bytes} bytes for {what}")]
    OutOfMemory {
        /// What the buffer was for.
        what: &'static str,
        /// Its size.
        bytes: u64,
    },
    /// The data passed for this rank's shard has the wrong length.
    #[error("rank {rank} owns {expected} of the {n} elements but was given {got}")]
    ShardLength {
        /// This rank.
        rank: usize,
        /// Elements in its shard.
        expected: usize,
        /// Elements passed.
        got: usize,
        /// Elements over all ranks.
        n: usize,
    },
    /// Ranks disagree on a value that must be the same everywhere, such as the input's length.
    #[error("ranks disagree on {what}: from {min} to {max}; give every rank the same job and input")]
    Inconsistent {
        /// What the value is.
        what: &'static str,
        /// Its smallest value over the ranks.
        min: u64,
        /// Its largest value over the ranks.
        max: u64,
    },
    /// A rank failed; every rank returns this, with the message of the lowest failing rank.
    #[error("rank {rank} of {ranks}: {message}{}", others(*failed))]
    Rank {
        /// The lowest rank that failed.
        rank: usize,
        /// Ranks in the run.
        ranks: usize,
        /// How many ranks failed.
        failed: usize,
        /// That rank's error message.
        message: String,
    },
}

fn others(failed: usize) -> String {
    match failed {
        0 | 1 => String::new(),
        2 => " (1 other rank failed too)".into(),
        _ => format!(" ({} other ranks failed too)", failed - 1),
    }
}

/// `Result` with the distributed [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
