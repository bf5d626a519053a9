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
// columns 0 .. cols-1; the columns skip0 .. skip1-1 are passed over (an
// LU panel, swapped already). The swaps go in chunks of LSW: for a chunk,
// every row it touches (its own rows and the pivot rows outside them,
// ≤ 2·LSW slots) gets its source row π(x) by running the chunk's swaps
// backwards from x (one invocation per slot, no serial simulation), then
// each column's touched rows are all read and, after a storage barrier,
// all written: one global round trip per chunk instead of a
// load-after-store chain per swap. 256 invocations: 128 slots × 2 halves,
// each invocation moving its slot in LCOLS columns with all LCOLS loads
// issued before the barrier, so one slot computation serves 2·LCOLS
// columns (it served 4, and LU's 64 swaps were two chunks of 32).
const LSW: u32 = 64u;
const LCOLS: u32 = 8u;
const NONE: u32 = 0xffffffffu;
var<workgroup> lsw_piv: array<u32, 64>;
var<workgroup> lsw_dst: array<u32, 128>;
var<workgroup> lsw_src: array<u32, 128>;

// (offset of column gj's first element in y, 1 if gj < cols else 0), for
// the gj-th column laswp swaps (the skipped columns passed over).
fn laswp_col(gj: u32, z: u32) -> vec2<u32> {
    var j = gj;
    if (j >= p.skip0) {
        j += p.skip1 - p.skip0;
    }
    return vec2<u32>(p.off_out + z * p.stride_out + j * p.ld_out, select(0u, 1u, gj < p.cols));
}

@compute @workgroup_size(256, 1, 1)
fn laswp(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let z = wid.z + p.batch_base;
    let slot = t % 128u;
    let half = t / 128u;
    let per = 2u * LCOLS;
    for (var g = wid.x; g * per < p.cols; g += nwg.x) {
        for (var c0 = p.k0; c0 < p.k1; c0 += LSW) {
            let len = min(LSW, p.k1 - c0);
            if (t < len) {
                lsw_piv[t] = ipiv[z * p.n + c0 + t];
            }
            workgroupBarrier();
            if (t < 128u) {
                var x = NONE;
                if (t < len) {
                    x = c0 + t;
                } else if (t >= LSW && t - LSW < len) {
                    let q = lsw_piv[t - LSW];
                    if (q < c0 || q >= c0 + len) {
                        x = q;
                    }
                }
                var src = x;
                if (x != NONE) {
                    for (var r = len; r > 0u; r--) {
                        let rr = c0 + r - 1u;
                        let q = lsw_piv[r - 1u];
                        if (q < p.rows) {
                            if (src == rr) {
                                src = q;
                            } else if (src == q) {
                                src = rr;
                            }
                        }
                    }
                }
                lsw_dst[t] = x;
                lsw_src[t] = src;
            }
            workgroupBarrier();
            let x = lsw_dst[slot];
            let src = lsw_src[slot];
            let moved = x < p.rows && src < p.rows && src != x;
            var v: array<f32, 8>;
            for (var q = 0u; q < LCOLS; q++) {
                let col = laswp_col(g * per + half * LCOLS + q, z);
                if (moved && col.y != 0u) {
                    v[q] = y[col.x + src];
                }
            }
            storageBarrier();
            for (var q = 0u; q < LCOLS; q++) {
                let col = laswp_col(g * per + half * LCOLS + q, z);
                if (moved && col.y != 0u) {
                    y[col.x + x] = v[q];
                }
            }
            storageBarrier();
        }
    }
}
