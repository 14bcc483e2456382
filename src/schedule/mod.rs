//! Where a job runs, and why.
//!
//! [`route`] is a pure function of the [`Policy`], what the GPU can do,
//! the job's shape, the cost model and the work already queued on each
//! device, so every routing rule is testable without hardware. The engine
//! calls it once per job and reruns the job on the CPU if the GPU then
//! fails (see [`crate::Engine`]).

mod cache;
mod cost;
mod policy;
mod predict;

pub use cache::{CacheKey, ModelCache};
pub use cost::{CostModel, CpuCosts, GpuCosts, NEW_PAGES_FROM};
pub use predict::{Load, Prediction, Split};

pub use policy::Policy;

use crate::dtype::DType;
use crate::expr::program::{Program, Step};
use crate::expr::wgsl;
use crate::op::{Op, Reduce};
use std::fmt;

/// Jobs shorter than this run on the CPU unless the policy is `gpu`: even
/// 1,024 sines cost less than one GPU submission and readback (~10 us).
pub const SMALL_JOB: usize = 1024;

/// Fewest elements of a job split between the devices: a whole tile
/// ([`crate::canonical::TILE`]) each, since a reduction is cut only at a
/// tile boundary.
pub const SPLIT_MIN: usize = 2 * crate::canonical::TILE;

/// Programs longer than this run on the CPU: a driver compiles a kernel
/// in time that grows faster than its length (a 4,000-step kernel took
/// 30 s on one software adapter), and no job waits for that.
pub const MAX_GPU_STEPS: usize = 1000;

/// Where a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// The rayon thread pool.
    Cpu,
    /// The wgpu adapter.
    Gpu,
    /// Both at once: the GPU takes the first part of the job, the CPU the
    /// rest, in proportion to their predicted speed.
    Both,
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Device::Cpu => "cpu",
            Device::Gpu => "gpu",
            Device::Both => "gpu+cpu",
        })
    }
}

/// Why the scheduler chose a device. Cheap to build: no allocation, so
/// routing a 10-element job costs nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reason {
    /// The policy is `cpu`.
    PolicyCpu,
    /// The policy is `gpu`.
    PolicyGpu,
    /// The policy is `both`.
    PolicyBoth,
    /// No GPU adapter was found (or none matched `WGPU_ADAPTER_NAME`).
    NoAdapter,
    /// The GPU was lost or stopped answering earlier; jobs stay on the
    /// CPU until [`crate::Engine::reopen_gpu`] succeeds.
    GpuUnhealthy,
    /// The adapter lacks `SHADER_F64`.
    NoShaderF64,
    /// The GPU has no kernel for this op on this type (f64 transcendentals:
    /// Vulkan's GLSL.std.450 defines them for 16- and 32-bit floats only).
    NoGpuKernel(&'static str, DType),
    /// The expression reads more arrays than the adapter can bind at once.
    TooManyInputs {
        /// Arrays the expression reads.
        inputs: usize,
        /// Most the adapter binds.
        max: usize,
    },
    /// The program has more steps than [`MAX_GPU_STEPS`]: drivers take
    /// seconds to minutes to compile such a kernel, longer than the CPU
    /// takes to run it.
    ProgramTooLarge {
        /// Steps of the program.
        steps: usize,
    },
    /// Fewer than [`SMALL_JOB`] elements: a GPU launch alone costs more
    /// than the whole job on the calling thread.
    SmallJob,
    /// The policy is `both`, but the job has fewer than [`SPLIT_MIN`]
    /// elements: too few to give each device a whole tile.
    TooSmallToSplit,
    /// The cost model predicted this device (or the split) to finish
    /// first; [`Decision::predicted`] holds the times.
    Predicted,
    /// Under `auto`, no cost model was at hand to compare the devices.
    NoModel,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::PolicyCpu => f.write_str("policy is cpu"),
            Reason::PolicyGpu => f.write_str("policy is gpu"),
            Reason::PolicyBoth => f.write_str("policy is both"),
            Reason::NoAdapter => f.write_str("no GPU adapter found"),
            Reason::GpuUnhealthy => f.write_str("the GPU failed earlier and is marked unhealthy; staying on the CPU"),
            Reason::NoShaderF64 => f.write_str("the adapter has no SHADER_F64, so f64 runs on the CPU"),
            Reason::NoGpuKernel(op, dtype) => write!(f, "no GPU kernel for {op} on {dtype}"),
            Reason::TooManyInputs { inputs, max } => {
                write!(f, "the expression reads {inputs} arrays; the adapter binds at most {max}")
            }
            Reason::ProgramTooLarge { steps } => {
                write!(f, "the program has {steps} steps; GPU kernels are compiled for at most {MAX_GPU_STEPS}")
            }
            Reason::SmallJob => write!(f, "fewer than {SMALL_JOB} elements: cheaper than a GPU launch"),
            Reason::TooSmallToSplit => {
                write!(f, "policy is both, but fewer than {SPLIT_MIN} elements are too few to split")
            }
            Reason::Predicted => f.write_str("predicted to finish first"),
            Reason::NoModel => f.write_str("no cost model to compare the devices with"),
        }
    }
}

/// A routing decision: the device, the reason, and the predicted time of
/// each option where a cost model was at hand.
///
/// Two decisions are equal when they choose the same device for the same
/// reason; the predictions, being estimates, are not compared.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    /// Where the job runs.
    pub device: Device,
    /// Why.
    pub reason: Reason,
    /// Predicted completion on each device, queued work included.
    pub predicted: Option<Prediction>,
}

impl Decision {
    /// A decision for `device` because of `reason`, without predictions.
    pub const fn new(device: Device, reason: Reason) -> Decision {
        Decision { device, reason, predicted: None }
    }
}

impl PartialEq for Decision {
    fn eq(&self, other: &Decision) -> bool {
        (self.device, self.reason) == (other.device, other.reason)
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.device, self.reason)?;
        match &self.predicted {
            Some(predicted) => write!(f, " ({predicted})"),
            None => Ok(()),
        }
    }
}

/// Where a job's input arrays live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Location {
    /// Host memory: the GPU must upload them (and read its result back).
    #[default]
    Host,
    /// GPU memory: the CPU must read them back; a GPU result stays there.
    Gpu,
}

/// What the scheduler knows about the GPU.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuTraits {
    /// The adapter is a software rasterizer.
    pub software: bool,
    /// The adapter has `SHADER_F64` (and the device was created with it).
    pub shader_f64: bool,
    /// No device loss has been seen.
    pub healthy: bool,
    /// Most input arrays one kernel can read.
    pub max_inputs: usize,
}

/// The shape of a job, as far as routing cares: built from the job's
/// compiled program, so an [`Op`] and the same expression are one shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Element type of the result.
    pub dtype: DType,
    /// Number of elements.
    pub len: usize,
    /// Reduction, if any.
    pub reduce: Option<Reduce>,
    /// What the program computes per element.
    pub program: ProgramShape,
    /// Where the inputs live.
    pub data: Location,
    /// The result goes into memory allocated for this job (a new vector,
    /// as [`crate::Engine::run`] and [`crate::Engine::map`] return), whose
    /// pages its first write faults in; false for a caller's buffer
    /// ([`crate::Engine::map_into`]) and for reductions.
    pub new_output: bool,
}

impl Shape {
    /// `op` over `len` elements of `dtype` in host memory.
    pub fn map(dtype: DType, len: usize, op: Op) -> Shape {
        Shape::of_op(dtype, len, Some(op), None)
    }

    /// `reduce`, after `map` if any, over `len` elements of `dtype` in host memory.
    pub fn reduce(dtype: DType, len: usize, map: Option<Op>, reduce: Reduce) -> Shape {
        Shape::of_op(dtype, len, map, Some(reduce))
    }

    fn of_op(dtype: DType, len: usize, map: Option<Op>, reduce: Option<Reduce>) -> Shape {
        // An op the type lacks (sqrt on i32) is shaped as the identity; running it is an error.
        let program = Program::of_op(map, dtype).unwrap_or_else(|_| Program::identity(dtype));
        Shape::of(&program, len, reduce)
    }

    /// `program` over `len` elements in host memory, reduced if `reduce` is set.
    pub(crate) fn of(program: &Program, len: usize, reduce: Option<Reduce>) -> Shape {
        Shape::new(ProgramShape::of(program), len, reduce)
    }

    /// A program of this shape over `len` elements in host memory,
    /// reduced if `reduce` is set.
    pub fn new(program: ProgramShape, len: usize, reduce: Option<Reduce>) -> Shape {
        Shape { dtype: program.output, len, reduce, program, data: Location::Host, new_output: false }
    }

    /// The same job on inputs that live at `data`.
    pub fn at(self, data: Location) -> Shape {
        Shape { data, ..self }
    }

    /// The same job writing a new result (a map; a reduction has no array
    /// to write): see [`Shape::new_output`].
    pub fn with_new_output(self) -> Shape {
        Shape { new_output: self.reduce.is_none(), ..self }
    }

    /// The first reason the GPU cannot run a job of this shape, if any.
    fn gpu_cannot(&self, gpu: &GpuTraits) -> Option<Reason> {
        let program = &self.program;
        if program.uses_f64 && !gpu.shader_f64 {
            return Some(Reason::NoShaderF64);
        }
        if let Some((name, dtype)) = program.no_gpu_kernel {
            return Some(Reason::NoGpuKernel(name, dtype));
        }
        if program.steps > MAX_GPU_STEPS {
            return Some(Reason::ProgramTooLarge { steps: program.steps });
        }
        (program.inputs > gpu.max_inputs)
            .then_some(Reason::TooManyInputs { inputs: program.inputs, max: gpu.max_inputs })
    }
}

/// What a job's program computes per element, as far as routing cares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgramShape {
    /// Element type of the result.
    pub output: DType,
    /// Input arrays it reads.
    pub inputs: usize,
    /// Steps (distinct operations) of the program.
    pub steps: usize,
    /// Bytes it reads per element, over all inputs.
    pub bytes_per_element: usize,
    /// Transcendental function calls per element, in units of one `exp`
    /// (a `sin` is 1.5, a `sqrt` 0.1).
    pub calls: f64,
    /// True if it computes in `f64` anywhere.
    pub uses_f64: bool,
    /// A function it calls that has no GPU code for its type, if any.
    pub no_gpu_kernel: Option<(&'static str, DType)>,
}

impl ProgramShape {
    /// The shape of a compiled program: the one cost description both an
    /// op and an expression get.
    pub(crate) fn of(program: &Program) -> ProgramShape {
        let structure = &program.structure;
        let calls = structure
            .steps
            .iter()
            .map(|instr| match instr.step {
                Step::Unary(f, _) => f.calls(),
                Step::Binary(f, _, _) => f.calls(),
                _ => 0.0,
            })
            .sum();
        ProgramShape {
            output: structure.output(),
            inputs: structure.inputs.len(),
            steps: structure.steps.len(),
            bytes_per_element: structure.inputs.iter().map(|t| t.size()).sum(),
            calls,
            uses_f64: wgsl::uses_f64(structure),
            no_gpu_kernel: wgsl::unsupported(structure),
        }
    }
}

/// Why jobs of these shapes cannot go to the GPU whatever the model says:
/// the cpu policy, no adapter, an unhealthy one, or one that lacks what a
/// job needs.
fn kept_from_gpu(policy: Policy, gpu: Option<GpuTraits>, shapes: &[Shape]) -> Option<Reason> {
    match gpu {
        _ if policy == Policy::Cpu => Some(Reason::PolicyCpu),
        None => Some(Reason::NoAdapter),
        Some(gpu) if !gpu.healthy => Some(Reason::GpuUnhealthy),
        Some(gpu) => shapes.iter().find_map(|shape| shape.gpu_cannot(&gpu)),
    }
}

/// Chooses a device for a job of `shape` on idle devices; see [`route_loaded`].
pub fn route(policy: Policy, gpu: Option<GpuTraits>, shape: &Shape, model: Option<&CostModel>) -> Decision {
    route_loaded(policy, gpu, shape, model, Load::IDLE)
}

/// Chooses a device for a job of `shape` while `load` waits on the devices.
///
/// Order of the rules: the cpu policy; a job the GPU cannot run (no adapter,
/// unhealthy device, missing f64 support, a missing kernel, too many inputs) goes to the CPU whatever the policy;
/// the gpu policy; then small jobs stay on the calling thread; the both
/// policy splits jobs on host data; otherwise `auto` picks the option the cost model predicts to finish first:
/// the CPU, the GPU, or both, each taking a share. Predictions are filled
/// in whenever `model` is given, whatever decided.
pub fn route_loaded(
    policy: Policy,
    gpu: Option<GpuTraits>,
    shape: &Shape,
    model: Option<&CostModel>,
    load: Load,
) -> Decision {
    let cannot = kept_from_gpu(policy, gpu, std::slice::from_ref(shape));
    let predicted = model.map(|model| Prediction::of(model, shape, load, cannot.is_none()));
    let decide = |device, reason| Decision { device, reason, predicted };
    if let Some(reason) = cannot {
        return decide(Device::Cpu, reason);
    }
    if policy == Policy::Gpu {
        return decide(Device::Gpu, Reason::PolicyGpu);
    }
    if shape.len < SMALL_JOB {
        return decide(Device::Cpu, Reason::SmallJob);
    }
    if policy == Policy::Both && shape.data == Location::Host {
        return match shape.len {
            len if len < SPLIT_MIN => decide(Device::Cpu, Reason::TooSmallToSplit),
            _ => decide(Device::Both, Reason::PolicyBoth),
        };
    }
    match predicted {
        Some(predicted) => decide(predicted.fastest(shape.len), Reason::Predicted),
        None => decide(Device::Cpu, Reason::NoModel),
    }
}

/// Chooses a device for a chain of `stages` submitted as one unit (a
/// [`crate::Pipeline`]), whose inputs hold `bytes.0` bytes in host memory
/// and `bytes.1` on the GPU. The rules are those of [`route_loaded`],
/// except that no chain is too small to ask the model: what decides is
/// where the data already is.
pub fn route_chain(
    policy: Policy,
    gpu: Option<GpuTraits>,
    stages: &[Shape],
    bytes: (u64, u64),
    model: Option<&CostModel>,
    load: Load,
) -> Decision {
    let cannot = kept_from_gpu(policy, gpu, stages);
    let predicted = model.map(|model| Prediction::of_chain(model, stages, bytes, load, cannot.is_none()));
    let decide = |device, reason| Decision { device, reason, predicted };
    match (cannot, predicted) {
        (Some(reason), _) => decide(Device::Cpu, reason),
        _ if policy == Policy::Gpu => decide(Device::Gpu, Reason::PolicyGpu),
        (None, Some(predicted)) => decide(predicted.fastest(usize::MAX), Reason::Predicted),
        (None, None) => decide(Device::Cpu, Reason::NoModel),
    }
}
