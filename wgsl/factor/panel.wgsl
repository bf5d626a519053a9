// Panel kernels of the blocked factorizations: LU's packing and rank
// updates, the triangular solves' diagonal blocks, and Cholesky's block
// step (potrf_block, potrf_finish, at the end). Each is described where
// it is defined.

@group(0) @binding(6) var<storage, read_write> outp: array<f32>;

var<workgroup> xs: array<f32, 4096>; // 64 rows × NB columns, column-major (potrf_block)

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

// potrf_block   one dispatch per block column (nb ≤ 64): the diagonal
//               block's Cholesky factor L11 and the panel L21 = A21·L11⁻ᵀ
//               below it. Every workgroup factorizes the diagonal block
//               itself (the same arithmetic on the same data in each, so
//               the same L11) beside its 64 rows of the panel: no second
//               dispatch waits for the first, and no workgroup reads
//               what another writes. The block and the rows are held in
//               workgroup memory (blk, xs: 32 KiB together) and treated
//               eight columns at a time, three barriers each:
//                 1. invocation 0 factorizes the 8×8 diagonal sub-block
//                    in registers (chol8);
//                 2. every row below it, of the block and of the panel,
//                    solves x·L_bᵀ = a against it (one invocation a row);
//                 3. the columns right of the sub-block take the rank-8
//                    update, four invocations a row.
//               L21 is written in place into a and, packed (leading
//               dimension p.ldt, from element p.o_off), into outp for the
//               trailing GEMM (which cannot read a and write it in one
//               dispatch). L11 goes to w (element (k0+i, k0+j) at
//               w[k0 + i + j·p.m]) from workgroup 0 alone, since other
//               workgroups may still be reading A11 from a; potrf_finish
//               copies the diagonal blocks into a at the end. A failed
//               pivot (d ≤ 0 or NaN) is taken as 1, and info[0] (if still
//               0) receives column + 1 of the block's first one.
//               On an H200 (benches/RESULTS.md, 2026-12-01) this took the
//               4096² factorization from 5.76 to 3.63 ms: the two kernels
//               it replaces (the block, one barrier per column; the panel
//               by 16-column substitution) took 1.77 + 1.64 ms, it 1.25.
@compute @workgroup_size(256, 1, 1)
fn potrf_block(
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let nb = p.nb;
    let k0 = p.k0;
    let k1 = k0 + nb;
    let rows = p.n - k1;
    let r0 = wid.x * 64u;
    for (var e = tid; e < NB * NB; e += 2048u) {
        let l = gather8(e, k0, k0, nb, nb, true);
        let x = gather8(e, k1 + r0, k0, rows - min(r0, rows), nb, false);
        stash8(e, l);
        for (var q = 0u; q < 8u; q++) {
            xs[e + q * 256u] = x[q];
        }
    }
    workgroupBarrier();
    let i = tid % 64u;
    let q = tid / 64u;
    var bad = 0u; // invocation 0: column + 1 of the first failed pivot
    for (var cb = 0u; cb < nb; cb += 8u) {
        let ce = min(cb + 8u, nb);
        if (tid == 0u) {
            bad = chol8(cb, ce, bad);
        }
        workgroupBarrier();
        if (tid < 64u) {
            solve8(i, cb, ce, true);
        } else if (tid < 128u && ce + i < nb) {
            solve8(ce + i, cb, ce, false);
        }
        workgroupBarrier();
        if (ce < nb) {
            // row i's multipliers in the panel and in the block (the
            // block's only used for columns c ≤ i, where i ≥ ce)
            var xr: array<f32, 8>;
            var dr: array<f32, 8>;
            for (var k = 0u; k < 8u; k++) {
                let kk = min(cb + k, NB - 1u);
                xr[k] = select(0.0, xs[i + kk * NB], cb + k < ce);
                dr[k] = select(0.0, blk[i + kk * NB], cb + k < ce);
            }
            // two columns (c, c + 4) per step, all loads ahead of the
            // stores, and two chains per sum
            for (var c = ce + q; c < nb; c += 8u) {
                let c2 = min(c + 4u, NB - 1u);
                var s0 = xs[i + c * NB];
                var d0 = blk[i + c * NB];
                var s2 = xs[i + c2 * NB];
                var d2 = blk[i + c2 * NB];
                var s1 = 0.0;
                var d1 = 0.0;
                var s3 = 0.0;
                var d3 = 0.0;
                for (var k = 0u; k < 8u; k += 2u) {
                    let ka = min(cb + k, NB - 1u) * NB;
                    let kb = min(cb + k + 1u, NB - 1u) * NB;
                    let la = blk[c + ka];
                    let lb = blk[c + kb];
                    let ma = blk[c2 + ka];
                    let mb = blk[c2 + kb];
                    s0 = fma(-xr[k], la, s0);
                    s1 = fma(-xr[k + 1u], lb, s1);
                    d0 = fma(-dr[k], la, d0);
                    d1 = fma(-dr[k + 1u], lb, d1);
                    s2 = fma(-xr[k], ma, s2);
                    s3 = fma(-xr[k + 1u], mb, s3);
                    d2 = fma(-dr[k], ma, d2);
                    d3 = fma(-dr[k + 1u], mb, d3);
                }
                xs[i + c * NB] = s0 + s1;
                if (c <= i) {
                    blk[i + c * NB] = d0 + d1;
                }
                if (c + 4u < nb) {
                    xs[i + c2 * NB] = s2 + s3;
                    if (c2 <= i) {
                        blk[i + c2 * NB] = d2 + d3;
                    }
                }
            }
        }
        workgroupBarrier();
    }
    for (var e = tid; e < NB * NB; e += 256u) {
        let ei = e % NB;
        let ej = e / NB;
        let r = r0 + ei;
        if (r < rows && ej < nb) {
            let v = xs[e];
            a[at(k1 + r, k0 + ej)] = v;
            outp[p.o_off + r + ej * p.ldt] = v;
        }
        if (wid.x == 0u && ei < nb && ej <= ei) {
            w[k0 + ei + ej * p.m] = blk[e];
        }
    }
    if (wid.x == 0u && tid == 0u && bad != 0u && info[0] == 0u) {
        info[0] = k0 + bad;
    }
}

// The 8×8 diagonal sub-block at (cb, cb) of blk (columns cb .. ce), in
// registers: right-looking, the pivot's reciprocal by inverseSqrt (one
// step of the column chain instead of a square root and a division).
// Positions past ce act as the identity's. Returns `bad`, or column + 1
// (within the block) of the first failed pivot.
fn chol8(cb: u32, ce: u32, bad_in: u32) -> u32 {
    var bad = bad_in;
    let w = ce - cb;
    // every loop has a constant trip count, so that the compiler can
    // unroll them all and keep m in registers
    var m: array<f32, 64>; // m[r + 8c], lower triangle
    for (var c = 0u; c < 8u; c++) {
        for (var r = 0u; r < 8u; r++) {
            var v = select(0.0, 1.0, r == c);
            if (r >= c && r < w) {
                v = blk[cb + r + (cb + c) * NB];
            }
            m[r + 8u * c] = v;
        }
    }
    for (var j = 0u; j < 8u; j++) {
        var d = m[j + 8u * j];
        // NaN fails this test too
        if (!(d > 0.0)) {
            if (bad == 0u && j < w) {
                bad = cb + j + 1u;
            }
            d = 1.0;
        }
        let rs = inverseSqrt(d);
        var l: array<f32, 8>;
        for (var r = 0u; r < 8u; r++) {
            l[r] = m[r + 8u * j] * rs;
        }
        for (var r = 0u; r < 8u; r++) {
            if (r > j) {
                m[r + 8u * j] = l[r];
            }
        }
        m[j + 8u * j] = d * rs;
        for (var c = 0u; c < 8u; c++) {
            for (var r = 0u; r < 8u; r++) {
                if (c > j && r >= c) {
                    m[r + 8u * c] = fma(-l[r], l[c], m[r + 8u * c]);
                }
            }
        }
    }
    for (var c = 0u; c < 8u; c++) {
        for (var r = 0u; r < 8u; r++) {
            if (r >= c && r < w) {
                blk[cb + r + (cb + c) * NB] = m[r + 8u * c];
            }
        }
    }
    return bad;
}

// Row `row` of the panel (xs, `panel`) or of the diagonal block (blk),
// columns cb .. ce: x·L_bᵀ = a by forward substitution with the
// sub-block chol8 left in blk, the reciprocals of its diagonal first.
fn solve8(row: u32, cb: u32, ce: u32, panel: bool) {
    let w = ce - cb;
    var x: array<f32, 8>;
    var rd: array<f32, 8>;
    for (var k = 0u; k < 8u; k++) {
        let kk = min(cb + k, NB - 1u);
        var v = blk[row + kk * NB];
        if (panel) {
            v = xs[row + kk * NB];
        }
        x[k] = v;
        rd[k] = 1.0 / blk[kk + kk * NB];
    }
    // constant loop bounds keep x in registers; x[j] for j ≥ w (columns
    // past the block, cb + j ≤ 63) is computed and dropped
    for (var j = 0u; j < 8u; j++) {
        var s = x[j];
        for (var k = 0u; k < 8u; k++) {
            if (k < j) {
                s = fma(-x[k], blk[cb + j + (cb + k) * NB], s);
            }
        }
        x[j] = s * rd[j];
    }
    for (var j = 0u; j < 8u; j++) {
        if (j < w) {
            if (panel) {
                xs[row + (cb + j) * NB] = x[j];
            } else {
                blk[row + (cb + j) * NB] = x[j];
            }
        }
    }
}

// After the last potrf_block: zeros into the strict upper triangle, and
// the diagonal blocks (p.nb wide, from 0) from t, where potrf_block left
// them (element (i, j) at t[i + (j mod nb)·ldt]).
@compute @workgroup_size(16, 16, 1)
fn potrf_finish(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let j = gid.y;
    if (i < p.n && j < p.n) {
        if (i < j) {
            a[at(i, j)] = 0.0;
        } else if (i / p.nb == j / p.nb) {
            a[at(i, j)] = t[i + (j % p.nb) * p.ldt];
        }
    }
}
