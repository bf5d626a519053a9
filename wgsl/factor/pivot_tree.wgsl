// Pivot search of the LU panel without subgroups: the first row of largest
// |a| from every invocation's candidate, for PW invocations (a multiple of
// 32 up to 1024, declared by the including file), as a two-level reduction
// (PW/32 invocations reduce 32 candidates each, strided so that the reads
// are conflict-free; then every invocation reduces the PW/32 partials
// itself): two barriers instead of a log2(PW)-deep tree. The order of
// comparisons does not matter: `better` is a total order.

var<workgroup> red_v: array<f32, 1024>;
var<workgroup> red_i: array<u32, 1024>;

fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
    return v > w || (v == w && i < j);
}

// The pivot row from every invocation's candidate (best = |a|, bi = its
// row; −1 and 0xffffffff for none). The caller puts a barrier between this
// and the next call (the partials are read here after the last barrier).
fn pivot_reduce(best: f32, bi: u32, tid: u32) -> u32 {
    let g = PW / 32u;
    red_v[tid] = best;
    red_i[tid] = bi;
    workgroupBarrier();
    if (tid < g) {
        var v = best;
        var i = bi;
        for (var k = 1u; k < 32u; k++) {
            let vk = red_v[tid + g * k];
            let ik = red_i[tid + g * k];
            if (better(vk, ik, v, i)) {
                v = vk;
                i = ik;
            }
        }
        red_v[tid] = v;
        red_i[tid] = i;
    }
    workgroupBarrier();
    var v = red_v[0];
    var i = red_i[0];
    for (var k = 1u; k < g; k++) {
        if (better(red_v[k], red_i[k], v, i)) {
            v = red_v[k];
            i = red_i[k];
        }
    }
    return i;
}

// The interface factor/getf2_reg.wgsl takes the pivot through (see
// pivot_subgroup.wgsl): here the reduction itself ends with every
// invocation knowing the pivot row, and the pivot row's owner writes its
// values to slot j % 2 for the caller's barrier.
const PIV_ROWS: u32 = 2u;
const NO_SLOT: u32 = 0xffffffffu;

var<private> piv_tid: u32;
var<private> piv_found: u32;

fn pivot_init(tid: u32) {
    piv_tid = tid;
}

fn pivot_publish(best: f32, bi: u32, j: u32) -> u32 {
    piv_found = pivot_reduce(best, bi, piv_tid);
    return select(NO_SLOT, j & 1u, bi == piv_found && bi != 0xffffffffu);
}

fn pivot_finish(j: u32) -> vec2<u32> {
    return vec2<u32>(piv_found, j & 1u);
}
