//! Fallback: a job whose GPU run fails is rerun on the CPU and still gives
//! the right result; the GPU takes jobs again after a recoverable fault and
//! not again after losing its device or timing out. Also: many threads share one GPU
//! engine.

mod common;

use common::*;
use swath::{Decision, Device, Engine, GpuError, InjectedFault, Job, Op, Reason, Reduce};

/// Elements of each job: more than a workgroup and not a multiple of one.
const LEN: usize = 10_000;

/// The decision for every job once the device is lost.
const GPU_UNHEALTHY: Decision = Decision::new(Device::Cpu, Reason::GpuUnhealthy);

/// A job with an exact reference, so "correct" means "same bits".
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// f32 square: exact on every path.
    SquareF32,
    /// f32 max: exact on every path.
    MaxF32,
    /// i32 wrapping sum: exact on every path.
    SumI32,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::SquareF32, Kind::MaxF32, Kind::SumI32];

    /// Runs this job over `len` elements of data labelled `label`, checks
    /// the value against the reference and returns how it ran.
    fn run_and_check(self, engine: &Engine, label: &str, len: usize) -> (Decision, Device, Option<GpuError>) {
        match self {
            Kind::SquareF32 => {
                let input: Vec<f32> = random(label, len, (-4.0, 4.0));
                let outcome = engine.run(&Job::map(&input, Op::Square)).expect("a map of valid input succeeds");
                assert_same_elements(array(&outcome), &reference_map(Op::Square, &input), label);
                (outcome.decision, outcome.device, outcome.fallback)
            }
            Kind::MaxF32 => check_reduction::<f32>(engine, label, len, (-4.0, 4.0), Reduce::Max),
            Kind::SumI32 => check_reduction::<i32>(engine, label, len, (0.0, 0.0), Reduce::Sum),
        }
    }
}

fn check_reduction<T: TestElement>(
    engine: &Engine,
    label: &str,
    len: usize,
    range: (f64, f64),
    reduce: Reduce,
) -> (Decision, Device, Option<GpuError>) {
    let input: Vec<T> = random(label, len, range);
    let outcome = engine.run(&Job::reduce(&input, reduce)).expect("a reduction of valid input succeeds");
    assert_same(scalar(&outcome), T::reference_reduce(reduce, &input), label);
    (outcome.decision, outcome.device, outcome.fallback)
}

/// For each kind of job, on a fresh GPU engine: `fault` makes the job rerun
/// on the CPU with the right result and `is_reported` accepting the
/// reported fault; then every kind of job runs on the GPU again (`recovers`)
/// or, after a lost device, on the CPU for that reason.
fn check_fault(test_name: &str, fault: InjectedFault, is_reported: fn(&GpuError) -> bool, recovers: bool) {
    for kind in Kind::ALL {
        let Some(engine) = gpu_engine(test_name) else { return };
        assert!(engine.inject_gpu_fault(fault), "a GPU engine takes an injected fault");
        let label = format!("{kind:?} with {fault:?}");
        let (decision, device, fallback) = kind.run_and_check(&engine, &label, LEN);
        assert_eq!(decision, ON_GPU, "{label}: the job was meant for the GPU");
        assert_eq!(device, Device::Cpu, "{label}: the job reran on the CPU");
        assert!(fallback.as_ref().is_some_and(is_reported), "{label}: reported fault {fallback:?}");

        let expected = if recovers { ON_GPU } else { GPU_UNHEALTHY };
        for next in Kind::ALL {
            let label = format!("{next:?} after {kind:?} with {fault:?}");
            let (decision, device, fallback) = next.run_and_check(&engine, &label, LEN);
            assert_eq!((decision, device, fallback), (expected, expected.device, None), "{label}");
        }
    }
}

#[test]
fn validation_error_falls_back_and_the_gpu_recovers() {
    check_fault(
        "validation_error_falls_back_and_the_gpu_recovers",
        InjectedFault::Validation,
        |e| matches!(e, GpuError::Validation(_)),
        true,
    );
}

#[test]
fn out_of_memory_falls_back_and_the_gpu_recovers() {
    check_fault(
        "out_of_memory_falls_back_and_the_gpu_recovers",
        InjectedFault::OutOfMemory,
        |e| matches!(e, GpuError::OutOfMemory(_)),
        true,
    );
}

/// A GPU that stopped answering may still be busy: it takes no more jobs
/// until reopened (see `recovery.rs`).
#[test]
fn timeout_falls_back_and_later_jobs_stay_on_the_cpu() {
    check_fault(
        "timeout_falls_back_and_later_jobs_stay_on_the_cpu",
        InjectedFault::Timeout,
        |e| matches!(e, GpuError::Timeout(_)),
        false,
    );
}

#[test]
fn device_loss_falls_back_and_later_jobs_stay_on_the_cpu() {
    check_fault(
        "device_loss_falls_back_and_later_jobs_stay_on_the_cpu",
        InjectedFault::DeviceLost,
        |e| matches!(e, GpuError::DeviceLost(_)),
        false,
    );
}

/// What does hold after a device loss: every job, the one that met the
/// loss and all later ones, gives the right result, computed on the CPU.
#[test]
fn device_loss_still_gives_correct_results_on_the_cpu() {
    let Some(engine) = gpu_engine("device_loss_still_gives_correct_results_on_the_cpu") else { return };
    assert!(engine.inject_gpu_fault(InjectedFault::DeviceLost), "a GPU engine takes an injected fault");
    for (i, kind) in Kind::ALL.iter().cycle().take(2 * Kind::ALL.len()).enumerate() {
        let label = format!("job {i} ({kind:?}) after a device loss");
        let (_, device, _) = kind.run_and_check(&engine, &label, LEN);
        assert_eq!(device, Device::Cpu, "{label}");
    }
}

#[test]
fn jobs_from_many_threads_share_one_gpu_engine() {
    const THREADS: usize = 4;
    const JOBS_PER_THREAD: usize = 25;
    let Some(engine) = gpu_engine("jobs_from_many_threads_share_one_gpu_engine") else { return };
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let engine = &engine;
            scope.spawn(move || {
                for job in 0..JOBS_PER_THREAD {
                    let kind = Kind::ALL[(thread + job) % Kind::ALL.len()];
                    // Lengths vary so that jobs need different scratch sizes.
                    let len = 1 + (thread * JOBS_PER_THREAD + job) * 997;
                    let label = format!("thread {thread} job {job}: {kind:?} of {len}");
                    let ran = kind.run_and_check(engine, &label, len);
                    assert_eq!(ran, (ON_GPU, Device::Gpu, None), "{label}");
                }
            });
        }
    });
}
