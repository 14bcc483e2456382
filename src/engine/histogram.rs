//! Histograms and bincount on the engine: counts per bin of a slice or
//! of any expression's values, fused (counted where they are computed,
//! never stored). The bin of a value is [`crate::binning`]'s rule, the
//! same on every device, and the counts are integers added exactly, so
//! every path gives the same counts.

use super::{exprs, ops, Engine, Outcome};
use crate::binning::{Binning, MAX_BINS};
use crate::column::Column;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::exec::histogram::HistogramWork;
use crate::exec::{infallible, CpuExec, Executor, Task};
use crate::expr::Expr;
use crate::inputs::Inputs;
use crate::op::Reduce;
use crate::schedule::{ProgramShape, Shape};

impl Engine {
    /// numpy's `histogram(xs, bins, range=(lo, hi))`: the counts of `bins`
    /// equal-width bins over `[lo, hi]`. Bin `b` holds the values `x` with
    /// `edge[b] <= x < edge[b + 1]`, the edges computed in f64 as numpy
    /// does (`edge[b] = b * ((hi - lo) / bins) + lo`, `edge[bins] = hi`);
    /// the last bin is closed, so `hi` counts. NaN and values outside
    /// `[lo, hi]` are not counted. Exact for every type (integers and
    /// f32 are compared with the edges without rounding), and the same
    /// counts on every device. Errors: no bins or more than 2^24, `lo`
    /// and `hi` not finite with `lo < hi`, more than `u32::MAX` values.
    ///
    /// ```
    /// let engine = swath::Engine::cpu();
    /// let xs = [0.0f32, 0.5, 1.0, 2.5, 3.0, 3.5, f32::NAN, -1.0];
    /// assert_eq!(engine.histogram(&xs, 3, 0.0, 3.0)?, [2, 1, 2]); // 3.0 is in the last bin
    /// assert!(engine.histogram(&xs, 0, 0.0, 3.0).is_err());
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn histogram<T: Element>(&self, xs: &[T], bins: usize, lo: f64, hi: f64) -> Result<Vec<u32>> {
        let binning = equal_width::<T>(bins, lo, hi)?;
        self.count_slice(xs, &binning)
    }

    /// [`Engine::histogram`] of `expr` over the zipped `inputs`, fused:
    /// the values are counted a tile at a time as they are computed, with
    /// no intermediate array. The expression's type must be `U`.
    ///
    /// ```
    /// use swath::{expr::Expr, Engine, Inputs};
    /// let (x, y) = (vec![0.1f64, 0.9, 0.4, 0.6], vec![0.0f64, 0.0, 0.5, 0.5]);
    /// let inputs = Inputs::new().with("x", &x).with("y", &y);
    /// let counts = Engine::new()?.eval_histogram::<f64>(&Expr::parse("x + y")?, &inputs, 2, 0.0, 2.0)?;
    /// assert_eq!(counts, [3, 1]);
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn eval_histogram<U: Element>(
        &self,
        expr: &Expr,
        inputs: &Inputs<'_>,
        bins: usize,
        lo: f64,
        hi: f64,
    ) -> Result<Vec<u32>> {
        let binning = equal_width::<U>(bins, lo, hi)?;
        let program = exprs::compiled(expr, inputs, U::DTYPE)?;
        let task = Task::new(&program, &inputs.columns, inputs.common_len()?);
        self.execute_histogram(task, ProgramShape::of(&program), &binning)
    }

    /// How often each key in `0..n` occurs in `keys` (numpy's
    /// `bincount(keys, minlength=n)` for keys below `n`). Keys outside
    /// `0..n`, negative ones included, are not counted. Keys must be
    /// integers (`i32` or `u32`): float keys are an error, as are more
    /// than 2^24 keys to count or more than `u32::MAX` values.
    ///
    /// ```
    /// let engine = swath::Engine::cpu();
    /// assert_eq!(engine.bincount(&[0i32, 2, 2, 5, -1, 2], 4)?, [1, 0, 3, 0]);
    /// assert!(engine.bincount(&[1.0f32], 4).is_err());
    /// # Ok::<(), swath::Error>(())
    /// ```
    pub fn bincount<T: Element>(&self, keys: &[T], n: usize) -> Result<Vec<u32>> {
        self.count_slice(keys, &key_binning::<T>(n)?)
    }

    fn count_slice<T: Element>(&self, xs: &[T], binning: &Binning<T>) -> Result<Vec<u32>> {
        let identity = ops::compiled(None, T::DTYPE)?;
        let columns = [Column::of(xs)];
        self.execute_histogram(Task::new(&identity.program, &columns, xs.len()), identity.shape, binning)
    }

    /// The counts of `task`'s values, small tasks on the calling thread,
    /// others where the scheduler sends them (priced as a sum, which reads
    /// the same data).
    fn execute_histogram<U: Element>(
        &self,
        task: Task<'_>,
        shape: ProgramShape,
        binning: &Binning<U>,
    ) -> Result<Vec<u32>> {
        if task.len > u32::MAX as usize {
            return Err(Error::TooManyToCount { len: task.len, max: u32::MAX as usize });
        }
        task.program.check_len(task.len)?;
        if task.len == 0 || binning.reachable() == 0 {
            return Ok(vec![0; binning.bins]);
        }
        if self.small_on_cpu(task.len) {
            return Ok(infallible(CpuExec::new(None).histogram(task, binning)));
        }
        Ok(self.routed_histogram(task, shape, binning)?.value)
    }

    /// The counts of `task`'s values where the scheduler sends them
    /// (priced as a sum, which reads the same data).
    pub(crate) fn routed_histogram<U: Element>(
        &self,
        task: Task<'_>,
        shape: ProgramShape,
        binning: &Binning<U>,
    ) -> Result<Outcome<Vec<u32>>> {
        if task.len > u32::MAX as usize {
            return Err(Error::TooManyToCount { len: task.len, max: u32::MAX as usize });
        }
        task.program.check_len(task.len)?;
        let route = self.route(&Shape::new(shape, task.len, Some(Reduce::Sum)));
        Ok(self.dispatch(route, &mut HistogramWork { task, binning }))
    }
}

/// The bins of a bincount of `T` keys in `0..n`, once the arguments are
/// checked: keys must be integers.
pub(crate) fn key_binning<T: Element>(n: usize) -> Result<Binning<T>> {
    if T::DTYPE.is_float() {
        return Err(Error::FloatKeys { dtype: T::DTYPE });
    }
    if n > MAX_BINS {
        return Err(Error::InvalidBins { bins: n, max: MAX_BINS });
    }
    Ok(Binning::keys(n))
}

/// The bins of a histogram of `T` values, once the arguments are checked.
pub(crate) fn equal_width<T: Element>(bins: usize, lo: f64, hi: f64) -> Result<Binning<T>> {
    if bins == 0 || bins > MAX_BINS {
        return Err(Error::InvalidBins { bins, max: MAX_BINS });
    }
    if !(lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite()) {
        return Err(Error::InvalidRange { lo, hi });
    }
    Ok(Binning::equal_width(bins, lo, hi))
}
