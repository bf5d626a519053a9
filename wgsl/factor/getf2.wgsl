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
// Invocation t owns the panel rows k0 + t + r·PW for the rank-1 updates.
// The row swap is done by the first nb invocations, one column each,
// through workgroup memory, with storage barriers between the swap and the
// updates (one invocation copying both rows waited for memory once per
// column: nb round trips in every step). The update takes an invocation's
// rows four at a time and their columns eight at a time, issuing all 32
// loads before any store (a load that follows a store to the same buffer
// cannot be moved ahead of it); the loads are written out one by one, so
// that they need no loop unrolling to be in flight together. The updated next column's entries give
// the owner's pivot candidate without reading them again.

var<workgroup> urow: array<f32, 64>; // the pivot row of the panel
var<workgroup> orow: array<f32, 64>; // the row it replaces

// Columns c0 .. c0+8 of panel row i (zero outside the panel and at rows
// ≤ col, which the step leaves alone), eight loads in a row.
fn row8(i: u32, col: u32, c0: u32) -> array<f32, 8> {
    var x: array<f32, 8>;
    if (i > col && i < p.m) {
        let base = at(i, p.k0 + c0);
        let w = p.nb - c0;
        if (w >= 8u) {
            x[0] = a[base];
            x[1] = a[base + p.lda];
            x[2] = a[base + 2u * p.lda];
            x[3] = a[base + 3u * p.lda];
            x[4] = a[base + 4u * p.lda];
            x[5] = a[base + 5u * p.lda];
            x[6] = a[base + 6u * p.lda];
            x[7] = a[base + 7u * p.lda];
        } else {
            for (var q = 0u; q < w; q++) {
                x[q] = a[base + q * p.lda];
            }
        }
    }
    return x;
}

// Step j's update of row i's columns c0 .. c0+8 held in x (the first
// group, c0 = j, scales column j into the multiplier l), then stored;
// returns l.
fn update_row(x: ptr<function, array<f32, 8>>, i: u32, col: u32, j: u32, c0: u32, l_in: f32, inv: f32) -> f32 {
    if (i <= col || i >= p.m) {
        return l_in;
    }
    var l = l_in;
    if (c0 == j) {
        l = (*x)[0] * inv;
        (*x)[0] = l;
    }
    let nb = p.nb;
    for (var q = 0u; q < 8u; q++) {
        let c = c0 + q;
        if (c > j && c < nb) {
            (*x)[q] = fma(-l, urow[c], (*x)[q]);
        }
    }
    for (var q = 0u; q < 8u; q++) {
        if (c0 + q < nb) {
            a[at(i, p.k0 + c0 + q)] = (*x)[q];
        }
    }
    return l;
}

// The pivot candidate (|value|, row) after row i's next-column entry x.
fn consider(best: f32, bi: u32, x: f32, i: u32, col: u32) -> vec2<u32> {
    let v = abs(x);
    if (i > col && i < p.m && better(v, i, best, bi)) {
        return vec2<u32>(bitcast<u32>(v), i);
    }
    return vec2<u32>(bitcast<u32>(best), bi);
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
        // swap rows col and pr within the panel through workgroup memory,
        // one column per invocation: a single invocation copying the rows
        // waited for memory once per column (nb round trips per step,
        // most of a step's time). The storage barriers make these stores
        // and the owners' updates visible to each other.
        if (tid < nb) {
            urow[tid] = a[at(pr, k0 + tid)];
            orow[tid] = a[at(col, k0 + tid)];
        }
        workgroupBarrier();
        if (pr != col && tid < nb) {
            a[at(col, k0 + tid)] = urow[tid];
            a[at(pr, k0 + tid)] = orow[tid];
        }
        storageBarrier();
        let piv = urow[j];
        if (tid == 0u && piv == 0.0 && bad_s == 0u) {
            bad_s = col + 1u;
        }
        // scale and rank-1 update of the rest of the panel, one row each;
        // candidates of the next column on the way
        best = -1.0;
        bi = 0xffffffffu;
        let next = j + 1u < nb;
        if (piv != 0.0) {
            let inv = 1.0 / piv;
            // four rows at a time (rows i0 + r·PW), all their loads of a
            // group of eight columns issued before any store
            for (var i0 = k0 + tid; i0 < m; i0 += 4u * PW) {
                var l = vec4<f32>(0.0);
                for (var c0 = j; c0 < nb; c0 += 8u) {
                    var x0 = row8(i0, col, c0);
                    var x1 = row8(i0 + PW, col, c0);
                    var x2 = row8(i0 + 2u * PW, col, c0);
                    var x3 = row8(i0 + 3u * PW, col, c0);
                    l.x = update_row(&x0, i0, col, j, c0, l.x, inv);
                    l.y = update_row(&x1, i0 + PW, col, j, c0, l.y, inv);
                    l.z = update_row(&x2, i0 + 2u * PW, col, j, c0, l.z, inv);
                    l.w = update_row(&x3, i0 + 3u * PW, col, j, c0, l.w, inv);
                    if (c0 == j && next) {
                        let c1 = consider(best, bi, x0[1], i0, col);
                        let c2 = consider(bitcast<f32>(c1.x), c1.y, x1[1], i0 + PW, col);
                        let c3 = consider(bitcast<f32>(c2.x), c2.y, x2[1], i0 + 2u * PW, col);
                        let c4 = consider(bitcast<f32>(c3.x), c3.y, x3[1], i0 + 3u * PW, col);
                        best = bitcast<f32>(c4.x);
                        bi = c4.y;
                    }
                }
            }
        } else if (next) {
            for (var i = k0 + tid; i < m; i += PW) {
                if (i <= col) {
                    continue;
                }
                let v = abs(a[at(i, col + 1u)]);
                if (better(v, i, best, bi)) {
                    best = v;
                    bi = i;
                }
            }
        }
        // the next step's row copies read rows the owners just updated
        storageBarrier();
    }
    if (tid == 0u && bad_s != 0u && info[0] == 0u) {
        info[0] = bad_s;
    }
}
