//! The engine's GPU: opened with the engine, marked unhealthy after a
//! loss, a timeout or repeated faults, and replaced by a new device on
//! request. Jobs take a reference to the current device when they start,
//! so a replacement never pulls a device from under a running job.

use crate::gpu::Gpu;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How to open a device, kept to open it again.
#[derive(Debug, Clone, Copy)]
pub(super) struct GpuOptions {
    pub timeout: Duration,
    pub chunk_bytes: Option<u64>,
}

pub(super) struct GpuSlot {
    options: GpuOptions,
    state: RwLock<State>,
}

struct State {
    gpu: Option<Arc<Gpu>>,
    /// Why there is no GPU (empty when there is one).
    absent: String,
}

impl GpuSlot {
    /// A slot holding a newly opened device, or why none opened.
    pub fn open(options: GpuOptions) -> GpuSlot {
        let slot = GpuSlot::empty(options, String::new());
        if let Err(why) = slot.reopen() {
            slot.write().absent = why;
        }
        slot
    }

    /// A slot that never holds a device.
    pub fn empty(options: GpuOptions, why: String) -> GpuSlot {
        GpuSlot { options, state: RwLock::new(State { gpu: None, absent: why }) }
    }

    /// The current device, if any.
    pub fn current(&self) -> Option<Arc<Gpu>> {
        self.read().gpu.clone()
    }

    /// Why there is no device (empty when there is one).
    pub fn absent(&self) -> String {
        self.read().absent.clone()
    }

    /// Opens a new device in place of the current one. On failure the
    /// current one stays, healthy or not.
    pub fn reopen(&self) -> Result<(), String> {
        let gpu = Gpu::open(self.options.timeout, self.options.chunk_bytes)?;
        *self.write() = State { gpu: Some(Arc::new(gpu)), absent: String::new() };
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
