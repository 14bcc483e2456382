//! [`Watchdog`]: aborts every rank when a distributed job runs past its deadline.

use mpi::topology::SimpleCommunicator;
use mpi::traits::Communicator;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Exit status of every rank when the watchdog aborts the run, as `timeout(1)` uses.
pub const TIMEOUT_EXIT_CODE: i32 = 124;

/// A thread that calls `MPI_Abort` on every rank if it is not dropped within its timeout.
///
/// A rank that hangs (a stuck device, a rank that never reaches a collective call) would leave the
/// others waiting forever; the watchdog turns that into an error message with the rank number and
/// exit status [`TIMEOUT_EXIT_CODE`]. Drop it when the job is done. Created by
/// [`Cluster::watchdog`](super::Cluster::watchdog).
#[derive(Debug)]
pub struct Watchdog {
    done: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    pub(crate) fn start(rank: usize, ranks: usize, timeout: Duration) -> std::io::Result<Watchdog> {
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let watched = Arc::clone(&done);
        let thread = std::thread::Builder::new().name("swath-watchdog".into()).spawn(move || {
            let (lock, wake) = &*watched;
            let finished = lock.lock().unwrap_or_else(PoisonError::into_inner);
            let (finished, _) =
                wake.wait_timeout_while(finished, timeout, |finished| !*finished).unwrap_or_else(PoisonError::into_inner);
            if !*finished {
                eprintln!(
                    "error: rank {rank} of {ranks}: the distributed job did not finish within {} s; aborting every rank",
                    timeout.as_secs_f64()
                );
                SimpleCommunicator::world().abort(TIMEOUT_EXIT_CODE);
            }
        })?;
        Ok(Watchdog { done, thread: Some(thread) })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (lock, wake) = &*self.done;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            // The thread only waits and, on timeout, aborts the process: it cannot panic.
            let _ = thread.join();
        }
    }
}
