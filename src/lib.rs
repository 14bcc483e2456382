//! swath: data-parallel map and reduce jobs on the GPU (wgpu compute
//! shaders) or the CPU (rayon), from one job definition, routed by a
//! scheduler that explains itself and never loses a job.
//!
//! ```
//! use swath::{Engine, Job, Op, Reduce};
//! let engine = Engine::new()?;
//! let xs: Vec<f32> = (1..=10).map(|i| i as f32).collect();
//! let squares = engine.map(&xs, Op::Square)?;
//! assert_eq!(squares, [1.0, 4.0, 9.0, 16.0, 25.0, 36.0, 49.0, 64.0, 81.0, 100.0]);
//! // Fused map-reduce: one pass, no intermediate array.
//! let job = Job::map_reduce(&xs, Op::Square, Reduce::Sum);
//! let outcome = engine.run(&job)?;
//! println!("{:?} on {} ({})", outcome.value, outcome.device, outcome.decision.reason);
//! # Ok::<(), swath::Error>(())
//! ```
//!
//! - [`Engine`] runs [`Job`]s: an element-wise [`Op`], a [`Reduce`], or both
//!   fused, over `f32`, `f64`, `i32` or `u32` ([`Element`]).
//! - [`Policy`] (`SWATH_DEVICE=auto|cpu|gpu|both`) says where jobs may run;
//!   under `auto` a measured, cached [`schedule::CostModel`] predicts each
//!   option (CPU, GPU, or a split between both), and [`Engine::explain`]
//!   says where a job will run, why, and in how long.
//! - Reductions follow one [`canonical`] order, so a float sum has the same
//!   bits on any thread count and on the GPU.
//! - Semantics of every op (wrapping integers, NaN-propagating min/max) are
//!   in [`op`].

pub mod array;
mod binning;
pub mod canonical;
mod column;
mod cpu;
#[cfg(feature = "mpi")]
pub mod distributed;
mod dtype;
mod engine;
mod error;
mod exec;
pub mod expr;
mod extreme;
mod fresh;
mod gpu;
mod handle;
mod inputs;
mod job;
pub mod op;
mod recent;
pub mod schedule;

pub use array::{Array, Outputs, Pipeline};
pub use dtype::{DType, Element};
pub use engine::Partition;
pub use engine::{Engine, EngineBuilder, Outcome, Output, DEFAULT_GPU_TIMEOUT};
pub use error::{Error, ExprError, GpuError, PipelineError, Result};
pub use extreme::Located;
pub use gpu::{adapters, preferred_adapter, GpuBandwidth, GpuInfo, GpuProfile, InjectedFault, Transfers};
pub use handle::{wait_all, JobHandle};
pub use inputs::Inputs;
pub use job::Job;
pub use op::{Op, Reduce, Scan};
pub use schedule::{Decision, Device, Policy, Reason};

/// The README's Rust examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
