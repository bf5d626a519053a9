// The B slab of the 128×128 kernel (tiled.wgsl) with element loads, and the
// slab interface tiled.wgsl calls: BK-deep slabs of op(A) (slab_a.wgsl)
// and op(B) staged in two workgroup-memory stages of STAGE vec4 each.
// slab4.wgsl is the same interface with vector loads.

const STAGE: u32 = 256u; // BK · ROW4

var<workgroup> Bs: array<vec4<f32>, 512>; // two stages of [BK][BN/4], BN = BM

// The part of one slab an invocation carries from global to workgroup
// memory.
struct Slab {
    a: vec4<f32>,
    b: vec4<f32>,
}

fn fetch_b(base: u32, bj: u32, k0: u32, t: u32) -> vec4<f32> {
    if (TB) {
        let j = bj + (t % ROW4);
        let l = k0 + t / ROW4;
        return vec4<f32>(b_at(base, l, j), b_at(base, l, j + 32u), b_at(base, l, j + 64u), b_at(base, l, j + 96u));
    }
    let j = bj + t / 2u;
    let l = k0 + (t % 2u) * 4u;
    return vec4<f32>(b_at(base, l, j), b_at(base, l + 1u, j), b_at(base, l + 2u, j), b_at(base, l + 3u, j));
}

fn stash_b(v: vec4<f32>, t: u32, off: u32) {
    if (TB) {
        let row = (t / ROW4) * ROW4;
        let r = t % ROW4;
        Bs[off + row + r / 4u][r % 4u] = v.x;
        Bs[off + row + (r + 32u) / 4u][r % 4u] = v.y;
        Bs[off + row + (r + 64u) / 4u][r % 4u] = v.z;
        Bs[off + row + (r + 96u) / 4u][r % 4u] = v.w;
    } else {
        let j = t / 2u;
        let l = (t % 2u) * 4u;
        let slot = j / 4u;
        let lane = j % 4u;
        Bs[off + l * ROW4 + slot][lane] = v.x;
        Bs[off + (l + 1u) * ROW4 + slot][lane] = v.y;
        Bs[off + (l + 2u) * ROW4 + slot][lane] = v.z;
        Bs[off + (l + 3u) * ROW4 + slot][lane] = v.w;
    }
}

fn fetch_slab(a_base: u32, b_base: u32, bi: u32, bj: u32, k0: u32, t: u32) -> Slab {
    return Slab(fetch_a(a_base, bi, k0, t), fetch_b(b_base, bj, k0, t));
}

fn stash_slab(s: Slab, t: u32, off: u32) {
    stash_a(s.a, t, off);
    stash_b(s.b, t, off);
}
