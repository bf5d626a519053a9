// The uniform block of every GEMM kernel (GemmUniform in src/ops/matmul.rs).
// Joined after the operand file (io_*.wgsl, coop_io_*.wgsl), whose
// `enable` directives must open the module.

struct GemmParams {
    m: u32, n: u32, k: u32, batch_base: u32,
    lda: u32, ldb: u32, ldc: u32, pad0: u32,
    a_off: u32, b_off: u32, c_off: u32, pad1: u32,
    stride_a: u32, stride_b: u32, stride_c: u32, pad2: u32,
    alpha: f32, beta: f32, pad3: f32, pad4: f32,
}

@group(0) @binding(0) var<uniform> p: GemmParams;
