// C = alpha·A·B + beta·C in f32 on 8×8×8 f32 cooperative matrices (Apple
// GPUs' simdgroup matrices through Metal), column-major, batched over z.
// The operand loads fetch_a4 / fetch_b4 and the bindings of a and b come
// from coop8_io.wgsl, out_scale from coop_out.wgsl, the uniform block p
// from params.wgsl, C and its stores (store_frag) from coop_store.wgsl,
// joined after this file.
//
// The layout of coop.wgsl (its f16 16×16 form runs on NVIDIA) at half the
// fragment side: a workgroup computes a BM×BN tile of C with SGM×SGN
// subgroups of SG invocations; subgroup s owns the 32×WNC block at rows
// (s % SGM)·32 and columns (s / SGM)·WNC of the tile, as 4×(WNC/8)
// accumulators (WNC = 32 when WN4, else 16). The k loop moves through
// 32-deep slabs: the workgroup copies the BM×32 slab of A and the 32×BN
// slab of B into workgroup memory in runs of four f32 (zero outside the
// matrices, so edge tiles need no other guard), then every subgroup
// multiplies its fragments out of workgroup memory. The tiles are plain
// f32 arrays (Metal's simdgroup loads take a pointer to the element
// type), column-major with padded columns (BM + 4 for A, 36 for B).
// No adapter this project measures on offers 8×8 f32 cooperative
// matrices, so this kernel is checked by its translation to MSL and
// SPIR-V only; `tune --gemm` measures and checks it where one does.

override SG: u32 = 32u; // subgroup size (the adapter's, fixed)
override SGM: u32 = 2u; // subgroups along the rows of the tile (1, 2 or 4)
override SGN: u32 = 2u; // subgroups along the columns
override WN4: bool = true; // 4×4 accumulators per subgroup (else 4×2)
override WG: u32 = SG * SGM * SGN;
override WNC: u32 = 16u + 16u * u32(WN4);
override BM: u32 = 32u * SGM; // at most 128
override BN: u32 = SGN * WNC; // at most 128
override NAD: u32 = BM * 32u / 4u / WG; // runs of four of A per invocation and slab (≤ 8)
override NBD: u32 = BN * 32u / 4u / WG; // runs of four of B (≤ 8)
override SA: u32 = BM + 4u; // column stride of As (BM rows + 4)
const SB: u32 = 36u; // column stride of Bs (32 k + 4)

const F: u32 = 8u; // fragment side (coop_store.wgsl)
alias Acc = coop_mat8x8<f32, C>;

var<workgroup> As: array<f32, 32u * SA>; // [32][SA]: A[bi + i, k0 + l] at l·SA + i
var<workgroup> Bs: array<f32, BN * SB>; // [BN][SB]: B[k0 + l, bj + j] at j·SB + l

// Copies the slab at k0 into As and Bs: run s of this invocation is rows
// i..i+4 of column l of A's slab, k l..l+4 of column j of B's, numbered so
// that neighbouring invocations read neighbouring addresses.
fn stage_slab(a_base: u32, b_base: u32, bi: u32, bj: u32, k0: u32, t: u32) {
    for (var s = 0u; s < NAD; s++) {
        let ch = t + s * WG;
        let i = (ch % (BM / 4u)) * 4u;
        let l = ch / (BM / 4u);
        let v = fetch_a4(a_base, bi + i, k0 + l);
        let o = l * SA + i;
        As[o] = v.x;
        As[o + 1u] = v.y;
        As[o + 2u] = v.z;
        As[o + 3u] = v.w;
    }
    for (var s = 0u; s < NBD; s++) {
        let ch = t + s * WG;
        let l = (ch % 8u) * 4u;
        let j = ch / 8u;
        let v = fetch_b4(b_base, k0 + l, bj + j);
        let o = j * SB + l;
        Bs[o] = v.x;
        Bs[o + 1u] = v.y;
        Bs[o + 2u] = v.z;
        Bs[o + 3u] = v.w;
    }
}

@compute @workgroup_size(WG, 1, 1)
fn main(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let sg = t / SG;
    let lane = t % SG;
    let wm = (sg % SGM) * 32u;
    let wn = (sg / SGM) * WNC;
    let bi = wid.x * BM;
    let bj = wid.y * BN;
    let z = wid.z + p.batch_base;
    let a_base = p.a_off + z * p.stride_a;
    let b_base = p.b_off + z * p.stride_b;
    let c_base = p.c_off + z * p.stride_c;

    let zero = zero_acc(t);
    var c00 = zero; var c01 = zero; var c02 = zero; var c03 = zero;
    var c10 = zero; var c11 = zero; var c12 = zero; var c13 = zero;
    var c20 = zero; var c21 = zero; var c22 = zero; var c23 = zero;
    var c30 = zero; var c31 = zero; var c32 = zero; var c33 = zero;

    for (var k0 = 0u; k0 < p.k; k0 += 32u) {
        stage_slab(a_base, b_base, bi, bj, k0, t);
        workgroupBarrier();
        for (var kk = 0u; kk < 32u; kk += 8u) {
            let a0 = coopLoad<coop_mat8x8<f32, A>>(&As[kk * SA + wm], SA);
            let a1 = coopLoad<coop_mat8x8<f32, A>>(&As[kk * SA + wm + 8u], SA);
            let a2 = coopLoad<coop_mat8x8<f32, A>>(&As[kk * SA + wm + 16u], SA);
            let a3 = coopLoad<coop_mat8x8<f32, A>>(&As[kk * SA + wm + 24u], SA);
            let b0 = coopLoad<coop_mat8x8<f32, B>>(&Bs[wn * SB + kk], 36u);
            let b1 = coopLoad<coop_mat8x8<f32, B>>(&Bs[(wn + 8u) * SB + kk], 36u);
            c00 = coopMultiplyAdd(a0, b0, c00);
            c10 = coopMultiplyAdd(a1, b0, c10);
            c20 = coopMultiplyAdd(a2, b0, c20);
            c30 = coopMultiplyAdd(a3, b0, c30);
            c01 = coopMultiplyAdd(a0, b1, c01);
            c11 = coopMultiplyAdd(a1, b1, c11);
            c21 = coopMultiplyAdd(a2, b1, c21);
            c31 = coopMultiplyAdd(a3, b1, c31);
            if (WN4) {
                let b2 = coopLoad<coop_mat8x8<f32, B>>(&Bs[(wn + 16u) * SB + kk], 36u);
                let b3 = coopLoad<coop_mat8x8<f32, B>>(&Bs[(wn + 24u) * SB + kk], 36u);
                c02 = coopMultiplyAdd(a0, b2, c02);
                c12 = coopMultiplyAdd(a1, b2, c12);
                c22 = coopMultiplyAdd(a2, b2, c22);
                c32 = coopMultiplyAdd(a3, b2, c32);
                c03 = coopMultiplyAdd(a0, b3, c03);
                c13 = coopMultiplyAdd(a1, b3, c13);
                c23 = coopMultiplyAdd(a2, b3, c23);
                c33 = coopMultiplyAdd(a3, b3, c33);
            }
        }
        workgroupBarrier();
    }

    store_block(
        c00, c10, c20, c30, c01, c11, c21, c31,
        c02, c12, c22, c32, c03, c13, c23, c33,
        sg, lane, bi + wm, bj + wn, c_base,
    );
}
