// Tile totals of the canonical scan (see swath::canonical, "Scans"):
// workgroup `t` writes into dst[t] the combination of tile t's values in
// the scan's order: each lane folds its run of ROWS consecutive values
// left to right, then the run totals are folded left to right.

var<workgroup> runs: array<U, LANES>;

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

    let first = tile * tile_size + lid * ROWS;
    var acc = params.identity;
    if first < params.n {
        let count = min(ROWS, params.n - first);
        acc = apply(first);
        for (var k = 1u; k < count; k++) {
            acc = combine(acc, apply(first + k));
        }
    }
    runs[lid] = acc;
    workgroupBarrier();

    if lid == 0u {
        let held = min(LANES, (params.n - tile * tile_size + ROWS - 1u) / ROWS);
        var total = runs[0];
        for (var l = 1u; l < held; l++) {
            total = combine(total, runs[l]);
        }
        dst[tile] = total;
    }
}
