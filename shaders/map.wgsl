// Element-wise map: dst[i] = apply(i) for every i < params.n.
//
// Each lane maps MAP_PER_LANE elements, LANES apart, so a workgroup's
// accesses stay contiguous while every lane has several loads in flight:
// with one element a lane, a fast GPU's memory waits on the lanes.

@compute @workgroup_size(LANES)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let first = flat_workgroup(wid, groups) * LANES * MAP_PER_LANE + lid;
    for (var k = 0u; k < MAP_PER_LANE; k++) {
        let i = first + k * LANES;
        if i < params.n {
            dst[i] = apply(i);
        }
    }
}
