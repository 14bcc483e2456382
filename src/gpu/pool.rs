//! Device memory for arrays, recycled: the buffers of a dropped array go
//! back to a pool that later arrays of the same size draw from. That saves
//! the allocation and the zero-fill wgpu gives every new storage buffer,
//! which for a chain of stages costs as much as the stages themselves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// Most bytes the pool keeps idle; beyond it, dropped buffers are freed.
const IDLE_BYTES: u64 = 1 << 30;

/// Most buffers the pool keeps idle, whatever their size: each costs the
/// driver and wgpu some host memory of its own (a few KB), so a caller
/// who makes and drops millions of small arrays must not fill the pool.
const IDLE_BUFFERS: usize = 256;

/// Idle array buffers by size.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<Idle>,
}

#[derive(Default)]
struct Idle {
    by_size: HashMap<u64, Vec<wgpu::Buffer>>,
    bytes: u64,
    count: usize,
}

/// Usage of every array buffer.
const USAGE: wgpu::BufferUsages =
    wgpu::BufferUsages::STORAGE.union(wgpu::BufferUsages::COPY_SRC).union(wgpu::BufferUsages::COPY_DST);

impl Pool {
    /// An array buffer of exactly `size` bytes: an idle one, else a new one.
    pub fn take(&self, device: &wgpu::Device, size: u64) -> wgpu::Buffer {
        let reused = {
            let mut idle = self.lock();
            let buffer = idle.by_size.get_mut(&size).and_then(Vec::pop);
            if buffer.is_some() {
                idle.bytes -= size;
                idle.count -= 1;
            }
            buffer
        };
        reused.unwrap_or_else(|| Self::create(device, size, false))
    }

    /// A new array buffer of `size` bytes, mapped for writing if `mapped`.
    pub fn create(device: &wgpu::Device, size: u64, mapped: bool) -> wgpu::Buffer {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("swath array"),
            size,
            usage: USAGE,
            mapped_at_creation: mapped,
        })
    }

    fn give(&self, buffer: wgpu::Buffer) {
        let mut idle = self.lock();
        if idle.bytes + buffer.size() <= IDLE_BYTES && idle.count < IDLE_BUFFERS {
            idle.bytes += buffer.size();
            idle.count += 1;
            idle.by_size.entry(buffer.size()).or_default().push(buffer);
        }
    }

    /// Frees every idle buffer (after a fault, so no suspect buffer is reused).
    pub fn clear(&self) {
        *self.lock() = Idle::default();
    }

    fn lock(&self) -> MutexGuard<'_, Idle> {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The buffers of one array; they return to their pool when it drops.
/// Queue order makes that safe even while submitted work still uses them:
/// whoever draws them next writes in a later command.
pub(crate) struct Pooled {
    pub buffers: Vec<wgpu::Buffer>,
    pool: Weak<Pool>,
}

impl Pooled {
    pub fn new(buffers: Vec<wgpu::Buffer>, pool: &Arc<Pool>) -> Pooled {
        Pooled { buffers, pool: Arc::downgrade(pool) }
    }

    /// True if the buffers came from `pool`.
    pub fn is_from(&self, pool: &Arc<Pool>) -> bool {
        std::ptr::eq(self.pool.as_ptr(), Arc::as_ptr(pool))
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.upgrade() {
            self.buffers.drain(..).for_each(|buffer| pool.give(buffer));
        }
    }
}
