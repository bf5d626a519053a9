// Pivot search of the LU panel with subgroup reductions: each subgroup
// reduces its invocations' candidates (largest |a|, then smallest row),
// one partial per subgroup goes through workgroup memory, and every
// subgroup then reduces all partials itself, so no broadcast is needed:
// one barrier instead of a log2(PW)-deep tree. Works for any subgroup
// size from 4 up (at most 256 partials). The including file declares PW,
// its workgroup size (≤ 1024). Needs the SUBGROUP feature (naga takes
// subgroup built-ins without an `enable` directive).
//
// The reductions run on integer keys: a candidate's key is 1 + the bits of
// |a| (non-negative floats order as their bit patterns), 0 for none or
// NaN, so the largest |a| is an unsigned subgroup maximum (one instruction
// on GPUs that reduce integers in hardware, a chain of shuffles for
// floats); the order is that of `better`. On an H200 it moved getf2_block
// from 15.5 to 15.1 ms at n = 4096: the barriers, not the shuffles, cost
// the time.

var<workgroup> red_k: array<u32, 256>;
var<workgroup> red_i: array<u32, 256>;

fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
    return v > w || (v == w && i < j);
}

// Largest key over the subgroup, ties to the smallest index.
fn subgroup_best(key: u32, i: u32) -> vec2<u32> {
    let mk = subgroupMax(key);
    let mi = subgroupMin(select(0xffffffffu, i, key == mk));
    return vec2<u32>(mk, mi);
}

// The pivot row from every invocation's candidate (best = |a|, bi = its
// row; −1 and 0xffffffff for none): one barrier. The caller puts a barrier
// between this and the next call (the partials are read here after the
// barrier).
fn pivot_reduce(best: f32, bi: u32, tid: u32) -> u32 {
    let size = subgroupAdd(1u);
    let first = subgroupBroadcastFirst(tid);
    let parts = (PW + size - 1u) / size;
    let key = select(0u, bitcast<u32>(best) + 1u, best >= 0.0 && bi != 0xffffffffu);
    let r = subgroup_best(key, bi);
    if (tid == first) {
        red_k[first / size] = r.x;
        red_i[first / size] = r.y;
    }
    workgroupBarrier();
    var k2 = 0u;
    var i2 = 0xffffffffu;
    for (var k = tid - first; k < parts; k += size) {
        if (red_k[k] > k2 || (red_k[k] == k2 && red_i[k] < i2)) {
            k2 = red_k[k];
            i2 = red_i[k];
        }
    }
    return subgroup_best(k2, i2).y;
}
