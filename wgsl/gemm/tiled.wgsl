// C = alpha * op(A) * op(B) + beta * C, column-major, batched over z.
//
// 128×128 tile of C per workgroup of 16×16 invocations; each invocation
// owns an 8×8 register block (rows tx*4+{0..3} and 64+tx*4+{0..3}, columns
// ty*4+{0..3} and 64+ty*4+{0..3}) held as 16 named vec4 accumulators. The
// k loop moves through BK-deep slabs staged in workgroup memory (two
// stages); the next slab is fetched into registers while the current one
// is multiplied, then stored into the other stage. Every global access is
// guarded against m, n, k, so any shape works. The slabs (As, Bs, BK,
// STAGE, Slab, fetch_slab, stash_slab) come from slab_a.wgsl + slab_b.wgsl
// (element loads, BK = 8) or slab4.wgsl (16-byte loads, BK = 8 or 16).

override TA: bool = false;
override TB: bool = false;
// Only tiles touching the lower triangle of C (i >= j) are computed, for
// symmetric rank-k updates such as Cholesky's trailing matrix.
override LOWER: bool = false;

// Writes one accumulator: rows bi + h·64 + tx·4 + {0..3} of column
// bj + (cc/4)·64 + ty·4 + cc%4, as alpha·acc + beta·C.
fn store4(v: vec4<f32>, bi: u32, bj: u32, tx: u32, ty: u32, cc: u32, h: u32, c_base: u32) {
    let j = bj + (cc / 4u) * 64u + ty * 4u + (cc % 4u);
    if (j >= p.n) {
        return;
    }
    let i0 = bi + h * 64u + tx * 4u;
    store_col4(c_base + i0 + j * p.ldc, i0, p.alpha * v);
}

@compute @workgroup_size(16, 16, 1)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let tx = lid.x;
    let ty = lid.y;
    let bi = wid.x * BM;
    let bj = wid.y * BM;
    if (LOWER && bj > bi + BM - 1u) {
        return; // the whole tile is above the diagonal (uniform per workgroup)
    }
    let z = wid.z + p.batch_base;
    let a_base = p.a_off + z * p.stride_a;
    let b_base = p.b_off + z * p.stride_b;
    let c_base = p.c_off + z * p.stride_c;

    // 16 named vec4 accumulators: no private array, so nothing can spill
    // through dynamic indexing, checked or not.
    var c0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0);
    var c5 = vec4<f32>(0.0);
    var c6 = vec4<f32>(0.0);
    var c7 = vec4<f32>(0.0);
    var c8 = vec4<f32>(0.0);
    var c9 = vec4<f32>(0.0);
    var c10 = vec4<f32>(0.0);
    var c11 = vec4<f32>(0.0);
    var c12 = vec4<f32>(0.0);
    var c13 = vec4<f32>(0.0);
    var c14 = vec4<f32>(0.0);
    var c15 = vec4<f32>(0.0);

    // Two workgroup-memory stages: while one slab is multiplied, the next
    // (fetched into registers during the multiply) is stored into the other
    // stage, so one barrier per slab suffices.
    let slabs = (p.k + BK - 1u) / BK;
    var sl = fetch_slab(a_base, b_base, bi, bj, 0u, t);
    stash_slab(sl, t, 0u);
    workgroupBarrier();
    for (var s = 0u; s < slabs; s++) {
        let cur = (s % 2u) * STAGE;
        let more = s + 1u < slabs;
        if (more) {
            sl = fetch_slab(a_base, b_base, bi, bj, (s + 1u) * BK, t);
        }
        for (var kk = 0u; kk < BK; kk++) {
            let a0 = As[cur + kk * ROW4 + tx];
            let a1 = As[cur + kk * ROW4 + 16u + tx];
            let b0 = Bs[cur + kk * ROW4 + ty];
            let b1 = Bs[cur + kk * ROW4 + 16u + ty];
            c0 = fma(a0, vec4<f32>(b0.x), c0);
            c1 = fma(a1, vec4<f32>(b0.x), c1);
            c2 = fma(a0, vec4<f32>(b0.y), c2);
            c3 = fma(a1, vec4<f32>(b0.y), c3);
            c4 = fma(a0, vec4<f32>(b0.z), c4);
            c5 = fma(a1, vec4<f32>(b0.z), c5);
            c6 = fma(a0, vec4<f32>(b0.w), c6);
            c7 = fma(a1, vec4<f32>(b0.w), c7);
            c8 = fma(a0, vec4<f32>(b1.x), c8);
            c9 = fma(a1, vec4<f32>(b1.x), c9);
            c10 = fma(a0, vec4<f32>(b1.y), c10);
            c11 = fma(a1, vec4<f32>(b1.y), c11);
            c12 = fma(a0, vec4<f32>(b1.z), c12);
            c13 = fma(a1, vec4<f32>(b1.z), c13);
            c14 = fma(a0, vec4<f32>(b1.w), c14);
            c15 = fma(a1, vec4<f32>(b1.w), c15);
        }
        if (more) {
            stash_slab(sl, t, STAGE - cur);
        }
        workgroupBarrier();
    }

    // accumulator 2·cc + h holds column cc, row half h
    store4(c0, bi, bj, tx, ty, 0u, 0u, c_base);
    store4(c1, bi, bj, tx, ty, 0u, 1u, c_base);
    store4(c2, bi, bj, tx, ty, 1u, 0u, c_base);
    store4(c3, bi, bj, tx, ty, 1u, 1u, c_base);
    store4(c4, bi, bj, tx, ty, 2u, 0u, c_base);
    store4(c5, bi, bj, tx, ty, 2u, 1u, c_base);
    store4(c6, bi, bj, tx, ty, 3u, 0u, c_base);
    store4(c7, bi, bj, tx, ty, 3u, 1u, c_base);
    store4(c8, bi, bj, tx, ty, 4u, 0u, c_base);
    store4(c9, bi, bj, tx, ty, 4u, 1u, c_base);
    store4(c10, bi, bj, tx, ty, 5u, 0u, c_base);
    store4(c11, bi, bj, tx, ty, 5u, 1u, c_base);
    store4(c12, bi, bj, tx, ty, 6u, 0u, c_base);
    store4(c13, bi, bj, tx, ty, 6u, 1u, c_base);
    store4(c14, bi, bj, tx, ty, 7u, 0u, c_base);
    store4(c15, bi, bj, tx, ty, 7u, 1u, c_base);
}
