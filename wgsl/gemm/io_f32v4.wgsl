// GEMM operands in f32 read as aligned vec4 (slab4.wgsl): every run of
// four that slab4.wgsl reads starts at an element index that is a multiple
// of 4 and lies wholly inside or wholly outside the matrix. The host
// checks this (gemm_v4_ok in src/ops/matmul.rs) before choosing this file
// over io_f32.wgsl.

@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
