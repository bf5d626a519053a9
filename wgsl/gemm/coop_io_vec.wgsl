// Operands of the cooperative-matrix GEMM (coop.wgsl), f16 read four at a
// time as aligned vec4<f16>: every run of four along a column of A (rows)
// or of B (k) starts at an element index that is a multiple of 4, and lies
// wholly inside or wholly outside the matrix (m and k multiples of 4; the
// leading dimensions, offsets and batch strides of A and B multiples of 4).
// The host checks this before choosing this file over coop_io_f16.wgsl.
enable f16;
enable wgpu_cooperative_matrix;

@group(0) @binding(1) var<storage, read> a: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f16>>;

// A[i..i+4, l] (i a multiple of 4), zero outside the matrix.
fn fetch_a4(base: u32, i: u32, l: u32) -> vec4<f16> {
    if (i < p.m && l < p.k) {
        return a[(base + i + l * p.lda) >> 2u];
    }
    return vec4<f16>();
}

// B[l..l+4, j] (l a multiple of 4), zero outside the matrix.
fn fetch_b4(base: u32, l: u32, j: u32) -> vec4<f16> {
    if (l < p.k && j < p.n) {
        return b[(base + l + j * p.ldb) >> 2u];
    }
    return vec4<f16>();
}
