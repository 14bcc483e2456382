// Stream compaction, one tile (LANES * ROWS elements) per workgroup:
// writes apply(i) for each element i of tile `t` where kept(i) is not 0,
// in order, from dst[tile_offsets[t]] on. The offsets are the exclusive
// prefix of the tiles' kept counts, so each element's place is an integer
// fixed by the input alone, whatever order the lanes run in.
//
// After the tiles' offsets come the chunk's kept count and a flag: when
// it is not 0 (a partition), each rejected element is written too, after
// all the kept ones, at the count of rejected elements before it: its
// index less the kept elements before it.

var<workgroup> before: array<u32, LANES>;

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

    // Lane `lid` takes ROWS consecutive elements, so the lanes in order
    // hold the tile's elements in order; bit `row` of `mask` flags one.
    let first = tile * tile_size + lid * ROWS;
    var mask = 0u;
    for (var row = 0u; row < ROWS; row++) {
        let i = first + row;
        if i < params.n && kept(i) != 0u {
            mask |= 1u << row;
        }
    }
    let count = countOneBits(mask);

    // Inclusive prefix sum of the lanes' counts (Hillis and Steele).
    before[lid] = count;
    workgroupBarrier();
    for (var width = 1u; width < LANES; width *= 2u) {
        var sum = before[lid];
        if lid >= width {
            sum += before[lid - width];
        }
        workgroupBarrier();
        before[lid] = sum;
        workgroupBarrier();
    }

    var at = tile_offsets[tile] + before[lid] - count;
    let tiles = (params.n + tile_size - 1u) / tile_size;
    let write_rest = tile_offsets[tiles + 1u] != 0u;
    var away = tile_offsets[tiles] + (first - at);
    for (var row = 0u; row < ROWS; row++) {
        let i = first + row;
        if (mask & (1u << row)) != 0u {
            dst[at] = apply(i);
            at += 1u;
        } else if write_rest && i < params.n {
            dst[away] = apply(i);
            away += 1u;
        }
    }
}
