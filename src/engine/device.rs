//! The engine's GPU: opened when the first job that may use it arrives
//! (or at once for the gpu policy), marked unhealthy after a loss, a
//! timeout or repeated faults, and replaced by a new device on request.
//! Jobs take a reference to the current device when they start, so a
//! replacement never pulls a device from under a running job.
//!
//! Opening an adapter costs a few hundred milliseconds and wakes the
//! driver, which may print to stderr; an engine whose jobs all stay on
//! the CPU (small ones, under `auto`) never pays for it.

use crate::gpu::Gpu;
use std::sync::{Arc, Mutex, RwLock};
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
    /// Held while a device opens, so that one opens at a time.
    opening: Mutex<()>,
}

struct State {
    /// False until the first attempt to open a device.
    tried: bool,
    gpu: Option<Arc<Gpu>>,
    /// Why there is no GPU (empty when there is one).
    absent: String,
}

impl GpuSlot {
    /// A slot that opens its device on first use.
    pub fn lazy(options: GpuOptions) -> GpuSlot {
        let state = State { tried: false, gpu: None, absent: String::new() };
        GpuSlot { options, state: RwLock::new(state), opening: Mutex::new(()) }
    }

    /// A slot holding a newly opened device, or why none opened.
    pub fn open(options: GpuOptions) -> GpuSlot {
        let slot = GpuSlot::lazy(options);
        slot.open_once();
        slot
    }

    /// A slot that never holds a device.
    pub fn empty(options: GpuOptions, why: String) -> GpuSlot {
        let state = State { tried: true, gpu: None, absent: why };
        GpuSlot { options, state: RwLock::new(state), opening: Mutex::new(()) }
    }

    /// The current device, if any; opens one on first use.
    pub fn current(&self) -> Option<Arc<Gpu>> {
        self.open_once();
        self.read().gpu.clone()
    }

    /// The current device without opening one: `None` until a first use
    /// has tried to open it.
    pub fn opened(&self) -> Option<Option<Arc<Gpu>>> {
        let state = self.read();
        state.tried.then(|| state.gpu.clone())
    }

    /// Why there is no device (empty when there is one); opens one on
    /// first use.
    pub fn absent(&self) -> String {
        self.open_once();
        self.read().absent.clone()
    }

    /// Opens a new device in place of the current one. On failure the
    /// current one stays, healthy or not.
    pub fn reopen(&self) -> Result<(), String> {
        let _opening = self.opening.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let opened = Gpu::open(self.options.timeout, self.options.chunk_bytes);
        let mut state = self.write();
        state.tried = true;
        match opened {
            Ok(gpu) => {
                *state = State { tried: true, gpu: Some(Arc::new(gpu)), absent: String::new() };
                Ok(())
            }
            Err(why) => {
                if state.gpu.is_none() {
                    state.absent = why.clone();
                }
                Err(why)
            }
        }
    }

    /// Opens the device if no use has tried yet.
    fn open_once(&self) {
        if !self.read().tried {
            let _opening = self.opening.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if !self.read().tried {
                let opened = Gpu::open(self.options.timeout, self.options.chunk_bytes);
                *self.write() = match opened {
                    Ok(gpu) => State { tried: true, gpu: Some(Arc::new(gpu)), absent: String::new() },
                    Err(why) => State { tried: true, gpu: None, absent: why },
                };
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
