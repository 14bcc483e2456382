// NaN-aware helpers for f32, included where a kernel takes a float min or max.
//
// NaN is found by a bit test: drivers may assume no NaNs exist and fold
// `x != x` to false. min/max propagate NaN: the result is NaN if either
// operand is, else `a` when it is strictly smaller (larger), else `b`. The
// CPU path implements the same rule, so results agree bit for bit.

fn is_nan_f32(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn min_nan_f32(a: f32, b: f32) -> f32 {
    return select(b, a, is_nan_f32(a) || a < b);
}

fn max_nan_f32(a: f32, b: f32) -> f32 {
    return select(b, a, is_nan_f32(a) || a > b);
}
