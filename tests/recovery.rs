//! No job is lost when the GPU fails: a device lost while jobs are in
//! flight sends them, and every later one, to the CPU with correct
//! results; the engine reports the GPU unhealthy and can open a new one;
//! a timed-out poll counts as a fault; arrays of a replaced device are
//! recomputed; a kernel that compiles too slowly is no fault.

mod common;

use common::*;
use std::time::Duration;
use swath::{wait_all, Device, Engine, GpuError, InjectedFault, Job, Op, Policy, Reason, Reduce};

/// Elements of job `k`: varied, none a multiple of a workgroup.
fn len(k: usize) -> usize {
    10_000 + 997 * k
}

/// Job `k`: a map or a reduction, checked against the reference; returns
/// where it ran.
fn job(engine: &Engine, k: usize) -> Device {
    let label = format!("job {k}");
    let input: Vec<f32> = random(&label, len(k), (-4.0, 4.0));
    if k.is_multiple_of(2) {
        let outcome = engine.run(&Job::map(&input, Op::Square)).expect("a valid map succeeds");
        assert_same_elements(array(&outcome), &reference_map(Op::Square, &input), &label);
        outcome.device
    } else {
        let outcome = engine.run(&Job::reduce(&input, Reduce::Max)).expect("a valid reduction succeeds");
        assert_same(scalar(&outcome), f32::reference_reduce(Reduce::Max, &input), &label);
        outcome.device
    }
}

#[test]
fn a_device_lost_in_the_middle_of_100_submitted_jobs_loses_none() {
    const TEST: &str = "a_device_lost_in_the_middle_of_100_submitted_jobs_loses_none";
    let Some(engine) = gpu_engine(TEST) else { return };
    let first = engine.submit_all(0..50, |engine, k| Ok(job(engine, k)));
    assert!(engine.inject_gpu_fault(InjectedFault::DeviceLost));
    let second = engine.submit_all(50..100, |engine, k| Ok(job(engine, k)));
    let handles: Vec<_> = first.into_iter().chain(second).collect();
    let devices: Vec<Device> = wait_all(handles).into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(devices.len(), 100, "every job returned");
    assert!(!engine.gpu_healthy(), "the lost GPU is reported unhealthy");
    assert!(
        engine.gpu_unhealthy_reason().is_some_and(|why| why.contains("lost")),
        "{:?}",
        engine.gpu_unhealthy_reason()
    );
    assert_eq!(job(&engine, 100), Device::Cpu, "later jobs run on the CPU");
    let decision = engine.explain(&Job::reduce(&[1.0f32; 4096], Reduce::Sum));
    assert_eq!(decision.reason, Reason::GpuUnhealthy, "{decision}");
}

#[test]
fn a_new_device_takes_jobs_again_after_reopen() {
    let Some(engine) = gpu_engine("a_new_device_takes_jobs_again_after_reopen") else { return };
    assert!(engine.inject_gpu_fault(InjectedFault::DeviceLost));
    assert_eq!(job(&engine, 1), Device::Cpu, "the job that met the loss reran on the CPU");
    assert!(!engine.gpu_healthy());
    engine.reopen_gpu().expect("a new device opens");
    assert!(engine.gpu_healthy(), "the new device is healthy");
    for k in 2..6 {
        assert_eq!(job(&engine, k), Device::Gpu, "job {k} runs on the new device");
    }
}

#[test]
fn a_timed_out_poll_marks_the_gpu_unhealthy_until_reopened() {
    let Some(engine) = gpu_engine("a_timed_out_poll_marks_the_gpu_unhealthy_until_reopened") else { return };
    assert!(engine.inject_gpu_fault(InjectedFault::Timeout));
    assert_eq!(job(&engine, 0), Device::Cpu);
    assert!(!engine.gpu_healthy(), "a GPU that stopped answering takes no more jobs");
    assert_eq!(job(&engine, 1), Device::Cpu);
    engine.reopen_gpu().expect("a new device opens");
    assert_eq!(job(&engine, 2), Device::Gpu);
}

#[test]
fn faults_in_a_row_mark_the_gpu_unhealthy() {
    let Some(engine) = gpu_engine("faults_in_a_row_mark_the_gpu_unhealthy") else { return };
    for k in 0..3 {
        assert!(engine.gpu_healthy(), "healthy before fault {k}");
        assert!(engine.inject_gpu_fault(InjectedFault::Validation));
        assert_eq!(job(&engine, k), Device::Cpu);
    }
    assert!(!engine.gpu_healthy(), "three validation faults in a row");
    assert!(engine.gpu_unhealthy_reason().unwrap().contains("in a row"));
}

#[test]
fn arrays_of_a_replaced_device_are_recomputed() {
    let Some(engine) = gpu_engine("arrays_of_a_replaced_device_are_recomputed") else { return };
    let input: Vec<f32> = random("array", 50_000, (-2.0, 2.0));
    let xs = engine.array(input.clone());
    let squares = xs.map(Op::Square).unwrap();
    assert!(squares.on_gpu());
    assert!(engine.inject_gpu_fault(InjectedFault::DeviceLost));
    assert_eq!(job(&engine, 0), Device::Cpu);
    engine.reopen_gpu().expect("a new device opens");
    assert_same_elements(&squares.to_vec().unwrap(), &reference_map(Op::Square, &input), "read after reopen");
    // A job on an array of the old device runs on the new one.
    let max = squares.reduce(Reduce::Max).unwrap();
    assert_same(max, f32::reference_reduce(Reduce::Max, &reference_map(Op::Square, &input)), "max");
    assert!(engine.gpu_healthy());
}

/// The three-stage pipeline of the fault test over `x`, keeping `z` and `s`.
fn three_stages(engine: &Engine, x: &swath::Array<f32>) -> swath::Outputs {
    let stage = |text: &str| text.parse::<swath::expr::Expr>().expect("the stage parses");
    engine
        .pipeline()
        .input("x", x)
        .map::<f32>("y", &stage("x * x + 1"))
        .map::<f32>("z", &stage("y - x"))
        .reduce::<f32>("s", &stage("z"), Reduce::Sum)
        .output("z")
        .run()
        .expect("a pipeline runs, on the CPU after a GPU fault")
}

#[test]
fn a_gpu_fault_in_a_pipeline_is_reported_and_its_results_stay_right() {
    const TEST: &str = "a_gpu_fault_in_a_pipeline_is_reported_and_its_results_stay_right";
    let Some(engine) = gpu_engine(TEST) else { return };
    let xs: Vec<f32> = random(TEST, 100_003, (-4.0, 4.0));
    // The upload of the input is a GPU job of its own: fail the pipeline's.
    let x = engine.array(xs.clone());
    assert!(engine.inject_gpu_fault(InjectedFault::Validation));
    let outputs = three_stages(&engine, &x);
    assert_eq!(outputs.device(), Device::Cpu, "{:?}", outputs.decision());
    assert!(matches!(outputs.fallback(), Some(swath::GpuError::Validation(_))), "{:?}", outputs.fallback());

    let cpu = Engine::cpu();
    let want = three_stages(&cpu, &cpu.array(xs.clone()));
    assert!(want.fallback().is_none());
    let got_z = outputs.array::<f32>("z").unwrap().to_vec().unwrap();
    assert_same_elements(&got_z, &want.array::<f32>("z").unwrap().to_vec().unwrap(), "z after the fault");
    assert_same(outputs.scalar::<f32>("s").unwrap(), want.scalar::<f32>("s").unwrap(), "s after the fault");

    // The fault was the pipeline's alone: the next one runs on the GPU.
    let again = three_stages(&engine, &x);
    assert_eq!((again.device(), again.fallback()), (Device::Gpu, None));
    assert_same(again.scalar::<f32>("s").unwrap(), want.scalar::<f32>("s").unwrap(), "s on the GPU");
}

#[test]
fn a_kernel_that_compiles_past_the_timeout_runs_on_the_cpu_and_is_no_fault() {
    const TEST: &str = "a_kernel_that_compiles_past_the_timeout_runs_on_the_cpu_and_is_no_fault";
    let input: Vec<f32> = random(TEST, 10_007, (-4.0, 4.0));
    // On a loaded machine the compilation can finish before a job looks
    // at it; the job then runs and its 1 ns poll times out, as it should.
    // Such a race says nothing of slow compilations: try a fresh engine.
    let mut last = None;
    for _attempt in 0..3 {
        let impatient = Engine::builder().policy(Policy::Gpu).gpu_timeout(Duration::from_nanos(1));
        let Some(engine) = gpu_engine_from(TEST, impatient) else { return };
        let mut raced = false;
        for k in 0..5 {
            let outcome = engine.run(&Job::map(&input, Op::Square)).expect("the job runs, on the CPU");
            assert_eq!(outcome.device, Device::Cpu);
            assert_same_elements(array(&outcome), &reference_map(Op::Square, &input), TEST);
            if !matches!(outcome.fallback, Some(GpuError::CompileTimeout(_))) {
                last = Some(format!("job {k}: {:?}", outcome.fallback));
                raced = true;
                break;
            }
            assert!(engine.gpu_healthy(), "a slow compilation is not the device's fault (job {k})");
        }
        if !raced {
            return;
        }
    }
    panic!("every attempt saw a compilation finish within 1 ns of waiting: {last:?}");
}
