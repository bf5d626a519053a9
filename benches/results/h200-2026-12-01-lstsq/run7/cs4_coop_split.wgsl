// Split-f16 GEMM for f32 operands: C = alpha·A·B + beta·C where
// A·diag(·) and B were split by split.wgsl into scaled f16 parts,
// diag(sa)·A = Ah + Al and B·diag(sb) = Bh + Bl, so that
// A·B ≈ diag(1/sa)·(Al·Bh + Ah·Bl + Ah·Bh)·diag(1/sb) (the Al·Bl term,
// about 2^-22 of the rest, is left out). The three products accumulate in
// one f32 cooperative accumulator per 16×16 fragment (16×16×16, f16
// multiplicands), smallest first. Same tile as coop.wgsl with eight
// subgroups (128×128, each subgroup 64×32 as 4×2 accumulators) and 16-deep
// slabs of the four parts staged in workgroup memory (with PF, the next
// slab read into registers while this one is multiplied). The parts are padded to
// multiples of 4 (zeros), so every run of four loads whole; p.k is the
// padded depth, p.lda and p.ldb the padded leading dimensions.
// The bindings come from coop_split_io.wgsl, the uniform block p from
// params.wgsl.

override SG: u32 = 32u; // subgroup size (the adapter's, fixed)
override WG: u32 = SG * 8u;
override NR: u32 = 512u / WG; // runs of four per invocation, part and slab
// Prefetch: the next slab is read into registers while the current one is
// multiplied (else read right before it is stored). Off by default, as
// for coop.wgsl, where it measured slower on an H200.
override PF: bool = false;

const SA: u32 = 136u; // column stride of the A tiles (128 rows + 8)
const SB: u32 = 24u; // column stride of the B tiles (16 k + 8)

var<workgroup> Ah: array<f16, 2176>; // [16][SA]
var<workgroup> Al: array<f16, 2176>;
var<workgroup> Bh: array<f16, 3072>; // [128][SB]
var<workgroup> Bl: array<f16, 3072>;
var<workgroup> Cs: array<f32, 1024>; // four 16×16 fragments: subgroups take turns

fn run_a(base: u32, ch: u32, bi: u32, k0: u32) -> u32 {
    return (base + bi + (ch % 32u) * 4u + (k0 + ch / 32u) * p.lda) >> 2u;
}

fn run_b(base: u32, ch: u32, bj: u32, k0: u32) -> u32 {
    return (base + k0 + (ch % 4u) * 4u + (bj + ch / 4u) * p.ldb) >> 2u;
}

fn put4(o: u32, v: vec4<f16>, hi: bool, is_a: bool) {
    if (is_a) {
        if (hi) {
            Ah[o] = v.x; Ah[o + 1u] = v.y; Ah[o + 2u] = v.z; Ah[o + 3u] = v.w;
        } else {
            Al[o] = v.x; Al[o + 1u] = v.y; Al[o + 2u] = v.z; Al[o + 3u] = v.w;
        }
    } else {
        if (hi) {
            Bh[o] = v.x; Bh[o + 1u] = v.y; Bh[o + 2u] = v.z; Bh[o + 3u] = v.w;
        } else {
            Bl[o] = v.x; Bl[o + 1u] = v.y; Bl[o + 2u] = v.z; Bl[o + 3u] = v.w;
        }
    }
}

// Writes one accumulator, the 16×16 block of C at (i0, j0), unscaled,
// through the subgroup's staging slot (uniform control flow: barriers).
fn store_frag(acc: coop_mat16x16<f32, C>, sg: u32, lane: u32, i0: u32, j0: u32, c_base: u32) {
    let slot = (sg % 4u) * 256u;
    for (var turn = 0u; turn < 2u; turn++) {
        if (sg / 4u == turn) {
            coopStore(acc, &Cs[slot], 16u);
        }
        workgroupBarrier();
        if (sg / 4u == turn) {
            for (var e = lane; e < 256u; e += SG) {
                let i = i0 + (e & 15u);
                let j = j0 + (e >> 4u);
                if (i < p.m && j < p.n) {
                    let idx = c_base + i + j * p.ldc;
                    var r = p.alpha * ((Cs[slot + e] * sa[i].y) * sb[j].y);
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

// Reads this invocation's runs of the 16-deep slab at k0 of the four
// parts (A: four rows of a column; B: four k of a column), zero outside
// the padded matrices.
fn fetch_runs(
    rah: ptr<function, array<vec4<f16>, 8>>,
    ral: ptr<function, array<vec4<f16>, 8>>,
    rbh: ptr<function, array<vec4<f16>, 8>>,
    rbl: ptr<function, array<vec4<f16>, 8>>,
    a_base: u32, b_base: u32, bi: u32, bj: u32, k0: u32, t: u32,
) {
    for (var s = 0u; s < NR; s++) {
        let ch = t + s * WG;
        var vh = vec4<f16>();
        var vl = vec4<f16>();
        if (bi + (ch % 32u) * 4u < p.m && k0 + ch / 32u < p.k) {
            let x = run_a(a_base, ch, bi, k0);
            vh = ah[x];
            vl = al[x];
        }
        (*rah)[s] = vh;
        (*ral)[s] = vl;
        var wh = vec4<f16>();
        var wl = vec4<f16>();
        if (k0 + (ch % 4u) * 4u < p.k && bj + ch / 4u < p.n) {
            let y = run_b(b_base, ch, bj, k0);
            wh = bh[y];
            wl = bl[y];
        }
        (*rbh)[s] = wh;
        (*rbl)[s] = wl;
    }
}

@compute @workgroup_size(WG, 1, 1)
fn main(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let sg = t / SG;
    let lane = t % SG;
    let wm = (sg % 2u) * 64u;
    let wn = (sg / 2u) * 32u;
    let bi = wid.x * 128u;
    let bj = wid.y * 128u;
    let z = wid.z + p.batch_base;
    let a_base = p.a_off + z * p.stride_a;
    let b_base = p.b_off + z * p.stride_b;
    let c_base = p.c_off + z * p.stride_c;

    for (var e = t; e < 256u; e += WG) {
        Cs[e] = 0.0;
    }
    workgroupBarrier();
    let zero = coopLoad<coop_mat16x16<f32, C>>(&Cs[0], 16u);
    var c00 = zero; var c01 = zero;
    var c10 = zero; var c11 = zero;
    var c20 = zero; var c21 = zero;
    var c30 = zero; var c31 = zero;

    // runs of four of the four parts, held between the global loads and
    // the stores into workgroup memory
    var rah: array<vec4<f16>, 8>;
    var ral: array<vec4<f16>, 8>;
    var rbh: array<vec4<f16>, 8>;
    var rbl: array<vec4<f16>, 8>;
    if (PF) {
        fetch_runs(&rah, &ral, &rbh, &rbl, a_base, b_base, bi, bj, 0u, t);
    }
    for (var k0 = 0u; k0 < p.k; k0 += 16u) {
        if (!PF) {
            fetch_runs(&rah, &ral, &rbh, &rbl, a_base, b_base, bi, bj, k0, t);
        }
        for (var s = 0u; s < NR; s++) {
            let ch = t + s * WG;
            let oa = (ch / 32u) * SA + (ch % 32u) * 4u;
            put4(oa, rah[s], true, true);
            put4(oa, ral[s], false, true);
            let ob = (ch / 4u) * SB + (ch % 4u) * 4u;
            put4(ob, rbh[s], true, false);
            put4(ob, rbl[s], false, false);
        }
        workgroupBarrier();
        // the next slab's global loads overlap this slab's products
        if (PF && k0 + 16u < p.k) {
            fetch_runs(&rah, &ral, &rbh, &rbl, a_base, b_base, bi, bj, k0 + 16u, t);
        }
        {
            let a0h = coopLoad<coop_mat16x16<f16, A>>(&Ah[wm], 136u);
            let a1h = coopLoad<coop_mat16x16<f16, A>>(&Ah[wm + 16u], 136u);
            let a2h = coopLoad<coop_mat16x16<f16, A>>(&Ah[wm + 32u], 136u);
            let a3h = coopLoad<coop_mat16x16<f16, A>>(&Ah[wm + 48u], 136u);
            let a0l = coopLoad<coop_mat16x16<f16, A>>(&Al[wm], 136u);
            let a1l = coopLoad<coop_mat16x16<f16, A>>(&Al[wm + 16u], 136u);
            let a2l = coopLoad<coop_mat16x16<f16, A>>(&Al[wm + 32u], 136u);
            let a3l = coopLoad<coop_mat16x16<f16, A>>(&Al[wm + 48u], 136u);
            let b0h = coopLoad<coop_mat16x16<f16, B>>(&Bh[wn * SB], 24u);
            let b1h = coopLoad<coop_mat16x16<f16, B>>(&Bh[(wn + 16u) * SB], 24u);
            let b0l = coopLoad<coop_mat16x16<f16, B>>(&Bl[wn * SB], 24u);
            let b1l = coopLoad<coop_mat16x16<f16, B>>(&Bl[(wn + 16u) * SB], 24u);
            c00 = coopMultiplyAdd(a0h, b0h, coopMultiplyAdd(a0h, b0l, coopMultiplyAdd(a0l, b0h, c00)));
            c10 = coopMultiplyAdd(a1h, b0h, coopMultiplyAdd(a1h, b0l, coopMultiplyAdd(a1l, b0h, c10)));
            c20 = coopMultiplyAdd(a2h, b0h, coopMultiplyAdd(a2h, b0l, coopMultiplyAdd(a2l, b0h, c20)));
            c30 = coopMultiplyAdd(a3h, b0h, coopMultiplyAdd(a3h, b0l, coopMultiplyAdd(a3l, b0h, c30)));
            c01 = coopMultiplyAdd(a0h, b1h, coopMultiplyAdd(a0h, b1l, coopMultiplyAdd(a0l, b1h, c01)));
            c11 = coopMultiplyAdd(a1h, b1h, coopMultiplyAdd(a1h, b1l, coopMultiplyAdd(a1l, b1h, c11)));
            c21 = coopMultiplyAdd(a2h, b1h, coopMultiplyAdd(a2h, b1l, coopMultiplyAdd(a2l, b1h, c21)));
            c31 = coopMultiplyAdd(a3h, b1h, coopMultiplyAdd(a3h, b1l, coopMultiplyAdd(a3l, b1h, c31)));
        }
        workgroupBarrier();
    }

    let i0 = bi + wm;
    let j0 = bj + wn;
    store_frag(c00, sg, lane, i0, j0, c_base);
    store_frag(c10, sg, lane, i0 + 16u, j0, c_base);
    store_frag(c20, sg, lane, i0 + 32u, j0, c_base);
    store_frag(c30, sg, lane, i0 + 48u, j0, c_base);
    store_frag(c01, sg, lane, i0, j0 + 16u, c_base);
    store_frag(c11, sg, lane, i0 + 16u, j0 + 16u, c_base);
    store_frag(c21, sg, lane, i0 + 32u, j0 + 16u, c_base);
    store_frag(c31, sg, lane, i0 + 48u, j0 + 16u, c_base);
}
