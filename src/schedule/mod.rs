//! Where a job runs, and why.
//!
//! [`route`] is a pure function of the [`Policy`], what the GPU can do and
//! the job's shape, so every routing rule is testable without hardware.
//! The engine calls it once per job and reruns the job on the CPU if the
//! GPU then fails (see [`crate::Engine`]).

mod cost;
mod policy;

pub use cost::CostModel;

pub use policy::Policy;

use crate::dtype::DType;
use crate::op::{Op, Reduce};
use std::fmt;

/// Jobs shorter than this run on the CPU unless the policy is `gpu`: even
/// 1,024 sines cost less than one GPU submission and readback (~10 us).
pub const SMALL_JOB: usize = 1024;

/// Where a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Device {
    /// The rayon thread pool.
    Cpu,
    /// The wgpu adapter.
    Gpu,
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Device::Cpu => "cpu",
            Device::Gpu => "gpu",
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
    /// No GPU adapter was found (or none matched `WGPU_ADAPTER_NAME`).
    NoAdapter,
    /// The adapter is a software rasterizer (llvmpipe, lavapipe, WARP),
    /// which is not faster than rayon; `SWATH_DEVICE=gpu` still uses it.
    SoftwareAdapter,
    /// The GPU failed with a device loss earlier; jobs stay on the CPU.
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
    /// Fewer than [`SMALL_JOB`] elements: a GPU launch alone costs more
    /// than the whole job on the calling thread.
    SmallJob,
    /// The cost model predicted both devices; the faster one was chosen.
    Predicted {
        /// Predicted seconds on the CPU.
        cpu_s: f64,
        /// Predicted seconds on the GPU, transfers included.
        gpu_s: f64,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::PolicyCpu => f.write_str("policy is cpu"),
            Reason::PolicyGpu => f.write_str("policy is gpu"),
            Reason::NoAdapter => f.write_str("no GPU adapter found"),
            Reason::SoftwareAdapter => f.write_str(
                "the only adapter is a software rasterizer, no faster than rayon (SWATH_DEVICE=gpu forces it)",
            ),
            Reason::GpuUnhealthy => f.write_str("the GPU was lost earlier; staying on the CPU"),
            Reason::NoShaderF64 => f.write_str("the adapter has no SHADER_F64, so f64 runs on the CPU"),
            Reason::NoGpuKernel(op, dtype) => write!(f, "no GPU kernel for {op} on {dtype}"),
            Reason::TooManyInputs { inputs, max } => {
                write!(f, "the expression reads {inputs} arrays; the adapter binds at most {max}")
            }
            Reason::SmallJob => write!(f, "fewer than {SMALL_JOB} elements: cheaper than a GPU launch"),
            Reason::Predicted { cpu_s, gpu_s } => {
                write!(f, "predicted cpu {} vs gpu {} (transfers included)", seconds(*cpu_s), seconds(*gpu_s))
            }
        }
    }
}

fn seconds(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.1} us", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

/// A routing decision: the device and the reason.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Where the job runs.
    pub device: Device,
    /// Why.
    pub reason: Reason,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.device, self.reason)
    }
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

/// The shape of a job, as far as routing cares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Element type of the result (and of the input, for an op).
    pub dtype: DType,
    /// Number of elements.
    pub len: usize,
    /// Element-wise op, if any.
    pub map: Option<Op>,
    /// Reduction, if any.
    pub reduce: Option<Reduce>,
    /// What routing needs of an expression, for a job that maps by one.
    pub expr: Option<ExprShape>,
}

/// The shape of an expression, as far as routing cares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExprShape {
    /// Input arrays it reads.
    pub inputs: usize,
    /// Bytes it reads per element, over all inputs.
    pub bytes_per_element: usize,
    /// Transcendental function calls per element (`exp`, `sin`, ...).
    pub transcendentals: usize,
    /// True if it computes in `f64` anywhere.
    pub uses_f64: bool,
    /// A function it calls that has no GPU code for its type, if any.
    pub no_gpu_kernel: Option<(&'static str, DType)>,
}

impl Shape {
    /// The first reason the GPU cannot run a job of this shape, if any.
    fn gpu_cannot(&self, gpu: &GpuTraits) -> Option<Reason> {
        let uses_f64 = self.dtype == DType::F64 || self.expr.is_some_and(|e| e.uses_f64);
        if uses_f64 && !gpu.shader_f64 {
            return Some(Reason::NoShaderF64);
        }
        if let Some(op) = self.map.filter(|op| !op_has_gpu_kernel(*op, self.dtype)) {
            return Some(Reason::NoGpuKernel(op.name(), self.dtype));
        }
        let expr = self.expr?;
        if let Some((name, dtype)) = expr.no_gpu_kernel {
            return Some(Reason::NoGpuKernel(name, dtype));
        }
        (expr.inputs > gpu.max_inputs).then_some(Reason::TooManyInputs { inputs: expr.inputs, max: gpu.max_inputs })
    }
}

/// True if the GPU has code for `op` on `dtype`: Vulkan's GLSL.std.450
/// defines the transcendental functions for 16- and 32-bit floats only.
fn op_has_gpu_kernel(op: Op, dtype: DType) -> bool {
    !(dtype == DType::F64 && matches!(op, Op::Exp | Op::Log | Op::Sin | Op::Cos))
}

/// Chooses a device for a job of `shape`.
///
/// Order of the rules: the cpu policy; a job the GPU cannot run (no adapter,
/// lost device, missing f64 support, a missing kernel, too many inputs) goes to the CPU whatever the policy;
/// the gpu policy; then `auto` skips software adapters and small jobs and
/// asks the cost model.
pub fn route(policy: Policy, gpu: Option<GpuTraits>, shape: &Shape, model: &CostModel) -> Decision {
    let cpu = |reason| Decision { device: Device::Cpu, reason };
    if policy == Policy::Cpu {
        return cpu(Reason::PolicyCpu);
    }
    let Some(gpu) = gpu else { return cpu(Reason::NoAdapter) };
    if !gpu.healthy {
        return cpu(Reason::GpuUnhealthy);
    }
    if let Some(reason) = shape.gpu_cannot(&gpu) {
        return cpu(reason);
    }
    if policy == Policy::Gpu {
        return Decision { device: Device::Gpu, reason: Reason::PolicyGpu };
    }
    if gpu.software {
        return cpu(Reason::SoftwareAdapter);
    }
    if shape.len < SMALL_JOB {
        return cpu(Reason::SmallJob);
    }
    let (cpu_s, gpu_s) = model.predict(shape);
    let device = if gpu_s < cpu_s { Device::Gpu } else { Device::Cpu };
    Decision { device, reason: Reason::Predicted { cpu_s, gpu_s } }
}
