//! [`Array`]: data that stays where its jobs run, and [`Pipeline`]s of
//! stages over such arrays.
//!
//! Moving data to a GPU and back costs far more than squaring it, so a
//! chain of jobs over host slices spends its time in transfers. An array
//! is uploaded once ([`Engine::array`]); maps, reductions and pipelines on
//! it leave their results on the device, and only [`Array::to_vec`] or a
//! reduction's value come back.
//!
//! ```
//! use swath::{expr::Expr, Engine, Op, Reduce};
//! let engine = Engine::new()?;
//! let xs = engine.array(vec![1.0f32, 2.0, 3.0, 4.0]); // one upload
//! let ys = xs.map(Op::Square)?;                        // stays on the device
//! assert_eq!(ys.reduce(Reduce::Sum)?, 30.0);           // one value comes back
//! let outputs = engine
//!     .pipeline()
//!     .input("x", &xs)
//!     .map::<f32>("y", &Expr::parse("x * x + 1")?)
//!     .map::<f32>("z", &Expr::parse("y - x")?)
//!     .run()?;                                         // one submission
//! assert_eq!(outputs.array::<f32>("z")?.to_vec()?, [1.0, 3.0, 7.0, 13.0]);
//! # Ok::<(), swath::Error>(())
//! ```
//!
//! Arrays never lose data: an array remembers how it was made (its source
//! values, or the stage and the arrays it read), so if the GPU fails
//! before a result is read, the result is recomputed on the CPU. That
//! memory is the price: an uploaded array keeps its host values alive as
//! long as it, or anything computed from it, exists.

mod fuse;
mod pending;
mod pipeline;
mod primitives;
mod run;
mod single;
mod slices;
mod values;

pub(crate) use pipeline::StageSpec;
pub use pipeline::{Outputs, Pipeline};
pub use values::ArrayValues;

use crate::column::HostData;
use crate::dtype::{DType, Element};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::exec::chain::evaluate;
use crate::expr::program::Program;
use crate::expr::var;
use crate::fresh::result_vec;
use crate::gpu::{Compacted, DeviceArray};
use crate::op::{Op, Reduce};
use pending::Pending;
use single::Rerun;
use std::marker::PhantomData;
use std::sync::Arc;

/// An array of `T` held by an engine: on its GPU when jobs on it would run
/// there, else in host memory. Cloning is cheap and shares the data.
///
/// Made by [`Engine::array`] or by a [`Pipeline`]; see the [module
/// docs](crate::array) for an example.
pub struct Array<T: Element> {
    raw: Raw,
    _type: PhantomData<fn() -> T>,
}

impl<T: Element> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array { raw: self.raw.clone(), _type: PhantomData }
    }
}

impl<T: Element> std::fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut fields = f.debug_struct("Array");
        fields.field("dtype", &self.raw.dtype);
        // Formatting does not ask the device for a length it still holds.
        match self.raw.settled() {
            Some((len, _)) => fields.field("len", &len),
            None => fields.field("len", &"on the device"),
        };
        fields.field("on_gpu", &self.on_gpu()).finish()
    }
}

impl<T: Element> Array<T> {
    pub(crate) fn from_raw(raw: Raw) -> Self {
        Array { raw, _type: PhantomData }
    }

    pub(crate) fn raw(&self) -> &Raw {
        &self.raw
    }

    /// Number of elements. The result of a filter on the GPU learns its
    /// length here, or at its first use, by reading back only the count.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// True if the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.raw.len() == 0
    }

    /// True if the values live in GPU memory.
    pub fn on_gpu(&self) -> bool {
        self.raw.on_gpu()
    }

    /// The values, copied to a new vector (one readback from the GPU).
    ///
    /// ```
    /// let engine = swath::Engine::new()?;
    /// assert_eq!(engine.array(vec![7u32, 8]).to_vec()?, [7, 8]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn to_vec(&self) -> Result<Vec<T>> {
        match self.raw.store() {
            Store::Host(data) => self.raw.engine.on_pool(|| data.to_vec()),
            Store::Device(device) => {
                let mut out = result_vec::<T>(device.len)?;
                match self.raw.engine.read_device(device, &mut out) {
                    Ok(()) => Ok(out),
                    Err(_) => {
                        let values = self.raw.origin.recompute(&self.raw.engine);
                        self.raw.engine.on_pool(|| values.to_vec())
                    }
                }
            }
        }
    }

    /// The values as a vector, moved out without a copy where this array
    /// is the only holder of values in host memory (a pipeline's output
    /// on the CPU, once the `Outputs` are dropped), else copied or read
    /// back as [`Array::to_vec`] does.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine};
    /// let engine = Engine::new()?;
    /// let xs = engine.array(vec![1.0f32, 2.0, 3.0]);
    /// let ys = engine.pipeline().input("x", &xs).map::<f32>("y", &Expr::parse("x * 2")?).run()?.array::<f32>("y")?;
    /// assert_eq!(ys.into_vec()?, [2.0, 4.0, 6.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn into_vec(self) -> Result<Vec<T>> {
        let Raw { engine, dtype, held, origin } = self.raw;
        match held {
            Held::Known(_, Store::Host(data)) => {
                // The origin of host values is those values: let go of it first.
                drop(origin);
                match data.into_vec::<T>() {
                    Ok(values) => Ok(values),
                    Err(shared) => engine.on_pool(|| shared.to_vec()),
                }
            }
            held => Array::<T>::from_raw(Raw { engine, dtype, held, origin }).to_vec(),
        }
    }

    /// The one value of a one-element array, such as a reduction's result.
    ///
    /// ```
    /// use swath::{Engine, Reduce};
    /// let engine = Engine::new()?;
    /// let sums = engine.pipeline().input("x", &engine.array(vec![1i32, 2, 3]))
    ///     .reduce::<i32>("s", &"x".parse()?, Reduce::Sum).run()?;
    /// assert_eq!(sums.array::<i32>("s")?.item()?, 6);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn item(&self) -> Result<T> {
        if self.raw.len() != 1 {
            return Err(Error::LengthMismatch { input: self.raw.len(), output: 1 });
        }
        Ok(self.to_vec()?[0])
    }

    /// `op` applied to every element, as a new array where this one lives.
    pub fn map(&self, op: Op) -> Result<Array<T>> {
        op.check(T::DTYPE)?;
        self.single_stage(|p| p.map::<T>("y", &op.to_expr(var("x"))))?.array("y")
    }

    /// `expr` over this array, read under `name`, as a new array of `U`.
    ///
    /// ```
    /// use swath::expr::Expr;
    /// let engine = swath::Engine::new()?;
    /// let xs = engine.array(vec![1.0f32, 4.0, 9.0]);
    /// let ys = xs.apply::<f32>("x", &Expr::parse("x * 2 + f32(i)")?)?;
    /// assert_eq!(ys.to_vec()?, [2.0, 9.0, 20.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn apply<U: Element>(&self, name: &str, expr: &crate::expr::Expr) -> Result<Array<U>> {
        let stage = if name == "y" { "z" } else { "y" };
        self.raw.engine.pipeline().input(name, self).map::<U>(stage, expr).run()?.array(stage)
    }

    /// The array reduced to one value in the canonical order (the same
    /// bits as [`Engine::reduce`] on the values).
    pub fn reduce(&self, reduce: Reduce) -> Result<T> {
        self.single_stage(|p| p.reduce::<T>("y", &var("x"), reduce))?.scalar("y")
    }

    /// `op` fused into `reduce` over the array: one pass, one value back.
    pub fn map_reduce(&self, op: Op, reduce: Reduce) -> Result<T> {
        op.check(T::DTYPE)?;
        self.single_stage(|p| p.reduce::<T>("y", &op.to_expr(var("x")), reduce))?.scalar("y")
    }

    fn single_stage(&self, stage: impl FnOnce(Pipeline<'_>) -> Pipeline<'_>) -> Result<Outputs> {
        stage(self.raw.engine.pipeline().input("x", self)).run()
    }
}

/// An array of any type: what [`Array`] wraps.
#[derive(Clone)]
pub(crate) struct Raw {
    pub engine: Engine,
    pub dtype: DType,
    held: Held,
    pub origin: Arc<Origin>,
}

/// An array's length and where its values are.
#[derive(Clone)]
enum Held {
    Known(usize, Store),
    /// A compaction on the GPU whose length is still on the device (see
    /// [`pending`]); clones share its resolution.
    Pending(Arc<Pending>),
}

impl Raw {
    pub fn new(engine: Engine, dtype: DType, len: usize, store: Store, origin: Arc<Origin>) -> Raw {
        Raw { engine, dtype, held: Held::Known(len, store), origin }
    }

    /// The result of a compaction on the GPU, its length still there.
    pub fn pending(engine: Engine, dtype: DType, compacted: Compacted, origin: Arc<Origin>) -> Raw {
        Raw { engine, dtype, held: Held::Pending(Arc::new(Pending::new(compacted))), origin }
    }

    /// Number of elements (resolving a pending length).
    pub fn len(&self) -> usize {
        self.resolved().0
    }

    /// Where the values are (resolving a pending length).
    pub fn store(&self) -> &Store {
        self.resolved().1
    }

    /// The length and the store, if known without asking the device.
    pub fn settled(&self) -> Option<(usize, &Store)> {
        match &self.held {
            Held::Known(len, store) => Some((*len, store)),
            Held::Pending(pending) => pending.resolved(),
        }
    }

    /// True if the values are in GPU memory; a pending length is on the
    /// GPU, with its values.
    pub fn on_gpu(&self) -> bool {
        self.settled().is_none_or(|(_, store)| matches!(store, Store::Device(_)))
    }

    fn resolved(&self) -> (usize, &Store) {
        match &self.held {
            Held::Known(len, store) => (*len, store),
            Held::Pending(pending) => pending.resolve(&self.engine, &self.origin),
        }
    }

    /// The values in host memory: read back, or recomputed on the CPU if
    /// the GPU cannot give them.
    pub fn host(&self) -> HostData {
        match self.store() {
            Store::Host(data) => data.clone(),
            Store::Device(device) => {
                let read = |data: &mut HostData| match self.dtype {
                    DType::F32 => data.values_mut::<f32>().map(|v| self.engine.read_device(device, v)),
                    DType::F64 => data.values_mut::<f64>().map(|v| self.engine.read_device(device, v)),
                    DType::I32 => data.values_mut::<i32>().map(|v| self.engine.read_device(device, v)),
                    DType::U32 => data.values_mut::<u32>().map(|v| self.engine.read_device(device, v)),
                };
                let mut data = HostData::zeroed(self.dtype, device.len);
                match read(&mut data) {
                    Some(Ok(())) => data,
                    _ => self.origin.recompute(&self.engine),
                }
            }
        }
    }
}

/// Where an array's values are.
#[derive(Clone)]
pub(crate) enum Store {
    Host(HostData),
    Device(DeviceArray),
}

/// How an array was made, so it can be made again on the CPU.
pub(crate) enum Origin {
    /// Values given by the caller.
    Data(HostData),
    /// `program` over the arrays `inputs` (in its slot order), `len`
    /// elements, reduced with `reduce` if set; `depth` stages above the
    /// source data at most.
    Stage { program: Program, inputs: Vec<Arc<Origin>>, len: usize, reduce: Option<Reduce>, depth: usize },
    /// A primitive (scan, histogram, compaction) of the array `input`,
    /// which `rerun` computes on the CPU from the input's values.
    Primitive { input: Arc<Origin>, rerun: Rerun, depth: usize },
}

/// Stages of lineage an array on the GPU keeps at most. A longer chain
/// (`x = x.map(..)` in a loop) is checkpointed: the array is read back
/// once and its host values become its origin, so neither the memory
/// that lineage holds nor the cost of recomputing it grows without bound.
pub(crate) const MAX_LINEAGE: usize = 64;

impl Origin {
    /// Stages between this array and the source data.
    pub fn depth(&self) -> usize {
        match self {
            Origin::Data(_) => 0,
            Origin::Stage { depth, .. } | Origin::Primitive { depth, .. } => *depth,
        }
    }

    /// The values, computed on `engine`'s CPU pool from the source data.
    pub fn recompute(&self, engine: &Engine) -> HostData {
        match self {
            Origin::Data(data) => data.clone(),
            Origin::Stage { program, inputs, len, reduce, .. } => {
                let inputs: Vec<HostData> = inputs.iter().map(|origin| origin.recompute(engine)).collect();
                let columns: Vec<_> = inputs.iter().map(HostData::column).collect();
                evaluate(&engine.cpu_exec(), program, &columns, *len, *reduce, None)
            }
            Origin::Primitive { input, rerun, .. } => {
                let values = input.recompute(engine);
                // As for stages, a recomputation has nowhere to report running out of memory.
                rerun(&engine.cpu_exec(), &values).unwrap_or_else(|error| panic!("recomputing an array: {error}"))
            }
        }
    }
}
