// The slab interface of the 128×128 kernel (tiled.wgsl) with 16-byte
// loads (operands bound as vec4, io_f32v4.wgsl): BK-deep slabs (8 or 16,
// an override) of op(A), 128×BK, and op(B), BK×128, staged in two
// workgroup-memory stages of STAGE vec4 each, laid out as slab_a.wgsl's
// and slab_b.wgsl's ([BK][32] vec4, four consecutive rows of op(A) or
// columns of op(B) per vec4). Each invocation carries BK/8 runs of four of
// each operand per slab. A run lies along the stored columns: rows of A,
// k of Aᵀ, k of B, columns of Bᵀ; the host guarantees it is aligned and
// wholly inside or outside the matrix, so one bounds test guards it.
// The workgroup arrays are sized for BK = 16 (32 KiB in all).

const BM: u32 = 128u;
const ROW4: u32 = 32u; // BM / 4 vec4 per slab row
override BK: u32 = 16u; // 8 or 16
override STAGE: u32 = BK * ROW4;
override RUNS: u32 = BK / 8u; // runs of four per operand and invocation

var<workgroup> As: array<vec4<f32>, 1024>; // two stages of [BK][BM/4]
var<workgroup> Bs: array<vec4<f32>, 1024>; // two stages of [BK][BN/4]

struct Slab {
    a0: vec4<f32>,
    a1: vec4<f32>,
    b0: vec4<f32>,
    b1: vec4<f32>,
}

// Run q (0 .. 32·BK) of op(A)'s slab at k0: plain A, rows 4·(q % 32) ..
// of slab column q / 32; Aᵀ, k 4·(q % (BK/4)) .. of row q / (BK/4).
fn fetch_a4(base: u32, bi: u32, k0: u32, q: u32) -> vec4<f32> {
    if (TA) {
        let i = bi + q / (BK / 4u);
        let l = k0 + (q % (BK / 4u)) * 4u;
        if (i < p.m && l < p.k) {
            return a[(base + l + i * p.lda) >> 2u];
        }
    } else {
        let i = bi + (q % ROW4) * 4u;
        let l = k0 + q / ROW4;
        if (i < p.m && l < p.k) {
            return a[(base + i + l * p.lda) >> 2u];
        }
    }
    return vec4<f32>(0.0);
}

fn stash_a4(v: vec4<f32>, q: u32, off: u32) {
    if (TA) {
        let i = q / (BK / 4u);
        let l = (q % (BK / 4u)) * 4u;
        As[off + l * ROW4 + i / 4u][i % 4u] = v.x;
        As[off + (l + 1u) * ROW4 + i / 4u][i % 4u] = v.y;
        As[off + (l + 2u) * ROW4 + i / 4u][i % 4u] = v.z;
        As[off + (l + 3u) * ROW4 + i / 4u][i % 4u] = v.w;
    } else {
        As[off + q] = v; // [l][row group] = q / 32, q % 32
    }
}

// Run q of op(B)'s slab at k0: plain B, k 4·(q % (BK/4)) .. of column
// q / (BK/4); Bᵀ, columns 4·(q % 32) .. of slab row q / 32.
fn fetch_b4(base: u32, bj: u32, k0: u32, q: u32) -> vec4<f32> {
    if (TB) {
        let j = bj + (q % ROW4) * 4u;
        let l = k0 + q / ROW4;
        if (j < p.n && l < p.k) {
            return b[(base + j + l * p.ldb) >> 2u];
        }
    } else {
        let j = bj + q / (BK / 4u);
        let l = k0 + (q % (BK / 4u)) * 4u;
        if (j < p.n && l < p.k) {
            return b[(base + l + j * p.ldb) >> 2u];
        }
    }
    return vec4<f32>(0.0);
}

fn stash_b4(v: vec4<f32>, q: u32, off: u32) {
    if (TB) {
        Bs[off + q] = v;
    } else {
        let j = q / (BK / 4u);
        let l = (q % (BK / 4u)) * 4u;
        Bs[off + l * ROW4 + j / 4u][j % 4u] = v.x;
        Bs[off + (l + 1u) * ROW4 + j / 4u][j % 4u] = v.y;
        Bs[off + (l + 2u) * ROW4 + j / 4u][j % 4u] = v.z;
        Bs[off + (l + 3u) * ROW4 + j / 4u][j % 4u] = v.w;
    }
}

fn fetch_slab(a_base: u32, b_base: u32, bi: u32, bj: u32, k0: u32, t: u32) -> Slab {
    var s = Slab(fetch_a4(a_base, bi, k0, t), vec4<f32>(0.0), fetch_b4(b_base, bj, k0, t), vec4<f32>(0.0));
    if (RUNS > 1u) {
        s.a1 = fetch_a4(a_base, bi, k0, t + 256u);
        s.b1 = fetch_b4(b_base, bj, k0, t + 256u);
    }
    return s;
}

fn stash_slab(s: Slab, t: u32, off: u32) {
    stash_a4(s.a0, t, off);
    stash_b4(s.b0, t, off);
    if (RUNS > 1u) {
        stash_a4(s.a1, t + 256u, off);
        stash_b4(s.b1, t + 256u, off);
    }
}
