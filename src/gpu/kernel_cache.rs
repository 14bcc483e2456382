//! Compiled pipelines, built once per [`Kernel`] and reused; at most
//! [`KEPT`] of them, the least recently used dropped first, so a caller
//! who runs ever new expression structures does not grow memory without
//! bound (each pipeline holds a few hundred KB of driver state).

use super::kernel::Kernel;
use crate::error::GpuError;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Pipelines kept at most.
pub(crate) const KEPT: usize = 256;

#[derive(Default)]
pub(crate) struct KernelCache {
    cache: Mutex<Lru<Kernel, wgpu::ComputePipeline>>,
}

impl KernelCache {
    /// The pipeline of `kernel`, compiled on first use. swath generates
    /// every shader, so one that the driver rejects is swath's bug, not a
    /// fault of the device: it is a [`GpuError::Internal`], which never
    /// counts against the GPU's health.
    pub fn get(&self, device: &wgpu::Device, kernel: &Kernel) -> Result<wgpu::ComputePipeline, GpuError> {
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(pipeline) = cache.get(kernel) {
            return Ok(pipeline.clone());
        }
        let label = kernel.label();
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(&label),
            source: wgpu::ShaderSource::Wgsl(kernel.source().into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&label),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(GpuError::Internal(format!("the driver rejects the kernel {label}: {error}")));
        }
        cache.insert(kernel.clone(), pipeline.clone(), KEPT);
        Ok(pipeline)
    }

    /// Pipelines compiled and kept.
    pub fn len(&self) -> usize {
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).map.len()
    }

    /// Forgets every pipeline (one that failed to build stays invalid).
    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).map.clear();
    }
}

/// A map that keeps the most recently used entries.
struct Lru<K, V> {
    /// Each value with the tick of its last use.
    map: HashMap<K, (V, u64)>,
    tick: u64,
}

impl<K, V> Default for Lru<K, V> {
    fn default() -> Self {
        Lru { map: HashMap::new(), tick: 0 }
    }
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    fn get(&mut self, key: &K) -> Option<&V> {
        self.tick += 1;
        let (value, used) = self.map.get_mut(key)?;
        *used = self.tick;
        Some(value)
    }

    /// Inserts `value`, first dropping the least recently used entry if
    /// `kept` are held. (A linear scan, but only when a new kernel was
    /// just compiled, which costs far more.)
    fn insert(&mut self, key: K, value: V, kept: usize) {
        if self.map.len() >= kept {
            if let Some(oldest) = self.map.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone()) {
                self.map.remove(&oldest);
            }
        }
        self.tick += 1;
        self.map.insert(key, (value, self.tick));
    }
}

#[cfg(test)]
mod tests {
    use super::Lru;

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let mut lru = Lru::default();
        for k in 0..3 {
            lru.insert(k, k * 10, 3);
        }
        assert_eq!(lru.get(&0), Some(&0), "0 is now the most recently used");
        lru.insert(3, 30, 3);
        assert_eq!(lru.map.len(), 3);
        assert_eq!(lru.get(&1), None, "1 was the least recently used");
        assert_eq!(lru.get(&0), Some(&0));
        assert_eq!(lru.get(&2), Some(&20));
        assert_eq!(lru.get(&3), Some(&30));
        for k in 4..1000 {
            lru.insert(k, k, 3);
        }
        assert_eq!(lru.map.len(), 3, "never more than kept");
    }
}
