// GEMM operand bindings and loads, f32 storage, one element at a time.
// Joined before params.wgsl, the C binding (c_scalar.wgsl or c_vec4.wgsl)
// and the GEMM bodies (slab_a.wgsl + slab_b.wgsl + tiled.wgsl, slab_a.wgsl
// + narrow.wgsl, or small.wgsl); io_f32v4.wgsl is the aligned form.

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;

fn load_a(idx: u32) -> f32 {
    return a[idx];
}

fn load_b(idx: u32) -> f32 {
    return b[idx];
}
