// NaN-aware helpers for f64, as in float_f32.wgsl. WGSL has no 64-bit
// integers to test the bits with, so the value narrows to f32 first: the
// conversion keeps a NaN a NaN and turns large values into infinities.

fn is_nan_f64(x: f64) -> bool {
    return (bitcast<u32>(f32(x)) & 0x7fffffffu) > 0x7f800000u;
}

fn min_nan_f64(a: f64, b: f64) -> f64 {
    return select(b, a, is_nan_f64(a) || a < b);
}

fn max_nan_f64(a: f64, b: f64) -> f64 {
    return select(b, a, is_nan_f64(a) || a > b);
}
