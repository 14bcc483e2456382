//! Compiled pipelines, built once per [`Kernel`] and reused; at most
//! [`KEPT`] of them, the least recently used dropped first, so a caller
//! who runs ever new expression structures does not grow memory without
//! bound (each pipeline holds a few hundred KB of driver state).
//!
//! A driver may take seconds to compile a long kernel. So a compilation
//! runs on a thread of its own, outside every lock: jobs that need other
//! kernels go on meanwhile, jobs that need the same one wait for that one
//! compilation (never a second), and no job waits longer than the
//! engine's GPU timeout; the compilation then finishes for later jobs.

use super::context::Context;
use super::kernel::Kernel;
use crate::error::GpuError;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Pipelines kept at most.
pub(crate) const KEPT: usize = 256;

#[derive(Default)]
pub(crate) struct KernelCache {
    cache: Mutex<Lru<Kernel, Arc<Compilation<wgpu::ComputePipeline>>>>,
}

impl KernelCache {
    /// The pipeline of `kernel`, compiled on first use. swath generates
    /// every shader, so one that the driver rejects is swath's bug, not a
    /// fault of the device: it is a [`GpuError::Internal`], which never
    /// counts against the GPU's health. Neither does a compilation that
    /// outlasts the timeout ([`GpuError::CompileTimeout`]).
    pub fn get(&self, ctx: &Context, kernel: &Kernel) -> Result<wgpu::ComputePipeline, GpuError> {
        let compilation = {
            let mut cache = lock(&self.cache);
            match cache.get(kernel) {
                Some(compilation) => Arc::clone(compilation),
                None => {
                    let (device, job) = (ctx.device.clone(), kernel.clone());
                    let compilation = Compilation::start(move || compile(&device, &job))?;
                    cache.insert(kernel.clone(), Arc::clone(&compilation), KEPT);
                    compilation
                }
            }
        };
        compilation.wait(ctx.timeout)
    }

    /// Pipelines compiled (or compiling) and kept.
    pub fn len(&self) -> usize {
        lock(&self.cache).map.len()
    }

    /// Forgets every pipeline (one that failed to build stays invalid).
    /// Compilations under way finish for the jobs that wait on them.
    pub fn clear(&self) {
        lock(&self.cache).map.clear();
    }
}

/// One compilation, run on a thread of its own: its result once done.
struct Compilation<T> {
    done: Mutex<Option<Result<T, GpuError>>>,
    finished: Condvar,
}

impl<T: Clone + Send + 'static> Compilation<T> {
    fn start(work: impl FnOnce() -> Result<T, GpuError> + Send + 'static) -> Result<Arc<Self>, GpuError> {
        let compilation = Arc::new(Compilation { done: Mutex::new(None), finished: Condvar::new() });
        let owner = Arc::clone(&compilation);
        std::thread::Builder::new()
            .name("swath-compile".into())
            .spawn(move || {
                *lock(&owner.done) = Some(work());
                owner.finished.notify_all();
            })
            .map_err(|e| GpuError::Unsupported(format!("no thread to compile a kernel on: {e}")))?;
        Ok(compilation)
    }

    /// The result, once compiled; waits `timeout` at most.
    fn wait(&self, timeout: Duration) -> Result<T, GpuError> {
        let done = lock(&self.done);
        let (done, _) = self
            .finished
            .wait_timeout_while(done, timeout, |done| done.is_none())
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        done.clone().unwrap_or(Err(GpuError::CompileTimeout(timeout)))
    }
}

fn compile(device: &wgpu::Device, kernel: &Kernel) -> Result<wgpu::ComputePipeline, GpuError> {
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
    match pollster::block_on(scope.pop()) {
        Some(error) => Err(GpuError::Internal(format!("the driver rejects the kernel {label}: {error}"))),
        None => Ok(pipeline),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
    use super::{Compilation, Lru};
    use crate::error::GpuError;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_slow_compilation_holds_up_only_its_own_waiters_and_only_until_the_timeout() {
        let (release, released) = mpsc::channel::<()>();
        let slow = Compilation::start(move || {
            released.recv().ok();
            Ok("slow")
        })
        .unwrap();
        let quick = Compilation::start(|| Ok("quick")).unwrap();
        assert_eq!(quick.wait(Duration::from_secs(60)), Ok("quick"), "another kernel is not held up");
        let short = Duration::from_millis(20);
        assert_eq!(slow.wait(short), Err(GpuError::CompileTimeout(short)), "a waiter gives up at its timeout");
        release.send(()).unwrap();
        assert_eq!(slow.wait(Duration::from_secs(60)), Ok("slow"), "the compilation went on for later jobs");
    }

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
