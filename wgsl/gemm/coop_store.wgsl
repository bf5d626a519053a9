// C of the cooperative-matrix GEMMs (coop.wgsl: 16×16 fragments, coop8.wgsl:
// 8×8), joined after the kernel, which defines the fragment side F, the
// accumulator type Acc and the overrides SG, SGM, SGN, WG, WN4. C leaves through
// workgroup memory (one fragment per subgroup at a time), so partial tiles
// are stored element by element with guards, and alpha, beta and
// out_scale (coop_out.wgsl, coop_out_split.wgsl) are applied there.

const CSLOTS: u32 = 4u; // staging slots for C: subgroups take turns by fours

@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> Cs: array<f32, CSLOTS * F * F>; // CSLOTS F×F fragments

// A zero accumulator, loaded from a zeroed staging slot (uniform control
// flow: a barrier).
fn zero_acc(t: u32) -> Acc {
    for (var e = t; e < F * F; e += WG) {
        Cs[e] = 0.0;
    }
    workgroupBarrier();
    return coopLoad<Acc>(&Cs[0], F);
}

// Writes one accumulator, the F×F block of C at (i0, j0), through the
// subgroup's staging slot; subgroups sg and sg + 4 share one and take
// turns. Called the same number of times by every subgroup (uniform
// control flow: it holds barriers). (With 256 rows of A, 4 KiB of C
// staging keeps coop.wgsl's workgroup within 32 KiB.)
fn store_frag(acc: Acc, sg: u32, lane: u32, i0: u32, j0: u32, c_base: u32) {
    let slot = (sg % CSLOTS) * F * F;
    for (var turn = 0u; turn * CSLOTS < SGM * SGN; turn++) {
        if (sg / CSLOTS == turn) {
            coopStore(acc, &Cs[slot], F);
        }
        workgroupBarrier();
        if (sg / CSLOTS == turn) {
            for (var e = lane; e < F * F; e += SG) {
                let i = i0 + e % F;
                let j = j0 + e / F;
                if (i < p.m && j < p.n) {
                    let idx = c_base + i + j * p.ldc;
                    var r = p.alpha * out_scale(Cs[slot + e], i, j);
                    if (p.beta != 0.0) {
                        r = fma(p.beta, c[idx], r);
                    }
                    c[idx] = r;
                }
            }
        }
        workgroupBarrier();
    }
}

// Writes a subgroup's 4×4 (WN4) or 4×2 accumulators, the block of C at
// (i0, j0), fragment (r, s) at (i0 + r·F, j0 + s·F).
fn store_block(
    c00: Acc, c10: Acc, c20: Acc, c30: Acc,
    c01: Acc, c11: Acc, c21: Acc, c31: Acc,
    c02: Acc, c12: Acc, c22: Acc, c32: Acc,
    c03: Acc, c13: Acc, c23: Acc, c33: Acc,
    sg: u32, lane: u32, i0: u32, j0: u32, c_base: u32,
) {
    store_frag(c00, sg, lane, i0, j0, c_base);
    store_frag(c10, sg, lane, i0 + F, j0, c_base);
    store_frag(c20, sg, lane, i0 + 2u * F, j0, c_base);
    store_frag(c30, sg, lane, i0 + 3u * F, j0, c_base);
    store_frag(c01, sg, lane, i0, j0 + F, c_base);
    store_frag(c11, sg, lane, i0 + F, j0 + F, c_base);
    store_frag(c21, sg, lane, i0 + 2u * F, j0 + F, c_base);
    store_frag(c31, sg, lane, i0 + 3u * F, j0 + F, c_base);
    if (WN4) {
        store_frag(c02, sg, lane, i0, j0 + 2u * F, c_base);
        store_frag(c12, sg, lane, i0 + F, j0 + 2u * F, c_base);
        store_frag(c22, sg, lane, i0 + 2u * F, j0 + 2u * F, c_base);
        store_frag(c32, sg, lane, i0 + 3u * F, j0 + 2u * F, c_base);
        store_frag(c03, sg, lane, i0, j0 + 3u * F, c_base);
        store_frag(c13, sg, lane, i0 + F, j0 + 3u * F, c_base);
        store_frag(c23, sg, lane, i0 + 2u * F, j0 + 3u * F, c_base);
        store_frag(c33, sg, lane, i0 + 3u * F, j0 + 3u * F, c_base);
    }
}
