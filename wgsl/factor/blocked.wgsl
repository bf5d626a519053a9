// Kernels of the blocked factorizations. Each works on one block column
// (nb ≤ 64 wide) of a column-major matrix in place:
//   potrf_diag      Cholesky of the nb×nb diagonal block, in one workgroup
//                   of 1024, with one workgroupBarrier() per column; a non-positive
//                   pivot sets info[0] = column + 1 (first failure only);
//                   with mode 1 also writes L11⁻¹ to w for the panel GEMM.
//   t_eff           op(T)(i, j) of a diagonal block, for the triangular
//                   solve of factor/panel.wgsl (trsm_diag_pack).
//   trtri_lower     W ← T_kk⁻¹ for a lower-triangular diagonal block of T
//                   (unit or not), column-oriented substitution on all
//                   columns at once (invert_lower), so panel solves
//                   become GEMMs.
//   tri_zero        writes exact zeros into the strict upper (mode 0) or
//                   strict lower (mode 1) triangle.
// Trailing updates are GEMMs (gemm/tiled.wgsl), launched from the host code;
// the panel kernels are in factor/panel.wgsl.

const NB: u32 = 64u;
var<workgroup> blk: array<f32, 4096>; // NB × NB, column-major
var<workgroup> pv: array<f32, 64>; // pivots sqrt(d_j) (1 for a failed pivot)

const WGF: u32 = 1024u; // invocations of potrf_diag and trtri_lower

// (r, c) with 0 ≤ c ≤ r for the e-th entry of a lower triangle stored by
// rows (e = r(r+1)/2 + c), from a float square root corrected to exact.
fn tri_index(e: u32) -> vec2<u32> {
    var r = u32((sqrt(8.0 * f32(e) + 1.0) - 1.0) * 0.5);
    if ((r + 1u) * (r + 2u) / 2u <= e) {
        r += 1u;
    }
    if (r * (r + 1u) / 2u > e) {
        r -= 1u;
    }
    return vec2<u32>(r, e - r * (r + 1u) / 2u);
}

// Inverts the lower-triangular nb×nb matrix L in blk (`unit`: ones on the
// diagonal) for WGF invocations, column-oriented forward substitution on
// all columns at once: R starts as I and step k applies
// R[i, c] −= L[i, k]·R[k, c]/L[k, k] for i > k ≥ c, reading row k of R
// (not written in step k): at most one entry per invocation and one
// barrier per step. X = L⁻¹ is then X[i, c] = R[i, c]/L[i, i]; R's strict
// lower part is kept in blk's free strict upper triangle (R[i, c] at
// blk[c + i·NB]), its diagonal is 1. Read the result with inverse_at after
// a barrier.
fn invert_lower(nb: u32, unit: bool, tid: u32) {
    for (var e = tid; e < NB * NB; e += WGF) {
        let c = e % NB;
        let i = e / NB;
        if (c < i) {
            blk[c + i * NB] = 0.0;
        }
    }
    workgroupBarrier();
    for (var k = 0u; k < nb; k++) {
        var dk = 1.0;
        if (!unit) {
            dk = blk[k + k * NB];
        }
        let rows = nb - k - 1u; // i = k+1 .. nb-1
        let cols = k + 1u;      // c = 0 .. k
        for (var e = tid; e < rows * cols; e += WGF) {
            let i = k + 1u + e / cols;
            let c = e % cols;
            var rkc = 1.0;
            if (c < k) {
                rkc = blk[c + k * NB];
            }
            blk[c + i * NB] -= blk[i + k * NB] * (rkc / dk);
        }
        workgroupBarrier();
    }
}

// X[i, j] of the inverse left in blk by invert_lower (zero above the
// diagonal).
fn inverse_at(i: u32, j: u32, unit: bool) -> f32 {
    if (i < j) {
        return 0.0;
    }
    var r = 1.0;
    if (i > j) {
        r = blk[j + i * NB];
    }
    if (unit) {
        return r;
    }
    return r / blk[i + i * NB];
}

// ---------------------------------------------------------------- Cholesky

// Right-looking Cholesky with one barrier per column, the trailing update
// spread over all 1024 invocations (at most two entries each): step j
// reads the Schur-complement diagonal d = blk[j, j] (every invocation
// derives the same pivot d, or 1 after a failure) and updates the
// trailing lower triangle by S[i,k] −= S[i,j]·S[k,j]/d, keeping the
// columns unscaled (column j is not written during step j, so nothing
// races); L[:, j] = S[:, j]/√d afterwards.
@compute @workgroup_size(1024, 1, 1)
fn potrf_diag(@builtin(local_invocation_index) tid: u32) {
    let nb = p.nb;
    let k0 = p.k0;
    for (var e = tid; e < NB * NB; e += WGF) {
        let i = e % NB;
        let j = e / NB;
        var v = 0.0;
        if (i < nb && j < nb && i >= j) {
            v = a[at(k0 + i, k0 + j)];
        }
        blk[e] = v;
    }
    if (tid == 0u) {
        bad_s = 0u;
    }
    workgroupBarrier();
    for (var j = 0u; j < nb; j++) {
        let d = blk[j + j * NB];
        var dp = 1.0;
        // NaN fails this test too
        if (d > 0.0) {
            dp = d;
        } else if (tid == 0u && bad_s == 0u) {
            bad_s = j + 1u;
        }
        if (tid == 0u) {
            pv[j] = sqrt(dp);
        }
        let rd = 1.0 / dp;
        let w1 = nb - j - 1u;
        for (var e = tid; e < w1 * (w1 + 1u) / 2u; e += WGF) {
            let rc = tri_index(e);
            let i = j + 1u + rc.x;
            let k = j + 1u + rc.y;
            blk[i + k * NB] -= blk[i + j * NB] * (blk[k + j * NB] * rd);
        }
        workgroupBarrier();
    }
    // L = the columns scaled by their pivots, written to a and kept in blk
    // (in place: each invocation owns its entries, pv is read only)
    for (var e = tid; e < NB * NB; e += WGF) {
        let i = e % NB;
        let j = e / NB;
        if (i < nb && j < nb) {
            var v = 0.0;
            if (i == j) {
                v = pv[j];
            } else if (i > j) {
                v = blk[e] / pv[j];
            }
            blk[e] = v;
            a[at(k0 + i, k0 + j)] = v;
        }
    }
    if (tid == 0u && bad_s != 0u && info[0] == 0u) {
        info[0] = k0 + bad_s;
    }
    // mode 1: also L11⁻¹ into w (nb×nb), for the panel GEMM
    if (p.mode == 1u) {
        workgroupBarrier();
        invert_lower(nb, false, tid);
        for (var e = tid; e < nb * nb; e += WGF) {
            w[e] = inverse_at(e % nb, e / nb, false);
        }
    }
}

// ------------------------------------------------------ triangular solves

// op(T)(i, j) of the diagonal block at k0, read from t.
fn t_eff(i: u32, j: u32) -> f32 {
    let trans = (p.flags & 2u) != 0u;
    var r = p.k0 + i;
    var c = p.k0 + j;
    if (trans) {
        r = p.k0 + j;
        c = p.k0 + i;
    }
    return t[p.t_off + r + c * p.ldt];
}

// W (nb×nb, leading dimension nb) ← inverse of the lower-triangular
// diagonal block of T at (k0, k0) (unit diagonal when flags bit 2 is set);
// W's strict upper triangle is written as zeros.
@compute @workgroup_size(1024, 1, 1)
fn trtri_lower(@builtin(local_invocation_index) tid: u32) {
    let nb = p.nb;
    let unit = (p.flags & 4u) != 0u;
    for (var e = tid; e < NB * NB; e += WGF) {
        let i = e % NB;
        let j = e / NB;
        var v = 0.0;
        if (i < nb && j < nb && i >= j) {
            v = t[p.t_off + (p.k0 + i) + (p.k0 + j) * p.ldt];
        }
        blk[e] = v;
    }
    workgroupBarrier();
    invert_lower(nb, unit, tid);
    for (var e = tid; e < nb * nb; e += WGF) {
        w[e] = inverse_at(e % nb, e / nb, unit);
    }
}

// ----------------------------------------------------------------- helpers

// mode 0: zero the strict upper triangle; mode 1: the strict lower one.
@compute @workgroup_size(16, 16, 1)
fn tri_zero(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let j = gid.y;
    if (i < p.m && j < p.n) {
        if ((p.mode == 0u && i < j) || (p.mode == 1u && i > j)) {
            a[at(i, j)] = 0.0;
        }
    }
}
