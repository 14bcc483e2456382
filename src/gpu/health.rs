//! Whether a GPU still deserves jobs. A lost device or a poll that timed
//! out makes it unhealthy at once; so do several faults in a row, whatever
//! they are. An unhealthy GPU takes no jobs until the engine reopens it.

use crate::error::GpuError;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Faults in a row after which a GPU is marked unhealthy.
pub(crate) const FAULTS_IN_A_ROW: u32 = 3;

#[derive(Default)]
pub(crate) struct Health {
    /// Why the GPU was marked unhealthy, once it is.
    unhealthy: Mutex<Option<String>>,
    faults_in_a_row: AtomicU32,
}

impl Health {
    /// Why the GPU takes no more jobs, if it does not.
    pub fn unhealthy(&self) -> Option<String> {
        self.lock().clone()
    }

    /// Takes note of how a job ended.
    pub fn record<R>(&self, result: &Result<R, GpuError>) {
        let fault = match result {
            Ok(_) => {
                self.faults_in_a_row.store(0, Ordering::Relaxed);
                return;
            }
            // Not the device's fault: the job asked for something it
            // lacks, its kernel compiles slowly, or swath asked for
            // something inconsistent.
            Err(GpuError::Unsupported(_) | GpuError::CompileTimeout(_) | GpuError::Internal(_)) => return,
            Err(fault) => fault,
        };
        let in_a_row = self.faults_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        let why = match fault {
            GpuError::DeviceLost(_) | GpuError::Timeout(_) => fault.to_string(),
            _ if in_a_row >= FAULTS_IN_A_ROW => format!("{in_a_row} faults in a row, the last: {fault}"),
            _ => return,
        };
        self.lock().get_or_insert(why);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.unhealthy.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fault() -> Result<(), GpuError> {
        Err(GpuError::Validation("bad".into()))
    }

    #[test]
    fn a_timeout_or_a_loss_is_unhealthy_at_once() {
        for fault in [GpuError::Timeout(Duration::from_secs(1)), GpuError::DeviceLost("gone".into())] {
            let health = Health::default();
            health.record::<()>(&Err(fault));
            assert!(health.unhealthy().is_some());
        }
    }

    #[test]
    fn other_faults_count_only_in_a_row() {
        let health = Health::default();
        for _ in 1..FAULTS_IN_A_ROW {
            health.record(&fault());
        }
        health.record(&Ok(()));
        for _ in 1..FAULTS_IN_A_ROW {
            health.record(&fault());
        }
        health.record::<()>(&Err(GpuError::Unsupported("no f64".into())));
        assert_eq!(health.unhealthy(), None);
        health.record(&fault());
        assert!(health.unhealthy().unwrap().contains("in a row"));
    }
}
