// argmin / argmax, first level: workgroup `t` finds the first extreme
// element of tile `t` (LANES * ROWS elements, the last one short) and
// writes its value to dst[t] and its index in the whole job to
// best_index[t]. The host compares the tiles' winners.
//
// The header defines is_nan_value(x) and beats(a, b) (a strictly smaller
// for argmin, larger for argmax) and binds best_index after the inputs.
// Pairs are ordered as in swath::extreme: NaN first, then the better
// value, then the lower index. That order has no ties, so the lanes and
// the tree may compare pairs in any order and still find the same one.

var<workgroup> values: array<U, LANES>;
var<workgroup> indices: array<u32, LANES>;

// Marks a lane that has seen no element yet; no job reaches this index.
const NONE: u32 = 0xffffffffu;

// True if the pair (a, ia) comes before (b, ib).
fn precedes(a: U, ia: u32, b: U, ib: u32) -> bool {
    let nan_a = is_nan_value(a);
    let nan_b = is_nan_value(b);
    if nan_a != nan_b {
        return nan_a;
    }
    if !nan_a {
        if beats(a, b) {
            return true;
        }
        if beats(b, a) {
            return false;
        }
    }
    return ia < ib;
}

@compute @workgroup_size(LANES)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let tile = flat_workgroup(wid, groups);
    let tile_size = LANES * ROWS;
    // Whole workgroups past the input leave: the grid may be rounded up.
    if tile >= (params.n + tile_size - 1u) / tile_size {
        return;
    }

    var best = params.identity;
    var at = NONE;
    let first = tile * tile_size + lid;
    for (var row = 0u; row < ROWS; row++) {
        let i = first + row * LANES;
        if i < params.n {
            let value = apply(i);
            let index = params.offset + i;
            if precedes(value, index, best, at) {
                best = value;
                at = index;
            }
        }
    }
    values[lid] = best;
    indices[lid] = at;
    workgroupBarrier();

    for (var width = LANES / 2u; width > 0u; width /= 2u) {
        if lid < width && precedes(values[lid + width], indices[lid + width], values[lid], indices[lid]) {
            values[lid] = values[lid + width];
            indices[lid] = indices[lid + width];
        }
        workgroupBarrier();
    }
    if lid == 0u {
        dst[tile] = values[0];
        best_index[tile] = indices[0];
    }
}
