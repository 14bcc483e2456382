//! The canonical reduction order, shared by every path.
//!
//! Floating-point addition is not associative, so a parallel sum depends on
//! the order of its additions. swath fixes one order, independent of thread
//! count and device, so a reduction gives the same bits everywhere:
//!
//! 1. The input is cut into tiles of [`TILE`] = [`LANES`] x [`ROWS`]
//!    elements; the last tile may be short.
//! 2. Inside a tile, lane `l` (0..[`LANES`]) starts at the reduction's
//!    identity and folds, in row order, the elements at `r * LANES + l`
//!    for `r` in `0..ROWS` that exist: `acc = combine(acc, map(x))`.
//! 3. The lanes are folded by a halving tree: for `s` = 128, 64, ..., 1,
//!    `lane[l] = combine(lane[l], lane[l + s])` for every `l < s`.
//!    `lane[0]` is the tile's partial.
//! 4. If there was more than one tile, the partials form a new input and
//!    the steps repeat (with no map) until one value is left. An empty
//!    input gives the identity.
//!
//! A GPU workgroup of [`LANES`] threads computes one tile exactly this way;
//! the CPU computes several tiles per rayon task with SIMD-friendly loops.
//! Because lanes start at the identity, a sum of only `-0.0` values is
//! `+0.0`. GPUs that flush subnormals to zero may differ from the CPU on
//! inputs with subnormal values; everything else agrees bit for bit for
//! sum, product, min and max (a fused f64 map may differ where the GPU compiler
//! contracts a multiply and an add into one fused multiply-add).
//!
//! # Scans
//!
//! A scan's element `i` combines the values `0..=i`. swath fixes how those
//! combinations associate, with the same tiles, so that every element of
//! a scan has the same bits on every thread count and on the CPU and GPU:
//!
//! 1. The input is cut into tiles of [`TILE`] elements. In a tile, lane `l`
//!    owns the run of [`ROWS`] consecutive elements from `l * ROWS` (runs
//!    past the end of the input hold nothing).
//! 2. A run is folded left to right from its first value (no identity):
//!    `r[0] = v[0]`, `r[k] = r[k-1] ⊕ v[k]`. Its last `r` is the run's total.
//! 3. The run totals are folded left to right across the lanes:
//!    `P[0] = R[0]`, `P[l] = P[l-1] ⊕ R[l]`; `P` of the last lane holding
//!    elements is the tile's total.
//! 4. In tile `t`, element `k` of lane `l` is `r[k]` for lane 0 and
//!    `P[l-1] ⊕ r[k]` for the others; for `t > 0` that value `w` becomes
//!    `S[t-1] ⊕ w`, where `S` is the inclusive scan of the tile totals by
//!    these same rules (recursively, until one tile is left).
//! 5. An exclusive scan is the reduction's identity followed by the
//!    inclusive scan of all but the last value.
//!
//! A GPU workgroup computes a tile with one lane per run; the CPU runs the
//! same loops a tile at a time. Both read the input twice (once for the
//! tile totals, once for the results), so a scan moves three arrays where
//! a copy moves two. A single-pass scan with decoupled look-back moves two,
//! but it adds tile totals in an order set by which tiles finish first, so
//! a float scan would change from run to run. Integer scans wrap, and equal
//! a sequential scan bit for bit (numpy's `cumsum`); a value of a float
//! scan passes through at most `ROWS + LANES` roundings per level of tiles
//! (`ceil(log_TILE(n))` levels), where a sequential scan's passes through
//! up to `n`. The subnormal
//! and NaN caveats of reductions apply.
//!
//! Accuracy of sums: each lane adds at most [`ROWS`] values in sequence and
//! the tree adds `log2(LANES)` levels, so a value passes through about
//! `(ROWS + 8) * ceil(log_TILE(n))` roundings instead of up to `n`. (A
//! product's relative error still grows with `n`: every factor contributes
//! one rounding whatever the order.)

/// Lanes of a tile: one GPU workgroup's threads.
pub const LANES: usize = 256;
/// Rows of a tile: elements each lane folds in sequence.
pub const ROWS: usize = 16;
/// Elements in one tile.
pub const TILE: usize = LANES * ROWS;

/// Number of tile partials an input of `n` elements reduces to in one level.
pub fn tiles(n: usize) -> usize {
    n.div_ceil(TILE)
}
