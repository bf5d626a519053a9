// C = alpha·A·B + beta·C with A and B in f16 and C in f32, on cooperative
// matrices (16×16×16, f16 multiplicands, f32 accumulator), column-major,
// batched over z. The operand loads fetch_a8 / fetch_b8 and the bindings of
// a and b come from coop_io_v8.wgsl, coop_io_vec.wgsl or coop_io_f16.wgsl;
// out_scale, which maps each accumulated entry to C's scale, from
// coop_out.wgsl (the identity) or coop_out_split.wgsl (the split-f16
// GEMM's unscaling); the uniform block p from params.wgsl; C and its
// stores (store_frag) from coop_store.wgsl, joined after this file.
//
// A workgroup computes a BM×BN tile of C with SGM×SGN subgroups of SG
// invocations; subgroup s owns the 64×WNC block at rows (s % SGM)·64 and
// columns (s / SGM)·WNC of the tile, as 4×(WNC/16) accumulators (WNC = 64
// when WN4, else 32), held in named variables. The k loop moves through
// 32-deep slabs: the whole workgroup copies the BM×32 slab of A and the
// 32×BN slab of B into workgroup memory, read from global memory in runs
// of eight f16 (one 16-byte vec4<u32> load each where the operands are
// aligned to 8; zero outside the matrices, so edge tiles need no other
// guard), then every subgroup multiplies its fragments out of workgroup
// memory while the global loads of the next slab are in flight (PF; or,
// with DB, 16-deep slabs take turns in the two halves of the tiles). The
// tiles in workgroup memory are column-major with padded columns (BM + 8
// halves for A, 40 for B) so that the fragment loads of neighbouring
// columns fall in different banks. They are arrays of vec4<f16>, and
// coopLoad reads the f16 fragments through a pointer to one of them (the
// stride then counts vec4s): a run of eight goes into workgroup memory in
// two 8-byte stores, not eight 2-byte ones, which took 5% more time at
// n = 8192 on an H200. (Tiles of u32 or vec4<u32>, which would take a run
// in one store, make NVIDIA's driver 580.159 fail: "NVVM compilation
// failed"; a vector of the matrix's own component type compiles. Metal's
// simdgroup loads take a pointer to the element type itself, but 16×16
// f16 cooperative matrices exist only on Vulkan: the MSL translation of
// this kernel is checked, never run.) The
// strides of coopLoad and coopStore are constants: naga 30.0.1's SPIR-V
// writer panics on runtime strides, and a constant stride is all a staged
// tile needs.

override SG: u32 = 32u; // subgroup size (the adapter's, fixed)
override SGM: u32 = 2u; // subgroups along the rows of the tile (1, 2 or 4)
override SGN: u32 = 2u; // subgroups along the columns
override WN4: bool = true; // 4×4 accumulators per subgroup (else 4×2)
override WG: u32 = SG * SGM * SGN;
override WNC: u32 = 32u + 32u * u32(WN4);
override BM: u32 = 64u * SGM; // at most 256
override BN: u32 = SGN * WNC; // at most 128
// Prefetch: the next slab is read from global memory into registers while
// the current one is multiplied (else read right before it is stored).
override PF: bool = true;
// Double buffering: 16-deep slabs in the two halves of the 32-deep tiles;
// the next slab is stored into one half while the products read the other
// (one barrier per slab), and the one after is read into registers.
override DB: bool = false;
override DEPTH: u32 = 32u - 16u * u32(DB); // k per slab
override NAD: u32 = BM * DEPTH / 8u / WG; // runs of eight of A per invocation and slab (≤ 8)
override NBD: u32 = BN * DEPTH / 8u / WG; // runs of eight of B (≤ 8)

override SA: u32 = BM + 8u; // column stride of As (BM rows + 8)
const SB: u32 = 40u; // column stride of Bs (32 k + 8)
const F: u32 = 16u; // fragment side (coop_store.wgsl)
alias Acc = coop_mat16x16<f32, C>;

// [32][SA] halves: A[bi + i, k0 + l] is half i % 4 of As[(l·SA + i) / 4]
var<workgroup> As: array<vec4<f16>, 32u * SA / 4u>;
// [128][SB] halves: B[k0 + l, bj + j] is half l % 4 of Bs[(j·SB + l) / 4]
var<workgroup> Bs: array<vec4<f16>, 1280>;

// Reads this invocation's runs of the DEPTH-deep slab at k0 into ra, rb:
// run s of A is rows i..i+8 of column l of the slab, of B k l..l+8 of
// column j, numbered so that neighbouring invocations read neighbouring
// addresses.
fn fetch_slab(
    ra: ptr<function, array<vec4<u32>, 8>>,
    rb: ptr<function, array<vec4<u32>, 8>>,
    a_base: u32, b_base: u32, bi: u32, bj: u32, k0: u32, t: u32,
) {
    for (var s = 0u; s < NAD; s++) {
        let ch = t + s * WG;
        (*ra)[s] = fetch_a8(a_base, bi + (ch % (BM / 8u)) * 8u, k0 + ch / (BM / 8u));
    }
    for (var s = 0u; s < NBD; s++) {
        let ch = t + s * WG;
        (*rb)[s] = fetch_b8(b_base, k0 + (ch % (DEPTH / 8u)) * 8u, bj + ch / (DEPTH / 8u));
    }
}

// Stores the runs of fetch_slab into As and Bs, k shifted by loff (0 or
// 16), four f16 at a time.
fn stash_slab(
    ra: ptr<function, array<vec4<u32>, 8>>,
    rb: ptr<function, array<vec4<u32>, 8>>,
    loff: u32, t: u32,
) {
    for (var s = 0u; s < NAD; s++) {
        let ch = t + s * WG;
        let o = (loff + ch / (BM / 8u)) * SA + (ch % (BM / 8u)) * 8u;
        for (var h = 0u; h < 2u; h++) {
            let w0 = unpack2x16float((*ra)[s][2u * h]);
            let w1 = unpack2x16float((*ra)[s][2u * h + 1u]);
            As[o / 4u + h] = vec4<f16>(vec4<f32>(w0, w1));
        }
    }
    for (var s = 0u; s < NBD; s++) {
        let ch = t + s * WG;
        let o = (ch / (DEPTH / 8u)) * SB + loff + (ch % (DEPTH / 8u)) * 8u;
        for (var h = 0u; h < 2u; h++) {
            let w0 = unpack2x16float((*rb)[s][2u * h]);
            let w1 = unpack2x16float((*rb)[s][2u * h + 1u]);
            Bs[o / 4u + h] = vec4<f16>(vec4<f32>(w0, w1));
        }
    }
}

@compute @workgroup_size(WG, 1, 1)
fn main(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let sg = t / SG;
    let lane = t % SG;
    let wm = (sg % SGM) * 64u;
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

    // This invocation's share of a slab: NAD runs of eight rows of A and
    // NBD runs of eight k of B, held in registers between the global loads
    // and the stores into workgroup memory.
    var ra: array<vec4<u32>, 8>;
    var rb: array<vec4<u32>, 8>;
    let steps = (p.k + DEPTH - 1u) / DEPTH;
    if (PF || DB) {
        fetch_slab(&ra, &rb, a_base, b_base, bi, bj, 0u, t);
    }
    if (DB) {
        stash_slab(&ra, &rb, 0u, t);
        if (steps > 1u) {
            fetch_slab(&ra, &rb, a_base, b_base, bi, bj, DEPTH, t);
        }
        workgroupBarrier();
    }
    for (var st = 0u; st < steps; st++) {
        let k0 = st * DEPTH;
        var kb = 0u; // first k of the slab in workgroup memory
        if (DB) {
            kb = (st & 1u) * 16u;
        } else {
            if (!PF) {
                fetch_slab(&ra, &rb, a_base, b_base, bi, bj, k0, t);
            }
            stash_slab(&ra, &rb, 0u, t);
            workgroupBarrier();
            // the next slab's global loads overlap this slab's products
            if (PF && k0 + DEPTH < p.k) {
                fetch_slab(&ra, &rb, a_base, b_base, bi, bj, k0 + DEPTH, t);
            }
        }
        for (var kk = kb; kk < kb + DEPTH; kk += 16u) {
            let a0 = coopLoad<coop_mat16x16<f16, A>>(&As[(kk * SA + wm) / 4u], SA / 4u);
            let a1 = coopLoad<coop_mat16x16<f16, A>>(&As[(kk * SA + wm + 16u) / 4u], SA / 4u);
            let a2 = coopLoad<coop_mat16x16<f16, A>>(&As[(kk * SA + wm + 32u) / 4u], SA / 4u);
            let a3 = coopLoad<coop_mat16x16<f16, A>>(&As[(kk * SA + wm + 48u) / 4u], SA / 4u);
            let b0 = coopLoad<coop_mat16x16<f16, B>>(&Bs[(wn * SB + kk) / 4u], 40u / 4u);
            let b1 = coopLoad<coop_mat16x16<f16, B>>(&Bs[((wn + 16u) * SB + kk) / 4u], 40u / 4u);
            c00 = coopMultiplyAdd(a0, b0, c00);
            c10 = coopMultiplyAdd(a1, b0, c10);
            c20 = coopMultiplyAdd(a2, b0, c20);
            c30 = coopMultiplyAdd(a3, b0, c30);
            c01 = coopMultiplyAdd(a0, b1, c01);
            c11 = coopMultiplyAdd(a1, b1, c11);
            c21 = coopMultiplyAdd(a2, b1, c21);
            c31 = coopMultiplyAdd(a3, b1, c31);
            if (WN4) {
                let b2 = coopLoad<coop_mat16x16<f16, B>>(&Bs[((wn + 32u) * SB + kk) / 4u], 40u / 4u);
                let b3 = coopLoad<coop_mat16x16<f16, B>>(&Bs[((wn + 48u) * SB + kk) / 4u], 40u / 4u);
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
        if (DB && st + 1u < steps) {
            // the next stage, into the half the products are not reading
            stash_slab(&ra, &rb, 16u - kb, t);
            if (st + 2u < steps) {
                fetch_slab(&ra, &rb, a_base, b_base, bi, bj, k0 + 2u * DEPTH, t);
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
