// Two-pass modified Gram–Schmidt (the column loop runs on the host, which
// only records dispatches; nothing is read back). Needs the
// common/twosum.wgsl helpers. For column k of Q (m×n, leading dimension
// ldq, holding A's column k on entry):
//   mgs_proj       c[i] = Q[:, i]ᵀ·Q[:, k] for i < k, one workgroup per i,
//                  double-float (TwoProd/TwoSum) accumulation; pass 0 stores
//                  R[i, k] = c[i], pass 1 adds it (R[:k, k] = c1 + c2).
//   mgs_update     Q[:, k] −= Q[:, :k]·c, one invocation per row.
//   mgs_normalize  r_kk = ‖Q[:, k]‖ (power-of-two scaled, double-float sum
//                  of squares) into R[k, k], then Q[:, k] /= r_kk (left as
//                  is when r_kk = 0), in one workgroup.
// Every global access is guarded (kernels run without bounds checks).

struct MgsParams {
    m: u32,
    n: u32,
    k: u32,
    ldq: u32,
    ldr: u32,
    pass_: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: MgsParams;
@group(0) @binding(1) var<storage, read_write> q: array<f32>;
@group(0) @binding(2) var<storage, read_write> r: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const WG: u32 = 256u;
var<workgroup> red: array<vec2<f32>, 256>;

fn qv(i: u32, j: u32) -> f32 {
    let idx = i + j * p.ldq;
    if (idx < arrayLength(&q)) {
        return q[idx];
    }
    return 0.0;
}

@compute @workgroup_size(256, 1, 1)
fn mgs_proj(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    // workgroup-uniform: the whole workgroup leaves together
    let i = wid.x + wid.y * groups.x;
    if (i >= p.k) {
        return;
    }
    var acc = vec2<f32>(0.0);
    for (var row = t; row < p.m; row += WG) {
        acc = df_add(acc, two_prod(qv(row, i), qv(row, p.k)));
    }
    let s = tree_dfsum(t, acc);
    if (t == 0u) {
        let v = s.x + s.y;
        if (i < arrayLength(&c)) {
            c[i] = v;
        }
        let ri = i + p.k * p.ldr;
        if (ri < arrayLength(&r)) {
            if (p.pass_ == 0u) {
                r[ri] = v;
            } else {
                r[ri] = r[ri] + v;
            }
        }
    }
}

@compute @workgroup_size(256, 1, 1)
fn mgs_update(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let row = gid.x + gid.y * groups.x * WG;
    let idx = row + p.k * p.ldq;
    if (row >= p.m || idx >= arrayLength(&q)) {
        return;
    }
    let kc = min(p.k, arrayLength(&c));
    var v = q[idx];
    for (var i = 0u; i < kc; i++) {
        v = fma(-qv(row, i), c[i], v);
    }
    q[idx] = v;
}

@compute @workgroup_size(256, 1, 1)
fn mgs_normalize(@builtin(local_invocation_index) t: u32) {
    let k = p.k;
    var mx = 0.0;
    for (var row = t; row < p.m; row += WG) {
        mx = max(mx, abs(qv(row, k)));
    }
    mx = tree_max(t, mx);
    var e = 0;
    if (mx > 0.0) {
        // 2^−e·mx in [0.5, 1), from the exponent bits (no rounding)
        e = max(i32((bitcast<u32>(mx) >> 23u) & 0xffu) - 126, -125);
    }
    var acc = vec2<f32>(0.0);
    for (var row = t; row < p.m; row += WG) {
        let x = ldexp(qv(row, k), -e);
        acc = df_add(acc, two_prod(x, x));
    }
    let ssq = tree_dfsum(t, acc);
    // scaled norm: sqrt of the double-float with one Newton correction
    var ns = 0.0;
    if (ssq.x > 0.0) {
        let s0 = sqrt(ssq.x);
        let sq = two_prod(s0, s0);
        ns = s0 + (((ssq.x - sq.x) - sq.y) + ssq.y) / (2.0 * s0);
    }
    if (t == 0u) {
        let ri = k + k * p.ldr;
        if (ri < arrayLength(&r)) {
            r[ri] = ldexp(ns, e);
        }
    }
    if (ns > 0.0) {
        for (var row = t; row < p.m; row += WG) {
            let idx = row + k * p.ldq;
            if (idx < arrayLength(&q)) {
                q[idx] = ldexp(q[idx], -e) / ns;
            }
        }
    }
}
