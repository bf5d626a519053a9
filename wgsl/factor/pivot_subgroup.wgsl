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

var<workgroup> red_k: array<u32, 512>; // 256 partials (two halves of 256 in getf2_reg)
var<workgroup> red_i: array<u32, 512>;

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
    pivot_init(tid);
    pivot_publish(best, bi, 0u);
    workgroupBarrier();
    return partials_best(0u).y;
}

// A candidate's key: 1 + the bits of |a|, 0 for none or NaN.
fn cand_key(best: f32, bi: u32) -> u32 {
    return select(0u, bitcast<u32>(best) + 1u, best >= 0.0 && bi != 0xffffffffu);
}

// The best of the partials in red_k / red_i from h on, in every
// invocation: each lane takes its share, then the subgroup reduces them.
fn partials_best(h: u32) -> vec2<u32> {
    var k2 = 0u;
    var i2 = 0xffffffffu;
    for (var k = piv_lane; k < piv_parts; k += piv_size) {
        if (red_k[h + k] > k2 || (red_k[h + k] == k2 && red_i[h + k] < i2)) {
            k2 = red_k[h + k];
            i2 = red_i[h + k];
        }
    }
    return subgroup_best(k2, i2);
}

// The register-held LU panel (factor/getf2_reg.wgsl) takes the pivot and
// the pivot row's values across one barrier per column:
//   pivot_init      once, before the column loop: the subgroup's size,
//                   first invocation, lane and slot, and the number of
//                   partials (worked out once instead of at every column)
//   pivot_publish   reduces the candidates in the subgroup and writes the
//                   subgroup's partial to half j % 2 of red_k / red_i;
//                   returns the slot of the row values array (half j % 2,
//                   one slot per subgroup) that this invocation writes its
//                   candidate row to, if it holds its subgroup's best, or
//                   NO_SLOT
//   pivot_finish    after the caller's barrier: the pivot row (or
//                   0xffffffff for none) and the slot holding its values.
// The halves alternate by column, so a fast invocation writing column j+1
// cannot overwrite what a slow one still reads of column j: it must first
// pass column j+1's barrier, which the slow one reaches only after
// reading. With the slot rows, a column takes one barrier where a
// reduction and then a staged pivot row took two. pivot_reduce is the
// three in one call, on half 0, for getf2_panel.
const PIV_ROWS: u32 = 512u; // 2 × 256 partials
const NO_SLOT: u32 = 0xffffffffu;

var<private> piv_size: u32;
var<private> piv_lane: u32;
var<private> piv_slot: u32;
var<private> piv_parts: u32;
var<private> piv_shift: u32;

fn pivot_init(tid: u32) {
    let size = subgroupAdd(1u); // a power of two
    let first = subgroupBroadcastFirst(tid);
    piv_size = size;
    piv_shift = countTrailingZeros(size);
    piv_lane = tid - first;
    piv_slot = first >> piv_shift;
    piv_parts = (PW + size - 1u) >> piv_shift;
}

fn pivot_publish(best: f32, bi: u32, j: u32) -> u32 {
    let h = (j & 1u) * 256u;
    let key = cand_key(best, bi);
    let r = subgroup_best(key, bi);
    if (piv_lane == 0u) {
        red_k[h + piv_slot] = r.x;
        red_i[h + piv_slot] = r.y;
    }
    return select(NO_SLOT, h + piv_slot, key != 0u && key == r.x && bi == r.y);
}

fn pivot_finish(j: u32) -> vec2<u32> {
    let h = (j & 1u) * 256u;
    let g = partials_best(h);
    if (g.x == 0u) {
        return vec2<u32>(0xffffffffu, h);
    }
    // the slot of the subgroup of the row's invocation (the panel's row
    // k0 + t + r·PW is invocation t's; subgroups of consecutive
    // invocations, as piv_slot assumes)
    return vec2<u32>(g.y, h + (((g.y - p.k0) % PW) >> piv_shift));
}
