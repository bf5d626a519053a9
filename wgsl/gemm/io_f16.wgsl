// GEMM operand bindings and loads, f16 storage widened to f32 on load
// (accumulation stays f32). Needs the SHADER_F16 feature.
enable f16;

@group(0) @binding(1) var<storage, read> a: array<f16>;
@group(0) @binding(2) var<storage, read> b: array<f16>;

fn load_a(idx: u32) -> f32 {
    return f32(a[idx]);
}

fn load_b(idx: u32) -> f32 {
    return f32(b[idx]);
}
