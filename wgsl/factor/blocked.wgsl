// Kernels of the blocked factorizations. Each works on one block column
// (nb ≤ 64 wide) of a column-major matrix in place:
//   potrf_diag      Cholesky of the nb×nb diagonal block, in one workgroup,
//                   with workgroupBarrier() between columns; a non-positive
//                   pivot sets info[0] = column + 1 (first failure only).
//   trsm_right_lt   L21 ← A21 · L11⁻ᵀ: the panel under the diagonal block,
//                   one invocation per row, L11 staged in workgroup memory.
//   trsm_left_diag  X ← op(T_kk)⁻¹ · B_k for a diagonal block of a triangular
//                   matrix T and nb rows of the right-hand sides B, one
//                   invocation per right-hand-side column.
//   getf2_panel     LU with partial pivoting of an (m−k0)×nb panel in one
//                   workgroup: pivot search as a workgroup reduction, row
//                   swap, scaling and rank-1 update between barriers; pivots
//                   go to ipiv (absolute rows), the first exactly zero pivot
//                   sets info[0] = column + 1.
//   trtri_lower     W ← T_kk⁻¹ for a lower-triangular diagonal block of T
//                   (unit or not), one invocation per column of the
//                   inverse, so panel solves become GEMMs.
//   tri_zero        writes exact zeros into the strict upper (mode 0) or
//                   strict lower (mode 1) triangle.
// Trailing updates are GEMMs (gemm/tiled.wgsl), launched from the host code.

struct FParams {
    m: u32,       // rows of the matrix (a)
    n: u32,       // columns of the matrix (a), or right-hand sides
    k0: u32,      // first row/column of the block
    nb: u32,      // block width (≤ 64)
    lda: u32,     // leading dimension of a
    ldt: u32,     // leading dimension of t
    t_off: u32,   // element offset of T's (0, 0) in t
    flags: u32,   // bit 0: upper, bit 1: transpose, bit 2: unit diagonal
    mode: u32,
    b_off: u32,   // element offset of the right-hand sides in a (trsm_left_diag)
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: FParams;
@group(0) @binding(1) var<storage, read> t: array<f32>;
@group(0) @binding(2) var<storage, read_write> a: array<f32>;
@group(0) @binding(3) var<storage, read_write> info: array<u32>;
@group(0) @binding(4) var<storage, read_write> ipiv: array<u32>;
@group(0) @binding(5) var<storage, read_write> w: array<f32>;

const NB: u32 = 64u;
var<workgroup> blk: array<f32, 4096>; // NB × NB, column-major
var<workgroup> piv_s: f32;
var<workgroup> bad_s: u32;
const PW: u32 = 1024u; // getf2_panel workgroup size
var<workgroup> red_v: array<f32, 1024>;
var<workgroup> red_i: array<u32, 1024>;

fn at(i: u32, j: u32) -> u32 {
    return i + j * p.lda;
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
}

// Rows k0+nb .. m of the block column: x · L11ᵀ = a_row, solved in place.
@compute @workgroup_size(256, 1, 1)
fn trsm_right_lt(
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let nb = p.nb;
    let k0 = p.k0;
    for (var e = tid; e < NB * NB; e += 256u) {
        let i = e % NB;
        let j = e / NB;
        var v = 0.0;
        if (i < nb && j < nb && i >= j) {
            v = a[at(k0 + i, k0 + j)];
        }
        blk[e] = v;
    }
    workgroupBarrier();
    let i = k0 + nb + (wid.x + wid.y * groups.x) * 256u + tid;
    if (i >= p.m) {
        return;
    }
    for (var j = 0u; j < nb; j++) {
        var s = a[at(i, k0 + j)];
        for (var l = 0u; l < j; l++) {
            s = fma(-a[at(i, k0 + l)], blk[j + l * NB], s);
        }
        a[at(i, k0 + j)] = s / blk[j + j * NB];
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

// ---------------------------------------------------------------------- LU

fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
    return v > w || (v == w && i < j);
}

// LU with partial pivoting of columns k0 .. k0+nb, rows k0 .. m.
@compute @workgroup_size(1024, 1, 1)
fn getf2_panel(@builtin(local_invocation_index) tid: u32) {
    let k0 = p.k0;
    let nb = p.nb;
    let m = p.m;
    if (tid == 0u) {
        bad_s = 0u;
    }
    for (var j = 0u; j < nb; j++) {
        let col = k0 + j;
        // pivot search: first largest |a| in rows col..m
        var best = -1.0;
        var bi = 0xffffffffu;
        for (var i = col + tid; i < m; i += PW) {
            let v = abs(a[at(i, col)]);
            if (better(v, i, best, bi)) {
                best = v;
                bi = i;
            }
        }
        red_v[tid] = best;
        red_i[tid] = bi;
        workgroupBarrier();
        for (var s = PW / 2u; s > 0u; s = s / 2u) {
            if (tid < s && better(red_v[tid + s], red_i[tid + s], red_v[tid], red_i[tid])) {
                red_v[tid] = red_v[tid + s];
                red_i[tid] = red_i[tid + s];
            }
            workgroupBarrier();
        }
        let pr = red_i[0];
        if (tid == 0u) {
            ipiv[col] = pr;
        }
        // swap rows col and pr within the panel
        if (tid < nb && pr != col) {
            let c = k0 + tid;
            let x = a[at(col, c)];
            a[at(col, c)] = a[at(pr, c)];
            a[at(pr, c)] = x;
        }
        workgroupBarrier();
        let piv = a[at(col, col)];
        if (tid == 0u && piv == 0.0 && bad_s == 0u) {
            bad_s = col + 1u;
        }
        // scale and rank-1 update of the rest of the panel, one row each
        if (piv != 0.0) {
            let inv = 1.0 / piv;
            for (var i = col + 1u + tid; i < m; i += PW) {
                let l = a[at(i, col)] * inv;
                a[at(i, col)] = l;
                for (var c = j + 1u; c < nb; c++) {
                    a[at(i, k0 + c)] = fma(-l, a[at(col, k0 + c)], a[at(i, k0 + c)]);
                }
            }
        }
        workgroupBarrier();
    }
    if (tid == 0u && bad_s != 0u && info[0] == 0u) {
        info[0] = bad_s;
    }
}

// W (nb×nb, leading dimension nb) ← inverse of the lower-triangular
// diagonal block of T at (k0, k0) (unit diagonal when flags bit 2 is set);
// W's strict upper triangle is written as zeros.
@compute @workgroup_size(64, 1, 1)
fn trtri_lower(@builtin(local_invocation_index) tid: u32) {
    let nb = p.nb;
    let unit = (p.flags & 4u) != 0u;
    for (var e = tid; e < NB * NB; e += 64u) {
        let i = e % NB;
        let j = e / NB;
        var v = 0.0;
        if (i < nb && j < nb && i >= j) {
            v = t[p.t_off + (p.k0 + i) + (p.k0 + j) * p.ldt];
        }
        blk[e] = v;
    }
    workgroupBarrier();
    // column tid of the inverse by forward substitution on e_tid
    let j = tid;
    if (j < nb) {
        for (var i = 0u; i < nb; i++) {
            var x = 0.0;
            if (i >= j) {
                var s = select(0.0, 1.0, i == j);
                for (var l = j; l < i; l++) {
                    s = fma(-blk[i + l * NB], w[l + j * nb], s);
                }
                x = select(s / blk[i + i * NB], s, unit);
            }
            w[i + j * nb] = x;
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
