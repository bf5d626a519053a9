// Parameters, bindings and constants shared by the Jacobi kernels
// (eig/jacobi.wgsl and eig/rot64.wgsl, one Rust uniform `JacobiUniform`);
// joined in front of each.

struct Params {
    // eigh: the order n; svd: R = max(m, n).
    rows: u32,
    // eigh: n; svd: C = min(m, n).
    cols: u32,
    // First matrix of this dispatch.
    batch_base: u32,
    // Matrices in the whole batch.
    batch: u32,
    // F_DESC | F_OFF (eigh), F_TRANS (svd).
    flags: u32,
    // Sweep limit.
    max_sweeps: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
// eigh: eigenvalues; svd: singular values.
@group(0) @binding(2) var<storage, read_write> out_w: array<f32>;
// eigh: eigenvectors; svd: U.
@group(0) @binding(3) var<storage, read_write> out_v: array<f32>;
// svd: Vᵀ (eigh: unused).
@group(0) @binding(4) var<storage, read_write> out_vt: array<f32>;
@group(0) @binding(5) var<storage, read_write> info: array<u32>;
// eigh: the off-diagonal measure of the input (when F_OFF).
@group(0) @binding(6) var<storage, read_write> out_off: array<f32>;

const EPS: f32 = 1.1920929e-7;
// Negligible, relative to max|a_ij| (scaled to [1, 2)).
const TINY: f32 = 1e-18;
