// LU panel factorization with partial pivoting in one workgroup:
//   getf2_panel     LU with partial pivoting of an (m−k0)×nb panel in one
//                   workgroup: pivot search as a workgroup reduction, row
//                   swap, scaling and rank-1 update between barriers; pivots
//                   go to ipiv (absolute rows), the first exactly zero pivot
//                   sets info[0] = column + 1.
// The pivot reduction `pivot_reduce` comes from pivot_tree.wgsl (two-level
// workgroup reduction) or pivot_subgroup.wgsl (subgroup reductions, where
// the adapter has subgroups).
//
// Invocation t owns the panel rows k0 + t + r·PW: it alone reads and writes
// them in global memory (the two owners of a swap exchange their rows
// through workgroup memory), so no invocation depends on another's global
// stores and one workgroupBarrier() orders each column step. The pivot row
// is staged in workgroup memory; each row's update loads eight columns
// ahead of their stores, and the updated next column's entries give the
// owner's pivot candidate without reading them again.

const PW: u32 = 1024u; // workgroup size
const GB: u32 = 8u; // columns loaded ahead of their stores
var<workgroup> urow: array<f32, 64>; // the pivot row of the panel
var<workgroup> orow: array<f32, 64>; // the row it replaces

// LU with partial pivoting of columns k0 .. k0+nb, rows k0 .. m.
@compute @workgroup_size(1024, 1, 1)
fn getf2_panel(@builtin(local_invocation_index) tid: u32) {
    let k0 = p.k0;
    let nb = p.nb;
    let m = p.m;
    if (tid == 0u) {
        bad_s = 0u;
    }
    // candidates of the first column
    var best = -1.0;
    var bi = 0xffffffffu;
    for (var i = k0 + tid; i < m; i += PW) {
        let v = abs(a[at(i, k0)]);
        if (better(v, i, best, bi)) {
            best = v;
            bi = i;
        }
    }
    for (var j = 0u; j < nb; j++) {
        let col = k0 + j;
        // a column with no comparable entry (NaN from an overflow on the
        // way; NaN inputs are rejected before) keeps its own row
        let found = pivot_reduce(best, bi, tid);
        let pr = select(col, found, found < m && found >= col);
        if (tid == 0u) {
            ipiv[col] = pr;
        }
        // swap rows col and pr within the panel, through workgroup memory
        let own_col = tid == j; // (col − k0) mod PW, j < 64 < PW
        let own_pr = tid == (pr - k0) % PW;
        if (own_pr) {
            for (var c = 0u; c < nb; c++) {
                urow[c] = a[at(pr, k0 + c)];
            }
        }
        if (own_col && pr != col) {
            for (var c = 0u; c < nb; c++) {
                orow[c] = a[at(col, k0 + c)];
            }
        }
        workgroupBarrier();
        if (pr != col) {
            if (own_col) {
                for (var c = 0u; c < nb; c++) {
                    a[at(col, k0 + c)] = urow[c];
                }
            }
            if (own_pr) {
                for (var c = 0u; c < nb; c++) {
                    a[at(pr, k0 + c)] = orow[c];
                }
            }
        }
        let piv = urow[j];
        if (tid == 0u && piv == 0.0 && bad_s == 0u) {
            bad_s = col + 1u;
        }
        // scale and rank-1 update of the rest of the panel, one row each;
        // candidates of the next column on the way
        best = -1.0;
        bi = 0xffffffffu;
        let next = j + 1u < nb;
        var i = k0 + tid;
        if (i <= col) {
            i += PW;
        }
        if (piv != 0.0) {
            let inv = 1.0 / piv;
            for (; i < m; i += PW) {
                var l = 0.0;
                for (var c0 = j; c0 < nb; c0 += GB) {
                    var x: array<f32, GB>;
                    for (var q = 0u; q < GB; q++) {
                        if (c0 + q < nb) {
                            x[q] = a[at(i, k0 + c0 + q)];
                        }
                    }
                    if (c0 == j) {
                        l = x[0] * inv;
                        x[0] = l;
                    }
                    for (var q = 0u; q < GB; q++) {
                        let c = c0 + q;
                        if (c > j && c < nb) {
                            x[q] = fma(-l, urow[c], x[q]);
                        }
                    }
                    for (var q = 0u; q < GB; q++) {
                        if (c0 + q < nb) {
                            a[at(i, k0 + c0 + q)] = x[q];
                        }
                    }
                    if (c0 == j && next) {
                        let v = abs(x[1]);
                        if (better(v, i, best, bi)) {
                            best = v;
                            bi = i;
                        }
                    }
                }
            }
        } else if (next) {
            for (; i < m; i += PW) {
                let v = abs(a[at(i, col + 1u)]);
                if (better(v, i, best, bi)) {
                    best = v;
                    bi = i;
                }
            }
        }
    }
    if (tid == 0u && bad_s != 0u && info[0] == 0u) {
        info[0] = bad_s;
    }
}
