// Data movement and level-1 kernels on column-major (batched) matrices:
// strided copy and transpose, scale, axpy, and LAPACK-style row swaps
// driven by a pivot vector that stays on the GPU.

struct EwParams {
    rows: u32, cols: u32, batch_base: u32, n: u32,
    ld_in: u32, ld_out: u32, off_in: u32, off_out: u32,
    stride_in: u32, stride_out: u32, k0: u32, k1: u32,
    alpha: f32, skip0: u32, skip1: u32, pad0: f32,
}

@group(0) @binding(0) var<uniform> p: EwParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read> ipiv: array<u32>;

var<workgroup> tile: array<f32, 272>; // 16 × 17, padded against bank conflicts

// y[j + i*ld_out] = x[i + j*ld_in] (out = in^T), through a padded tile so
// that both the reads and the writes are coalesced.
@compute @workgroup_size(16, 16, 1)
fn transpose(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let z = wid.z + p.batch_base;
    let i = wid.x * 16u + lid.x;
    let j = wid.y * 16u + lid.y;
    if (i < p.rows && j < p.cols) {
        tile[lid.y * 17u + lid.x] = x[p.off_in + z * p.stride_in + i + j * p.ld_in];
    }
    workgroupBarrier();
    // write: output row index = j (fast), output column = i
    let oj = wid.y * 16u + lid.x;
    let oi = wid.x * 16u + lid.y;
    if (oi < p.rows && oj < p.cols) {
        y[p.off_out + z * p.stride_out + oj + oi * p.ld_out] = tile[lid.x * 17u + lid.y];
    }
}

// y[i + j*ld_out] = alpha * x[i + j*ld_in]: strided copy (alpha = 1) of a
// rows × cols block, or a scaled copy.
@compute @workgroup_size(16, 16, 1)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let z = wid.z + p.batch_base;
    let i = gid.x;
    let j = gid.y;
    if (i < p.rows && j < p.cols) {
        y[p.off_out + z * p.stride_out + i + j * p.ld_out] = p.alpha * x[p.off_in + z * p.stride_in + i + j * p.ld_in];
    }
}

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

// y[off_out + e] = alpha * y[off_out + e] for e < n
@compute @workgroup_size(256, 1, 1)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e < p.n) {
        y[p.off_out + e] = p.alpha * y[p.off_out + e];
    }
}

// y[off_out + e] += alpha * x[off_in + e] for e < n
@compute @workgroup_size(256, 1, 1)
fn axpy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat(gid, groups);
    if (e < p.n) {
        y[p.off_out + e] = fma(p.alpha, x[p.off_in + e], y[p.off_out + e]);
    }
}

// LAPACK laswp: for r = k0 .. k1-1 in order, swap rows r and ipiv[r] of
// columns 0 .. cols-1 (one invocation per column); the columns
// skip0 .. skip1-1 are passed over (an LU panel, swapped already).
@compute @workgroup_size(64, 1, 1)
fn laswp(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let z = wid.z + p.batch_base;
    if (gid.x >= p.cols) {
        return;
    }
    var j = gid.x;
    if (j >= p.skip0) {
        j += p.skip1 - p.skip0;
    }
    let col = p.off_out + z * p.stride_out + j * p.ld_out;
    for (var r = p.k0; r < p.k1; r++) {
        let q = ipiv[z * p.n + r];
        if (q != r && q < p.rows) {
            let t = y[col + r];
            y[col + r] = y[col + q];
            y[col + q] = t;
        }
    }
}
