//! Arrays whose length only the device knows yet: the result of a
//! compaction on the GPU.
//!
//! A filter's kept count exists on the device once its job has run; the
//! host would have to wait for the job and read it back to learn it. The
//! array keeps it there instead, with its values, and resolves it when
//! first needed: its `len()`, `to_vec()` or any job on it. Resolution
//! reads back only the kept counts (4 bytes a segment) and, when there
//! is more than one segment, moves the values together on the device
//! (see [`crate::gpu::Compacted`]); clones share it, so it happens once.
//!
//! Resolution cannot fail: if the GPU fails then, the array is
//! recomputed on the CPU from its origin, and the recomputed values give
//! the length. So [`Array::len`](crate::Array::len) and every internal
//! use of an array's length stay infallible, and the pending state lives
//! only here, behind [`Raw::len`](super::Raw::len) and
//! [`Raw::store`](super::Raw::store), rather than in every caller.

use super::{Origin, Store};
use crate::engine::Engine;
use crate::exec::note_fault;
use crate::gpu::Compacted;
use std::sync::{Mutex, OnceLock};

/// A compaction's result before and after its length is read.
pub(super) struct Pending {
    /// The staged result, until resolution takes it.
    staged: Mutex<Option<Compacted>>,
    resolved: OnceLock<(usize, Store)>,
}

impl Pending {
    pub fn new(compacted: Compacted) -> Pending {
        Pending { staged: Mutex::new(Some(compacted)), resolved: OnceLock::new() }
    }

    /// The length and values, resolved on the first call: on the GPU, or
    /// recomputed from `origin` on `engine`'s CPU pool if the GPU fails.
    pub fn resolve(&self, engine: &Engine, origin: &Origin) -> (usize, &Store) {
        let (len, store) = self.resolved.get_or_init(|| {
            let staged = self.staged.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
            let resolved = match (engine.current_gpu(), staged) {
                (Some(gpu), Some(staged)) => gpu.resolve(staged).map_err(note_fault).ok(),
                // No GPU left, or an earlier resolution panicked.
                _ => None,
            };
            match resolved {
                Some(array) => (array.len, Store::Device(array)),
                None => {
                    let values = origin.recompute(engine);
                    (values.column().len(), Store::Host(values))
                }
            }
        });
        (*len, store)
    }

    /// The length and values, if resolved already.
    pub fn resolved(&self) -> Option<(usize, &Store)> {
        self.resolved.get().map(|(len, store)| (*len, store))
    }
}
