// Shared part of the register-blocked GEMM bodies (tiled.wgsl, narrow.wgsl):
// the 128-row A slab, 8 deep, staged in workgroup memory as two stages of
// [BK][BM/4] vec4 (fetched by 256 invocations, four values each), and the
// guarded element accessors of op(A) and op(B). Uses the overrides TA and
// TB that the body declares.

const BM: u32 = 128u;
const BK: u32 = 8u;
const ROW4: u32 = 32u; // BM / 4 vec4 per slab row

var<workgroup> As: array<vec4<f32>, 512>; // two stages of [BK][BM/4]

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
    // rows t%32 + 32q: each of the four loads is one coalesced 128-byte run
    let i = bi + (t % ROW4);
    let l = k0 + t / ROW4;
    return vec4<f32>(a_at(base, i, l), a_at(base, i + 32u, l), a_at(base, i + 64u, l), a_at(base, i + 96u, l));
}

fn stash_a(v: vec4<f32>, t: u32, off: u32) {
    if (TA) {
        let i = t / 2u;
        let l = (t % 2u) * 4u;
        let slot = i / 4u;
        let lane = i % 4u;
        As[off + l * ROW4 + slot][lane] = v.x;
        As[off + (l + 1u) * ROW4 + slot][lane] = v.y;
        As[off + (l + 2u) * ROW4 + slot][lane] = v.z;
        As[off + (l + 3u) * ROW4 + slot][lane] = v.w;
    } else {
        // rows r = t%32 + 32q of slab row l = t/32
        let row = (t / ROW4) * ROW4;
        let r = t % ROW4;
        As[off + row + r / 4u][r % 4u] = v.x;
        As[off + row + (r + 32u) / 4u][r % 4u] = v.y;
        As[off + row + (r + 64u) / 4u][r % 4u] = v.z;
        As[off + row + (r + 96u) / 4u][r % 4u] = v.w;
    }
}
