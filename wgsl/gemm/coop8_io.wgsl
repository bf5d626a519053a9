// Operands of the 8×8 f32 cooperative-matrix GEMM (coop8.wgsl), f32 read
// one at a time with every element guarded: any m, k, leading dimension
// and offset.
enable wgpu_cooperative_matrix;

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;

fn a_at(base: u32, i: u32, l: u32) -> f32 {
    if (i < p.m && l < p.k) {
        return a[base + i + l * p.lda];
    }
    return 0.0;
}

fn b_at(base: u32, l: u32, j: u32) -> f32 {
    if (l < p.k && j < p.n) {
        return b[base + l + j * p.ldb];
    }
    return 0.0;
}

// A[i..i+4, l], zero outside the matrix.
fn fetch_a4(base: u32, i: u32, l: u32) -> vec4<f32> {
    return vec4<f32>(a_at(base, i, l), a_at(base, i + 1u, l), a_at(base, i + 2u, l), a_at(base, i + 3u, l));
}

// B[l..l+4, j], zero outside the matrix.
fn fetch_b4(base: u32, l: u32, j: u32) -> vec4<f32> {
    return vec4<f32>(b_at(base, l, j), b_at(base, l + 1u, j), b_at(base, l + 2u, j), b_at(base, l + 3u, j));
}
