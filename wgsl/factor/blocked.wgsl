// Kernels of the blocked factorizations. Each works on one block column
// (nb ≤ 64 wide) of a column-major matrix in place:
//   potrf_diag      Cholesky of the nb×nb diagonal block, in one workgroup,
//                   with one workgroupBarrier() per column; a non-positive
//                   pivot sets info[0] = column + 1 (first failure only).
//   t_eff           op(T)(i, j) of a diagonal block, for the triangular
//                   solve of factor/panel.wgsl (trsm_diag_pack).
//   trtri_lower     W ← T_kk⁻¹ for a lower-triangular diagonal block of T
//                   (unit or not), one invocation per row of the
//                   inverse, so panel solves become GEMMs.
//   tri_zero        writes exact zeros into the strict upper (mode 0) or
//                   strict lower (mode 1) triangle.
// Trailing updates are GEMMs (gemm/tiled.wgsl), launched from the host code;
// the panel kernels are in factor/panel.wgsl.

const NB: u32 = 64u;
var<workgroup> blk: array<f32, 4096>; // NB × NB, column-major

// Loading a 64×64 block into workgroup memory, 256 invocations: element
// e = tid + 256·q (q < 16) of the column-major block. The loops take eight
// elements at a time and issue all eight global loads before the
// workgroup stores (a loop of single load-then-store steps waits for
// memory in every step: 16 round trips instead of 2).

// Elements e, e + 256, …, e + 1792 of the lower triangle of A's nb×nb
// block at (k0, k0), zero elsewhere.
fn lower_block8(e: u32, k0: u32, nb: u32) -> array<f32, 8> {
    var v: array<f32, 8>;
    v[0] = lower_at(e, k0, nb);
    v[1] = lower_at(e + 256u, k0, nb);
    v[2] = lower_at(e + 512u, k0, nb);
    v[3] = lower_at(e + 768u, k0, nb);
    v[4] = lower_at(e + 1024u, k0, nb);
    v[5] = lower_at(e + 1280u, k0, nb);
    v[6] = lower_at(e + 1536u, k0, nb);
    v[7] = lower_at(e + 1792u, k0, nb);
    return v;
}

fn lower_at(e: u32, k0: u32, nb: u32) -> f32 {
    let i = e % NB;
    let j = e / NB;
    if (i < nb && j < nb && i >= j) {
        return a[at(k0 + i, k0 + j)];
    }
    return 0.0;
}

// T's lower triangle at element e of the nb×nb diagonal block at p.k0.
fn t_lower(e: u32, nb: u32) -> f32 {
    let i = e % NB;
    let j = e / NB;
    if (i < nb && j < nb && i >= j) {
        return t[p.t_off + (p.k0 + i) + (p.k0 + j) * p.ldt];
    }
    return 0.0;
}

fn stash8(e: u32, v: array<f32, 8>) {
    for (var q = 0u; q < 8u; q++) {
        blk[e + q * 256u] = v[q];
    }
}

// Inverts the lower-triangular nb×nb matrix in blk (LAPACK trti2
// arithmetic: X[i, j] = −(1/L[j, j])·Σ_{l=j+1..i} X[i, l]·L[l, j], the sum
// in four interleaved partial sums combined as (s0 + s1) + (s2 + s3)).
// Rows of X are independent, so invocation i < nb computes row i alone,
// from j = i down to 0, and keeps it in the unused strict upper triangle
// of blk (X[i, j] at blk[j + i·NB], i > j); L stays intact below the
// diagonal, X[i, i] = 1/L[i, i] (or 1) is recomputed where needed. No
// barrier inside; the caller puts one before reading X. `unit` takes the
// diagonal as ones.
fn invert_lower_rows(nb: u32, unit: bool, tid: u32) {
    let i = tid;
    if (i < nb) {
        invert_lower_row(i, unit);
    }
}

fn invert_lower_row(i: u32, unit: bool) {
    var xii = 1.0;
    if (!unit) {
        xii = 1.0 / blk[i + i * NB];
    }
    for (var jj = 1u; jj <= i; jj++) {
        let j = i - jj;
        var d = 1.0;
        if (!unit) {
            d = 1.0 / blk[j + j * NB];
        }
        // partial sums k = 0..3 over l = j + 1 + k, j + 5 + k, …, ≤ i;
        // l = i uses X[i, i], the others X[i, l] from the upper triangle
        var s0 = 0.0;
        var s1 = 0.0;
        var s2 = 0.0;
        var s3 = 0.0;
        var l = j + 1u;
        loop {
            if (l + 3u >= i) {
                break;
            }
            s0 = fma(blk[l + i * NB], blk[l + j * NB], s0);
            s1 = fma(blk[(l + 1u) + i * NB], blk[(l + 1u) + j * NB], s1);
            s2 = fma(blk[(l + 2u) + i * NB], blk[(l + 2u) + j * NB], s2);
            s3 = fma(blk[(l + 3u) + i * NB], blk[(l + 3u) + j * NB], s3);
            l += 4u;
        }
        // the tail l .. i (at most four terms, the last one is l = i)
        for (var k = 0u; k < 4u; k++) {
            let lk = l + k;
            if (lk <= i) {
                var x = xii;
                if (lk < i) {
                    x = blk[lk + i * NB];
                }
                let prod_l = blk[lk + j * NB];
                if (k == 0u) {
                    s0 = fma(x, prod_l, s0);
                } else if (k == 1u) {
                    s1 = fma(x, prod_l, s1);
                } else if (k == 2u) {
                    s2 = fma(x, prod_l, s2);
                } else {
                    s3 = fma(x, prod_l, s3);
                }
            }
        }
        let total = (s0 + s1) + (s2 + s3);
        blk[j + i * NB] = -total * d;
    }
}

// X[i, j] of the inverse left in blk by invert_lower_rows (zero above the
// diagonal).
fn inverse_at(i: u32, j: u32, unit: bool) -> f32 {
    if (i < j) {
        return 0.0;
    }
    if (i == j) {
        if (unit) {
            return 1.0;
        }
        return 1.0 / blk[i + i * NB];
    }
    return blk[j + i * NB];
}

// ---------------------------------------------------------------- Cholesky

// Cholesky of the diagonal block at k0: chol_block (factor/chol64.wgsl)
// on the block in workgroup memory, L written back in place.
@compute @workgroup_size(256, 1, 1)
fn potrf_diag(@builtin(local_invocation_index) tid: u32) {
    let nb = p.nb;
    let k0 = p.k0;
    for (var e = tid; e < NB * NB; e += 2048u) {
        let v = lower_block8(e, k0, nb);
        stash8(e, v);
    }
    if (tid == 0u) {
        bad_s = 0u;
    }
    workgroupBarrier();
    chol_block(nb, tid);
    for (var e = tid; e < NB * NB; e += 256u) {
        let i = e % NB;
        let j = e / NB;
        if (i < nb && j < nb) {
            a[at(k0 + i, k0 + j)] = chol_scaled(e);
        }
    }
    if (tid == 0u && bad_s != 0u && info[0] == 0u) {
        info[0] = k0 + bad_s;
    }
}

fn bget(e: u32) -> f32 {
    return blk[e];
}

fn bset(e: u32, v: f32) {
    blk[e] = v;
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
@compute @workgroup_size(256, 1, 1)
fn trtri_lower(@builtin(local_invocation_index) tid: u32) {
    let nb = p.nb;
    let unit = (p.flags & 4u) != 0u;
    for (var e = tid; e < NB * NB; e += 2048u) {
        var v: array<f32, 8>;
        v[0] = t_lower(e, nb);
        v[1] = t_lower(e + 256u, nb);
        v[2] = t_lower(e + 512u, nb);
        v[3] = t_lower(e + 768u, nb);
        v[4] = t_lower(e + 1024u, nb);
        v[5] = t_lower(e + 1280u, nb);
        v[6] = t_lower(e + 1536u, nb);
        v[7] = t_lower(e + 1792u, nb);
        stash8(e, v);
    }
    workgroupBarrier();
    invert_lower_rows(nb, unit, tid);
    workgroupBarrier();
    for (var e = tid; e < nb * nb; e += 256u) {
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
