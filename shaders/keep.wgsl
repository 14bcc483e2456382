// An optimisation barrier for rounded f32 results.
//
// WGSL lets a compiler reassociate float arithmetic and fuse a multiply into
// an add (an FMA); both change the rounding, and so the bits, of a result.
// XOR with `params.zero`, which is always 0 but unknown to the compiler,
// leaves the value as it is and hides it from those rewrites: each step of an
// expression is rounded once, as IEEE and the CPU path round it. Costs one
// integer operation per step, far less than the memory traffic.

fn keep_f32(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ params.zero);
}
