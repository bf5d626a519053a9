// Output scale of the cooperative-matrix GEMM (coop.wgsl) when it runs the
// split-f16 products: its A and B are the interleaved f16 parts of
// diag(sa)·A and B·diag(sb) (split.wgsl), so entry (i, j) of their product
// is unscaled by 1/sa[i] and 1/sb[j], exact powers of two, one at a time
// (their product could overflow where C does not).
@group(0) @binding(4) var<storage, read> sa: array<vec2<f32>>; // (s, 1/s) per row of A
@group(0) @binding(5) var<storage, read> sb: array<vec2<f32>>; // (s, 1/s) per column of B

fn out_scale(v: f32, i: u32, j: u32) -> f32 {
    return (v * sa[i].y) * sb[j].y;
}
