// Element-wise map: dst[i] = apply(i) for every i < params.n.

@compute @workgroup_size(LANES)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = flat_workgroup(wid, groups) * LANES + lid;
    if i < params.n {
        dst[i] = apply(i);
    }
}
