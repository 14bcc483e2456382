// The exact float remainder of f32 division, as C's fmod and the CPU path
// compute it: a - n * b for the integer n = trunc(a / b), with no rounding
// at all. WGSL's own `%` computes a - b * trunc(a / b) in floats, rounding
// twice, so its result can differ in the last bits.
//
// Integer long division on the significands: a = ma * 2^ea, b = mb * 2^eb
// (unbiased by the same constant), and a mod b = (ma * 2^(ea - eb) mod mb)
// * 2^eb, found one exponent step at a time (at most 253 steps). Integers
// only, so subnormals are exact and no compiler rewrite can change a bit.

// The exponent field (1 for a subnormal, as its scale is that of 1) and the
// significand with its implicit leading bit, of a finite |x|'s bits.
fn parts_f32(bits: u32) -> vec2<u32> {
    let exponent = bits >> 23u;
    let fraction = bits & 0x7fffffu;
    if (exponent == 0u) {
        return vec2<u32>(1u, fraction);
    }
    return vec2<u32>(exponent, fraction | 0x800000u);
}

fn fmod_f32(a: f32, b: f32) -> f32 {
    let sign = bitcast<u32>(a) & 0x80000000u;
    let ia = bitcast<u32>(a) & 0x7fffffffu;
    let ib = bitcast<u32>(b) & 0x7fffffffu;
    // a infinite or NaN, b NaN or zero: NaN.
    if (ia >= 0x7f800000u || ib > 0x7f800000u || ib == 0u) {
        return bitcast<f32>(0x7fc00000u);
    }
    // |a| < |b| (the bits of non-negative floats order as their values),
    // b infinite included: a itself.
    if (ia < ib) {
        return a;
    }
    let a_parts = parts_f32(ia);
    let b_parts = parts_f32(ib);
    var ma = a_parts.y;
    let mb = b_parts.y;
    let eb = i32(b_parts.x);
    // Invariant: ma < 2 * mb < 2^25, so the shift never overflows.
    for (var e = i32(a_parts.x); e > eb; e = e - 1) {
        if (ma >= mb) {
            ma = ma - mb;
        }
        ma = ma << 1u;
    }
    if (ma >= mb) {
        ma = ma - mb;
    }
    if (ma == 0u) {
        return bitcast<f32>(sign);
    }
    // Renormalise: the remainder has b's exponent or a smaller one.
    var e = eb;
    while (ma < 0x800000u && e > 1) {
        ma = ma << 1u;
        e = e - 1;
    }
    if (ma < 0x800000u) {
        return bitcast<f32>(sign | ma);
    }
    return bitcast<f32>(sign | (u32(e) << 23u) | (ma & 0x7fffffu));
}
