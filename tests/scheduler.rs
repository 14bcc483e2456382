//! Scheduler: `swath::schedule::route` is a pure function of the policy,
//! the GPU's traits, the job's shape and the cost model; every rule is
//! checked here with hand-made inputs, no hardware needed.

use swath::schedule::{route, CostModel, GpuTraits, Shape, SMALL_JOB};
use swath::{DType, Decision, Device, Engine, Job, Op, Policy, Reason, Reduce};

/// A fixed model, so the tests do not depend on this machine's cores.
fn model() -> CostModel {
    CostModel::with_threads(8)
}

/// A healthy discrete GPU with f64 support.
const REAL_GPU: GpuTraits = GpuTraits { software: false, shader_f64: true, healthy: true, max_inputs: 7 };

/// A software adapter (lavapipe, WARP), otherwise healthy and capable.
const SOFTWARE_GPU: GpuTraits = GpuTraits { software: true, ..REAL_GPU };

/// A GPU that lost its device earlier.
const LOST_GPU: GpuTraits = GpuTraits { healthy: false, ..REAL_GPU };

/// A GPU without `SHADER_F64`.
const NO_F64_GPU: GpuTraits = GpuTraits { shader_f64: false, ..REAL_GPU };

/// A job large enough that only the rules, not its size, decide.
const LARGE: usize = 1 << 26;

fn map(dtype: DType, len: usize, op: Op) -> Shape {
    Shape { dtype, len, map: Some(op), reduce: None, expr: None }
}

fn reduction(dtype: DType, len: usize, reduce: Reduce) -> Shape {
    Shape { dtype, len, map: None, reduce: Some(reduce), expr: None }
}

/// A map, a reduction and a fused job of `dtype` and `len`.
fn shapes(dtype: DType, len: usize) -> [Shape; 3] {
    let fused = Shape { dtype, len, map: Some(Op::Square), reduce: Some(Reduce::Sum), expr: None };
    [map(dtype, len, Op::Square), reduction(dtype, len, Reduce::Max), fused]
}

fn on_cpu(reason: Reason) -> Decision {
    Decision { device: Device::Cpu, reason }
}

const POLICY_GPU: Decision = Decision { device: Device::Gpu, reason: Reason::PolicyGpu };

#[test]
fn cpu_policy_always_routes_to_the_cpu() {
    for gpu in [None, Some(REAL_GPU), Some(SOFTWARE_GPU), Some(LOST_GPU)] {
        for shape in shapes(DType::F32, LARGE) {
            assert_eq!(route(Policy::Cpu, gpu, &shape, &model()), on_cpu(Reason::PolicyCpu), "{gpu:?} {shape:?}");
        }
    }
}

#[test]
fn without_an_adapter_jobs_run_on_the_cpu() {
    for policy in [Policy::Auto, Policy::Gpu] {
        for shape in shapes(DType::F32, LARGE) {
            assert_eq!(route(policy, None, &shape, &model()), on_cpu(Reason::NoAdapter), "{policy} {shape:?}");
        }
    }
}

#[test]
fn software_adapter_is_skipped_under_auto_but_used_under_the_gpu_policy() {
    for shape in shapes(DType::F32, LARGE) {
        let auto = route(Policy::Auto, Some(SOFTWARE_GPU), &shape, &model());
        assert_eq!(auto, on_cpu(Reason::SoftwareAdapter), "{shape:?}");
        assert_eq!(route(Policy::Gpu, Some(SOFTWARE_GPU), &shape, &model()), POLICY_GPU, "{shape:?}");
    }
}

#[test]
fn lost_gpu_is_avoided_even_under_the_gpu_policy() {
    for policy in [Policy::Auto, Policy::Gpu] {
        for shape in shapes(DType::F32, LARGE) {
            let decision = route(policy, Some(LOST_GPU), &shape, &model());
            assert_eq!(decision, on_cpu(Reason::GpuUnhealthy), "{policy} {shape:?}");
        }
    }
}

#[test]
fn f64_without_shader_f64_runs_on_the_cpu() {
    for policy in [Policy::Auto, Policy::Gpu] {
        for shape in shapes(DType::F64, LARGE) {
            let decision = route(policy, Some(NO_F64_GPU), &shape, &model());
            assert_eq!(decision, on_cpu(Reason::NoShaderF64), "{policy} {shape:?}");
        }
        // Other types are not affected.
        let f32_job = map(DType::F32, LARGE, Op::Square);
        assert_eq!(route(Policy::Gpu, Some(NO_F64_GPU), &f32_job, &model()), POLICY_GPU);
    }
}

#[test]
fn f64_transcendentals_have_no_gpu_kernel() {
    for op in [Op::Exp, Op::Log, Op::Sin, Op::Cos] {
        for policy in [Policy::Auto, Policy::Gpu] {
            let decision = route(policy, Some(REAL_GPU), &map(DType::F64, LARGE, op), &model());
            assert_eq!(decision, on_cpu(Reason::NoGpuKernel(op.name(), DType::F64)), "{policy} {op}");
        }
        // The same op on f32 has a kernel.
        assert_eq!(route(Policy::Gpu, Some(REAL_GPU), &map(DType::F32, LARGE, op), &model()), POLICY_GPU, "{op}");
    }
    // f64 sqrt has one too.
    assert_eq!(route(Policy::Gpu, Some(REAL_GPU), &map(DType::F64, LARGE, Op::Sqrt), &model()), POLICY_GPU);
}

#[test]
fn jobs_below_the_small_job_size_stay_on_the_cpu_under_auto() {
    for len in [0, 1, SMALL_JOB - 1] {
        for shape in shapes(DType::F32, len) {
            let decision = route(Policy::Auto, Some(REAL_GPU), &shape, &model());
            assert_eq!(decision, on_cpu(Reason::SmallJob), "{shape:?}");
            // The gpu policy takes them anyway.
            assert_eq!(route(Policy::Gpu, Some(REAL_GPU), &shape, &model()), POLICY_GPU, "{shape:?}");
        }
    }
}

#[test]
fn tiny_job_on_a_real_gpu_is_predicted_faster_on_the_cpu() {
    // The smallest job the cost model sees: a GPU launch alone costs more.
    for shape in shapes(DType::F32, SMALL_JOB) {
        let decision = route(Policy::Auto, Some(REAL_GPU), &shape, &model());
        match decision.reason {
            Reason::Predicted { cpu_s, gpu_s } => assert!(cpu_s < gpu_s, "{shape:?}: {decision}"),
            other => panic!("{shape:?}: expected a prediction, got {other:?}"),
        }
        assert_eq!(decision.device, Device::Cpu, "{shape:?}: {decision}");
    }
}

#[test]
fn huge_sine_job_is_predicted_faster_on_the_gpu() {
    for shape in
        [map(DType::F32, 1 << 30, Op::Sin), Shape { reduce: Some(Reduce::Sum), ..map(DType::F32, 1 << 30, Op::Sin) }]
    {
        let decision = route(Policy::Auto, Some(REAL_GPU), &shape, &model());
        match decision.reason {
            Reason::Predicted { cpu_s, gpu_s } => assert!(gpu_s < cpu_s, "{shape:?}: {decision}"),
            other => panic!("{shape:?}: expected a prediction, got {other:?}"),
        }
        assert_eq!(decision.device, Device::Gpu, "{shape:?}: {decision}");
    }
}

#[test]
fn decision_display_names_the_device_and_the_reason() {
    let cases = [
        (on_cpu(Reason::PolicyCpu), "cpu", "policy is cpu"),
        (POLICY_GPU, "gpu", "policy is gpu"),
        (on_cpu(Reason::NoGpuKernel("exp", DType::F64)), "cpu", "exp on f64"),
        (on_cpu(Reason::SmallJob), "cpu", &SMALL_JOB.to_string()),
    ];
    for (decision, device, reason) in cases {
        let text = decision.to_string();
        assert!(text.starts_with(device), "{text:?} does not start with the device {device:?}");
        assert!(text.contains(reason), "{text:?} does not mention {reason:?}");
    }
    let predicted = route(Policy::Auto, Some(REAL_GPU), &map(DType::F32, SMALL_JOB, Op::Square), &model());
    let text = predicted.to_string();
    assert!(text.starts_with("cpu") && text.contains("predicted") && text.contains("gpu"), "{text:?}");
}

#[test]
fn explain_on_a_cpu_engine_says_policy_cpu() {
    let engine = Engine::cpu();
    let xs = vec![1.0f32; 1 << 20];
    for job in [Job::map(&xs, Op::Sin), Job::reduce(&xs, Reduce::Sum), Job::map_reduce(&xs, Op::Exp, Reduce::Max)] {
        assert_eq!(engine.explain(&job), on_cpu(Reason::PolicyCpu), "{:?}", job.op());
    }
    assert_eq!(engine.policy(), Policy::Cpu);
    assert!(engine.gpu().is_none(), "a CPU engine opens no GPU");
}
