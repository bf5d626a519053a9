// Operands of the cooperative-matrix GEMM (coop.wgsl), f16 read one at a
// time with every element guarded: any m, k, leading dimension and offset.
// (coop_io_v8.wgsl and coop_io_vec.wgsl are the aligned forms with vector
// loads.)
enable f16;
enable wgpu_cooperative_matrix;

@group(0) @binding(1) var<storage, read> a: array<f16>;
@group(0) @binding(2) var<storage, read> b: array<f16>;

fn a_at(base: u32, i: u32, l: u32) -> f16 {
    if (i < p.m && l < p.k) {
        return a[base + i + l * p.lda];
    }
    return f16(0.0);
}

fn b_at(base: u32, l: u32, j: u32) -> f16 {
    if (l < p.k && j < p.n) {
        return b[base + l + j * p.ldb];
    }
    return f16(0.0);
}

// A[i..i+8, l] as four pairs of f16 (the first of a pair in the low
// bits; pack2x16float is exact on values that are f16 already), zero
// outside the matrix.
fn fetch_a8(base: u32, i: u32, l: u32) -> vec4<u32> {
    var r: vec4<u32>;
    for (var h = 0u; h < 4u; h++) {
        r[h] = pack2x16float(vec2<f32>(f32(a_at(base, i + 2u * h, l)), f32(a_at(base, i + 2u * h + 1u, l))));
    }
    return r;
}

// B[l..l+8, j] as four pairs of f16, zero outside the matrix.
fn fetch_b8(base: u32, l: u32, j: u32) -> vec4<u32> {
    var r: vec4<u32>;
    for (var h = 0u; h < 4u; h++) {
        r[h] = pack2x16float(vec2<f32>(f32(b_at(base, l + 2u * h, j)), f32(b_at(base, l + 2u * h + 1u, j))));
    }
    return r;
}
