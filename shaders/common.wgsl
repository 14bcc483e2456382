// Declarations shared by every swath kernel.
//
// swath prepends a generated header that defines, for one kernel:
//   alias U, LANES, ROWS   the output type, threads per workgroup (= lanes
//                          of a reduction tile), elements a lane folds
//   struct Params, params  n (valid elements in this dispatch), offset (index
//                          of its first element), identity (reductions), and
//                          one field c<k> per constant of the expression
//   dst, in<k>             the output and input arrays
//   fn apply(u32) -> U     the expression at element i of the dispatch
//   fn combine(U, U) -> U  the reduction (reduce kernels only)
// The header is generated from swath's own fixed snippets; constants live in
// the uniform, so neither user text nor values ever reach the source.

// Dispatches larger than 65,535 workgroups use a 2-D grid; this is the
// workgroup's position in the flattened grid.
fn flat_workgroup(wid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return wid.y * groups.x + wid.x;
}
