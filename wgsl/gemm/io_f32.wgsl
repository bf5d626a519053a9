// GEMM operand bindings and loads, f32 storage.
// Included before the C binding (c_scalar.wgsl or c_vec4.wgsl) and the
// GEMM bodies (slab_a.wgsl + tiled.wgsl or narrow.wgsl, small.wgsl).

struct GemmParams {
    m: u32, n: u32, k: u32, batch_base: u32,
    lda: u32, ldb: u32, ldc: u32, pad0: u32,
    a_off: u32, b_off: u32, c_off: u32, pad1: u32,
    stride_a: u32, stride_b: u32, stride_c: u32, pad2: u32,
    alpha: f32, beta: f32, pad3: f32, pad4: f32,
}

@group(0) @binding(0) var<uniform> p: GemmParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;

fn load_a(idx: u32) -> f32 {
    return a[idx];
}

fn load_b(idx: u32) -> f32 {
    return b[idx];
}
