//! Submitted jobs (`Engine::submit`, `JobHandle`, `wait_all`) and fork-join
//! on the engine's pool (`Engine::join`, `Engine::scope`): results are
//! right and in order, failures stay with their job, dropped handles leak
//! nothing, and waiting inside the pool never deadlocks.

mod common;

use common::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};
use swath::schedule::SMALL_JOB;
use swath::{wait_all, Device, Engine, Error, Job, JobHandle, Op, Policy, Reduce};

/// Threads that submit at once, and jobs each of them submits.
const THREADS: usize = 8;
const JOBS_PER_THREAD: usize = 125;

/// Longer than any test here should take: past it, a wait counts as hung.
const DEADLINE: Duration = Duration::from_secs(10);

/// The result of `handle`, or a failure naming `what` if it does not come
/// within [`DEADLINE`] (instead of a test that hangs).
fn wait_or_fail<R>(mut handle: JobHandle<R>, what: &str) -> swath::Result<R> {
    let start = Instant::now();
    loop {
        match handle.try_wait() {
            Ok(result) => return result,
            Err(pending) => handle = pending,
        }
        assert!(start.elapsed() < DEADLINE, "{what}: no result after {DEADLINE:?} (deadlock?)");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until `counter` reaches `target`, failing after [`DEADLINE`].
fn wait_for_count(counter: &AtomicUsize, target: usize, what: &str) {
    let start = Instant::now();
    while counter.load(Ordering::SeqCst) < target {
        let count = counter.load(Ordering::SeqCst);
        assert!(start.elapsed() < DEADLINE, "{what}: {count} of {target} after {DEADLINE:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Holds jobs until it opens, so a test knows they cannot have finished.
#[derive(Clone)]
struct Gate(Arc<AtomicBool>);

impl Gate {
    fn closed() -> Gate {
        Gate(Arc::new(AtomicBool::new(false)))
    }

    fn open(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Returns once the gate is open, failing after [`DEADLINE`].
    fn pass(&self) {
        let start = Instant::now();
        while !self.0.load(Ordering::SeqCst) {
            assert!(start.elapsed() < DEADLINE, "the gate never opened");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// What one of the many concurrent jobs computed, and where.
#[derive(Debug, PartialEq)]
enum Answer {
    Squares(Vec<f32>),
    SumOfSquares(i32),
}

/// Submits [`JOBS_PER_THREAD`] jobs from each of [`THREADS`] threads at
/// once, each a map or a map-reduce over data of its own, and checks every
/// result against a plain loop. Returns how many jobs of at least
/// [`SMALL_JOB`] elements ran on each device (CPU, GPU).
fn submit_from_many_threads(engine: &Engine) -> (usize, usize) {
    let on_cpu = AtomicUsize::new(0);
    let on_gpu = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (engine, on_cpu, on_gpu) = (engine, &on_cpu, &on_gpu);
            scope.spawn(move || {
                let mut pending = Vec::with_capacity(JOBS_PER_THREAD);
                for job in 0..JOBS_PER_THREAD {
                    let label = format!("thread {thread} job {job}");
                    // 1 to 3000 elements: about two thirds at least SMALL_JOB.
                    let len = 1 + (thread * 977 + job * 613) % 3000;
                    let (expected, handle) = if job % 2 == 0 {
                        let input: Vec<f32> = random(&label, len, (0.5, 4.0));
                        let expected = Answer::Squares(input.iter().map(|x| x * x).collect());
                        let handle = engine.submit(move |engine| {
                            let outcome = engine.run(&Job::map(&input, Op::Square))?;
                            let squares = outcome.value.array().map(<[f32]>::to_vec).unwrap_or_default();
                            Ok((Answer::Squares(squares), outcome.device))
                        });
                        (expected, handle)
                    } else {
                        // Odd values are never zero, and wrap in the sum.
                        let input: Vec<i32> =
                            random::<i32>(&label, len, (0.0, 0.0)).into_iter().map(|x| x | 1).collect();
                        let sum = input.iter().fold(0i32, |sum, x| sum.wrapping_add(x.wrapping_mul(*x)));
                        let handle = engine.submit(move |engine| {
                            let outcome = engine.run(&Job::map_reduce(&input, Op::Square, Reduce::Sum))?;
                            let sum = outcome.value.scalar().unwrap_or_default();
                            Ok((Answer::SumOfSquares(sum), outcome.device))
                        });
                        (Answer::SumOfSquares(sum), handle)
                    };
                    pending.push((label, len, expected, handle));
                }
                for (label, len, expected, handle) in pending {
                    let (answer, device) = handle.wait().unwrap_or_else(|e| panic!("{label}: {e}"));
                    assert_eq!(answer, expected, "{label} ({len} elements)");
                    if len >= SMALL_JOB {
                        let counter = if device == Device::Gpu { on_gpu } else { on_cpu };
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    (on_cpu.into_inner(), on_gpu.into_inner())
}

#[test]
fn a_thousand_jobs_from_eight_threads_are_all_right_on_the_cpu() {
    let engine = Engine::builder().policy(Policy::Cpu).build().expect("a CPU engine always builds");
    let (on_cpu, on_gpu) = submit_from_many_threads(&engine);
    assert!(on_cpu > 0, "some jobs were large enough to route");
    assert_eq!(on_gpu, 0, "the cpu policy runs nothing on the GPU");
}

#[test]
fn a_thousand_jobs_from_eight_threads_are_all_right_on_the_gpu() {
    let Some(engine) = gpu_engine("a_thousand_jobs_from_eight_threads_are_all_right_on_the_gpu") else { return };
    let (on_cpu, on_gpu) = submit_from_many_threads(&engine);
    assert!(on_gpu > 0, "large jobs ran on the GPU");
    assert_eq!(on_cpu, 0, "the gpu policy sends every large job to the GPU, with no fallback");
}

#[test]
fn a_thousand_jobs_from_eight_threads_are_all_right_under_auto() {
    // Whichever device auto picks for each job, the results are the same.
    let engine = Engine::builder().policy(Policy::Auto).build().expect("auto builds with or without a GPU");
    submit_from_many_threads(&engine);
}

#[test]
fn submit_all_keeps_order_and_failures_stay_with_their_job() {
    let engine = Engine::cpu();
    let handles = engine.submit_all(0..20u32, |engine, n| match n {
        5 => engine.reduce(&[] as &[f32], Reduce::Min).map(|_| 0),
        9 => panic!("task {n} panics with a formatted message"),
        13 => panic!("task 13 panics with a literal"),
        17 => std::panic::panic_any(17u8),
        // n copies of n, squared and summed: n^3.
        _ => engine.map_reduce(&vec![n; n as usize], Op::Square, Reduce::Sum),
    });
    let results = wait_all(handles);
    assert_eq!(results.len(), 20, "one result per item");
    for (n, result) in (0..20u32).zip(results) {
        match (n, result) {
            (5, Err(Error::EmptyReduction { reduce: Reduce::Min })) => {}
            (9, Err(Error::JobPanicked(message))) => assert_eq!(message, "task 9 panics with a formatted message"),
            (13, Err(Error::JobPanicked(message))) => assert_eq!(message, "task 13 panics with a literal"),
            (17, Err(Error::JobPanicked(message))) => assert_eq!(message, "unknown panic"),
            (5 | 9 | 13 | 17, result) => panic!("item {n}: expected its failure, got {result:?}"),
            (n, result) => assert_eq!(result.ok(), Some(n * n * n), "item {n}"),
        }
    }
}

/// Counts its drops, to show that each result is dropped exactly once.
struct CountedDrop(Arc<AtomicUsize>);

impl Drop for CountedDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropped_handles_block_nothing_and_their_tasks_still_run_and_free_their_results() {
    const TASKS: usize = 100;
    let engine = Engine::builder().policy(Policy::Cpu).threads(2).build().expect("a CPU engine always builds");
    let gate = Gate::closed();
    let (ran, dropped) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    for _ in 0..TASKS {
        let (gate, ran, dropped) = (gate.clone(), Arc::clone(&ran), Arc::clone(&dropped));
        let handle = engine.submit(move |engine| {
            // Held until every handle is gone, so none can finish first.
            gate.pass();
            let sum = engine.reduce(&[1u32, 2, 3], Reduce::Sum)?;
            assert_eq!(sum, 6);
            ran.fetch_add(1, Ordering::SeqCst);
            Ok(CountedDrop(dropped))
        });
        drop(handle);
    }
    // Every handle was dropped while its task could not finish: dropping
    // did not wait for it.
    assert_eq!(ran.load(Ordering::SeqCst), 0, "no task finished before the gate opened");
    gate.open();
    wait_for_count(&ran, TASKS, "tasks run after their handles were dropped");
    wait_for_count(&dropped, TASKS, "results dropped");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(dropped.load(Ordering::SeqCst), TASKS, "each result is dropped exactly once");
}

#[test]
fn a_handle_wakes_its_waker_when_the_job_finishes() {
    let engine = Engine::cpu();
    let gate = Gate::closed();
    let held = gate.clone();
    let mut handle = engine.submit(move |engine| {
        held.pass();
        engine.map(&[1.0f64, 4.0, 9.0], Op::Sqrt)
    });
    let wakes = Arc::new(WakeCount::default());
    let waker = Waker::from(Arc::clone(&wakes));
    let mut cx = Context::from_waker(&waker);
    assert!(Pin::new(&mut handle).poll(&mut cx).is_pending(), "the job is held by the gate");
    assert!(Pin::new(&mut handle).poll(&mut cx).is_pending(), "a second poll with the same waker");
    gate.open();
    wait_for_count(&wakes.0, 1, "wakes after the job finished");
    match Pin::new(&mut handle).poll(&mut cx) {
        Poll::Ready(result) => assert_eq!(result.expect("sqrt of positive values"), [1.0, 2.0, 3.0]),
        Poll::Pending => panic!("a woken handle is ready"),
    }
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "woken once");
    // Polled again after it returned its result: a clear panic, as for
    // most futures, rather than a wait that never ends.
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Pin::new(&mut handle).poll(&mut cx)));
    assert!(again.is_err(), "polling a handle after its result was returned panics");
}

/// A waker that counts its wakes.
#[derive(Default)]
struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_handle_can_be_awaited_before_and_after_its_job_finishes() {
    let engine = Engine::cpu();

    // Probably pending when first polled: the job's completion wakes the
    // executor.
    let gate = Gate::closed();
    let held = gate.clone();
    let slow = engine.submit(move |engine| {
        held.pass();
        engine.map(&[1.0f64, 4.0, 9.0], Op::Sqrt)
    });
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        gate.open();
    });
    assert_eq!(pollster::block_on(slow).expect("sqrt of positive values"), [1.0, 2.0, 3.0]);

    // Finished before the first poll: ready at once.
    let quick = engine.submit(|engine| engine.reduce(&[2i32, -7, 5], Reduce::Min));
    let start = Instant::now();
    while !quick.is_finished() {
        assert!(start.elapsed() < DEADLINE, "the job did not finish");
        std::thread::yield_now();
    }
    assert_eq!(format!("{quick:?}"), "JobHandle { finished: true }");
    assert_eq!(pollster::block_on(quick).expect("min of three values"), -7);

    // Awaited from async code, with errors through `?`.
    let handles = engine.submit_all([3u32, 4], |engine, n| engine.map_reduce(&[n], Op::Square, Reduce::Sum));
    let sum = pollster::block_on(async {
        let mut sum = 0;
        for handle in handles {
            sum += handle.await?;
        }
        Ok::<u32, Error>(sum)
    });
    assert_eq!(sum.expect("squares of 3 and 4"), 25);
}

#[test]
fn try_wait_returns_the_handle_until_the_job_finishes() {
    let engine = Engine::builder().policy(Policy::Cpu).threads(1).build().expect("a CPU engine always builds");
    let gate = Gate::closed();
    let held = gate.clone();
    let handle = engine.submit(move |_| {
        held.pass();
        Ok("done")
    });
    // submit returned while the job cannot finish.
    assert!(!handle.is_finished());
    assert_eq!(format!("{handle:?}"), "JobHandle { finished: false }");
    let handle = handle.try_wait().expect_err("the job is held by the gate");
    gate.open();
    assert_eq!(wait_or_fail(handle, "gated job").expect("the job succeeds"), "done");
}

#[test]
fn waiting_inside_a_job_on_a_one_thread_engine_does_not_deadlock() {
    let engine = Engine::builder().policy(Policy::Cpu).threads(1).build().expect("a CPU engine always builds");
    let outer = engine.submit(|engine| {
        // Queued behind this job on the pool's only thread: this wait must
        // run it rather than block the thread it needs.
        let inner = engine.submit(|engine| engine.map_reduce(&[1u32, 2, 3], Op::Square, Reduce::Sum));
        let nested = engine.submit(|engine| {
            let innermost = engine.submit(|engine| engine.reduce(&[10u32, 20], Reduce::Sum));
            innermost.wait()
        });
        Ok(inner.wait()? + nested.wait()?)
    });
    assert_eq!(wait_or_fail(outer, "job waiting on later jobs").expect("every job succeeds"), 14 + 30);
}

#[test]
fn join_and_scope_run_on_the_engines_pool() {
    // Two threads, as asked, unless rayon's global pool has two as well:
    // then three, so that the count shows which pool ran the closures.
    let threads = if rayon::current_num_threads() == 2 { 3 } else { 2 };
    let engine = Engine::builder().policy(Policy::Cpu).threads(threads).build().expect("a CPU engine always builds");

    let (a, b) = engine
        .join(|| (rayon::current_num_threads(), engine.map(&[3i32], Op::Neg)), || (rayon::current_num_threads(), "b"));
    assert_eq!(a.0, threads, "join's first closure ran on the engine's pool");
    assert_eq!(a.1.expect("neg of an i32"), [-3]);
    assert_eq!(b, (threads, "b"), "join's second closure ran on the engine's pool");

    let spawned = AtomicUsize::new(0);
    let in_scope = engine.scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|_| {
                assert_eq!(rayon::current_num_threads(), threads, "a spawned task ran on the engine's pool");
                spawned.fetch_add(1, Ordering::SeqCst);
            });
        }
        rayon::current_num_threads()
    });
    assert_eq!(in_scope, threads, "scope's closure ran on the engine's pool");
    assert_eq!(spawned.into_inner(), 4, "scope returns after its spawned tasks");
}

#[test]
fn handles_are_unpin_and_move_between_threads() {
    fn unpin_send<T: Unpin + Send>() {}
    unpin_send::<JobHandle<Vec<f32>>>();
    let handle = Engine::cpu().submit(|engine| engine.map(&[2u32], Op::Mul(3.0)));
    let tripled = std::thread::spawn(move || handle.wait()).join().expect("the waiting thread does not panic");
    assert_eq!(tripled.expect("2 * 3 as u32"), [6]);
}
