enable f16;
enable wgpu_cooperative_matrix;

struct Run8 {
    @align(16) lo: vec4<f16>,
    hi: vec4<f16>,
}

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

fn fetch_a8(base: u32, i: u32, l: u32) -> Run8 {
    return Run8(
        vec4<f16>(a_at(base, i, l), a_at(base, i + 1u, l), a_at(base, i + 2u, l), a_at(base, i + 3u, l)),
        vec4<f16>(a_at(base, i + 4u, l), a_at(base, i + 5u, l), a_at(base, i + 6u, l), a_at(base, i + 7u, l)),
    );
}

fn fetch_b8(base: u32, l: u32, j: u32) -> Run8 {
    return Run8(
        vec4<f16>(b_at(base, l, j), b_at(base, l + 1u, j), b_at(base, l + 2u, j), b_at(base, l + 3u, j)),
        vec4<f16>(b_at(base, l + 4u, j), b_at(base, l + 5u, j), b_at(base, l + 6u, j), b_at(base, l + 7u, j)),
    );
}
