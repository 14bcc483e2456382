//! Opening the engine from the command-line options.

use swath::{Engine, Policy};

/// An engine with `policy` (else `SWATH_DEVICE`, else auto) and, if given, a pool of `threads` CPU threads.
pub fn open(policy: Option<Policy>, threads: Option<usize>) -> swath::Result<Engine> {
    let mut builder = Engine::builder();
    if let Some(policy) = policy {
        builder = builder.policy(policy);
    }
    if let Some(threads) = threads {
        builder = builder.threads(threads);
    }
    builder.build()
}
