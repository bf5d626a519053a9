// LU panel with the panel held in registers, and the panel's share of its
// outer block in the same dispatch:
//   getf2_block   LU with partial pivoting of the (m−k0)×nb panel at
//                 columns k0 .. k0+nb (rows k0 .. m) in one workgroup, as
//                 getf2_panel does (same pivots, same arithmetic), then
//                 the panel's row interchanges on the other columns of its
//                 outer block (p.b_off .. p.o_off) and U12 = L11⁻¹·A12 on
//                 the outer block's columns right of the panel. A rank-nb
//                 update of the rows below (`lu_rank_update`) follows.
//                 Pivots go to ipiv (absolute rows), the first exactly
//                 zero pivot sets info[0] = column + 1.
// The pivot search (pivot_init, pivot_publish, pivot_finish) comes from
// pivot_subgroup.wgsl, where it and the pivot row's values take one
// barrier per column, or pivot_tree.wgsl (three).
//
// Invocation t holds the panel rows k0 + t + r·PW (r < RPI) in registers:
// the panel is read from global memory once and written once, and a column
// step costs one barrier and no global-memory round trip (getf2_panel
// reads and writes the panel in global memory at every column, which made
// its time per column the latency of those round trips). A row is a Row
// (common/row8.wgsl, or common/row4.wgsl for panels four columns wide):
// the step's column selects vector lanes rather than indexing an array,
// which would send the rows to local memory. The host picks RPI by the
// panel's rows, and the four-column form where RPI > 4.

override PW: u32 = 256u; // workgroup size (a multiple of 32, ≤ 1024)
override RPI: u32 = 4u; // panel rows per invocation: m − k0 ≤ RPI·PW
const RMAX: u32 = 16u;
const CMAX: u32 = ROW_W; // panel columns at most (8, or 4 with common/row4.wgsl)

var<workgroup> orow: array<Row, 2>; // row k0 + j before column j's swap, by j % 2
var<workgroup> prows: array<Row, PIV_ROWS>; // candidate rows (pivot_publish's slots)
var<workgroup> pivs: array<u32, CMAX>; // the panel's pivot rows
var<workgroup> l11: array<Row, CMAX>; // L11 (unit lower), by rows

// An invocation's candidate for the next pivot: its row x[br], with
// |a| = best (−1 for none). Its rows are visited in increasing order and a
// row replaces the candidate only when strictly larger, so the candidate
// is the first of the largest, as `better` orders them.
struct Cand {
    best: f32,
    br: u32,
}

@compute @workgroup_size(PW, 1, 1)
fn getf2_block(@builtin(local_invocation_index) tid: u32) {
    let k0 = p.k0;
    let nb = min(p.nb, CMAX);
    let m = p.m;
    if (tid == 0u) {
        bad_s = 0u;
    }
    pivot_init(tid);
    // x[r]: row k0 + tid + r·PW, columns k0 .. k0+CMAX (zero outside the
    // panel and past row m)
    var x: array<Row, RMAX>;
    var c = Cand(-1.0, 0u);
    for (var r = 0u; r < RPI; r++) {
        let i = k0 + tid + r * PW;
        var y = row_zero();
        if (i < m) {
            for (var q = 0u; q < CMAX; q++) {
                if (q < nb) {
                    y = row_set(y, q, a[at(i, k0 + q)]);
                }
            }
        }
        x[r] = y;
        let v = abs(row_get(y, 0u));
        if (v > c.best) {
            c = Cand(v, r);
        }
    }
    // the columns one call each, with constant column numbers, so that
    // every lane selection resolves at compile time (a loop over them
    // holds a barrier, and the compiler does not unroll it)
    column(0u, tid, &x, &c);
    if (nb > 1u) {
        column(1u, tid, &x, &c);
    }
    if (nb > 2u) {
        column(2u, tid, &x, &c);
    }
    if (nb > 3u) {
        column(3u, tid, &x, &c);
    }
    if (CMAX > 4u && nb > 4u) {
        column(4u, tid, &x, &c);
    }
    if (CMAX > 5u && nb > 5u) {
        column(5u, tid, &x, &c);
    }
    if (CMAX > 6u && nb > 6u) {
        column(6u, tid, &x, &c);
    }
    if (CMAX > 7u && nb > 7u) {
        column(7u, tid, &x, &c);
    }
    for (var r = 0u; r < RPI; r++) {
        let i = k0 + tid + r * PW;
        if (i < m) {
            let y = x[r];
            for (var c = 0u; c < CMAX; c++) {
                if (c < nb) {
                    a[at(i, k0 + c)] = row_get(y, c);
                }
            }
        }
    }
    if (tid < nb) {
        l11[tid] = x[0];
    }
    workgroupBarrier();
    block_rest(tid, k0, nb);
    if (tid == 0u && bad_s != 0u && info[0] == 0u) {
        info[0] = bad_s;
    }
}

// Column j of the panel (a constant at each call): the pivot, the
// interchange, the scaling and rank-1 update of the rows below, and the
// candidates for column j + 1.
fn column(j: u32, tid: u32, x: ptr<function, array<Row, RMAX>>, c: ptr<function, Cand>) {
    let k0 = p.k0;
    let m = p.m;
    let col = k0 + j;
    // one barrier: row col (slot 0 of invocation j) and the candidate rows
    // go to workgroup memory with the reduction's partials
    if (tid == j) {
        orow[j & 1u] = (*x)[0];
    }
    let cand = *c;
    let bi = select(0xffffffffu, k0 + tid + cand.br * PW, cand.best >= 0.0);
    let slot = pivot_publish(cand.best, bi, j);
    if (slot != NO_SLOT) {
        for (var r = 0u; r < RPI; r++) {
            if (r == cand.br) {
                prows[slot] = (*x)[r];
            }
        }
    }
    workgroupBarrier();
    let found = pivot_finish(j);
    let pr = select(col, found.x, found.x < m && found.x >= col);
    if (tid == 0u) {
        ipiv[col] = pr;
        pivs[j] = pr;
    }
    let o = orow[j & 1u];
    var u = o;
    if (pr != col) {
        // the owners of rows col and pr take each other's
        u = prows[found.y];
        let rp = (pr - k0) / PW;
        let own_pr = tid == (pr - k0) % PW;
        if (tid == j) {
            (*x)[0] = u;
        }
        for (var r = 0u; r < RPI; r++) {
            if (own_pr && r == rp) {
                (*x)[r] = o;
            }
        }
    }
    let piv = row_get(u, j);
    if (tid == 0u && piv == 0.0 && bad_s == 0u) {
        bad_s = col + 1u;
    }
    // the rows below col: r > 0, or r = 0 past slot j (rows past m are zero
    // and stay zero, and lose every tie to the rows above them)
    let inv = 1.0 / piv;
    let jn = min(j + 1u, CMAX - 1u);
    var nc = Cand(-1.0, 0u);
    for (var r = 0u; r < RPI; r++) {
        if (r > 0u || tid > j) {
            var y = (*x)[r];
            if (piv != 0.0) {
                let l = row_get(y, j) * inv;
                y = row_axpy_right(row_set(y, j, l), l, u, j);
                (*x)[r] = y;
            }
            let v = abs(row_get(y, jn));
            if (v > nc.best) {
                nc = Cand(v, r);
            }
        }
    }
    *c = nc;
}

// The panel's interchanges on the outer block's other columns, and
// U12 = L11⁻¹·A12 right of the panel, by the whole workgroup. The rows
// the interchanges touch are the panel's rows k0 .. k0+nb (slots 0 .. 8)
// and the pivot rows below the panel (slot 8 + j, where pivot j is the
// first to name its row); invocation s < 16 finds where slot s's values
// come from by undoing the swaps in reverse order. Every (slot, column)
// pair is loaded once into workgroup memory, one invocation per column
// right of the panel substitutes forward through L11 there, and every
// pair is stored once: three barriers and one global round trip, with no
// serial walk through the swaps.
const NO_ROW: u32 = 0xffffffffu;
var<workgroup> prow: array<u32, 16>; // the row of each slot (or NO_ROW)
var<workgroup> psrc: array<u32, 16>; // the row whose values end there
var<workgroup> pvals: array<f32, 1024>; // slot + 16·column (64 columns)

fn block_rest(tid: u32, k0: u32, nb: u32) {
    let ob0 = p.b_off;
    let ob1 = p.o_off;
    let k1 = k0 + nb;
    let left = k0 - ob0;
    let ncols = min(left + (ob1 - k1), 64u);
    if (tid < 16u) {
        // slots 0 .. 8 the panel's rows, 8 .. 16 its pivot rows, whatever
        // CMAX is (every slot is set: an unset one would read as row 0)
        let j = tid % 8u;
        let jc = min(j, CMAX - 1u);
        var r = k0 + j;
        var live = j < nb;
        if (tid >= 8u) {
            r = pivs[jc];
            live = live && r >= k1;
            for (var q = 0u; q < CMAX; q++) {
                if (q < j && pivs[q] == r) {
                    live = false;
                }
            }
        }
        var src = r;
        for (var q = CMAX; q > 0u; q--) {
            let jj = q - 1u;
            if (jj < nb) {
                let pq = pivs[jj];
                if (src == k0 + jj) {
                    src = pq;
                } else if (src == pq) {
                    src = k0 + jj;
                }
            }
        }
        prow[tid] = select(NO_ROW, r, live);
        psrc[tid] = src;
    }
    workgroupBarrier();
    for (var e = tid; e < 16u * ncols; e += PW) {
        let s = e % 16u;
        let c = e / 16u;
        if (prow[s] != NO_ROW) {
            let col = select(k1 + (c - left), ob0 + c, c < left);
            pvals[e] = a[at(psrc[s], col)];
        }
    }
    workgroupBarrier();
    if (tid >= left && tid < ncols) {
        // forward substitution with the unit-lower L11 (slots 0 .. nb)
        let b = 16u * tid;
        for (var j = 1u; j < nb; j++) {
            let l = l11[j];
            var x = pvals[b + j];
            for (var q = 0u; q < j; q++) {
                x = fma(-row_get(l, q), pvals[b + q], x);
            }
            pvals[b + j] = x;
        }
    }
    workgroupBarrier();
    for (var e = tid; e < 16u * ncols; e += PW) {
        let s = e % 16u;
        let c = e / 16u;
        let r = prow[s];
        if (r != NO_ROW) {
            let col = select(k1 + (c - left), ob0 + c, c < left);
            a[at(r, col)] = pvals[e];
        }
    }

}
