//! [`Engine::synchronize`]: a point after which the GPU is idle, for
//! callers who time work that leaves its results on the device.

use super::Engine;
use crate::error::Result;

impl Engine {
    /// Waits until the GPU has finished every job submitted so far.
    ///
    /// Pipelines and array maps on the GPU return as soon as their work is
    /// submitted, and reading a result waits for it; a caller who keeps
    /// the result on the device (to time it, or to bound the work in
    /// flight) waits here instead. Returns at once when no GPU is open.
    /// A GPU that does not finish within the engine's GPU timeout, or is
    /// lost, is an error, and counts against the GPU's health as a job's
    /// fault does.
    ///
    /// ```
    /// use swath::{Engine, Op};
    /// let engine = Engine::new()?;
    /// let xs = engine.array(vec![1.0f32; 1 << 16]);
    /// let squares = xs.map(Op::Square)?; // submitted, maybe still running
    /// engine.synchronize()?;             // done now, still on the device
    /// assert_eq!(squares.len(), 1 << 16);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn synchronize(&self) -> Result<()> {
        match self.core.gpu.opened().flatten() {
            Some(gpu) => Ok(gpu.wait_idle()?),
            None => Ok(()),
        }
    }
}
