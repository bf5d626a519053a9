// Bindings of the split-f16 GEMM (coop_split.wgsl): the f16 high and low
// parts of A (split by rows) and B (by columns), their power-of-two
// scales, and C. Opens the module (its `enable` directives), before
// params.wgsl.
enable f16;
enable wgpu_cooperative_matrix;

@group(0) @binding(1) var<storage, read> ah: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> al: array<vec4<f16>>;
@group(0) @binding(3) var<storage, read> bh: array<vec4<f16>>;
@group(0) @binding(4) var<storage, read> bl: array<vec4<f16>>;
@group(0) @binding(5) var<storage, read> sa: array<vec2<f32>>; // (s, 1/s) per row of A
@group(0) @binding(6) var<storage, read> sb: array<vec2<f32>>; // (s, 1/s) per column of B
@group(0) @binding(7) var<storage, read_write> c: array<f32>;
