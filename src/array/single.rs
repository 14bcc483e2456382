//! A primitive (scan, compaction, argmin/argmax, histogram) of one array
//! in GPU memory, dispatched like any job: routed by where the array
//! lives, run on the GPU over the array's segments, and on the CPU (by
//! the route's choice, or after a GPU fault) over its values, read back
//! or recomputed. A result array remembers its input and how the CPU
//! computes it, so a later fault recomputes it.

use super::run::{collapse_lineage, holds, route_shapes};
use super::{Origin, Raw, Store};
use crate::column::HostData;
use crate::dtype::DType;
use crate::error::{GpuError, Result};
use crate::exec::{CpuExec, GpuExec, Work};
use crate::gpu::{Compacted, DeviceArray, Gpu};
use crate::schedule::Shape;
use std::sync::Arc;

/// A primitive computed on the CPU from its input's values.
pub(crate) type Rerun = Arc<dyn Fn(&CpuExec<'_>, &HostData) -> Result<HostData> + Send + Sync>;

/// A primitive's array, wherever it was made.
pub(super) enum Made {
    Host(HostData),
    Device(DeviceArray),
    /// A compaction's, its length still on the device.
    Pending(Compacted),
}

/// A primitive of one array, prepared for dispatch: `cpu` computes it
/// from the values, `gpu` from the device array.
struct OneArray<'a, C, G> {
    input: &'a Raw,
    cpu: C,
    gpu: G,
}

impl<R, C, G> Work for OneArray<'_, C, G>
where
    C: FnMut(&CpuExec<'_>, &HostData) -> R,
    G: FnMut(&Gpu, &DeviceArray) -> Result<R, GpuError>,
{
    type Out = R;

    fn len(&self) -> usize {
        // Never split: the primitives run whole on one device.
        0
    }

    fn on_cpu(&mut self, cpu: &CpuExec<'_>) -> R {
        (self.cpu)(cpu, &self.input.host())
    }

    fn on_gpu(&mut self, gpu: &GpuExec<'_>) -> Result<R, GpuError> {
        let array = match self.input.store() {
            Store::Device(array) if holds(&self.input.engine, gpu.gpu, self.input) => array.clone(),
            // Values on a GPU since replaced are uploaded again.
            _ => gpu.gpu.upload(self.input.host().column())?,
        };
        (self.gpu)(gpu.gpu, &array)
    }
}

/// Runs a primitive of `input`, an array in GPU memory, where routing
/// sends it; `shape` is the primitive's, as a job over the values.
pub(super) fn dispatch<R>(
    input: &Raw,
    shape: Shape,
    cpu: impl FnMut(&CpuExec<'_>, &HostData) -> R,
    gpu: impl FnMut(&Gpu, &DeviceArray) -> Result<R, GpuError>,
) -> R {
    let engine = &input.engine;
    let device = engine.current_gpu();
    let bytes = (input.len() * input.dtype.size()) as u64;
    let held = device.as_deref().is_some_and(|device| holds(engine, device, input));
    let route = route_shapes(engine, device, &[shape], if held { (0, bytes) } else { (bytes, 0) });
    engine.dispatch(route, &mut OneArray { input, cpu, gpu }).value
}

/// A primitive of `input` that makes an array of `dtype`: `rerun` on the
/// CPU, `gpu` on the GPU. The result is the new array, with the lineage
/// that recomputes it if it lives on the GPU.
pub(super) fn array_primitive(
    input: &Raw,
    dtype: DType,
    shape: Shape,
    rerun: Rerun,
    gpu: impl FnMut(&Gpu, &DeviceArray) -> Result<Made, GpuError>,
) -> Result<Raw> {
    let mut gpu = gpu;
    let made = dispatch(
        input,
        shape,
        |cpu, values| rerun(cpu, values).map(Made::Host),
        |device, array| gpu(device, array).map(Ok),
    )?;
    let engine = input.engine.clone();
    let depth = input.origin.depth() + 1;
    let lineage = || Arc::new(Origin::Primitive { input: input.origin.clone(), rerun: rerun.clone(), depth });
    let raw = match made {
        Made::Host(data) => {
            let len = data.column().len();
            Raw::new(engine, dtype, len, Store::Host(data.clone()), Arc::new(Origin::Data(data)))
        }
        Made::Device(array) => Raw::new(engine, dtype, array.len, Store::Device(array), lineage()),
        Made::Pending(compacted) => Raw::pending(engine, dtype, compacted, lineage()),
    };
    Ok(collapse_lineage(raw))
}
