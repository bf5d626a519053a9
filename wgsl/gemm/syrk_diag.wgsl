// One step of the blocked Cholesky with look-ahead (encode_potrf in
// src/ops/factor.rs), in one dispatch: step k's trailing update and the
// factorization of block k+1 side by side.
//   - Every workgroup but those of the last row: a LOWER tile of the
//     tiled GEMM (tiled.wgsl), C = A[k2.., k1..] −= P[s.., :]·Pᵀ with P
//     the packed L21 of step k (rows k1 .. n, leading dimension p.lda),
//     s = p.shift = k2 − k1.
//   - The first workgroup of the last row: the diagonal block of step
//     k+1 (rows and columns k1 .. k2, at element p.diag_off of C's
//     buffer): its own share of the update, A11 −= P[0:s, :]·P[0:s, :]ᵀ,
//     then its Cholesky (factor/chol64.wgsl), L written back in place and
//     a non-positive pivot recorded in info[0] as its column + 1 (first
//     failure only).
// The two parts write disjoint parts of A (rows from k2 on, and the block
// above them), so block k+1 is factorized while step k's update runs
// instead of after it. The block lives in the GEMM's slab memory (As and
// Bs: 2 × 2048 floats, 64×64 column-major), which its workgroup does not
// otherwise use.

@group(0) @binding(4) var<storage, read_write> info: array<u32>;
var<workgroup> bad_s: u32;

fn bget(e: u32) -> f32 {
    if (e < 2048u) {
        return As[e / 4u][e % 4u];
    }
    return Bs[(e - 2048u) / 4u][e % 4u];
}

fn bset(e: u32, v: f32) {
    if (e < 2048u) {
        As[e / 4u][e % 4u] = v;
    } else {
        Bs[(e - 2048u) / 4u][e % 4u] = v;
    }
}

@compute @workgroup_size(16, 16, 1)
fn syrk_diag(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    if (wid.y + 1u == groups.y) {
        if (wid.x == 0u) {
            diag_step(t);
        }
        return;
    }
    gemm_tile(lid, t, wid);
}

fn diag_step(t: u32) {
    let nb = p.shift; // width of block k+1 (≤ 64)
    let kp = p.k; // width of step k's panel (≤ 64)
    // P's rows of the block, P[0:nb, 0:kp], staged in the block storage
    for (var e = t; e < CB * CB; e += 256u) {
        let i = e % CB;
        let l = e / CB;
        var v = 0.0;
        if (i < nb && l < kp) {
            v = load_a(i + l * p.lda);
        }
        bset(e, v);
    }
    workgroupBarrier();
    // (row, c) for c = lane + 4q: Σ_l P[row, l]·P[c, l]
    let row = t % CB;
    let lane = t / CB;
    var acc: array<f32, 16>;
    for (var l = 0u; l < kp; l++) {
        let pr = bget(row + l * CB);
        for (var q = 0u; q < 16u; q++) {
            acc[q] = fma(pr, bget(lane + 4u * q + l * CB), acc[q]);
        }
    }
    workgroupBarrier();
    // the block's lower triangle minus the product, zeros above
    for (var q = 0u; q < 16u; q++) {
        let c = lane + 4u * q;
        var v = 0.0;
        if (row < nb && c <= row) {
            v = c_get(p.diag_off + row + c * p.ldc) - acc[q];
        }
        bset(row + c * CB, v);
    }
    if (t == 0u) {
        bad_s = 0u;
    }
    workgroupBarrier();
    chol_block(nb, t);
    for (var e = t; e < CB * CB; e += 256u) {
        let i = e % CB;
        let j = e / CB;
        if (i < nb && j < nb) {
            c_set(p.diag_off + i + j * p.ldc, chol_scaled(e));
        }
    }
    if (t == 0u && bad_s != 0u && info[0] == 0u) {
        info[0] = p.diag_col + bad_s;
    }
}
