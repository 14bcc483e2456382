//! Running one job where the scheduler sends it: the GPU, the CPU pool, or
//! both at once; a GPU fault reruns the GPU's part on the CPU.

use super::split::split_point;
use super::{Engine, Outcome};
use crate::cpu;
use crate::dtype::Element;
use crate::error::{Error, GpuError, Result};
use crate::expr::program::Program;
use crate::gpu::{Gpu, Stopwatch};
use crate::inputs::Column;
use crate::op::{Op, Reduce};
use crate::schedule::{Decision, Device, Shape};
use std::time::Instant;

impl Engine {
    pub(super) fn execute_map<T: Element>(&self, input: &[T], out: &mut [T], op: Op) -> Result<Outcome<()>> {
        if input.len() != out.len() {
            return Err(Error::LengthMismatch { input: input.len(), output: out.len() });
        }
        op.check(T::DTYPE)?;
        let shape = Shape::map(T::DTYPE, input.len(), op);
        Ok(self.dispatch(
            &shape,
            out,
            |gpu, out| {
                // Compiled only for the GPU: the CPU runs the op's own loop.
                gpu.map(&op_program::<T>(Some(op))?, &[Column::of(input)], out, &mut Stopwatch::off())
            },
            |gpu, out, k| ((), self.split_op_map(gpu, input, out, op, k)),
            |out| cpu::map_into(input, out, op),
        ))
    }

    pub(super) fn execute_reduce<T: Element>(
        &self,
        input: &[T],
        map: Option<Op>,
        reduce: Reduce,
    ) -> Result<Outcome<T>> {
        if let Some(op) = map {
            op.check(T::DTYPE)?;
        }
        if input.is_empty() && !reduce.has_identity() {
            return Err(Error::EmptyReduction { reduce });
        }
        let shape = Shape::reduce(T::DTYPE, input.len(), map, reduce);
        Ok(self.dispatch(
            &shape,
            &mut (),
            |gpu, ()| {
                let program = op_program::<T>(map)?;
                gpu.map_reduce(&program, &[Column::of(input)], input.len(), reduce, &mut Stopwatch::off())
            },
            |gpu, (), k| self.split_op_reduce(gpu, input, map, reduce, k),
            |()| cpu::map_reduce(input, map, reduce),
        ))
    }

    /// Routes a job of `shape` and runs it: `on_gpu` on the GPU, `on_both`
    /// split between GPU and CPU (given the elements the GPU takes), `on_cpu` on the
    /// engine's pool, also after a GPU fault. All work on `state`, such as
    /// the output array. Counts the job on its device's queue while it runs
    /// and learns from its time.
    pub(super) fn dispatch<S: Send + ?Sized, R: Send>(
        &self,
        shape: &Shape,
        state: &mut S,
        on_gpu: impl FnOnce(&Gpu, &mut S) -> Result<R, GpuError>,
        on_both: impl FnOnce(&Gpu, &mut S, usize) -> (R, Option<GpuError>),
        on_cpu: impl FnOnce(&mut S) -> R + Send,
    ) -> Outcome<R> {
        let start = Instant::now();
        let gpu = self.current_gpu();
        let (decision, model) = self.decide(gpu.as_deref(), shape);
        let outcome = |value, device, fallback| Outcome { value, decision, device, fallback, elapsed: start.elapsed() };
        let mut fallback = None;
        match (self.split_device(&decision, shape.len), gpu.as_deref()) {
            (Device::Gpu, Some(gpu)) => {
                let running = self.core.costs.start(Device::Gpu, model.and_then(|m| m.gpu_seconds(shape)));
                match on_gpu(gpu, state) {
                    Ok(value) => {
                        running.finished();
                        return outcome(value, Device::Gpu, None);
                    }
                    Err(fault) => fallback = Some(self.note_fault(fault)),
                }
            }
            (Device::Both, Some(gpu)) => {
                let (value, fault) = on_both(gpu, state, self.gpu_part(&decision, shape.len));
                let device = if fault.is_some() { Device::Cpu } else { Device::Both };
                return outcome(value, device, fault);
            }
            _ => {}
        }
        let running = self.core.costs.start(Device::Cpu, model.map(|m| m.cpu_seconds(shape)));
        let value = self.on_pool(|| on_cpu(state));
        if fallback.is_none() {
            running.finished();
        }
        outcome(value, Device::Cpu, fallback)
    }

    /// Elements the GPU takes of a job of `len` split by `decision`: its
    /// predicted share (half without a model), in whole tiles.
    fn gpu_part(&self, decision: &Decision, len: usize) -> usize {
        split_point(len, decision.predicted.and_then(|p| p.both).map_or(0.5, |split| split.gpu_share))
    }

    /// Where a job routed by `decision` really runs: a split that leaves
    /// one side no whole tile runs on the other alone.
    fn split_device(&self, decision: &Decision, len: usize) -> Device {
        match (decision.device, self.gpu_part(decision, len)) {
            (Device::Both, 0) => Device::Cpu,
            (Device::Both, k) if k == len => Device::Gpu,
            (device, _) => device,
        }
    }

    /// Logs a GPU fault before the job reruns on the CPU.
    pub(super) fn note_fault(&self, fault: GpuError) -> GpuError {
        log::warn!("GPU job failed, rerunning on the CPU: {fault}");
        fault
    }
}

/// The GPU program of an op job on `T`.
pub(super) fn op_program<T: Element>(map: Option<Op>) -> Result<Program, GpuError> {
    Program::of_op(map, T::DTYPE).map_err(|e| GpuError::Unsupported(e.to_string()))
}
