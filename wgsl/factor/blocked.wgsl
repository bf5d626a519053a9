// Kernels of the blocked factorizations. Each works on one block column
// (nb ≤ 64 wide) of a column-major matrix in place:
//   potrf_diag      Cholesky of the nb×nb diagonal block, in one workgroup,
//                   with workgroupBarrier() between columns; a non-positive
//                   pivot sets info[0] = column + 1 (first failure only);
//                   with mode 1 also writes L11⁻¹ to w for the panel GEMM.
//   trsm_left_diag  X ← op(T_kk)⁻¹ · B_k for a diagonal block of a triangular
//                   matrix T and nb rows of the right-hand sides B, one
//                   invocation per right-hand-side column.
//   trtri_lower     W ← T_kk⁻¹ for a lower-triangular diagonal block of T
//                   (unit or not), one invocation per column of the
//                   inverse, so panel solves become GEMMs.
//   tri_zero        writes exact zeros into the strict upper (mode 0) or
//                   strict lower (mode 1) triangle.
// Trailing updates are GEMMs (gemm/tiled.wgsl), launched from the host code.

const NB: u32 = 64u;
var<workgroup> blk: array<f32, 4096>; // NB × NB, column-major
var<workgroup> piv_s: f32;
var<workgroup> part: array<f32, 256>; // per-invocation partial sums


// Inverts the lower-triangular nb×nb matrix in blk in place (LAPACK trti2
// order: columns from the last to the first, each from the already
// inverted trailing block), for 256 invocations; `unit` takes the diagonal
// as ones.
fn invert_lower_blk(nb: u32, unit: bool, tid: u32) {
    let row = tid % NB;
    let lane = tid / NB; // four lanes share each row's dot product
    for (var jj = 0u; jj < nb; jj++) {
        let j = nb - 1u - jj;
        var d = 1.0;
        if (!unit) {
            d = 1.0 / blk[j + j * NB];
        }
        var s = 0.0;
        if (row > j && row < nb) {
            for (var l = j + 1u + lane; l <= row; l += 4u) {
                s = fma(blk[row + l * NB], blk[l + j * NB], s);
            }
        }
        part[tid] = s;
        workgroupBarrier();
        if (lane == 0u && row > j && row < nb) {
            let total = (part[row] + part[row + NB]) + (part[row + 2u * NB] + part[row + 3u * NB]);
            blk[row + j * NB] = -total * d;
        }
        if (tid == 0u) {
            blk[j + j * NB] = d;
        }
        workgroupBarrier();
    }
}

// ---------------------------------------------------------------- Cholesky

@compute @workgroup_size(256, 1, 1)
fn potrf_diag(@builtin(local_invocation_index) tid: u32) {
    let nb = p.nb;
    let k0 = p.k0;
    for (var e = tid; e < NB * NB; e += 256u) {
        let i = e % NB;
        let j = e / NB;
        var v = 0.0;
        if (i < nb && j < nb) {
            v = a[at(k0 + i, k0 + j)];
        }
        blk[e] = v;
    }
    if (tid == 0u) {
        bad_s = 0u;
    }
    workgroupBarrier();
    let row = tid % NB;
    let lane = tid / NB; // 4 invocations share a row
    for (var j = 0u; j < nb; j++) {
        if (tid == 0u) {
            let d = blk[j + j * NB];
            // NaN fails this test too
            if (!(d > 0.0)) {
                if (bad_s == 0u) {
                    bad_s = j + 1u;
                }
                piv_s = 1.0;
            } else {
                piv_s = sqrt(d);
            }
            blk[j + j * NB] = piv_s;
        }
        workgroupBarrier();
        let piv = piv_s;
        if (lane == 0u && row > j && row < nb) {
            blk[row + j * NB] = blk[row + j * NB] / piv;
        }
        workgroupBarrier();
        // trailing update of the block: columns c in (j, row], lanes interleaved
        if (row > j && row < nb) {
            let lij = blk[row + j * NB];
            for (var c = j + 1u + lane; c <= row; c += 4u) {
                blk[row + c * NB] = blk[row + c * NB] - lij * blk[c + j * NB];
            }
        }
        workgroupBarrier();
    }
    for (var e = tid; e < NB * NB; e += 256u) {
        let i = e % NB;
        let j = e / NB;
        if (i < nb && j < nb) {
            var v = blk[e];
            if (i < j) {
                v = 0.0;
            }
            a[at(k0 + i, k0 + j)] = v;
        }
    }
    if (tid == 0u && bad_s != 0u && info[0] == 0u) {
        info[0] = k0 + bad_s;
    }
    // mode 1: also L11⁻¹ into w (nb×nb), for the panel GEMM
    if (p.mode == 1u) {
        workgroupBarrier();
        invert_lower_blk(nb, false, tid);
        for (var e = tid; e < NB * NB; e += 256u) {
            let i = e % NB;
            let j = e / NB;
            if (i < nb && j < nb) {
                w[i + j * nb] = select(blk[e], 0.0, i < j);
            }
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

// B rows k0..k0+nb (in a, m×n with leading dimension lda) ← op(T_kk)⁻¹ · B.
@compute @workgroup_size(256, 1, 1)
fn trsm_left_diag(
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let nb = p.nb;
    let upper = (p.flags & 1u) != 0u;
    let trans = (p.flags & 2u) != 0u;
    let unit = (p.flags & 4u) != 0u;
    // effective lower triangle: lower and not transposed, or upper transposed
    let eff_lower = upper == trans;
    for (var e = tid; e < NB * NB; e += 256u) {
        let i = e % NB;
        let j = e / NB;
        var v = 0.0;
        if (i < nb && j < nb) {
            if ((eff_lower && i >= j) || (!eff_lower && i <= j)) {
                v = t_eff(i, j);
            }
        }
        blk[e] = v;
    }
    workgroupBarrier();
    let col = (wid.x + wid.y * groups.x) * 256u + tid;
    if (col >= p.n) {
        return;
    }
    let base = p.b_off + p.k0 + col * p.lda;
    if (eff_lower) {
        for (var i = 0u; i < nb; i++) {
            var s = a[base + i];
            for (var l = 0u; l < i; l++) {
                s = fma(-blk[i + l * NB], a[base + l], s);
            }
            if (!unit) {
                s = s / blk[i + i * NB];
            }
            a[base + i] = s;
        }
    } else {
        for (var r = 0u; r < nb; r++) {
            let i = nb - 1u - r;
            var s = a[base + i];
            for (var l = i + 1u; l < nb; l++) {
                s = fma(-blk[i + l * NB], a[base + l], s);
            }
            if (!unit) {
                s = s / blk[i + i * NB];
            }
            a[base + i] = s;
        }
    }
}

// W (nb×nb, leading dimension nb) ← inverse of the lower-triangular
// diagonal block of T at (k0, k0) (unit diagonal when flags bit 2 is set);
// W's strict upper triangle is written as zeros.
@compute @workgroup_size(256, 1, 1)
fn trtri_lower(@builtin(local_invocation_index) tid: u32) {
    let nb = p.nb;
    let unit = (p.flags & 4u) != 0u;
    for (var e = tid; e < NB * NB; e += 256u) {
        let i = e % NB;
        let j = e / NB;
        var v = 0.0;
        if (i < nb && j < nb && i >= j) {
            v = t[p.t_off + (p.k0 + i) + (p.k0 + j) * p.ldt];
        }
        blk[e] = v;
    }
    workgroupBarrier();
    invert_lower_blk(nb, unit, tid);
    for (var e = tid; e < NB * NB; e += 256u) {
        let i = e % NB;
        let j = e / NB;
        if (i < nb && j < nb) {
            w[i + j * nb] = select(blk[e], 0.0, i < j);
        }
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
