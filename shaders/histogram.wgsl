// Histogram: counts of the values apply(i) per bin (see swath::binning).
// Workgroup `g` counts elements [g * LANES * HIST_ROWS, (g + 1) * ...).
//
// The header binds, after the inputs, `edges` (the bins' thresholds in
// the data's type, then the largest value counted) and the uniform
// `binning` (bins: those that can hold a value; lo, scale and base for
// the estimate), and defines is_nan_value(x) and estimate(x), the
// approximate bin before flooring.
//
// With few bins a workgroup counts into workgroup memory and adds its
// counts to `dst` once; with more bins than fit there it adds each value
// to `dst` directly. Both are integer atomics: exact in any order.

var<workgroup> local_counts: array<atomic<u32>, LOCAL_BINS>;

// True if x is counted: not NaN and within [lo, hi].
fn counted(x: U) -> bool {
    return !is_nan_value(x) && x >= edges[0] && x <= edges[binning.bins];
}

// The bin of a counted value: the last bin whose threshold it reaches.
// The estimate may be off in either direction (or meaningless, for an
// extreme range); the thresholds alone decide.
fn bin_of(x: U) -> u32 {
    let last = binning.bins - 1u;
    let guess = floor(estimate(x));
    var b = min(u32(max(guess, 0.0)), last);
    loop {
        if b == 0u || x >= edges[b] {
            break;
        }
        b -= 1u;
    }
    loop {
        if b == last || x < edges[b + 1u] {
            break;
        }
        b += 1u;
    }
    return b;
}

@compute @workgroup_size(LANES)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let group = flat_workgroup(wid, groups);
    let per_group = LANES * HIST_ROWS;
    // Whole workgroups past the input leave: the grid may be rounded up.
    if group >= (params.n + per_group - 1u) / per_group {
        return;
    }
    let local = binning.bins <= LOCAL_BINS;
    if local {
        for (var b = lid; b < binning.bins; b += LANES) {
            atomicStore(&local_counts[b], 0u);
        }
    }
    workgroupBarrier();

    let first = group * per_group + lid;
    for (var row = 0u; row < HIST_ROWS; row++) {
        let i = first + row * LANES;
        if i < params.n {
            let x = apply(i);
            if counted(x) {
                if local {
                    atomicAdd(&local_counts[bin_of(x)], 1u);
                } else {
                    atomicAdd(&dst[bin_of(x)], 1u);
                }
            }
        }
    }
    workgroupBarrier();

    if local {
        for (var b = lid; b < binning.bins; b += LANES) {
            let count = atomicLoad(&local_counts[b]);
            if count != 0u {
                atomicAdd(&dst[b], count);
            }
        }
    }
}
