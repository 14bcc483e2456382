//! [`Engine::probe_gpu_bandwidth`]: the speeds that bound GPU work, measured
//! on the engine's own device, so a benchmark can say how close a kernel
//! or a transfer comes to what the hardware allows.

use super::Engine;
use crate::error::{Error, Result};
use crate::gpu::GpuBandwidth;

impl Engine {
    /// Measures the engine's GPU over copies of `bytes` bytes: device
    /// memory to device memory (what bounds kernels on resident arrays),
    /// and host-visible memory to the device and back (the link, which
    /// bounds jobs on host data). See [`GpuBandwidth`] for the units.
    ///
    /// It allocates four buffers of `bytes` and takes the GPU for about
    /// eighteen copies; use a size well above the GPU's caches (hundreds
    /// of MB) to measure memory rather than cache. Without a GPU (the
    /// `cpu` policy, no adapter, a device lost) it is [`Error::NoGpu`] or
    /// the GPU's fault; under `auto` it opens the GPU if none is open yet.
    ///
    /// ```
    /// let engine = swath::Engine::new()?;
    /// match engine.probe_gpu_bandwidth(16 << 20) {
    ///     Ok(gpu) => println!(
    ///         "device copy {:.1} GB/s, upload {:.1} GB/s, readback {:.1} GB/s",
    ///         gpu.device_copy, gpu.upload, gpu.readback
    ///     ),
    ///     Err(why) => println!("no GPU bandwidth: {why}"),
    /// }
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn probe_gpu_bandwidth(&self, bytes: u64) -> Result<GpuBandwidth> {
        let gpu = self.current_gpu().ok_or_else(|| Error::NoGpu { reason: self.gpu_absent_reason() })?;
        Ok(gpu.probe_bandwidth(bytes)?)
    }
}
