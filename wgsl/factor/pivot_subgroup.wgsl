// Pivot search of the LU panel with subgroup reductions: each subgroup
// reduces its invocations' candidates (largest |a|, then smallest row),
// one partial per subgroup goes through workgroup memory, and every
// subgroup then reduces all partials itself, so no broadcast is needed:
// one barrier instead of a log2(PW)-deep tree. Works for any subgroup
// size from 4 up (at most 256 partials). The including file declares PW,
// its workgroup size (≤ 1024). Needs the SUBGROUP feature (naga takes
// subgroup built-ins without an `enable` directive).

var<workgroup> red_v: array<f32, 256>;
var<workgroup> red_i: array<u32, 256>;

fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
    return v > w || (v == w && i < j);
}

// Largest value over the subgroup, ties to the smallest index.
fn subgroup_best(v: f32, i: u32) -> vec2<u32> {
    let mv = subgroupMax(v);
    let mi = subgroupMin(select(0xffffffffu, i, v == mv));
    return vec2<u32>(bitcast<u32>(mv), mi);
}

// The pivot row from every invocation's candidate (best = |a|, bi = its
// row; −1 and 0xffffffff for none): one barrier. The caller puts a barrier
// between this and the next call (the partials are read here after the
// barrier).
fn pivot_reduce(best: f32, bi: u32, tid: u32) -> u32 {
    let size = subgroupAdd(1u);
    let first = subgroupBroadcastFirst(tid);
    let parts = (PW + size - 1u) / size;
    let r = subgroup_best(best, bi);
    if (tid == first) {
        red_v[first / size] = bitcast<f32>(r.x);
        red_i[first / size] = r.y;
    }
    workgroupBarrier();
    var v2 = -1.0;
    var i2 = 0xffffffffu;
    for (var k = tid - first; k < parts; k += size) {
        if (better(red_v[k], red_i[k], v2, i2)) {
            v2 = red_v[k];
            i2 = red_i[k];
        }
    }
    return subgroup_best(v2, i2).y;
}
