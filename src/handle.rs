//! [`JobHandle`]: the result of a submitted job, to wait on or await.
//!
//! ```
//! use swath::{Engine, Op, Reduce};
//! let engine = Engine::cpu();
//! let handle = engine.submit(|engine| engine.map_reduce(&[1.0f32, 2.0, 3.0], Op::Square, Reduce::Sum));
//! // ... other work while the job runs on the engine's pool ...
//! assert_eq!(handle.wait()?, 14.0);
//! # Ok::<(), swath::Error>(())
//! ```
//!
//! A handle and the job that fills it share one [`Slot`] behind an `Arc`:
//! the job writes its result there, wakes any waiter, and drops its side;
//! whichever side lets go last frees the slot and anything left in it.

use crate::error::{Error, Result};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// How long a rayon worker waiting on a handle sleeps when its pool has no
/// other work to run before it looks for some again (see [`JobHandle::wait`]).
const WORKER_PARK: Duration = Duration::from_millis(1);

/// The result of a job submitted with [`Engine::submit`](crate::Engine::submit):
/// wait on it, check on it, or `.await` it.
///
/// ```
/// use swath::{Engine, Op};
/// let engine = Engine::cpu();
/// let handle = engine.submit(|engine| engine.map(&[1i32, -2, 3], Op::Abs));
/// // A handle is a future too; any executor drives it, no runtime needed.
/// assert_eq!(pollster::block_on(handle)?, [1, 2, 3]);
/// # Ok::<(), swath::Error>(())
/// ```
///
/// Dropping a handle without waiting detaches the job: it still runs to the
/// end (it may have side effects), and its result is dropped with it.
/// A panic in the job is its [`Error::JobPanicked`]; it reaches no other job.
#[must_use = "a dropped handle detaches its job and drops its result; call wait() to get it"]
pub struct JobHandle<R> {
    shared: Arc<Shared<R>>,
}

/// The side of a handle that the running job holds; created with the
/// handle by [`JobHandle::pending`].
pub(crate) struct Completer<R> {
    /// `None` once the result is in.
    shared: Option<Arc<Shared<R>>>,
}

/// What a handle and its job share.
struct Shared<R> {
    slot: Mutex<Slot<R>>,
    /// Signalled when the slot becomes [`Slot::Done`].
    done: Condvar,
}

/// Where a job stands, as its handle sees it.
enum Slot<R> {
    /// Not finished; the waker of the last poll, if the handle was polled.
    Pending(Option<Waker>),
    /// Finished; the result is waiting to be taken.
    Done(Result<R>),
    /// Finished, and the result was returned by a poll of the handle.
    Taken,
}

impl<R> Shared<R> {
    fn lock(&self) -> MutexGuard<'_, Slot<R>> {
        // The slot is consistent at every unlock, so a panic elsewhere
        // while it was locked leaves nothing to repair.
        self.slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<R> Slot<R> {
    /// The result if the job has finished; `None` while it runs.
    ///
    /// # Panics
    /// If the result was already returned by a poll of the handle.
    fn take(&mut self) -> Option<Result<R>> {
        match std::mem::replace(self, Slot::Taken) {
            Slot::Done(result) => Some(result),
            Slot::Pending(waker) => {
                *self = Slot::Pending(waker);
                None
            }
            Slot::Taken => panic!("JobHandle used after its future returned the result"),
        }
    }
}

impl<R> JobHandle<R> {
    /// A handle whose result is still to come, and the completer that the
    /// job uses to deliver it.
    pub(crate) fn pending() -> (JobHandle<R>, Completer<R>) {
        let shared = Arc::new(Shared { slot: Mutex::new(Slot::Pending(None)), done: Condvar::new() });
        (JobHandle { shared: Arc::clone(&shared) }, Completer { shared: Some(shared) })
    }

    /// Blocks until the job has finished and returns its result: the job's
    /// own value or error, or [`Error::JobPanicked`] if it panicked.
    ///
    /// ```
    /// use swath::{Engine, Reduce};
    /// let handle = Engine::cpu().submit(|engine| engine.reduce(&[3u32, 4, 5], Reduce::Max));
    /// assert_eq!(handle.wait()?, 5);
    /// # Ok::<(), swath::Error>(())
    /// ```
    ///
    /// It may be called from inside a submitted job, even on a pool of one
    /// thread whose only thread would otherwise be needed to run the job
    /// waited on: a rayon worker runs the pool's pending jobs while it waits.
    ///
    /// # Panics
    /// If the handle was polled as a future until it returned the result.
    pub fn wait(self) -> Result<R> {
        let mut slot = self.shared.lock();
        loop {
            if let Some(result) = slot.take() {
                return result;
            }
            if rayon::current_thread_index().is_none() {
                slot = self.shared.done.wait(slot).unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            // A rayon worker must not simply block: the job it waits on may
            // be queued on its own pool behind it (a job that submits
            // another and waits for it), and with every worker blocked
            // nothing would ever run that job. So it runs pending jobs of
            // its pool itself, and sleeps only briefly when there are none
            // (the job then runs elsewhere or on another pool), waking at
            // once if the job finishes. A job run here finishes before this
            // wait returns, even if the awaited result arrived meanwhile.
            drop(slot);
            let ran_one = rayon::yield_now() == Some(rayon::Yield::Executed);
            slot = self.shared.lock();
            if !ran_one && matches!(*slot, Slot::Pending(_)) {
                slot = self.shared.done.wait_timeout(slot, WORKER_PARK).unwrap_or_else(|p| p.into_inner()).0;
            }
        }
    }

    /// True once the job has finished (with a value, an error or a panic):
    /// [`wait`](JobHandle::wait) would then return at once.
    ///
    /// ```
    /// use swath::{Engine, Op};
    /// let handle = Engine::cpu().submit(|engine| engine.map(&[2.0f64], Op::Sqrt));
    /// while !handle.is_finished() {
    ///     std::thread::yield_now(); // or other work
    /// }
    /// assert!(handle.wait().is_ok());
    /// ```
    pub fn is_finished(&self) -> bool {
        !matches!(*self.shared.lock(), Slot::Pending(_))
    }

    /// The result if the job has finished, else the handle back, without
    /// blocking.
    ///
    /// ```
    /// use swath::{Engine, Op};
    /// let mut handle = Engine::cpu().submit(|engine| engine.map(&[1u32, 2], Op::Add(1.0)));
    /// let result = loop {
    ///     match handle.try_wait() {
    ///         Ok(result) => break result,
    ///         Err(pending) => handle = pending, // not finished: do something else
    ///     }
    /// };
    /// assert_eq!(result?, [2, 3]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    ///
    /// # Panics
    /// If the handle was polled as a future until it returned the result.
    pub fn try_wait(self) -> std::result::Result<Result<R>, JobHandle<R>> {
        let result = self.shared.lock().take();
        result.ok_or(self)
    }
}

/// Waits for every handle and returns the results in the handles' order;
/// a failed job gives its error in its place and hides none of the others.
///
/// ```
/// use swath::{wait_all, Engine, Op, Reduce};
/// let engine = Engine::cpu();
/// let handles = engine.submit_all([vec![1.0f32, 2.0], vec![], vec![3.0]], |engine, xs| {
///     engine.map_reduce(&xs, Op::Square, Reduce::Max) // max of nothing is an error
/// });
/// let results = wait_all(handles);
/// assert_eq!(results[0].as_ref().ok(), Some(&4.0));
/// assert!(results[1].is_err());
/// assert_eq!(results[2].as_ref().ok(), Some(&9.0));
/// ```
pub fn wait_all<R>(handles: impl IntoIterator<Item = JobHandle<R>>) -> Vec<Result<R>> {
    handles.into_iter().map(JobHandle::wait).collect()
}

/// Awaits the job's result, like [`JobHandle::wait`] without blocking a
/// thread. Inside a rayon pool, prefer `wait`: an executor that blocks the
/// worker (such as `pollster::block_on`) keeps it from running the job.
///
/// Polling the handle again after it returned the result panics, as for
/// most futures.
impl<R> Future for JobHandle<R> {
    type Output = Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<R>> {
        let mut slot = self.shared.lock();
        if let Some(result) = slot.take() {
            return Poll::Ready(result);
        }
        // Still running: keep the waker of this poll for the job to wake.
        if let Slot::Pending(waker) = &mut *slot {
            match waker {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            }
        }
        Poll::Pending
    }
}

impl<R> std::fmt::Debug for JobHandle<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobHandle").field("finished", &self.is_finished()).finish()
    }
}

impl<R> Completer<R> {
    /// Delivers the job's result: stores it, wakes whoever waits on the
    /// handle, and lets go of the shared slot (which frees it and the
    /// result if the handle is already gone).
    pub(crate) fn complete(mut self, result: Result<R>) {
        if let Some(shared) = self.shared.take() {
            deliver(&shared, result);
        }
    }
}

impl<R> Drop for Completer<R> {
    /// A job dropped before it delivered a result (its pool shut down
    /// without running it) still finishes its handle, so no one waits
    /// forever.
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            let why = "the job was dropped before it finished (its thread pool shut down)";
            deliver(&shared, Err(Error::JobPanicked(why.into())));
        }
    }
}

fn deliver<R>(shared: &Shared<R>, result: Result<R>) {
    let waker = match std::mem::replace(&mut *shared.lock(), Slot::Done(result)) {
        Slot::Pending(waker) => waker,
        Slot::Done(_) | Slot::Taken => None, // a completer delivers once
    };
    shared.done.notify_all();
    // Woken outside the lock: the executor may poll the handle at once.
    if let Some(waker) = waker {
        waker.wake();
    }
}
