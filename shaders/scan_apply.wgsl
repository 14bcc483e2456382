// The canonical scan of each tile (see swath::canonical, "Scans"): lane l
// scans its run of ROWS consecutive values left to right, one lane folds
// the run totals left to right into prefixes, and each value becomes
// prefix[l - 1] ⊕ run value, then, past the first tile of the whole scan,
// carry[t - 1] ⊕ that, where carry holds the scanned tile totals.

var<workgroup> prefix: array<U, LANES>;

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
    var run: array<U, ROWS>;
    var count = 0u;
    var acc = params.identity;
    if first < params.n {
        count = min(ROWS, params.n - first);
        acc = apply(first);
        run[0] = acc;
        for (var k = 1u; k < count; k++) {
            acc = combine(acc, apply(first + k));
            run[k] = acc;
        }
    }
    prefix[lid] = acc;
    workgroupBarrier();

    if lid == 0u {
        let held = min(LANES, (params.n - tile * tile_size + ROWS - 1u) / ROWS);
        for (var l = 1u; l < held; l++) {
            prefix[l] = combine(prefix[l - 1u], prefix[l]);
        }
    }
    workgroupBarrier();

    // The tile's index in the whole scan: dispatches start on tile boundaries.
    let whole_tile = params.offset / tile_size + tile;
    for (var k = 0u; k < count; k++) {
        var value = run[k];
        if lid > 0u {
            value = combine(prefix[lid - 1u], value);
        }
        if whole_tile > 0u {
            value = combine(carry[whole_tile - 1u], value);
        }
        dst[first + k] = value;
    }
}
