// Cholesky panel below a factorized diagonal block, in one dispatch:
//   potrf_panel   L21 = A21·L11⁻ᵀ for the rows k0+nb .. n of block column
//                 k0 (nb ≤ 64 wide), by forward substitution with L11 as
//                 potrf_diag leaves it in a (no inverse: forming L11⁻¹
//                 took as long as the factorization of the block). The
//                 result is written in place into a and, packed (leading
//                 dimension p.ldt, from element p.o_off), into outp for the
//                 trailing update (a
//                 GEMM cannot read a and write it in one dispatch). One
//                 workgroup per 64 rows: L11 (blk) and the rows' block of
//                 A21 (xs) in workgroup memory, 32 KiB together; all 256
//                 invocations load and store; x·L11ᵀ = a is solved in
//                 blocks of 16 columns (see below).

@group(0) @binding(6) var<storage, read_write> outp: array<f32>;

var<workgroup> xs: array<f32, 4096>; // 64 rows × NB columns, column-major

@compute @workgroup_size(256, 1, 1)
fn potrf_panel(
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let nb = p.nb;
    let k0 = p.k0;
    let k1 = k0 + nb;
    let rows = p.n - k1;
    let r0 = wid.x * 64u;
    // eight elements of each block per step, loads ahead of the stores
    for (var e = tid; e < NB * NB; e += 2048u) {
        let l = gather8(e, k0, k0, nb, nb, true);
        let x = gather8(e, k1 + r0, k0, rows - r0, nb, false);
        stash8(e, l);
        for (var q = 0u; q < 8u; q++) {
            xs[e + q * 256u] = x[q];
        }
    }
    workgroupBarrier();
    // blocks of 16 columns: invocation i (< 64) solves its row within the
    // block, x_j = (a_j − Σ_{jb ≤ k < j} x_k·L[j, k]) / L[j, j]; then the
    // four invocations of each row subtract the block from the columns
    // right of it (every fourth column each): two barriers per block
    // instead of one 2016-step chain per row
    let i = tid % 64u;
    let q = tid / 64u;
    for (var jb = 0u; jb < nb; jb += 16u) {
        let je = min(jb + 16u, nb);
        if (q == 0u) {
            for (var j = jb; j < je; j++) {
                var s = xs[j * NB + i];
                for (var k = jb; k < j; k++) {
                    s = fma(-xs[k * NB + i], blk[j + k * NB], s);
                }
                xs[j * NB + i] = s / blk[j + j * NB];
            }
        }
        workgroupBarrier();
        for (var c = je + q; c < nb; c += 4u) {
            var s0 = xs[c * NB + i];
            var s1 = 0.0;
            var k = jb;
            for (; k + 2u <= je; k += 2u) {
                s0 = fma(-xs[k * NB + i], blk[c + k * NB], s0);
                s1 = fma(-xs[(k + 1u) * NB + i], blk[c + (k + 1u) * NB], s1);
            }
            if (k < je) {
                s0 = fma(-xs[k * NB + i], blk[c + k * NB], s0);
            }
            xs[c * NB + i] = s0 + s1;
        }
        workgroupBarrier();
    }
    for (var e = tid; e < NB * NB; e += 256u) {
        let i = e % NB;
        let j = e / NB;
        let r = r0 + i;
        if (r < rows && j < nb) {
            let v = xs[e];
            a[at(k1 + r, k0 + j)] = v;
            outp[p.o_off + r + j * p.ldt] = v;
        }
    }
}

// LU, after the U12 product: one dispatch doing two disjoint copies.
//   lu_pack   workgroups below p.mode write U12 into place from its
//             transpose (cols × nb, leading dimension p.ldt, in t; the
//             GEMM that forms it reads A12 from a, so it cannot write a);
//             the others pack L21 (rows k0+nb .. m of the panel columns)
//             into outp (leading dimension rows) for the trailing GEMM.
//             256 elements per workgroup.
@compute @workgroup_size(256, 1, 1)
fn lu_pack(
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let nb = p.nb;
    let k0 = p.k0;
    let k1 = k0 + nb;
    if (wid.x < p.mode) {
        let cols = p.ldt;
        let e = wid.x * 256u + tid;
        let i = e % nb;
        let c = e / nb;
        if (c < cols) {
            a[at(k0 + i, k1 + c)] = t[c + i * cols];
        }
    } else {
        let rows = p.m - k1;
        let e = (wid.x - p.mode) * 256u + tid;
        let r = e % rows;
        let j = e / rows;
        if (j < nb) {
            outp[r + j * rows] = a[at(k1 + r, k0 + j)];
        }
    }
}

// Triangular solve of one diagonal block, for the blocked trsm:
//   trsm_diag_pack  X ← op(T_kk)⁻¹·B_k for the nb rows k0 .. k0+nb of the
//                   right-hand sides B (in a at b_off, leading dimension
//                   lda), written in place and packed (nb × nrhs, leading
//                   dimension nb) into w for the off-diagonal GEMM (T in
//                   t, or in a with flags bit 3; see t_block). Four
//                   right-hand sides per workgroup, one invocation per row
//                   and column, the running values in workgroup memory.
//                   The rows go in groups of eight in substitution order:
//                   one invocation per column solves the group's 8×8
//                   triangle by itself, then every row after the group
//                   subtracts the group's eight terms, so a block costs 16
//                   barriers instead of one per row (64).
var<workgroup> xrun: array<f32, 256>; // running values, row + 64·column

// op(T)(i, j) of the diagonal block at k0: from t, or with flags bit 3
// from a itself (LU's U12 = L11⁻¹·A12 reads L11 from the matrix whose
// columns right of it it solves in place; a buffer cannot be bound both
// read-only and read-write in one dispatch).
fn t_block(i: u32, j: u32) -> f32 {
    if ((p.flags & 8u) != 0u) {
        var r = p.k0 + i;
        var c = p.k0 + j;
        if ((p.flags & 2u) != 0u) {
            r = p.k0 + j;
            c = p.k0 + i;
        }
        return a[p.t_off + r + c * p.ldt];
    }
    return t_eff(i, j);
}

// The row solved at substitution step s: s for a lower triangle, counted
// from the bottom for an upper one.
fn subst_row(s: u32, nb: u32, lower: bool) -> u32 {
    return select(nb - 1u - s, s, lower);
}

// Where invocation tid works in trsm_diag_pack: its row of the block,
// its right-hand side (lane, column col), and the solve's flags.
struct TrsmAt {
    row: u32,
    lane: u32,
    col: u32,
    live: bool,
    base: u32,
    // effective lower triangle: lower and not transposed, or upper transposed
    lower: bool,
    unit: bool,
    // this row's substitution step
    step: u32,
}

fn trsm_at(tid: u32, wid: vec3<u32>, groups: vec3<u32>) -> TrsmAt {
    let nb = p.nb;
    let upper = (p.flags & 1u) != 0u;
    let trans = (p.flags & 2u) != 0u;
    let lower = upper == trans;
    let row = tid % 64u;
    let lane = tid / 64u;
    let col = (wid.x + wid.y * groups.x) * 4u + lane;
    return TrsmAt(
        row,
        lane,
        col,
        col < p.n && row < nb,
        p.b_off + p.k0 + col * p.lda,
        lower,
        (p.flags & 4u) != 0u,
        select(nb - 1u - row, row, lower),
    );
}

// op(T)'s triangle into blk (eight loads in flight per invocation) and
// this invocation's right-hand side into xrun; the caller puts a barrier
// after it.
fn trsm_load(at: TrsmAt, tid: u32) {
    let nb = p.nb;
    var v = 0.0;
    if (at.live) {
        v = a[at.base + at.row];
    }
    for (var e0 = tid; e0 < NB * NB; e0 += 2048u) {
        var tv: array<f32, 8>;
        for (var q = 0u; q < 8u; q++) {
            let e = e0 + 256u * q;
            let i = e % NB;
            let j = e / NB;
            var x = 0.0;
            if (i < nb && j < nb && ((at.lower && i >= j) || (!at.lower && i <= j))) {
                x = t_block(i, j);
            }
            tv[q] = x;
        }
        for (var q = 0u; q < 8u; q++) {
            blk[e0 + 256u * q] = tv[q];
        }
    }
    xrun[tid] = v;
}

// The substitution in groups of eight rows, running values in xrun: one
// invocation per right-hand side solves a group's triangle, then every
// row after the group subtracts its terms; two barriers per group.
fn trsm_groups(at: TrsmAt, tid: u32) {
    let nb = p.nb;
    let lane = at.lane;
    for (var s0 = 0u; s0 < nb; s0 += 8u) {
        let s1 = min(s0 + 8u, nb);
        if (at.row == 0u) {
            for (var s = s0; s < s1; s++) {
                let i = subst_row(s, nb, at.lower);
                var xi = xrun[i + 64u * lane];
                for (var q = s0; q < s; q++) {
                    let k = subst_row(q, nb, at.lower);
                    xi = fma(-blk[i + k * NB], xrun[k + 64u * lane], xi);
                }
                if (!at.unit) {
                    xi = xi / blk[i + i * NB];
                }
                xrun[i + 64u * lane] = xi;
            }
        }
        workgroupBarrier();
        if (at.row < nb && at.step >= s1) {
            var acc = xrun[tid];
            for (var q = s0; q < s1; q++) {
                let k = subst_row(q, nb, at.lower);
                acc = fma(-blk[at.row + k * NB], xrun[k + 64u * lane], acc);
            }
            xrun[tid] = acc;
        }
        workgroupBarrier();
    }
}

// X_k in place and packed into w.
fn trsm_store(at: TrsmAt, tid: u32) {
    if (at.live) {
        let x = xrun[tid];
        a[at.base + at.row] = x;
        w[at.row + at.col * p.nb] = x;
    }
}

@compute @workgroup_size(256, 1, 1)
fn trsm_diag_pack(
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let at = trsm_at(tid, wid, groups);
    trsm_load(at, tid);
    workgroupBarrier();
    trsm_groups(at, tid);
    trsm_store(at, tid);
}

// LU, after getf2_block: the rank-nb update of the outer block right of
// the panel,
//   lu_rank_update   A[k1.., k1..p.o_off] −= L21·U12 with L21 the panel
//                    columns k0 .. k1 and U12 the rows k0 .. k1 (k1 =
//                    k0 + nb ≤ k0 + 8), all in a: the regions read and the
//                    region written are disjoint, so one read-write binding
//                    serves. 64 rows and 32 columns per workgroup, U12's
//                    block in workgroup memory; each invocation updates
//                    eight columns of one row.
var<workgroup> u12: array<f32, 256>; // 8 rows × 32 columns, row + 8·column

@compute @workgroup_size(256, 1, 1)
fn lu_rank_update(
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let k0 = p.k0;
    let nb = min(p.nb, 8u);
    let k1 = k0 + nb;
    let c0 = k1 + wid.y * 32u;
    let c1 = min(c0 + 32u, p.o_off);
    {
        let q = tid % 8u;
        let c = c0 + tid / 8u;
        var v = 0.0;
        if (q < nb && c < c1) {
            v = a[at(k0 + q, c)];
        }
        u12[tid] = v;
    }
    workgroupBarrier();
    let i = k1 + wid.x * 64u + tid % 64u;
    if (i >= p.m) {
        return;
    }
    var l: array<f32, 8>;
    for (var q = 0u; q < 8u; q++) {
        if (q < nb) {
            l[q] = a[at(i, k0 + q)];
        }
    }
    let g = tid / 64u;
    var x: array<f32, 8>;
    for (var s = 0u; s < 8u; s++) {
        let c = c0 + g + 4u * s;
        if (c < c1) {
            x[s] = a[at(i, c)];
        }
    }
    for (var s = 0u; s < 8u; s++) {
        let cl = g + 4u * s;
        let c = c0 + cl;
        if (c < c1) {
            var acc = x[s];
            for (var q = 0u; q < 8u; q++) {
                if (q < nb) {
                    acc = fma(-l[q], u12[q + 8u * cl], acc);
                }
            }
            a[at(i, c)] = acc;
        }
    }
}
