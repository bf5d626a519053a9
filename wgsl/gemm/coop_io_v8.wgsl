// Operands of the cooperative-matrix GEMM (coop.wgsl), f16 read eight at a
// time as one aligned vec4<u32>: every run of eight along a column of A
// (rows) or of B (k) starts at an element index that is a multiple of 8,
// and lies wholly inside or wholly outside the matrix (m and k multiples
// of 8; the leading dimensions, offsets and batch strides of A and B
// multiples of 8). The host checks this before choosing this file over
// coop_io_vec.wgsl (multiples of 4) and coop_io_f16.wgsl (any).
enable f16;
enable wgpu_cooperative_matrix;

@group(0) @binding(1) var<storage, read> a: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<u32>>;

// A[i..i+8, l] (i a multiple of 8) as four pairs of f16, zero outside the
// matrix.
fn fetch_a8(base: u32, i: u32, l: u32) -> vec4<u32> {
    if (i < p.m && l < p.k) {
        return a[(base + i + l * p.lda) >> 3u];
    }
    return vec4<u32>();
}

// B[l..l+8, j] (l a multiple of 8), zero outside the matrix.
fn fetch_b8(base: u32, l: u32, j: u32) -> vec4<u32> {
    if (l < p.k && j < p.n) {
        return b[(base + l + j * p.ldb) >> 3u];
    }
    return vec4<u32>();
}
