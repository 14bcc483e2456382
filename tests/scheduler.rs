//! Scheduler: `swath::schedule::route` is a pure function of the policy,
//! the GPU's traits, the job's shape and the cost model; every rule is
//! checked here with hand-made inputs, no hardware needed. (The cost
//! model's choices themselves are checked in `routing.rs`.)

use swath::schedule::{route, CostModel, GpuCosts, GpuTraits, Shape, SMALL_JOB};
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
    Shape::map(dtype, len, op)
}

/// A map, a reduction and a fused job of `dtype` and `len`.
fn shapes(dtype: DType, len: usize) -> [Shape; 3] {
    let fused = Shape::reduce(dtype, len, Some(Op::Square), Reduce::Sum);
    [map(dtype, len, Op::Square), Shape::reduce(dtype, len, None, Reduce::Max), fused]
}

fn on_cpu(reason: Reason) -> Decision {
    Decision::new(Device::Cpu, reason)
}

const POLICY_GPU: Decision = Decision::new(Device::Gpu, Reason::PolicyGpu);

#[test]
fn cpu_policy_always_routes_to_the_cpu() {
    for gpu in [None, Some(REAL_GPU), Some(SOFTWARE_GPU), Some(LOST_GPU)] {
        for shape in shapes(DType::F32, LARGE) {
            assert_eq!(route(Policy::Cpu, gpu, &shape, Some(&model())), on_cpu(Reason::PolicyCpu), "{gpu:?} {shape:?}");
        }
    }
}

#[test]
fn without_an_adapter_jobs_run_on_the_cpu() {
    for policy in [Policy::Auto, Policy::Gpu] {
        for shape in shapes(DType::F32, LARGE) {
            assert_eq!(route(policy, None, &shape, Some(&model())), on_cpu(Reason::NoAdapter), "{policy} {shape:?}");
        }
    }
}

/// What a software adapter measures like: slower than the CPU it runs on.
fn software_model() -> CostModel {
    let gpu = GpuCosts {
        launch_s: 1e-3,
        upload_bytes_per_s: 4e9,
        readback_bytes_per_s: 2e9,
        bytes_per_s: 10e9,
        transcendental_s: 1e-9,
        shares_cpu: true,
    };
    CostModel { gpu: Some(gpu), ..model() }
}

#[test]
fn software_adapter_is_left_alone_under_auto_as_predicted_but_used_under_the_gpu_policy() {
    for shape in shapes(DType::F32, LARGE) {
        let auto = route(Policy::Auto, Some(SOFTWARE_GPU), &shape, Some(&software_model()));
        assert_eq!(auto, on_cpu(Reason::Predicted), "{shape:?}: {auto}");
        let predicted = auto.predicted.expect("a model was given");
        let split = predicted.both.expect("a split is predicted too");
        assert!(split.seconds >= predicted.cpu_s, "no gain from a split on the CPU's own cores: {auto}");
        assert_eq!(route(Policy::Gpu, Some(SOFTWARE_GPU), &shape, Some(&software_model())), POLICY_GPU, "{shape:?}");
    }
}

#[test]
fn under_auto_without_a_model_jobs_stay_on_the_cpu() {
    let decision = route(Policy::Auto, Some(REAL_GPU), &map(DType::F32, LARGE, Op::Sin), None);
    assert_eq!(decision, on_cpu(Reason::NoModel));
    assert!(decision.predicted.is_none());
}

#[test]
fn lost_gpu_is_avoided_even_under_the_gpu_policy() {
    for policy in [Policy::Auto, Policy::Gpu] {
        for shape in shapes(DType::F32, LARGE) {
            let decision = route(policy, Some(LOST_GPU), &shape, Some(&model()));
            assert_eq!(decision, on_cpu(Reason::GpuUnhealthy), "{policy} {shape:?}");
        }
    }
}

#[test]
fn f64_without_shader_f64_runs_on_the_cpu() {
    for policy in [Policy::Auto, Policy::Gpu] {
        for shape in shapes(DType::F64, LARGE) {
            let decision = route(policy, Some(NO_F64_GPU), &shape, Some(&model()));
            assert_eq!(decision, on_cpu(Reason::NoShaderF64), "{policy} {shape:?}");
        }
        // Other types are not affected.
        let f32_job = map(DType::F32, LARGE, Op::Square);
        assert_eq!(route(Policy::Gpu, Some(NO_F64_GPU), &f32_job, Some(&model())), POLICY_GPU);
    }
}

#[test]
fn f64_transcendentals_have_no_gpu_kernel() {
    for op in [Op::Exp, Op::Log, Op::Sin, Op::Cos] {
        for policy in [Policy::Auto, Policy::Gpu] {
            let decision = route(policy, Some(REAL_GPU), &map(DType::F64, LARGE, op), Some(&model()));
            assert_eq!(decision, on_cpu(Reason::NoGpuKernel(op.name(), DType::F64)), "{policy} {op}");
        }
        // The same op on f32 has a kernel.
        assert_eq!(route(Policy::Gpu, Some(REAL_GPU), &map(DType::F32, LARGE, op), Some(&model())), POLICY_GPU, "{op}");
    }
    // f64 sqrt has one too.
    assert_eq!(route(Policy::Gpu, Some(REAL_GPU), &map(DType::F64, LARGE, Op::Sqrt), Some(&model())), POLICY_GPU);
}

#[test]
fn jobs_below_the_small_job_size_stay_on_the_cpu_under_auto() {
    for len in [0, 1, SMALL_JOB - 1] {
        for shape in shapes(DType::F32, len) {
            let decision = route(Policy::Auto, Some(REAL_GPU), &shape, Some(&model()));
            assert_eq!(decision, on_cpu(Reason::SmallJob), "{shape:?}");
            // The gpu policy takes them anyway.
            assert_eq!(route(Policy::Gpu, Some(REAL_GPU), &shape, Some(&model())), POLICY_GPU, "{shape:?}");
        }
    }
}

#[test]
fn tiny_job_on_a_real_gpu_is_predicted_faster_on_the_cpu() {
    // The smallest job the cost model sees: a GPU launch alone costs more.
    for shape in shapes(DType::F32, SMALL_JOB) {
        let decision = route(Policy::Auto, Some(REAL_GPU), &shape, Some(&model()));
        let predicted = decision.predicted.expect("a model was given");
        assert_eq!(decision.reason, Reason::Predicted, "{shape:?}: {decision}");
        assert!(predicted.cpu_s < predicted.gpu_s.unwrap(), "{shape:?}: {decision}");
        assert_eq!(decision.device, Device::Cpu, "{shape:?}: {decision}");
    }
}

#[test]
fn huge_sine_job_is_predicted_faster_on_the_gpu() {
    for shape in [map(DType::F32, 1 << 30, Op::Sin), Shape::reduce(DType::F32, 1 << 30, Some(Op::Sin), Reduce::Sum)] {
        let decision = route(Policy::Auto, Some(REAL_GPU), &shape, Some(&model()));
        let predicted = decision.predicted.expect("a model was given");
        assert_eq!(decision.reason, Reason::Predicted, "{shape:?}: {decision}");
        assert!(predicted.gpu_s.unwrap() < predicted.cpu_s, "{shape:?}: {decision}");
        // The GPU alone or, since the CPU can take a share, a split.
        assert_ne!(decision.device, Device::Cpu, "{shape:?}: {decision}");
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
    let predicted = route(Policy::Auto, Some(REAL_GPU), &map(DType::F32, SMALL_JOB, Op::Square), Some(&model()));
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
