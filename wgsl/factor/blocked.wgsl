// Kernels of the blocked factorizations. Each works on one block column
// (nb ≤ 64 wide) of a column-major matrix in place:
//   t_eff           op(T)(i, j) of a diagonal block, for the triangular
//                   solve of factor/panel.wgsl (trsm_diag_pack).
//   trtri_lower     W ← T_kk⁻¹ for a lower-triangular diagonal block of T
//                   (unit or not), one invocation per row of the
//                   inverse, so panel solves become GEMMs.
// Trailing updates are GEMMs (gemm/tiled.wgsl), launched from the host code;
// the panel kernels are in factor/panel.wgsl.

const NB: u32 = 64u;
var<workgroup> blk: array<f32, 4096>; // NB × NB, column-major

// Loading a 64×64 block into workgroup memory, 256 invocations: element
// e = tid + 256·q (q < 16) of the column-major block. The loops take eight
// elements at a time and issue all eight global loads before the
// workgroup stores (a loop of single load-then-store steps waits for
// memory in every step: 16 round trips instead of 2).

// Elements e, e + 256, …, e + 1792 of A's rows × cols block at (row0,
// col0), only its lower triangle with `lower`, zero elsewhere.
fn gather8(e: u32, row0: u32, col0: u32, rows: u32, cols: u32, lower: bool) -> array<f32, 8> {
    var v: array<f32, 8>;
    v[0] = block_at(e, row0, col0, rows, cols, lower);
    v[1] = block_at(e + 256u, row0, col0, rows, cols, lower);
    v[2] = block_at(e + 512u, row0, col0, rows, cols, lower);
    v[3] = block_at(e + 768u, row0, col0, rows, cols, lower);
    v[4] = block_at(e + 1024u, row0, col0, rows, cols, lower);
    v[5] = block_at(e + 1280u, row0, col0, rows, cols, lower);
    v[6] = block_at(e + 1536u, row0, col0, rows, cols, lower);
    v[7] = block_at(e + 1792u, row0, col0, rows, cols, lower);
    return v;
}

fn block_at(e: u32, row0: u32, col0: u32, rows: u32, cols: u32, lower: bool) -> f32 {
    let i = e % NB;
    let j = e / NB;
    if (i < rows && j < cols && (!lower || i >= j)) {
        return a[at(row0 + i, col0 + j)];
    }
    return 0.0;
}

// T's lower triangle at element e of the nb×nb diagonal block at p.k0
// (a kernel that reads a block of t cannot name a: their bindings differ).
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

// Inverts the lower-triangular nb×nb matrix in blk by doubling (256
// invocations): first the eight 8×8 diagonal blocks, one column of one
// block per invocation by substitution; then, for s = 8, 16, 32, every
// 2s×2s diagonal block [A 0; B C] from the inverses of its halves as
// [A⁻¹ 0; −C⁻¹·B·A⁻¹ C⁻¹]: Y = B·A⁻¹, then −C⁻¹·Y, each element a dot
// product held by one invocation. Ten barriers in all, where a column-
// by-column inverse takes one per column (64). X's strict lower triangle
// lives in the unused strict upper triangle of blk (X[i, j] at
// blk[j + i·NB], i > j, zero on entry); Y is staged in the slots of its
// own block of X. L stays intact below the diagonal; X[i, i] = 1/L[i, i]
// (or 1) is recomputed where needed (inverse_at). Rows past nb are
// treated as the identity's. The caller puts a barrier between loading
// blk and this, and one before reading X. `unit` takes the diagonal as
// ones.
fn inv_diag(i: u32, nb: u32, unit: bool) -> f32 {
    if (unit || i >= nb) {
        return 1.0;
    }
    return 1.0 / blk[i + i * NB];
}

// X[i, j] (i ≥ j) while the inverse is being built.
fn x_at(i: u32, j: u32, nb: u32, unit: bool) -> f32 {
    if (i == j) {
        return inv_diag(i, nb, unit);
    }
    return blk[j + i * NB];
}

fn invert_lower_rows(nb: u32, unit: bool, tid: u32) {
    // the 8×8 diagonal blocks: invocation (block b, column j)
    if (tid < 64u) {
        let o = (tid / 8u) * 8u;
        let j = tid % 8u;
        var x: array<f32, 8>;
        x[j] = inv_diag(o + j, nb, unit);
        for (var i = j + 1u; i < 8u; i++) {
            var acc = 0.0;
            for (var k = j; k < i; k++) {
                acc = fma(blk[o + i + (o + k) * NB], x[k], acc);
            }
            x[i] = -acc * inv_diag(o + i, nb, unit);
            blk[o + j + (o + i) * NB] = x[i];
        }
    }
    workgroupBarrier();
    for (var s = 8u; s < NB; s *= 2u) {
        // 64/(2s) blocks of s×s elements: 32·s elements, ≤ 4 per invocation
        let per = (32u * s + 255u) / 256u;
        var y: array<f32, 4>;
        // Y[r, c] = Σ_{c ≤ k < s} B[r, k]·A⁻¹[k, c], consecutive
        // invocations along r (B's columns are contiguous, A⁻¹[k, c] is
        // shared)
        for (var q = 0u; q < per; q++) {
            let e = tid + 256u * q;
            if (e < 32u * s) {
                let v = x21_elem(e, s, true);
                var acc = 0.0;
                for (var k = v.z; k < s; k++) {
                    acc = fma(blk[v.x + s + v.y + (v.x + k) * NB], x_at(v.x + k, v.x + v.z, nb, unit), acc);
                }
                y[q] = acc;
            }
        }
        // Y into X21's slots, which nothing reads yet
        x21_store(y, per, s, tid, true);
        workgroupBarrier();
        // X21[r, c] = −Σ_{k ≤ r} C⁻¹[r, k]·Y[k, c], consecutive
        // invocations along c (Y's rows are contiguous in the slots)
        for (var q = 0u; q < per; q++) {
            let e = tid + 256u * q;
            if (e < 32u * s) {
                let v = x21_elem(e, s, false);
                let o = v.x;
                var acc = 0.0;
                for (var k = 0u; k <= v.y; k++) {
                    acc = fma(x_at(o + s + v.y, o + s + k, nb, unit), blk[o + v.z + (o + s + k) * NB], acc);
                }
                y[q] = -acc;
            }
        }
        workgroupBarrier();
        x21_store(y, per, s, tid, false);
        workgroupBarrier();
    }
}

// Element e (< 32·s) of the level-s blocks X21 as (block origin o, row r,
// column c), r varying fastest with `rows_fast`, else c.
fn x21_elem(e: u32, s: u32, rows_fast: bool) -> vec3<u32> {
    let o = (e / (s * s)) * 2u * s;
    let f = e % s;
    let g = (e / s) % s;
    return select(vec3<u32>(o, g, f), vec3<u32>(o, f, g), rows_fast);
}

// This invocation's elements y[q] of X21 into their slots (X21[r, c] at
// blk[o + c + (o + s + r)·NB]).
fn x21_store(y: array<f32, 4>, per: u32, s: u32, tid: u32, rows_fast: bool) {
    for (var q = 0u; q < per; q++) {
        let e = tid + 256u * q;
        if (e < 32u * s) {
            let v = x21_elem(e, s, rows_fast);
            blk[v.x + v.z + (v.x + s + v.y) * NB] = y[q];
        }
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
