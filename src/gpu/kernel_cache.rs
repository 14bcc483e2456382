//! Compiled pipelines, built once per [`Kernel`] and reused.

use super::kernel::Kernel;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct KernelCache {
    cache: Mutex<HashMap<Kernel, wgpu::ComputePipeline>>,
}

impl KernelCache {
    /// The pipeline of `kernel`, compiled on first use. Must run inside an
    /// error scope: a shader the driver rejects surfaces there.
    pub fn get(&self, device: &wgpu::Device, kernel: &Kernel) -> wgpu::ComputePipeline {
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .entry(kernel.clone())
            .or_insert_with(|| {
                let label = kernel.label();
                let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(&label),
                    source: wgpu::ShaderSource::Wgsl(kernel.source().into()),
                });
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&label),
                    layout: None,
                    module: &module,
                    entry_point: Some("main"),
                    compilation_options: Default::default(),
                    cache: None,
                })
            })
            .clone()
    }

    /// Pipelines compiled and kept.
    pub fn len(&self) -> usize {
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }

    /// Forgets every pipeline (one that failed to build stays invalid).
    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
    }
}
