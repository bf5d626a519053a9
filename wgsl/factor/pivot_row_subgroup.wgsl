// The pivot of a column of the register-held LU panel and the pivot row's
// values, in one barrier, with subgroup reductions: each invocation offers
// its candidate (best = |a|, bi = its row, cand = the row's values); each
// subgroup reduces the candidates and shuffles the winning row's values
// from the lane that holds them, one partial per subgroup goes through
// workgroup memory (in the buffer `buf`: the caller alternates two, so a
// column's partials are written while the last column's may still be
// read), and every subgroup reduces all partials itself. The reductions
// run on integer keys, as in pivot_subgroup.wgsl. The row comes back with
// the pivot, so the panel needs no second barrier to broadcast it. Any
// subgroup size from 4 up; the including file declares PW.

struct Pick {
    pr: u32, // the pivot row (0xffffffff when no candidate is comparable)
    row: Row8, // its values
}

var<workgroup> pk_key: array<array<u32, 256>, 2>;
var<workgroup> pk_idx: array<array<u32, 256>, 2>;
var<workgroup> pk_row: array<array<Row8, 256>, 2>;

fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
    return v > w || (v == w && i < j);
}

fn pivot_row(best: f32, bi: u32, cand: Row8, buf: u32, tid: u32) -> Pick {
    let none = 0xffffffffu;
    let size = subgroupAdd(1u);
    let first = subgroupBroadcastFirst(tid);
    let lane = tid - first;
    let parts = (PW + size - 1u) / size;
    let key = select(0u, bitcast<u32>(best) + 1u, best >= 0.0 && bi != none);
    let mk = subgroupMax(key);
    let mi = subgroupMin(select(none, bi, key == mk));
    let wl = subgroupMin(select(none, lane, key == mk && bi == mi));
    let row = Row8(subgroupShuffle(cand.lo, wl), subgroupShuffle(cand.hi, wl));
    if (lane == 0u) {
        let s = first / size;
        pk_key[buf][s] = mk;
        pk_idx[buf][s] = mi;
        pk_row[buf][s] = row;
    }
    workgroupBarrier();
    var k2 = 0u;
    var i2 = none;
    var p2 = 0u;
    for (var k = lane; k < parts; k += size) {
        let kk = pk_key[buf][k];
        let ii = pk_idx[buf][k];
        if (kk > k2 || (kk == k2 && ii < i2)) {
            k2 = kk;
            i2 = ii;
            p2 = k;
        }
    }
    let gk = subgroupMax(k2);
    let gi = subgroupMin(select(none, i2, k2 == gk));
    let gp = subgroupMin(select(none, p2, k2 == gk && i2 == gi));
    return Pick(gi, pk_row[buf][min(gp, 255u)]);
}
