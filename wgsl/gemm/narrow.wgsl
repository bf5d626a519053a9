// C = alpha * op(A) * op(B) + beta * C, column-major, batched over z, for
// skinny outputs (n ≤ 64): the tiled kernel's 128×128 tile would leave
// most of its columns idle there (n = 40: 88 of 128).
//
// 128×64 tile of C per workgroup of 16×16 invocations; each invocation
// owns an 8×4 register block (rows tx*4+{0..3} and 64+tx*4+{0..3},
// columns ty*4+{0..3}) held as 8 named vec4 accumulators. Same k loop as
// tiled.wgsl: 8-deep slabs in two workgroup-memory stages, the next slab
// fetched into registers while the current one is multiplied. The A slab
// (128 rows, four values per invocation) is slab_a.wgsl's; the B slab is
// 8×64, two values per invocation. Every global access is guarded against
// m, n, k, so any shape works.

override TA: bool = false;
override TB: bool = false;

const BN: u32 = 64u;
const COL4: u32 = 16u; // BN / 4 vec4 per B slab row

var<workgroup> Bs: array<vec4<f32>, 256>; // two stages of [BK][BN/4]

// Two values of op(B) for the slab at k0: two consecutive k of one column
// (B stored plain, four invocations per 8-deep column run) or one k of
// columns t%32 and t%32 + 32 (B transposed, each load a coalesced run).
fn fetch_b(base: u32, bj: u32, k0: u32, t: u32) -> vec2<f32> {
    if (TB) {
        let j = bj + (t % 32u);
        let l = k0 + t / 32u;
        return vec2<f32>(b_at(base, l, j), b_at(base, l, j + 32u));
    }
    let j = bj + t / 4u;
    let l = k0 + (t % 4u) * 2u;
    return vec2<f32>(b_at(base, l, j), b_at(base, l + 1u, j));
}

fn stash_b(v: vec2<f32>, t: u32, off: u32) {
    if (TB) {
        let row = (t / 32u) * COL4;
        let r = t % 32u;
        Bs[off + row + r / 4u][r % 4u] = v.x;
        Bs[off + row + (r + 32u) / 4u][r % 4u] = v.y;
    } else {
        let j = t / 4u;
        let l = (t % 4u) * 2u;
        Bs[off + l * COL4 + j / 4u][j % 4u] = v.x;
        Bs[off + (l + 1u) * COL4 + j / 4u][j % 4u] = v.y;
    }
}

// Writes one accumulator: rows bi + h·64 + tx·4 + {0..3} of column
// bj + ty·4 + cc, as alpha·acc + beta·C.
fn store4(v: vec4<f32>, bi: u32, bj: u32, tx: u32, ty: u32, cc: u32, h: u32, z: u32, c_base: u32) {
    let j = bj + ty * 4u + cc;
    if (j >= p.n) {
        return;
    }
    let i0 = bi + h * 64u + tx * 4u;
    store_col4(col_start(z, c_base, j) + i0, i0, p.alpha * v);
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
    let bj = wid.y * BN;
    let z = wid.z + p.batch_base;
    let a_base = p.a_off + z * p.stride_a;
    let b_base = p.b_off + z * p.stride_b;
    let c_base = p.c_off + z * p.stride_c;

    // 8 named vec4 accumulators (no private array: nothing can spill).
    var c0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var c4 = vec4<f32>(0.0);
    var c5 = vec4<f32>(0.0);
    var c6 = vec4<f32>(0.0);
    var c7 = vec4<f32>(0.0);

    let live = bj + ty * 4u < p.n;
    let slabs = (p.k + BK - 1u) / BK;
    var ra = fetch_a(a_base, bi, 0u, t);
    var rb = fetch_b(b_base, bj, 0u, t);
    stash_a(ra, t, 0u);
    stash_b(rb, t, 0u);
    workgroupBarrier();
    for (var s = 0u; s < slabs; s++) {
        let cur_a = (s % 2u) * 256u;
        let cur_b = (s % 2u) * 128u;
        let more = s + 1u < slabs;
        if (more) {
            ra = fetch_a(a_base, bi, (s + 1u) * BK, t);
            rb = fetch_b(b_base, bj, (s + 1u) * BK, t);
        }
        // invocations whose four columns all lie beyond n skip the
        // products (whole subgroups of 32 when n is a multiple of 8: for
        // n = 40 three of the eight)
        if (live) {
            for (var kk = 0u; kk < BK; kk++) {
                let a0 = As[cur_a + kk * ROW4 + tx];
                let a1 = As[cur_a + kk * ROW4 + 16u + tx];
                let b0 = Bs[cur_b + kk * COL4 + ty];
                c0 = fma(a0, vec4<f32>(b0.x), c0);
                c1 = fma(a1, vec4<f32>(b0.x), c1);
                c2 = fma(a0, vec4<f32>(b0.y), c2);
                c3 = fma(a1, vec4<f32>(b0.y), c3);
                c4 = fma(a0, vec4<f32>(b0.z), c4);
                c5 = fma(a1, vec4<f32>(b0.z), c5);
                c6 = fma(a0, vec4<f32>(b0.w), c6);
                c7 = fma(a1, vec4<f32>(b0.w), c7);
            }
        }
        if (more) {
            stash_a(ra, t, 256u - cur_a);
            stash_b(rb, t, 128u - cur_b);
        }
        workgroupBarrier();
    }

    // accumulator 2·cc + h holds column cc, row half h
    store4(c0, bi, bj, tx, ty, 0u, 0u, z, c_base);
    store4(c1, bi, bj, tx, ty, 0u, 1u, z, c_base);
    store4(c2, bi, bj, tx, ty, 1u, 0u, z, c_base);
    store4(c3, bi, bj, tx, ty, 1u, 1u, z, c_base);
    store4(c4, bi, bj, tx, ty, 2u, 0u, z, c_base);
    store4(c5, bi, bj, tx, ty, 2u, 1u, z, c_base);
    store4(c6, bi, bj, tx, ty, 3u, 0u, z, c_base);
    store4(c7, bi, bj, tx, ty, 3u, 1u, z, c_base);
}
