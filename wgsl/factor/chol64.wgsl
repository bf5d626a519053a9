// Right-looking Cholesky of a 64×64 block in workgroup memory by 256
// invocations, with one barrier per column. Shared by potrf_diag
// (factor/blocked.wgsl) and the fused Cholesky step (gemm/syrk_diag.wgsl).
// The including module provides the block storage, column-major, as
// bget(e) / bset(e, v) for element e = i + 64·j (lower triangle filled,
// zeros above), and the workgroup variable bad_s (set to 0 before the
// call). Step j reads the Schur-complement diagonal d = (j, j) (every
// invocation derives the same pivot sqrt(d), or 1 after a failure, which
// sets bad_s = j + 1 the first time) and updates the trailing lower
// triangle with l_rj·l_cj, l = block(·, j) / pivot recomputed where used;
// column j itself is not written during step j, so nothing races.
// chol_scaled(e) then gives L's element e (the columns scaled by their
// pivots) after the call.

const CB: u32 = 64u;
var<workgroup> pv: array<f32, 64>; // pivots sqrt(d_j) (1 for a failed pivot)

fn chol_block(nb: u32, tid: u32) {
    let row = tid % CB;
    let lane = tid / CB; // 4 invocations share a row
    for (var j = 0u; j < nb; j++) {
        let d = bget(j + j * CB);
        var piv = 1.0;
        // NaN fails this test too
        if (d > 0.0) {
            piv = sqrt(d);
        } else if (tid == 0u && bad_s == 0u) {
            bad_s = j + 1u;
        }
        if (tid == 0u) {
            pv[j] = piv;
        }
        // trailing update of the block: columns c in (j, row], lanes
        // interleaved, four columns' loads ahead of their stores
        if (row > j && row < nb) {
            // one division per step, not one per element
            let rp = 1.0 / piv;
            let lij = bget(row + j * CB) * rp;
            var c = j + 1u + lane;
            loop {
                if (c > row) {
                    break;
                }
                let c1 = c + 4u;
                let c2 = c + 8u;
                let c3 = c + 12u;
                // columns past row read (and leave) zeros above the diagonal
                let x0 = bget(row + c * CB);
                let x1 = bget(row + min(c1, CB - 1u) * CB);
                let x2 = bget(row + min(c2, CB - 1u) * CB);
                let x3 = bget(row + min(c3, CB - 1u) * CB);
                let y0 = bget(c + j * CB) * rp;
                let y1 = bget(min(c1, CB - 1u) + j * CB) * rp;
                let y2 = bget(min(c2, CB - 1u) + j * CB) * rp;
                let y3 = bget(min(c3, CB - 1u) + j * CB) * rp;
                bset(row + c * CB, x0 - lij * y0);
                if (c1 <= row) {
                    bset(row + c1 * CB, x1 - lij * y1);
                }
                if (c2 <= row) {
                    bset(row + c2 * CB, x2 - lij * y2);
                }
                if (c3 <= row) {
                    bset(row + c3 * CB, x3 - lij * y3);
                }
                c += 16u;
            }
        }
        workgroupBarrier();
    }
}

// Element e = i + 64·j of L once chol_block has run (0 above the
// diagonal and outside nb×nb).
fn chol_scaled(e: u32) -> f32 {
    let i = e % CB;
    let j = e / CB;
    if (i == j) {
        return pv[j];
    }
    if (i > j) {
        return bget(e) / pv[j];
    }
    return 0.0;
}
