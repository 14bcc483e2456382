//! Scans, compaction, argmin/argmax and histograms of an [`Array`], with
//! the bits of the same [`Engine`](crate::Engine) functions on its
//! values. An array in host memory runs them through those functions; an
//! array in GPU memory runs them over its segments on the device, and
//! the result stays there (a filter's length too, until it is needed).

use super::single::{array_primitive, dispatch, Made, Rerun};
use super::{Array, Raw, Store};
use crate::binning::Binning;
use crate::column::HostData;
use crate::dtype::{DType, Element};
use crate::engine::{compaction_shape, equal_width, key_binning, predicate_program};
use crate::error::{Error, Result};
use crate::exec::{infallible, CpuExec, Executor, ScanWork, Task, Work};
use crate::expr::program::Program;
use crate::expr::{index, var, Expr};
use crate::extreme::{Extreme, Located};
use crate::fresh::result_vec;
use crate::gpu::{DeviceArray, Gpu};
use crate::inputs::Inputs;
use crate::op::{Reduce, Scan};
use crate::schedule::Shape;
use std::sync::Arc;

impl<T: Element> Array<T> {
    /// The prefix scan of the array, as a new array where this one lives:
    /// the bits of [`Engine::scan`](crate::Engine::scan) on its values.
    ///
    /// ```
    /// use swath::{Engine, Reduce, Scan};
    /// let engine = Engine::new()?;
    /// let xs = engine.array(vec![1.0f32, 2.0, 3.0, 4.0]);
    /// assert_eq!(xs.scan(Scan::inclusive(Reduce::Sum))?.to_vec()?, [1.0, 3.0, 6.0, 10.0]);
    /// assert_eq!(xs.scan(Scan::exclusive(Reduce::Max))?.to_vec()?, [f32::NEG_INFINITY, 1.0, 2.0, 3.0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn scan(&self, scan: Scan) -> Result<Array<T>> {
        if let Store::Host(data) = self.raw.store() {
            return Ok(self.host_array(self.raw.engine.scan(values::<T>(data), scan)?));
        }
        let (program, len) = (identity::<T>(), self.raw.len());
        let rerun: Rerun = Arc::new(move |cpu, input| {
            let (program, columns) = (identity::<T>(), [input.column()]);
            let mut out = result_vec::<T>(columns[0].len())?;
            ScanWork { task: Task::new(&program, &columns, out.len()), scan, out: &mut out }.on_cpu(cpu);
            Ok(HostData::of(out))
        });
        let shape = Shape::of(&program, len, None).with_new_output();
        let gpu = |gpu: &Gpu, array: &DeviceArray| gpu.scan_resident(&program, &[array], len, scan).map(Made::Device);
        Ok(Array::from_raw(array_primitive(&self.raw, T::DTYPE, shape, rerun, gpu)?))
    }

    /// The index of the first minimum and its value, as
    /// [`Engine::argmin`](crate::Engine::argmin) finds it; only they come
    /// back from the GPU. An empty array is an error.
    ///
    /// ```
    /// use swath::{Engine, Located};
    /// let xs = Engine::new()?.array(vec![3i32, -2, 5, -2]);
    /// assert_eq!(xs.argmin()?, Located { index: 1, value: -2 });
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn argmin(&self) -> Result<Located<T>> {
        self.argbest(Extreme::Min)
    }

    /// The index of the first maximum and its value, as
    /// [`Engine::argmax`](crate::Engine::argmax) finds it.
    ///
    /// ```
    /// use swath::{Engine, Located};
    /// let xs = Engine::new()?.array(vec![1.0f32, 7.0, 7.0, 2.0]);
    /// assert_eq!(xs.argmax()?, Located { index: 1, value: 7.0 });
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn argmax(&self) -> Result<Located<T>> {
        self.argbest(Extreme::Max)
    }

    /// numpy's `histogram` of the array: the counts of `bins` equal-width
    /// bins over `[lo, hi]`, as [`Engine::histogram`](crate::Engine::histogram)
    /// counts them, in a new `u32` array where this one lives.
    ///
    /// ```
    /// let xs = swath::Engine::new()?.array(vec![0.0f32, 0.5, 1.0, 2.5, 3.0, f32::NAN]);
    /// assert_eq!(xs.histogram(3, 0.0, 3.0)?.to_vec()?, [2, 1, 2]);
    /// assert!(xs.histogram(0, 0.0, 3.0).is_err());
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn histogram(&self, bins: usize, lo: f64, hi: f64) -> Result<Array<u32>> {
        match self.raw.store() {
            Store::Host(data) => Ok(self.host_array(self.raw.engine.histogram(values::<T>(data), bins, lo, hi)?)),
            Store::Device(_) => self.count(equal_width::<T>(bins, lo, hi)?),
        }
    }

    /// How often each key in `0..n` occurs in the array, as
    /// [`Engine::bincount`](crate::Engine::bincount) counts them (integer
    /// keys only), in a new `u32` array where this one lives.
    ///
    /// ```
    /// let keys = swath::Engine::new()?.array(vec![0i32, 2, 2, 5, -1, 2]);
    /// assert_eq!(keys.bincount(4)?.to_vec()?, [1, 0, 3, 0]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn bincount(&self, n: usize) -> Result<Array<u32>> {
        match self.raw.store() {
            Store::Host(data) => Ok(self.host_array(self.raw.engine.bincount(values::<T>(data), n)?)),
            Store::Device(_) => self.count(key_binning::<T>(n)?),
        }
    }

    /// The elements where `predicate` holds, in order, as
    /// [`Engine::filter`](crate::Engine::filter) keeps them: a condition
    /// over `x`, the element, and `i`, its index. On the GPU the result
    /// stays there, and so does its length until it is first needed
    /// (`len`, `to_vec`, a job on it), when only the count is read back.
    ///
    /// ```
    /// use swath::expr::Expr;
    /// let xs = swath::Engine::new()?.array(vec![0.2f32, 0.9, f32::NAN, 0.7, 0.1]);
    /// let big = xs.filter(&Expr::parse("x > 0.5")?)?;
    /// assert_eq!(big.len(), 2);
    /// assert_eq!(big.to_vec()?, [0.9, 0.7]);
    /// assert!(xs.filter(&Expr::parse("x * 2")?).is_err()); // not a condition
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn filter(&self, predicate: &Expr) -> Result<Array<T>> {
        match self.raw.store() {
            Store::Host(data) => Ok(self.host_array(self.raw.engine.filter(values::<T>(data), predicate)?)),
            Store::Device(_) => self.compact::<T>(&var("x"), predicate),
        }
    }

    /// The `u32` indices where `predicate` (over `x` and `i`) holds, in
    /// order, as [`Engine::filter_indices`](crate::Engine::filter_indices)
    /// finds them, in a new array where this one lives.
    ///
    /// ```
    /// use swath::expr::Expr;
    /// let xs = swath::Engine::new()?.array(vec![5i32, -2, 7, 0, 9]);
    /// assert_eq!(xs.filter_indices(&Expr::parse("x > 4")?)?.to_vec()?, [0, 2, 4]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn filter_indices(&self, predicate: &Expr) -> Result<Array<u32>> {
        match self.raw.store() {
            Store::Host(data) => {
                let inputs = Inputs::new().with("x", values::<T>(data));
                Ok(self.host_array(self.raw.engine.filter_indices(predicate, &inputs)?))
            }
            Store::Device(_) => self.compact::<u32>(&index(), predicate),
        }
    }

    /// The elements where `predicate` holds and the others, each in
    /// order, as two new arrays where this one lives: the two parts of
    /// [`Engine::partition`](crate::Engine::partition), whose `kept` is
    /// the first array's length. On the GPU both stay there, with their
    /// lengths, until they are needed.
    ///
    /// ```
    /// use swath::expr::Expr;
    /// let xs = swath::Engine::new()?.array(vec![3.0f32, -1.0, 4.0, f32::NAN, -1.5]);
    /// let (positive, rest) = xs.partition(&Expr::parse("x > 0")?)?;
    /// assert_eq!(positive.to_vec()?, [3.0, 4.0]);
    /// assert_eq!(rest.len(), 3); // -1, NaN and -1.5: NaN is not above 0
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn partition(&self, predicate: &Expr) -> Result<(Array<T>, Array<T>)> {
        let kept = self.filter(predicate)?;
        // A predicate is a condition (checked just now), so its negation
        // holds exactly where it does not: NaN comparisons included.
        let rest = self.filter(&!predicate.clone())?;
        Ok((kept, rest))
    }

    /// The first extreme element of an array in GPU memory.
    fn argbest(&self, extreme: Extreme) -> Result<Located<T>> {
        if let Store::Host(data) = self.raw.store() {
            let xs = values::<T>(data);
            return match extreme {
                Extreme::Min => self.raw.engine.argmin(xs),
                Extreme::Max => self.raw.engine.argmax(xs),
            };
        }
        let (program, len) = (identity::<T>(), self.raw.len());
        let empty = Error::EmptyArg { op: extreme.name() };
        if len == 0 {
            return Err(empty);
        }
        let shape = Shape::of(&program, len, Some(extreme.reduce()));
        let on_cpu = |cpu: &CpuExec<'_>, input: &HostData| {
            infallible(cpu.argbest(Task::new(&program, &[input.column()], len), extreme))
        };
        let on_gpu = |gpu: &Gpu, array: &DeviceArray| gpu.argbest_resident(&program, &[array], len, extreme);
        dispatch(&self.raw, shape, on_cpu, on_gpu).ok_or(empty)
    }

    /// The counts of an array in GPU memory in the bins of `binning`.
    fn count(&self, binning: Binning<T>) -> Result<Array<u32>> {
        let (program, len) = (identity::<T>(), self.raw.len());
        if len > u32::MAX as usize {
            return Err(Error::TooManyToCount { len, max: u32::MAX as usize });
        }
        let binning = Arc::new(binning);
        let rerun: Rerun = {
            let binning = Arc::clone(&binning);
            Arc::new(move |cpu, input| {
                let (program, columns) = (identity::<T>(), [input.column()]);
                let task = Task::new(&program, &columns, columns[0].len());
                Ok(HostData::of(infallible(cpu.histogram(task, &binning))))
            })
        };
        // Priced as a sum, which reads the same data, as on the engine.
        let shape = Shape::of(&program, len, Some(Reduce::Sum));
        let gpu = |gpu: &Gpu, array: &DeviceArray| {
            gpu.histogram_resident(&program, &[array], len, &binning).map(Made::Device)
        };
        Ok(Array::from_raw(array_primitive(&self.raw, DType::U32, shape, rerun, gpu)?))
    }

    /// The values of `values` (over `x` and `i`) where `predicate` holds,
    /// of an array in GPU memory.
    fn compact<U: Element>(&self, values: &Expr, predicate: &Expr) -> Result<Array<U>> {
        // Programs depend on their inputs' names and types, not on their
        // values: an empty slice of the array's type stands for it.
        let inputs = Inputs::new().with::<T>("x", &[]);
        let values = Program::compile(values, &inputs.types(), U::DTYPE)?;
        let predicate = Program::clone(&*predicate_program(predicate, &inputs)?);
        let len = self.raw.len();
        values.check_len(len)?;
        predicate.check_len(len)?;
        let shape = compaction_shape(&values, &predicate, &[T::DTYPE], len).with_new_output();
        let rerun: Rerun = {
            let (values, predicate) = (values.clone(), predicate.clone());
            Arc::new(move |cpu, input| {
                let columns = [input.column()];
                let task = Task::new(&values, &columns, columns[0].len());
                Ok(HostData::of(infallible(cpu.filter::<U>(task, &predicate))?))
            })
        };
        let gpu =
            |gpu: &Gpu, array: &DeviceArray| gpu.filter_resident(&values, &predicate, &[array], len).map(Made::Pending);
        Ok(Array::from_raw(array_primitive(&self.raw, U::DTYPE, shape, rerun, gpu)?))
    }

    /// `values`, the result of an engine function on this array's values
    /// in host memory, as an array there too.
    fn host_array<U: Element>(&self, values: Vec<U>) -> Array<U> {
        let data = HostData::of(values);
        let len = data.column().len();
        let origin = Arc::new(super::Origin::Data(data.clone()));
        Array::from_raw(Raw::new(self.raw.engine.clone(), U::DTYPE, len, Store::Host(data), origin))
    }
}

/// The values of an array of `T` held in host memory.
fn values<T: Element>(data: &HostData) -> &[T] {
    data.column().typed::<T>().expect("an array's values have its type")
}

/// The program that reads an array of `T` as it is.
fn identity<T: Element>() -> Program {
    Program::identity(T::DTYPE)
}
