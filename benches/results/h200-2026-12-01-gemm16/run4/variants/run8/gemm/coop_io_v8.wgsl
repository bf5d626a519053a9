enable f16;
enable wgpu_cooperative_matrix;

struct Run8 {
    @align(16) lo: vec4<f16>,
    hi: vec4<f16>,
}

@group(0) @binding(1) var<storage, read> a: array<Run8>;
@group(0) @binding(2) var<storage, read> b: array<Run8>;

fn fetch_a8(base: u32, i: u32, l: u32) -> Run8 {
    if (i < p.m && l < p.k) {
        return a[(base + i + l * p.lda) >> 3u];
    }
    return Run8();
}

fn fetch_b8(base: u32, l: u32, j: u32) -> Run8 {
    if (l < p.k && j < p.n) {
        return b[(base + l + j * p.ldb) >> 3u];
    }
    return Run8();
}
