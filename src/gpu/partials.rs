//! First-level tile partials of a reduction, for a job the GPU shares with
//! the CPU: each side folds the tiles of its own range, and the host folds
//! the concatenated partials with [`crate::cpu::finish`], in the canonical
//! order of [`crate::canonical`].

use super::{reduce, Gpu, Stopwatch};
use crate::column::Column;
use crate::dtype::Element;
use crate::error::GpuError;
use crate::expr::program::Program;
use crate::op::Reduce;

impl Gpu {
    /// The partial of every tile of `program(columns)`, `len` elements:
    /// [`crate::canonical::tiles`]`(len)` values, none for `len == 0`,
    /// each as level one of [`Gpu::map_reduce`] computes it. Element
    /// indices (`i`) count from the columns' first element.
    pub fn map_reduce_partials<U: Element>(
        &self,
        program: &Program,
        columns: &[Column<'_>],
        len: usize,
        reduce: Reduce,
    ) -> Result<Vec<U>, GpuError> {
        self.compile(&program.structure, Some(reduce))?;
        self.job(|ctx, scratch| {
            let job = reduce::ReduceTask { program, columns, len, reduce };
            reduce::first_level(ctx, &self.kernels, scratch, &job, &mut Stopwatch::off())
        })
    }
}
