// One level of the canonical reduction (see swath::canonical): workgroup
// `t` folds the values apply(i) of tile `t` (LANES * ROWS elements, the last
// one short) into dst[t]. At level one `apply` evaluates the expression over
// the inputs; at later levels it reads the previous level's partials.

var<workgroup> lanes: array<U, LANES>;

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

    // Each lane folds its column of the tile in row order.
    var acc = params.identity;
    let first = tile * tile_size + lid;
    for (var row = 0u; row < ROWS; row++) {
        let i = first + row * LANES;
        if i < params.n {
            acc = combine(acc, apply(i));
        }
    }
    lanes[lid] = acc;
    workgroupBarrier();

    // Halving tree over the lanes.
    for (var width = LANES / 2u; width > 0u; width /= 2u) {
        if lid < width {
            lanes[lid] = combine(lanes[lid], lanes[lid + width]);
        }
        workgroupBarrier();
    }
    if lid == 0u {
        dst[tile] = lanes[0];
    }
}
