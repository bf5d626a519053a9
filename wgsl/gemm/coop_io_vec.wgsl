// Operands of the cooperative-matrix GEMM (coop.wgsl), f16 read four at a
// time as an aligned vec2<u32> (two pairs of f16): every run of four along
// a column of A (rows) or of B (k) starts at an element index that is a
// multiple of 4, and lies wholly inside or wholly outside the matrix (m
// and k multiples of 4; the leading dimensions, offsets and batch strides
// of A and B multiples of 4). The host checks this before choosing this
// file over coop_io_f16.wgsl; coop_io_v8.wgsl is the form for multiples
// of 8.
enable f16;
enable wgpu_cooperative_matrix;

@group(0) @binding(1) var<storage, read> a: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> b: array<vec2<u32>>;

// A[i..i+4, l] (i a multiple of 4), zero outside the matrix.
fn a_run4(base: u32, i: u32, l: u32) -> vec2<u32> {
    if (i < p.m && l < p.k) {
        return a[(base + i + l * p.lda) >> 2u];
    }
    return vec2<u32>();
}

// B[l..l+4, j] (l a multiple of 4), zero outside the matrix.
fn b_run4(base: u32, l: u32, j: u32) -> vec2<u32> {
    if (l < p.k && j < p.n) {
        return b[(base + l + j * p.ldb) >> 2u];
    }
    return vec2<u32>();
}

// A[i..i+8, l] (i a multiple of 8) as four pairs of f16.
fn fetch_a8(base: u32, i: u32, l: u32) -> vec4<u32> {
    return vec4<u32>(a_run4(base, i, l), a_run4(base, i + 4u, l));
}

// B[l..l+8, j] (l a multiple of 8) as four pairs of f16.
fn fetch_b8(base: u32, l: u32, j: u32) -> vec4<u32> {
    return vec4<u32>(b_run4(base, l, j), b_run4(base, l + 4u, j));
}
