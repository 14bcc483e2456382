//! Adapter selection and the device: opened once per engine.

use super::transfers::Counters;
use crate::error::GpuError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What swath knows about a GPU adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuInfo {
    /// Adapter name, as the driver reports it.
    pub name: String,
    /// Graphics API (Vulkan, Metal, Dx12).
    pub backend: String,
    /// Discrete, integrated, virtual, software (`Cpu`) or other.
    pub device_type: String,
    /// Driver name and version.
    pub driver: String,
    /// A software rasterizer (llvmpipe, lavapipe, WARP): correct, not fast.
    pub software: bool,
    /// Has `SHADER_F64`, so f64 jobs can run on it.
    pub shader_f64: bool,
    /// Largest storage binding in bytes; longer inputs are chunked.
    pub max_binding_bytes: u64,
    /// Most input arrays one expression kernel can read (storage bindings
    /// per shader stage, less the output).
    pub max_inputs: usize,
}

impl GpuInfo {
    fn of(adapter: &wgpu::Adapter) -> GpuInfo {
        let info = adapter.get_info();
        let limits = adapter.limits();
        GpuInfo {
            name: info.name,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
            software: info.device_type == wgpu::DeviceType::Cpu,
            shader_f64: adapter.features().contains(wgpu::Features::SHADER_F64),
            max_binding_bytes: limits.max_storage_buffer_binding_size.min(limits.max_buffer_size),
            max_inputs: (limits.max_storage_buffers_per_shader_stage as usize).saturating_sub(1),
        }
    }
}

impl std::fmt::Display for GpuInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {}, {})", self.name, self.backend, self.device_type, self.driver)
    }
}

/// Every adapter wgpu finds (honouring `WGPU_BACKEND`), best first: the
/// order in which swath would pick them.
///
/// ```
/// for gpu in swath::adapters() {
///     println!("{gpu}");
/// }
/// ```
pub fn adapters() -> Vec<GpuInfo> {
    ranked_adapters(&instance()).iter().map(GpuInfo::of).collect()
}

/// The adapter an engine would open under the `auto` or `gpu` policy, or
/// why there is none.
///
/// ```
/// match swath::preferred_adapter() {
///     Ok(gpu) => println!("GPU jobs would run on {gpu}"),
///     Err(why) => println!("no GPU: {why}"),
/// }
/// ```
pub fn preferred_adapter() -> Result<GpuInfo, String> {
    pick(adapters(), |info| info.name.clone())
}

/// The first of the ranked `candidates` whose name contains
/// `WGPU_ADAPTER_NAME` (case-insensitive), or the first if it is unset.
fn pick<A>(candidates: Vec<A>, name: impl Fn(&A) -> String) -> Result<A, String> {
    match std::env::var("WGPU_ADAPTER_NAME") {
        Ok(wanted) if !wanted.is_empty() => {
            let wanted = wanted.to_lowercase();
            candidates
                .into_iter()
                .find(|a| name(a).to_lowercase().contains(&wanted))
                .ok_or_else(|| format!("no adapter name contains WGPU_ADAPTER_NAME={wanted:?} (see `swath devices`)"))
        }
        _ => candidates.into_iter().next().ok_or_else(|| "wgpu found no adapter with compute shaders".to_string()),
    }
}

/// The wgpu instance: primary backends, and no debugging flags whatever
/// the build. wgpu's default turns the driver's validation layer and debug
/// labels on in builds with debug assertions (tests among them), and a
/// validation layer installed on a GPU server would then slow every job
/// and inflate any timing. `WGPU_VALIDATION=1` or `WGPU_DEBUG=1` turn them
/// on for a debugging session.
fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::PRIMARY;
    desc.flags = wgpu::InstanceFlags::empty();
    wgpu::Instance::new(desc.with_env())
}

/// Adapters that can run compute shaders, real GPUs before software ones.
fn ranked_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters: Vec<_> = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .filter(|a| a.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS))
        .collect();
    adapters.sort_by_key(|a| match a.get_info().device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    });
    adapters
}

/// The opened device, and what went wrong with it since.
pub(crate) struct Context {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: GpuInfo,
    /// Longest wait for one submission before it counts as a fault.
    pub timeout: Duration,
    /// Uploads, readbacks and submissions so far.
    pub counters: Counters,
    /// Most bytes of one array a chunk of host data holds.
    pub chunk_bytes: u64,
    /// Most bytes of one resident array a segment holds.
    pub segment_bytes: u64,
    lost: Arc<AtomicBool>,
    lost_reason: Arc<Mutex<String>>,
}

impl Context {
    /// Opens the best adapter, or the first whose name contains
    /// `WGPU_ADAPTER_NAME`. The error says why none could be opened.
    pub fn open(timeout: Duration) -> Result<Context, String> {
        let adapter = pick(ranked_adapters(&instance()), |a| a.get_info().name)?;
        let info = GpuInfo::of(&adapter);
        let features = adapter.features() & (wgpu::Features::SHADER_F64 | wgpu::Features::TIMESTAMP_QUERY);
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("swath"),
            required_features: features,
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|e| format!("cannot open {}: {e}", info.name))?;

        let lost = Arc::new(AtomicBool::new(false));
        let lost_reason = Arc::new(Mutex::new(String::new()));
        let (flag, reason) = (lost.clone(), lost_reason.clone());
        device.set_device_lost_callback(move |why, message| {
            if let Ok(mut reason) = reason.lock() {
                *reason = format!("{why:?}: {message}");
            }
            flag.store(true, Ordering::SeqCst);
        });
        // Errors outside an error scope must not panic (wgpu's default):
        // swath scopes all its work, so this only logs stragglers.
        device.on_uncaptured_error(Arc::new(|error| log::error!("uncaptured GPU error: {error}")));
        Ok(Context {
            device,
            queue,
            info,
            timeout,
            counters: Counters::default(),
            chunk_bytes: u64::MAX,
            segment_bytes: u64::MAX,
            lost,
            lost_reason,
        })
    }

    /// True until the device is lost.
    pub fn healthy(&self) -> bool {
        !self.lost.load(Ordering::SeqCst)
    }

    /// The device-lost fault, if the device was lost.
    pub fn lost(&self) -> Option<GpuError> {
        (!self.healthy()).then(|| GpuError::DeviceLost(self.lost_reason.lock().map(|r| r.clone()).unwrap_or_default()))
    }

    /// Polls the device once, so that a loss not yet reported (wgpu reports
    /// it from a poll) runs the lost callback, then returns the loss if any.
    pub fn check_lost(&self) -> Option<GpuError> {
        let _ = self.device.poll(wgpu::PollType::Poll);
        self.lost()
    }

    /// Submits `commands` to the queue, counting the submission. Also
    /// checks, without waiting, for work the device has finished: wgpu
    /// frees what a submission used (its command buffers, bind groups and
    /// the buffers dropped since) only when the device is polled, and a
    /// caller who never reads a result back would otherwise never poll.
    pub fn submit(&self, commands: impl IntoIterator<Item = wgpu::CommandBuffer>) -> wgpu::SubmissionIndex {
        self.counters.submitted();
        let submission = self.queue.submit(commands);
        let _ = self.device.poll(wgpu::PollType::Poll);
        submission
    }

    /// Waits for `submission`, turning a timeout or a loss into a fault.
    pub fn wait(&self, submission: wgpu::SubmissionIndex) -> Result<(), GpuError> {
        self.wait_for(Some(submission))
    }

    fn wait_for(&self, submission_index: Option<wgpu::SubmissionIndex>) -> Result<(), GpuError> {
        let waited = self.device.poll(wgpu::PollType::Wait { submission_index, timeout: Some(self.timeout) });
        if let Some(lost) = self.lost() {
            return Err(lost);
        }
        match waited {
            Ok(_) => Ok(()),
            Err(wgpu::PollError::Timeout) => Err(GpuError::Timeout(self.timeout)),
            Err(e) => Err(GpuError::DeviceLost(e.to_string())),
        }
    }

    /// Runs `work` inside validation and out-of-memory error scopes, so a
    /// wgpu error becomes a [`GpuError`] instead of a panic.
    pub fn scoped<R>(&self, work: impl FnOnce() -> Result<R, GpuError>) -> Result<R, GpuError> {
        if let Some(lost) = self.lost() {
            return Err(lost);
        }
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let result = work();
        let validation = pollster::block_on(validation.pop());
        let oom = pollster::block_on(oom.pop());
        // Any failure may be the first sign of a lost device: ask the device.
        let failed = validation.is_some() || oom.is_some() || result.is_err();
        if let Some(lost) = if failed { self.check_lost() } else { self.lost() } {
            return Err(lost);
        }
        if let Some(error) = oom {
            return Err(GpuError::OutOfMemory(error.to_string()));
        }
        if let Some(error) = validation {
            return Err(GpuError::Validation(error.to_string()));
        }
        result
    }
}
