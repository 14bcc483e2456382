//! Routing by predicted completion time, with fixed cost models so the
//! answers do not depend on this machine: tiny jobs stay on the CPU, long
//! chains on resident data go to the GPU, a mid-size job flips where the
//! predictions cross, queued work counts, and a job split between both
//! devices gives the same bits as either alone.

mod common;

use common::*;
use swath::schedule::{route, route_chain, route_loaded, CostModel, GpuTraits, Load, Location, Shape, SPLIT_MIN};
use swath::{DType, Device, Engine, Job, Op, Policy, Reason, Reduce};

const GPU: GpuTraits = GpuTraits { software: false, shader_f64: true, healthy: true, max_inputs: 7 };

/// A desktop with a discrete GPU.
fn discrete() -> CostModel {
    CostModel::with_threads(8)
}

/// The same machine with a GPU that cannot share a job with the CPU, so
/// only the two single-device options compete.
fn no_split() -> CostModel {
    let mut model = discrete();
    model.gpu.as_mut().unwrap().shares_cpu = true;
    model
}

fn auto(shape: &Shape, model: &CostModel) -> swath::Decision {
    route(Policy::Auto, Some(GPU), shape, Some(model))
}

#[test]
fn tiny_jobs_go_to_the_cpu() {
    for len in [10, 1_000, 10_000, 100_000] {
        for shape in [Shape::map(DType::F32, len, Op::Square), Shape::reduce(DType::F32, len, None, Reduce::Sum)] {
            let decision = auto(&shape, &discrete());
            assert_eq!(decision.device, Device::Cpu, "{len}: {decision}");
        }
    }
}

#[test]
fn long_chains_on_resident_data_go_to_the_gpu() {
    let n = 1 << 24;
    let bytes = (n * 4) as u64;
    let stage = Shape::map(DType::F32, n, Op::Square);
    let chain = vec![stage; 10];
    let resident = route_chain(Policy::Auto, Some(GPU), &chain, (0, bytes), Some(&discrete()), Load::IDLE);
    assert_eq!(resident, swath::Decision::new(Device::Gpu, Reason::Predicted), "{resident}");
    // One cheap stage on host data: the upload costs more than the CPU's pass.
    let host = route_chain(Policy::Auto, Some(GPU), &chain[..1], (bytes, 0), Some(&discrete()), Load::IDLE);
    assert_eq!(host.device, Device::Cpu, "{host}");
    // The same single map as a host job also stays on the CPU: splitting
    // it gains nothing, as the GPU's transfers use host memory too.
    let single = auto(&stage, &discrete());
    assert_eq!(single.device, Device::Cpu, "{single}");
    // ...but runs on the GPU when its input already lives there.
    assert_eq!(auto(&stage.at(Location::Gpu), &discrete()).device, Device::Gpu);
}

/// Elements where the GPU's predicted time first drops below the CPU's.
fn crossover(model: &CostModel, shape: impl Fn(usize) -> Shape) -> usize {
    let gpu_wins = |n: usize| model.gpu_seconds(&shape(n)).unwrap() < model.cpu_seconds(&shape(n));
    let (mut cpu, mut gpu) = (1usize, 1usize << 34);
    assert!(!gpu_wins(cpu) && gpu_wins(gpu), "the predictions cross");
    while gpu - cpu > 1 {
        let mid = cpu + (gpu - cpu) / 2;
        if gpu_wins(mid) {
            gpu = mid;
        } else {
            cpu = mid;
        }
    }
    gpu
}

#[test]
fn a_mid_size_job_flips_at_the_predicted_crossover() {
    let model = no_split();
    let shape = |n| Shape::map(DType::F32, n, Op::Sin);
    let at = crossover(&model, shape);
    assert!((10_000..100_000_000).contains(&at), "a mid-size crossover: {at}");
    assert_eq!(auto(&shape(at - 1), &model).device, Device::Cpu, "just below {at}");
    assert_eq!(auto(&shape(at), &model).device, Device::Gpu, "at {at}");
    for n in [at / 4, at / 2] {
        assert_eq!(auto(&shape(n), &model).device, Device::Cpu, "{n}");
    }
    for n in [2 * at, 4 * at] {
        assert_eq!(auto(&shape(n), &model).device, Device::Gpu, "{n}");
    }
}

#[test]
fn work_queued_on_the_gpu_sends_a_job_to_the_cpu() {
    let model = no_split();
    let shape = Shape::map(DType::F32, 1 << 26, Op::Sin);
    assert_eq!(route_loaded(Policy::Auto, Some(GPU), &shape, Some(&model), Load::IDLE).device, Device::Gpu);
    let busy = Load { cpu_s: 0.0, gpu_s: 1.0 };
    let decision = route_loaded(Policy::Auto, Some(GPU), &shape, Some(&model), busy);
    assert_eq!(decision.device, Device::Cpu, "{decision}");
    let predicted = decision.predicted.unwrap();
    assert!(predicted.gpu_s.unwrap() > 1.0, "the queue counts in the GPU's prediction: {decision}");
}

#[test]
fn a_large_job_is_split_in_proportion_to_predicted_speed() {
    let shape = Shape::map(DType::F32, 1 << 26, Op::Sin);
    let decision = auto(&shape, &discrete());
    assert_eq!(decision.device, Device::Both, "{decision}");
    let split = decision.predicted.unwrap().both.unwrap();
    let (cpu_alone, gpu_alone) = (discrete().cpu_seconds(&shape), discrete().gpu_seconds(&shape).unwrap());
    assert!(split.seconds < cpu_alone.min(gpu_alone), "{decision}");
    // Per element the GPU is faster here, so it takes the larger share.
    assert!(gpu_alone < cpu_alone && split.gpu_share > 0.5, "{decision}");
    assert!(decision.to_string().contains("both"), "{decision}");
}

#[test]
fn explain_gives_predicted_times_for_each_option() {
    let engine = Engine::builder().policy(Policy::Cpu).cost_model(discrete()).build().unwrap();
    let xs = vec![1.5f32; 1 << 20];
    let decision = engine.explain(&Job::map(&xs, Op::Sin));
    assert_eq!(decision.reason, Reason::PolicyCpu);
    let predicted = decision.predicted.expect("a model is at hand");
    assert!(predicted.cpu_s > 0.0 && predicted.gpu_s.is_none(), "no GPU is open: {decision}");
}

/// An op and the same expression are one program, so one shape: the
/// scheduler predicts the same times for both, whatever the op.
#[test]
fn an_op_and_the_same_expression_get_the_same_predictions() {
    let xs = vec![1.5f32; 1 << 20];
    let inputs = swath::Inputs::new().with("x", &xs);
    for (op, text) in
        [(Op::Sin, "sin(x)"), (Op::Sqrt, "sqrt(x)"), (Op::Exp, "exp(x)"), (Op::Abs, "abs(x)"), (Op::Square, "sq(x)")]
    {
        let by_op = Job::map(&xs, op);
        let by_expr = Job::<f32>::expr(inputs.clone(), text.parse().unwrap());
        assert_eq!(by_expr.op(), Some(op), "{text} is recognised as the op");
        for model in [discrete(), no_split()] {
            let engine = Engine::builder().policy(Policy::Auto).cost_model(model).build().unwrap();
            let (a, b) = (engine.explain(&by_op), engine.explain(&by_expr));
            assert_eq!((a, a.predicted), (b, b.predicted), "{op} and {text}");
            for reduce in Reduce::ALL {
                let (a, b) =
                    (engine.explain(&by_op.clone().reduced(reduce)), engine.explain(&by_expr.clone().reduced(reduce)));
                assert_eq!((a, a.predicted), (b, b.predicted), "{op} and {text}, reduced by {reduce}");
            }
        }
    }
}

/// On the engine: split jobs give exactly what the CPU alone gives. (A
/// memory-bound job on host data gains nothing from a split, since the
/// GPU's transfers take host memory bandwidth from the CPU, so `auto`
/// would not split these; the `both` policy does.)
#[test]
fn split_jobs_match_the_cpu_bit_for_bit() {
    const TEST: &str = "split_jobs_match_the_cpu_bit_for_bit";
    if gpu_engine(TEST).is_none() {
        return;
    }
    let engine = Engine::builder().policy(Policy::Both).cost_model(discrete()).build().unwrap();
    let cpu = Engine::cpu();
    for len in [(1 << 20) + 3, (3 << 20) + 1] {
        let mut input: Vec<f32> = random(&format!("split {len}"), len, (-3.0, 3.0));
        input[7] = f32::NAN;
        input[len / 2] = f32::INFINITY;
        let map = Job::map(&input, Op::Square);
        let split = engine.run(&map).unwrap();
        assert_eq!((split.device, split.fallback.clone()), (Device::Both, None), "{len}: {}", split.decision);
        assert_same_elements(array(&split), array(&cpu.run(&map).unwrap()), "split map");
        for reduce in [Reduce::Sum, Reduce::Max, Reduce::Min] {
            let finite: Vec<f32> = input.iter().map(|x| if x.is_finite() { *x } else { 0.5 }).collect();
            let job = Job::map_reduce(&finite, Op::Square, reduce);
            let split = engine.run(&job).unwrap();
            assert_eq!(split.device, Device::Both, "{len} {reduce}: {}", split.decision);
            assert_same(scalar(&split), scalar(&cpu.run(&job).unwrap()), &format!("split {reduce} of {len}"));
        }
        let sum = Job::reduce(&input, Reduce::Sum);
        let split = engine.run(&sum).unwrap();
        assert!(scalar(&split).is_nan(), "NaN in either part reaches the sum");
    }
}

/// Under the both policy a job runs where its decision says: split when
/// each device can take a whole tile, even where the model would give the
/// GPU less (a reduction over the index alone reads no memory), and on the
/// CPU, saying why, when the job is too small to split.
#[test]
fn the_both_policy_runs_where_it_reports() {
    const TEST: &str = "the_both_policy_runs_where_it_reports";
    if gpu_engine(TEST).is_none() {
        return;
    }
    let engine = Engine::builder().policy(Policy::Both).cost_model(discrete()).build().unwrap();
    let index = swath::expr::Expr::parse("i % 1000").unwrap();
    for (len, device) in [(SPLIT_MIN - 1, Device::Cpu), (SPLIT_MIN, Device::Both), (1_000_003, Device::Both)] {
        let inputs = swath::Inputs::new().with_len(len);
        let job = Job::<u32>::expr_reduce(inputs, index.clone(), Reduce::Sum);
        let outcome = engine.run(&job).unwrap();
        assert_eq!((outcome.decision.device, outcome.device), (device, device), "{len}: {}", outcome.decision);
        let want: u64 = (0..len as u64).map(|k| k % 1000).sum();
        assert_eq!(u64::from(scalar(&outcome)), want, "{len}");
        if device == Device::Cpu {
            assert_eq!(outcome.decision.reason, Reason::TooSmallToSplit);
        }
    }
}

/// An engine opens its GPU only for a job that may run there: small jobs
/// under `auto` never wait for the adapter, and a large one opens it.
#[test]
fn small_jobs_do_not_open_the_gpu() {
    const TEST: &str = "small_jobs_do_not_open_the_gpu";
    for policy in [Policy::Auto, Policy::Both] {
        let engine = Engine::builder().policy(policy).cost_model(discrete()).build().unwrap();
        assert!(!engine.gpu_opened(), "{policy}: building the engine opens nothing");
        let small: Vec<f32> = random(TEST, 1000, (-1.0, 1.0));
        let outcome = engine.run(&Job::map(&small, Op::Square)).unwrap();
        assert_eq!((outcome.device, outcome.decision.reason), (Device::Cpu, Reason::SmallJob));
        let array = engine.array(small.clone()).map(Op::Abs).unwrap();
        assert!(!array.on_gpu());
        assert!(!engine.gpu_opened(), "{policy}: small jobs and arrays leave the GPU closed");
        let large: Vec<f32> = random(TEST, 100_000, (-1.0, 1.0));
        engine.run(&Job::map(&large, Op::Square)).unwrap();
        assert!(engine.gpu_opened(), "{policy}: a job that may run on the GPU opens it");
    }
    let gpu = Engine::builder().policy(Policy::Gpu).build();
    assert!(gpu.is_err() || gpu.unwrap().gpu_opened(), "the gpu policy opens its device at once");
}
