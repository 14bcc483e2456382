//! Jobs in the background and fork-join on the engine's pool: submit a job,
//! get a [`JobHandle`], collect the result later (the `concurrent.futures`
//! pattern); or split user work with [`Engine::join`] and [`Engine::scope`]
//! on the engine's threads instead of a second pool that would compete
//! with them.
//!
//! ```
//! use swath::{wait_all, Engine, Op, Reduce};
//! let engine = Engine::cpu();
//! let arrays = vec![vec![1.0f32, 2.0], vec![3.0, 4.0, 5.0]];
//! let handles = engine.submit_all(arrays, |engine, xs| engine.map_reduce(&xs, Op::Square, Reduce::Sum));
//! let sums: Vec<f32> = wait_all(handles).into_iter().collect::<swath::Result<_>>()?;
//! assert_eq!(sums, [5.0, 50.0]);
//! # Ok::<(), swath::Error>(())
//! ```

use super::Engine;
use crate::error::{Error, Result};
use crate::handle::JobHandle;
use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

impl Engine {
    /// Starts `task` on the engine's pool and returns at once with a handle
    /// to its result. The task gets a clone of the engine to run jobs with.
    ///
    /// ```
    /// use swath::{Engine, Op, Reduce};
    /// let engine = Engine::cpu();
    /// let xs: Vec<f32> = (1..=1000).map(|i| i as f32).collect();
    /// let handle = engine.submit(move |engine| engine.map_reduce(&xs, Op::Sqrt, Reduce::Max));
    /// // ... the caller is free meanwhile ...
    /// assert_eq!(handle.wait()?, 1000f32.sqrt());
    /// # Ok::<(), swath::Error>(())
    /// ```
    ///
    /// Tasks start in submission order (first in, first out) as threads of
    /// the pool become free. A task that panics gives
    /// [`Error::JobPanicked`] with the panic's message; an error or a panic
    /// in one task never affects another. Dropping the handle does not
    /// stop the task.
    pub fn submit<R, F>(&self, task: F) -> JobHandle<R>
    where
        R: Send + 'static,
        F: FnOnce(&Engine) -> Result<R> + Send + 'static,
    {
        let (handle, completer) = JobHandle::pending();
        let engine = self.clone();
        let job = move || {
            let result = panic::catch_unwind(AssertUnwindSafe(move || {
                let result = task(&engine);
                // The task's clone goes before the result is delivered, so
                // a caller whose wait returned holds the last references.
                drop(engine);
                result
            }));
            completer.complete(result.unwrap_or_else(|payload| Err(Error::JobPanicked(panic_message(payload)))));
        };
        match &self.core.pool {
            Some(pool) => pool.spawn_fifo(job),
            None => rayon::spawn_fifo(job),
        }
        handle
    }

    /// Submits `task` once per item, like [`Engine::submit`], and returns
    /// the handles in the items' order (Python's `Executor.map`).
    ///
    /// ```
    /// use swath::{wait_all, Engine, Reduce};
    /// let engine = Engine::cpu();
    /// let handles = engine.submit_all(1..=3u32, |engine, n| engine.reduce(&vec![n; 4], Reduce::Sum));
    /// let sums: Vec<u32> = wait_all(handles).into_iter().collect::<swath::Result<_>>()?;
    /// assert_eq!(sums, [4, 8, 12]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn submit_all<I, R, F>(&self, items: impl IntoIterator<Item = I>, task: F) -> Vec<JobHandle<R>>
    where
        I: Send + 'static,
        R: Send + 'static,
        F: Fn(&Engine, I) -> Result<R> + Send + Sync + 'static,
    {
        let task = Arc::new(task);
        items
            .into_iter()
            .map(|item| {
                let task = Arc::clone(&task);
                self.submit(move |engine| task(engine, item))
            })
            .collect()
    }

    /// Runs `a` and `b`, in parallel where a thread is free, on the engine's
    /// pool, and returns both results: [`rayon::join`] on the threads the
    /// engine's jobs use, so user work and jobs share them.
    ///
    /// ```
    /// use swath::Engine;
    /// let engine = Engine::cpu();
    /// let (evens, odds) = engine.join(
    ///     || (0..100u64).filter(|n| n % 2 == 0).sum::<u64>(),
    ///     || (0..100u64).filter(|n| n % 2 == 1).sum::<u64>(),
    /// );
    /// assert_eq!((evens, odds), (2450, 2500));
    /// ```
    ///
    /// An engine without a pool of its own uses rayon's global pool (or,
    /// when called from a thread of another rayon pool, that pool).
    pub fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        self.on_pool(|| rayon::join(a, b))
    }

    /// Runs `f` with a [`rayon::Scope`] on the engine's pool and returns its
    /// result once every task spawned in the scope has finished:
    /// [`rayon::scope`] on the threads the engine's jobs use.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use swath::Engine;
    /// let engine = Engine::cpu();
    /// let total = AtomicU64::new(0);
    /// engine.scope(|scope| {
    ///     for chunk in [1..=10u64, 11..=20] {
    ///         let total = &total;
    ///         scope.spawn(move |_| {
    ///             total.fetch_add(chunk.sum(), Ordering::Relaxed);
    ///         });
    ///     }
    /// });
    /// assert_eq!(total.into_inner(), 210);
    /// ```
    ///
    /// As for [`Engine::join`], an engine without a pool of its own uses
    /// rayon's global pool.
    pub fn scope<'scope, R, F>(&self, f: F) -> R
    where
        R: Send,
        F: FnOnce(&rayon::Scope<'scope>) -> R + Send,
    {
        self.on_pool(|| rayon::scope(f))
    }
}

/// The message of a panic: its payload if that is text.
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => match payload.downcast_ref::<&str>() {
            Some(message) => (*message).to_string(),
            None => "unknown panic".to_string(),
        },
    }
}
