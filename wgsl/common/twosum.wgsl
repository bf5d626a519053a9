// Error-free transformations for compensated (double-float) accumulation.
// A double-float is vec2(hi, lo) with |lo| <= ulp(hi)/2.

// Knuth's TwoSum: s + e == a + b exactly.
fn two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    return vec2<f32>(s, e);
}

// Dekker's FastTwoSum, valid when |a| >= |b|.
fn fast_two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = a + b;
    return vec2<f32>(s, b - (s - a));
}

// a * b as an exact double-float through fma.
fn two_prod(a: f32, b: f32) -> vec2<f32> {
    let prod = a * b;
    return vec2<f32>(prod, fma(a, b, -prod));
}

// Double-float addition.
fn df_add(x: vec2<f32>, y: vec2<f32>) -> vec2<f32> {
    let s = two_sum(x.x, y.x);
    return fast_two_sum(s.x, s.y + x.y + y.y);
}
