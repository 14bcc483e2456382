// Declarations shared by every swath kernel.
//
// swath prepends a generated header that defines, for one instantiation:
//   alias T          the element type (f32, f64, i32 or u32)
//   const LANES      threads per workgroup (= lanes of a reduction tile)
//   const ROWS       elements each lane folds per tile
//   fn is_nan(T)     NaN test (always false for integers)
//   fn apply(T) -> T         the element-wise op (identity for a plain reduce)
//   fn combine(T, T) -> T    the reduction (reduce kernels only)
// The header is built from swath's own fixed snippets, never from user text.

struct Params {
    // Scalars of the op: `s` of add/mul/min/max, or `lo`, `hi` of clamp.
    a: T,
    b: T,
    // Identity of the reduction: lanes start here.
    identity: T,
    // Number of valid input elements in this dispatch.
    n: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<T>;
@group(0) @binding(2) var<storage, read_write> dst: array<T>;

// Dispatches larger than 65,535 workgroups use a 2-D grid; this is the
// workgroup's position in the flattened grid.
fn flat_workgroup(wid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return wid.y * groups.x + wid.x;
}

// NaN-propagating min/max: the result is NaN if either operand is NaN,
// else `a` when it is strictly smaller (larger), else `b`. The CPU path
// implements the same rule, so results agree bit for bit.
fn min_nan(a: T, b: T) -> T {
    return select(b, a, is_nan(a) || a < b);
}

fn max_nan(a: T, b: T) -> T {
    return select(b, a, is_nan(a) || a > b);
}
