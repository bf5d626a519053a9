// LU panel factorization with partial pivoting in one workgroup:
//   getf2_panel     LU with partial pivoting of an (m−k0)×nb panel in one
//                   workgroup: pivot search as a workgroup reduction, row
//                   swap, scaling and rank-1 update between barriers; pivots
//                   go to ipiv (absolute rows), the first exactly zero pivot
//                   sets info[0] = column + 1.
// The pivot search `find_pivot` comes from pivot_tree.wgsl (a workgroup
// tree reduction) or pivot_subgroup.wgsl (subgroup reductions, where the
// adapter has subgroups).

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
        let pr = find_pivot(col, m, tid);
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

