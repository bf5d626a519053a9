// C = alpha * op(A) * op(B) + beta * C, column-major, batched over z.
//
// 128×128 tile of C per workgroup of 16×16 invocations; each invocation
// owns an 8×8 register block (rows tx*4+{0..3} and 64+tx*4+{0..3}, columns
// ty*4+{0..3} and 64+ty*4+{0..3}) held as 16 vec4 accumulators with
// constant indices. The k loop moves through 8-deep slabs staged in
// workgroup memory; the next slab is fetched into registers while the
// current one is multiplied (register double buffering). Every global
// access is guarded against m, n, k, so any shape works.

override TA: bool = false;
override TB: bool = false;

const BM: u32 = 128u;
const BK: u32 = 8u;
const ROW4: u32 = 32u; // BM / 4 vec4 per slab row

var<workgroup> As: array<vec4<f32>, 256>; // [BK][BM/4]
var<workgroup> Bs: array<vec4<f32>, 256>; // [BK][BN/4]

fn a_at(base: u32, i: u32, l: u32) -> f32 {
    if (i < p.m && l < p.k) {
        if (TA) {
            return load_a(base + l + i * p.lda);
        }
        return load_a(base + i + l * p.lda);
    }
    return 0.0;
}

fn b_at(base: u32, l: u32, j: u32) -> f32 {
    if (l < p.k && j < p.n) {
        if (TB) {
            return load_b(base + j + l * p.ldb);
        }
        return load_b(base + l + j * p.ldb);
    }
    return 0.0;
}

// Four values of op(A) this invocation fetches for the slab at k0: four
// consecutive rows (A stored plain) or four consecutive k (A transposed),
// so that neighbouring invocations read neighbouring addresses.
fn fetch_a(base: u32, bi: u32, k0: u32, t: u32) -> vec4<f32> {
    if (TA) {
        let i = bi + t / 2u;
        let l = k0 + (t % 2u) * 4u;
        return vec4<f32>(a_at(base, i, l), a_at(base, i, l + 1u), a_at(base, i, l + 2u), a_at(base, i, l + 3u));
    }
    let i = bi + (t % ROW4) * 4u;
    let l = k0 + t / ROW4;
    return vec4<f32>(a_at(base, i, l), a_at(base, i + 1u, l), a_at(base, i + 2u, l), a_at(base, i + 3u, l));
}

fn fetch_b(base: u32, bj: u32, k0: u32, t: u32) -> vec4<f32> {
    if (TB) {
        let j = bj + (t % ROW4) * 4u;
        let l = k0 + t / ROW4;
        return vec4<f32>(b_at(base, l, j), b_at(base, l, j + 1u), b_at(base, l, j + 2u), b_at(base, l, j + 3u));
    }
    let j = bj + t / 2u;
    let l = k0 + (t % 2u) * 4u;
    return vec4<f32>(b_at(base, l, j), b_at(base, l + 1u, j), b_at(base, l + 2u, j), b_at(base, l + 3u, j));
}

fn stash_a(v: vec4<f32>, t: u32) {
    if (TA) {
        let i = t / 2u;
        let l = (t % 2u) * 4u;
        let slot = i / 4u;
        let lane = i % 4u;
        As[l * ROW4 + slot][lane] = v.x;
        As[(l + 1u) * ROW4 + slot][lane] = v.y;
        As[(l + 2u) * ROW4 + slot][lane] = v.z;
        As[(l + 3u) * ROW4 + slot][lane] = v.w;
    } else {
        As[(t / ROW4) * ROW4 + (t % ROW4)] = v;
    }
}

fn stash_b(v: vec4<f32>, t: u32) {
    if (TB) {
        Bs[(t / ROW4) * ROW4 + (t % ROW4)] = v;
    } else {
        let j = t / 2u;
        let l = (t % 2u) * 4u;
        let slot = j / 4u;
        let lane = j % 4u;
        Bs[l * ROW4 + slot][lane] = v.x;
        Bs[(l + 1u) * ROW4 + slot][lane] = v.y;
        Bs[(l + 2u) * ROW4 + slot][lane] = v.z;
        Bs[(l + 3u) * ROW4 + slot][lane] = v.w;
    }
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
    let z = wid.z + p.batch_base;
    let a_base = p.a_off + z * p.stride_a;
    let b_base = p.b_off + z * p.stride_b;
    let c_base = p.c_off + z * p.stride_c;

    var acc: array<vec4<f32>, 16>;
    for (var q = 0u; q < 16u; q++) {
        acc[q] = vec4<f32>(0.0);
    }

    var ra = fetch_a(a_base, bi, 0u, t);
    var rb = fetch_b(b_base, bj, 0u, t);
    let slabs = (p.k + BK - 1u) / BK;
    for (var s = 0u; s < slabs; s++) {
        workgroupBarrier();
        stash_a(ra, t);
        stash_b(rb, t);
        workgroupBarrier();
        if (s + 1u < slabs) {
            ra = fetch_a(a_base, bi, (s + 1u) * BK, t);
            rb = fetch_b(b_base, bj, (s + 1u) * BK, t);
        }
        for (var kk = 0u; kk < BK; kk++) {
            let a0 = As[kk * ROW4 + tx];
            let a1 = As[kk * ROW4 + 16u + tx];
            let b0 = Bs[kk * ROW4 + ty];
            let b1 = Bs[kk * ROW4 + 16u + ty];
            acc[0] = fma(a0, vec4<f32>(b0.x), acc[0]);
            acc[1] = fma(a1, vec4<f32>(b0.x), acc[1]);
            acc[2] = fma(a0, vec4<f32>(b0.y), acc[2]);
            acc[3] = fma(a1, vec4<f32>(b0.y), acc[3]);
            acc[4] = fma(a0, vec4<f32>(b0.z), acc[4]);
            acc[5] = fma(a1, vec4<f32>(b0.z), acc[5]);
            acc[6] = fma(a0, vec4<f32>(b0.w), acc[6]);
            acc[7] = fma(a1, vec4<f32>(b0.w), acc[7]);
            acc[8] = fma(a0, vec4<f32>(b1.x), acc[8]);
            acc[9] = fma(a1, vec4<f32>(b1.x), acc[9]);
            acc[10] = fma(a0, vec4<f32>(b1.y), acc[10]);
            acc[11] = fma(a1, vec4<f32>(b1.y), acc[11]);
            acc[12] = fma(a0, vec4<f32>(b1.z), acc[12]);
            acc[13] = fma(a1, vec4<f32>(b1.z), acc[13]);
            acc[14] = fma(a0, vec4<f32>(b1.w), acc[14]);
            acc[15] = fma(a1, vec4<f32>(b1.w), acc[15]);
        }
    }

    for (var cc = 0u; cc < 8u; cc++) {
        let j = bj + (cc / 4u) * 64u + ty * 4u + (cc % 4u);
        if (j >= p.n) {
            continue;
        }
        for (var h = 0u; h < 2u; h++) {
            let v = acc[cc * 2u + h];
            let i0 = bi + h * 64u + tx * 4u;
            for (var q = 0u; q < 4u; q++) {
                let i = i0 + q;
                if (i < p.m) {
                    let idx = c_base + i + j * p.ldc;
                    var r = p.alpha * v[q];
                    if (p.beta != 0.0) {
                        r = fma(p.beta, c[idx], r);
                    }
                    c[idx] = r;
                }
            }
        }
    }
}
