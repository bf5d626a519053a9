enable f16;
enable wgpu_cooperative_matrix;

struct Run8 {
    @align(16) lo: vec4<f16>,
    hi: vec4<f16>,
}

@group(0) @binding(1) var<storage, read> a: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f16>>;

fn a4(base: u32, i: u32, l: u32) -> vec4<f16> {
    if (i < p.m && l < p.k) {
        return a[(base + i + l * p.lda) >> 2u];
    }
    return vec4<f16>();
}

fn b4(base: u32, l: u32, j: u32) -> vec4<f16> {
    if (l < p.k && j < p.n) {
        return b[(base + l + j * p.ldb) >> 2u];
    }
    return vec4<f16>();
}

fn fetch_a8(base: u32, i: u32, l: u32) -> Run8 {
    return Run8(a4(base, i, l), a4(base, i + 4u, l));
}

fn fetch_b8(base: u32, l: u32, j: u32) -> Run8 {
    return Run8(b4(base, l, j), b4(base, l + 4u, j));
}
