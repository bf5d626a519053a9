// Cholesky panel below a factorized diagonal block, in one dispatch:
//   potrf_panel   L21 = A21·L11⁻ᵀ for the rows k0+nb .. n of block column
//                 k0 (nb ≤ 64 wide), with L11⁻¹ (nb×nb, leading dimension
//                 nb, zeros above the diagonal) in w as potrf_diag mode 1
//                 leaves it. The result is written in place into a and,
//                 packed (leading dimension p.ldt), into outp for the
//                 trailing update (a GEMM cannot read a and write it in one
//                 dispatch). One workgroup per 64 rows: L11⁻ᵀ in workgroup
//                 memory (blocked.wgsl's blk, row k at blk[k·64 ..]), each
//                 invocation one row and 16 columns of L21, reading its
//                 row of A21 from memory; all reads of the rows come before
//                 a barrier, all writes after it.

@group(0) @binding(6) var<storage, read_write> outp: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn potrf_panel(
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let nb = p.nb;
    let k0 = p.k0;
    let k1 = k0 + nb;
    let rows = p.n - k1;
    // blk[k·64 + j] = L11⁻¹[j, k] (zero past nb)
    for (var e = tid; e < NB * NB; e += 256u) {
        let j = e % NB;
        let k = e / NB;
        var v = 0.0;
        if (j < nb && k < nb) {
            v = w[j + k * nb];
        }
        blk[e] = v;
    }
    workgroupBarrier();
    let i = tid % 64u;
    let j0 = (tid / 64u) * 16u;
    let r = wid.x * 64u + i;
    let live = r < rows && j0 < nb;
    var x0 = vec4<f32>(0.0);
    var x1 = vec4<f32>(0.0);
    var x2 = vec4<f32>(0.0);
    var x3 = vec4<f32>(0.0);
    if (live) {
        let row = at(k1 + r, k0);
        for (var k = 0u; k < nb; k++) {
            let av = vec4<f32>(a[row + k * p.lda]);
            let o = k * NB + j0;
            x0 = fma(av, vec4<f32>(blk[o], blk[o + 1u], blk[o + 2u], blk[o + 3u]), x0);
            x1 = fma(av, vec4<f32>(blk[o + 4u], blk[o + 5u], blk[o + 6u], blk[o + 7u]), x1);
            x2 = fma(av, vec4<f32>(blk[o + 8u], blk[o + 9u], blk[o + 10u], blk[o + 11u]), x2);
            x3 = fma(av, vec4<f32>(blk[o + 12u], blk[o + 13u], blk[o + 14u], blk[o + 15u]), x3);
        }
    }
    // the other invocations of the row read it until here
    storageBarrier();
    if (!live) {
        return;
    }
    for (var c = 0u; c < 16u; c++) {
        let j = j0 + c;
        if (j < nb) {
            let v = lane16(x0, x1, x2, x3, c);
            a[at(k1 + r, k0 + j)] = v;
            outp[r + j * p.ldt] = v;
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
//                   dimension nb) into w for the off-diagonal GEMM. Four
//                   right-hand sides per workgroup, one invocation per row
//                   and column, the running values in workgroup memory:
//                   one barrier per row of the block (no global-memory
//                   round trip between rows).
var<workgroup> xrun: array<f32, 256>; // running values, row + 64·column

@compute @workgroup_size(256, 1, 1)
fn trsm_diag_pack(
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
    let row = tid % 64u;
    let lane = tid / 64u;
    let col = (wid.x + wid.y * groups.x) * 4u + lane;
    let live = col < p.n && row < nb;
    let base = p.b_off + p.k0 + col * p.lda;
    var v = 0.0;
    if (live) {
        v = a[base + row];
    }
    xrun[tid] = v;
    workgroupBarrier();
    for (var s = 0u; s < nb; s++) {
        let i = select(nb - 1u - s, s, eff_lower);
        var xi = xrun[i + 64u * lane];
        if (!unit) {
            xi = xi / blk[i + i * NB];
        }
        if (live) {
            if (row == i) {
                a[base + i] = xi;
                w[i + col * nb] = xi;
            } else if ((eff_lower && row > i) || (!eff_lower && row < i)) {
                xrun[tid] = xrun[tid] - blk[row + i * NB] * xi;
            }
        }
        workgroupBarrier();
    }
}
