//! Counts of what crossed between host and device, so a caller can check
//! that resident data stays put (and tests can count round trips).

use std::sync::atomic::{AtomicU64, Ordering};

/// Host–device traffic of one engine's GPU since it was opened.
///
/// An upload is one array (or one input of a host-data job) copied to the
/// device, whatever number of binding-sized pieces it travels in; a
/// readback is one array or scalar copied back. Kernel parameters (a few
/// bytes a dispatch) are not counted.
///
/// ```
/// use swath::{Engine, Op};
/// let engine = Engine::new()?;
/// let before = engine.transfers();
/// let xs = engine.array(vec![1.0f32, 2.0, 3.0]);
/// let squares = xs.map(Op::Square)?.map(Op::Square)?.to_vec()?;
/// assert_eq!(squares, [1.0, 16.0, 81.0]);
/// let moved = engine.transfers().since(&before);
/// if xs.on_gpu() {
///     assert_eq!((moved.uploads, moved.readbacks), (1, 1));
/// }
/// # Ok::<(), swath::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transfers {
    /// Arrays copied host to device.
    pub uploads: u64,
    /// Bytes copied host to device.
    pub upload_bytes: u64,
    /// Arrays or scalars copied device to host.
    pub readbacks: u64,
    /// Bytes copied device to host.
    pub readback_bytes: u64,
    /// Command submissions to the GPU queue.
    pub submissions: u64,
    /// Kernel launches: a fused pipeline stage is one per binding-sized
    /// piece of its arrays, and a reduction one per level.
    pub dispatches: u64,
}

impl Transfers {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Transfers) -> Transfers {
        Transfers {
            uploads: self.uploads - earlier.uploads,
            upload_bytes: self.upload_bytes - earlier.upload_bytes,
            readbacks: self.readbacks - earlier.readbacks,
            readback_bytes: self.readback_bytes - earlier.readback_bytes,
            submissions: self.submissions - earlier.submissions,
            dispatches: self.dispatches - earlier.dispatches,
        }
    }
}

/// The live counters behind [`Transfers`].
#[derive(Default)]
pub(crate) struct Counters {
    uploads: AtomicU64,
    upload_bytes: AtomicU64,
    readbacks: AtomicU64,
    readback_bytes: AtomicU64,
    submissions: AtomicU64,
    dispatches: AtomicU64,
}

impl Counters {
    pub fn uploaded(&self, bytes: u64) {
        self.uploads.fetch_add(1, Ordering::Relaxed);
        self.upload_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn read_back(&self, bytes: u64) {
        self.readbacks.fetch_add(1, Ordering::Relaxed);
        self.readback_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn submitted(&self) {
        self.submissions.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dispatched(&self) {
        self.dispatches.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Transfers {
        Transfers {
            uploads: self.uploads.load(Ordering::Relaxed),
            upload_bytes: self.upload_bytes.load(Ordering::Relaxed),
            readbacks: self.readbacks.load(Ordering::Relaxed),
            readback_bytes: self.readback_bytes.load(Ordering::Relaxed),
            submissions: self.submissions.load(Ordering::Relaxed),
            dispatches: self.dispatches.load(Ordering::Relaxed),
        }
    }
}
