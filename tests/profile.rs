//! `Engine::profile_gpu`: the phases are timed, the result is the one an
//! ordinary run gives, and jobs the GPU cannot run are errors, not reruns.

mod common;

use common::{gpu_engine, random};
use swath::canonical::TILE;
use swath::{Engine, Error, GpuError, Job, Op, Reduce};

#[test]
fn profiled_jobs_give_the_same_results_as_ordinary_runs() {
    let Some(engine) = gpu_engine("profiled_jobs_give_the_same_results_as_ordinary_runs") else { return };
    // Several tiles, so the reduction runs more than one level.
    let xs: Vec<f32> = random("profile", 3 * TILE * TILE + 5, (0.5, 1.5));
    let cpu = Engine::cpu();

    let (squares, profile) = engine.profile_gpu(&Job::map(&xs, Op::Square)).expect("profiled map runs");
    assert_eq!(squares.array().expect("a map gives an array"), cpu.map(&xs, Op::Square).expect("cpu map"));
    assert!(profile.upload.as_nanos() > 0 && profile.kernel.as_nanos() > 0, "phases timed: {profile:?}");
    assert!(profile.readback.as_nanos() > 0, "a map reads its array back: {profile:?}");
    assert_eq!(profile.total(), profile.upload + profile.kernel + profile.readback);

    let job = Job::map_reduce(&xs, Op::Square, Reduce::Max);
    let (max, profile) = engine.profile_gpu(&job).expect("profiled reduction runs");
    assert_eq!(max.scalar(), Some(cpu.map_reduce(&xs, Op::Square, Reduce::Max).expect("cpu max")));
    assert!(profile.kernel.as_nanos() > 0, "kernel timed: {profile:?}");
}

#[test]
fn profiling_needs_a_gpu_that_can_run_the_job() {
    let xs = [1.0f64, 2.0];
    let err = Engine::cpu().profile_gpu(&Job::map(&xs, Op::Exp)).expect_err("no GPU on a cpu engine");
    assert!(matches!(err, Error::NoGpu { .. }), "{err}");

    let Some(engine) = gpu_engine("profiling_needs_a_gpu_that_can_run_the_job") else { return };
    let err = engine.profile_gpu(&Job::map(&xs, Op::Exp)).expect_err("no f64 exp kernel");
    assert!(matches!(err, Error::Gpu(GpuError::Unsupported(_))), "{err}");
    let empty: [f32; 0] = [];
    let err = engine.profile_gpu(&Job::reduce(&empty, Reduce::Min)).expect_err("empty min");
    assert!(matches!(err, Error::EmptyReduction { .. }), "{err}");
    let ints = [1i32, 2];
    let err = engine.profile_gpu(&Job::map(&ints, Op::Sqrt)).expect_err("integer sqrt");
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
}
