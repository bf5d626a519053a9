// One step of the blocked Cholesky with look-ahead (encode_potrf in
// src/ops/factor.rs), in one dispatch: step k's trailing update and the
// factorization of block k+1 side by side.
//   - Every workgroup but those of the first row: a LOWER tile of the
//     tiled GEMM (tiled.wgsl), C = A[k2.., k1..] −= P[s.., :]·Pᵀ with P
//     the packed L21 of step k (rows k1 .. n, leading dimension p.lda),
//     s = p.shift = k2 − k1.
//   - The first workgroup (of the first row): the diagonal block of step
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
) {
    // the diagonal block first: workgroups start in the order of their
    // index, so at the end of the grid it would start after the last wave
    // of GEMM tiles instead of beside the first
    if (wid.y == 0u) {
        if (wid.x == 0u) {
            diag_step(t);
        }
        return;
    }
    gemm_tile(lid, t, vec3<u32>(wid.x, wid.y - 1u, wid.z));
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
    // (row, c) for c = lane + 4q (q < 16): Σ_l P[row, l]·P[c, l], in four
    // vec4 (q = 4r .. 4r+3 in acc_r)
    let row = t % CB;
    let lane = t / CB;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var l = 0u; l < kp; l++) {
        let pr = vec4<f32>(bget(row + l * CB));
        let b = lane + l * CB;
        acc0 = fma(pr, vec4<f32>(bget(b), bget(b + 4u), bget(b + 8u), bget(b + 12u)), acc0);
        acc1 = fma(pr, vec4<f32>(bget(b + 16u), bget(b + 20u), bget(b + 24u), bget(b + 28u)), acc1);
        acc2 = fma(pr, vec4<f32>(bget(b + 32u), bget(b + 36u), bget(b + 40u), bget(b + 44u)), acc2);
        acc3 = fma(pr, vec4<f32>(bget(b + 48u), bget(b + 52u), bget(b + 56u), bget(b + 60u)), acc3);
    }
    // the block's lower triangle minus the product, zeros above; all
    // sixteen loads of an invocation before the barrier and the stores
    let x0 = block_row4(row, lane, nb);
    let x1 = block_row4(row, lane + 16u, nb);
    let x2 = block_row4(row, lane + 32u, nb);
    let x3 = block_row4(row, lane + 48u, nb);
    workgroupBarrier();
    put_row4(row, lane, x0 - acc0);
    put_row4(row, lane + 16u, x1 - acc1);
    put_row4(row, lane + 32u, x2 - acc2);
    put_row4(row, lane + 48u, x3 - acc3);
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

// A's block elements (row, c), c = c0, c0 + 4, c0 + 8, c0 + 12, where
// c ≤ row < nb (the lower triangle), else 0.
fn block_row4(row: u32, c0: u32, nb: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    if (row < nb) {
        let base = p.diag_off + row;
        if (c0 <= row) {
            v.x = c_get(base + c0 * p.ldc);
        }
        if (c0 + 4u <= row) {
            v.y = c_get(base + (c0 + 4u) * p.ldc);
        }
        if (c0 + 8u <= row) {
            v.z = c_get(base + (c0 + 8u) * p.ldc);
        }
        if (c0 + 12u <= row) {
            v.w = c_get(base + (c0 + 12u) * p.ldc);
        }
    }
    return v;
}

// Stores (row, c0 + 4q) ← v[q] into the block storage, zeros above the
// diagonal (v is 0 there, minus the product of P's rows).
fn put_row4(row: u32, c0: u32, v: vec4<f32>) {
    bset(row + c0 * CB, select(0.0, v.x, c0 <= row));
    bset(row + (c0 + 4u) * CB, select(0.0, v.y, c0 + 4u <= row));
    bset(row + (c0 + 8u) * CB, select(0.0, v.z, c0 + 8u <= row));
    bset(row + (c0 + 12u) * CB, select(0.0, v.w, c0 + 12u <= row));
}
