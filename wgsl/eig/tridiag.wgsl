// Symmetric eigensolver for large matrices, in three kernels:
//
//   trd_column    one workgroup (RG invocations), step s of the
//                 reduction to tridiagonal form (LAPACK sytd2, lower):
//                 from y = A22·v_{s−1} (left by trd_update) it forms
//                 w_{s−1} = τ·y − (τ²/2)(yᵀv)·v, applies the rank-2 update
//                 A22 −= v·wᵀ + w·vᵀ to column s only, writes d_s, and
//                 builds the reflector of column s (LAPACK larfg):
//                 v_s (1 at row s + 1), τ_s, e_s = β. v_s goes to a vector
//                 slot and below the diagonal of column s + 1 of `h`,
//                 τ_s to tau[s + 1] (so that `h`, `tau` hold the
//                 reflectors in geqrf form, the first one the identity).
//   trd_update    4 columns per workgroup (256 invocations): the rank-2
//                 update of step s − 1 on rows and columns ≥ s + 1, fused
//                 with the product y = A22·v_s of step s, so the trailing
//                 matrix is read and written once per step.
//   trd_bisect    one workgroup of 32 per eigenvalue of the tridiagonal T
//                 (split into unreduced blocks by the host): multisection
//                 on Sturm counts for the k-th eigenvalue of its block.
//   trd_vectors   one invocation per eigenvalue: the eigenvector from
//                 the twisted factorization
//                 T − λI = L₊D₊L₊ᵀ = U₋D₋U₋ᵀ at the twist r minimizing
//                 |γ_r| (γ_k = D₊_k + D₋_k − (d_k − λ)): z_r = 1,
//                 z_i = −(e_i/D₊_i)·z_{i+1} above r, z_{i+1} = −(e_i/D₋_{i+1})·z_i
//                 below. Vector j is row j of `a` (n×n, so a warp writes
//                 consecutive words); D₊ is kept there and D₋ in `vw`
//                 while it is computed.
//   trd_defect    max |G_ij − δ_ij| over the lower triangle of a Gram
//                 matrix (atomic max of the bits of non-negative floats;
//                 a NaN reads back as NaN).
//
// The input is scaled by the host so that ‖A‖_∞ < 1: no square in the
// reflector norms overflows. Kernels run without runtime bounds checks:
// every global access is guarded.

struct TrdParams {
    n: u32,       // order
    jobs: u32,    // eigenvalues to compute (trd_bisect, trd_vectors)
    pivmin: f32,  // smallest |pivot| of a Sturm sequence
    pad0: u32,
}

@group(0) @binding(0) var<uniform> p: TrdParams;
// the matrix being reduced (n×n); the eigenvectors as rows (trd_vectors);
// the Gram matrix (trd_defect)
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
// 4n words: v slot 0 | v slot 1 | w | y (reduction); D₋ (trd_vectors)
@group(0) @binding(2) var<storage, read_write> vw: array<f32>;
// 2n words: d | e
@group(0) @binding(3) var<storage, read_write> de: array<f32>;
// n words: tau[0] = 0, tau[s + 1] = τ_s
@group(0) @binding(4) var<storage, read_write> tau: array<f32>;
// n×n: v_s below the diagonal of column s + 1
@group(0) @binding(5) var<storage, read_write> h: array<f32>;
// per eigenvalue: (first row, end row, index in the block, unused)
@group(0) @binding(6) var<storage, read> jobs: array<vec4<u32>>;
// per eigenvalue: (lower bound, upper bound, eigenvalue out, unused)
@group(0) @binding(7) var<storage, read_write> lohi: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> flag: array<atomic<u32>>;
// `a` and `vw` as vec4 (trd_update4, n a multiple of 4)
@group(0) @binding(9) var<storage, read_write> a4: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> vw4: array<vec4<f32>>;
// the reduction's step counter: trd_column of step s reads s and leaves
// s + 1, trd_update reads s + 1 (so every dispatch of the reduction has
// the same parameters, and the host records them cheaply)
@group(0) @binding(11) var<storage, read_write> step: array<u32>;

fn step_now() -> u32 {
    if (arrayLength(&step) > 0u) {
        return step[0];
    }
    return 0u;
}

// invocations of trd_column (a multiple of 32, at most 1024)
override RG: u32 = 1024u;
const UG: u32 = 256u;

var<workgroup> red: array<f32, 1024>;
var<workgroup> red2: array<f32, 32>;
var<workgroup> ash: f32;
var<workgroup> wstep: u32;
var<workgroup> ured: array<f32, 2048>;
var<workgroup> ured2: array<f32, 256>;

fn lda_(i: u32, j: u32) -> f32 {
    let idx = i + j * p.n;
    if (idx < arrayLength(&a)) {
        return a[idx];
    }
    return 0.0;
}

fn sta(i: u32, j: u32, v: f32) {
    let idx = i + j * p.n;
    if (idx < arrayLength(&a)) {
        a[idx] = v;
    }
}

fn vget(k: u32) -> f32 {
    if (k < arrayLength(&vw)) {
        return vw[k];
    }
    return 0.0;
}

fn vset(k: u32, v: f32) {
    if (k < arrayLength(&vw)) {
        vw[k] = v;
    }
}

fn deget(k: u32) -> f32 {
    if (k < arrayLength(&de)) {
        return de[k];
    }
    return 0.0;
}

fn deset(k: u32, v: f32) {
    if (k < arrayLength(&de)) {
        de[k] = v;
    }
}

// Σ x over the workgroup of RG invocations (called in uniform control flow).
fn wg_sum(t: u32, x: f32) -> f32 {
    red[t] = x;
    workgroupBarrier();
    if (t < 32u) {
        var z = 0.0;
        for (var q = 0u; q < RG / 32u; q++) {
            z += red[q * 32u + t];
        }
        red2[t] = z;
    }
    workgroupBarrier();
    var tot = 0.0;
    for (var q = 0u; q < 32u; q++) {
        tot += red2[q];
    }
    return tot;
}

// Entry x of row r of column s after step s − 1's rank-2 update, which
// also stores w_{s−1}[r] = τ·y[r] − c2·v[r] (v in the slot at vp, y at
// 3n, w at 2n; ws = w[s], v[s] = 1).
fn updated(r: u32, x: f32, vp: u32, tp: f32, c2: f32, ws: f32) -> f32 {
    let n = p.n;
    let vr = vget(vp + r);
    let wr = tp * vget(3u * n + r) - c2 * vr;
    vset(2u * n + r, wr);
    return x - vr * ws - wr;
}

// Rows of column s each invocation of trd_column keeps in registers
// (rows s + t + k·RG, k < KR); rows beyond s + KR·RG go through memory.
const KR: u32 = 8u;

@compute @workgroup_size(RG, 1, 1)
fn trd_column(@builtin(local_invocation_index) t: u32) {
    let n = p.n;
    if (t == 0u) {
        wstep = step_now();
    }
    let s = workgroupUniformLoad(&wstep);
    let vp = ((s + 1u) & 1u) * n; // slot of v_{s−1}
    let vn = (s & 1u) * n;        // slot of v_s
    let yo = 3u * n;
    let first = s == 0u;
    // ---- w_{s−1} = τ·y − (τ²/2)(yᵀv)·v on rows ≥ s (all loads first)
    var tp = 0.0;
    if (!first) {
        tp = select(0.0, tau[s], s < arrayLength(&tau));
    }
    // (only x stays in registers: y and v are read again, from cache)
    var xa: array<f32, KR>;
    var part = 0.0;
    for (var k = 0u; k < KR; k++) {
        let r = s + t + k * RG;
        let ok = r < n;
        xa[k] = select(0.0, lda_(r, s), ok);
        if (!first) {
            part = fma(select(0.0, vget(yo + r), ok), select(0.0, vget(vp + r), ok), part);
        }
    }
    if (!first) {
        for (var r = s + t + KR * RG; r < n; r += RG) {
            part = fma(vget(yo + r), vget(vp + r), part);
        }
    }
    let yv = wg_sum(t, part);
    let c2 = 0.5 * tp * tp * yv;
    var ws = 0.0;
    if (!first) {
        ws = tp * vget(yo + s) - c2; // w at row s (v_{s−1}[s] = 1)
    }
    // ---- column s after the update; Σ x² below row s + 1
    var ss = 0.0;
    for (var k = 0u; k < KR; k++) {
        let r = s + t + k * RG;
        if (r < n) {
            var x = xa[k];
            if (!first) {
                x = updated(r, x, vp, tp, c2, ws);
            }
            xa[k] = x;
            if (r == s) {
                deset(s, x);
            } else if (r == s + 1u) {
                ash = x;
            } else {
                ss = fma(x, x, ss);
            }
        }
    }
    for (var r = s + t + KR * RG; r < n; r += RG) {
        var x = lda_(r, s);
        if (!first) {
            x = updated(r, x, vp, tp, c2, ws);
        }
        sta(r, s, x);
        ss = fma(x, x, ss);
    }
    let sx = wg_sum(t, ss);
    if (s + 1u < n) {
        // ---- reflector of column s (larfg)
        let alpha = ash;
        var tj = 0.0;
        var beta = alpha;
        var scale = 0.0;
        if (sx > 0.0) {
            let nr = sqrt(fma(alpha, alpha, sx));
            beta = select(nr, -nr, alpha >= 0.0);
            tj = (beta - alpha) / beta;
            scale = 1.0 / (alpha - beta);
        }
        if (t == 0u) {
            deset(n + s, beta);
            if (s + 1u < arrayLength(&tau)) {
                tau[s + 1u] = tj;
            }
        }
        for (var k = 0u; k < KR; k++) {
            let r = s + t + k * RG;
            if (r > s && r < n) {
                var v = 1.0;
                if (r > s + 1u) {
                    v = xa[k] * scale;
                    hset(r, s + 1u, v);
                }
                vset(vn + r, v);
            }
        }
        // the rows beyond the registers: each invocation reads what it wrote
        for (var r = s + t + KR * RG; r < n; r += RG) {
            let v = lda_(r, s) * scale;
            hset(r, s + 1u, v);
            vset(vn + r, v);
        }
    }
    // (every invocation has its s from the uniform load above)
    if (t == 0u && arrayLength(&step) > 0u) {
        step[0] = s + 1u;
    }
}

fn hset(i: u32, j: u32, v: f32) {
    let idx = i + j * p.n;
    if (idx < arrayLength(&h)) {
        h[idx] = v;
    }
}

// Columns of the trailing matrix per trd_update workgroup.
const UC: u32 = 4u;

@compute @workgroup_size(256, 1, 1)
fn trd_update(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let n = p.n;
    let s = step_now() - 1u;
    let vp = ((s + 1u) & 1u) * n;
    let vn = (s & 1u) * n;
    let wo = 2u * n;
    let yo = 3u * n;
    let c0 = s + 1u + UC * wid.x;
    let upd = s > 0u;
    var wc: array<f32, UC>;
    var vc: array<f32, UC>;
    if (upd) {
        for (var q = 0u; q < UC; q++) {
            wc[q] = vget(wo + c0 + q);
            vc[q] = vget(vp + c0 + q);
        }
    }
    var acc: array<f32, UC>;
    // four rows per invocation per round, all loads of the round issued
    // before its first store (a store to `a` keeps later loads behind it)
    for (var r0 = s + 1u + t; r0 < n; r0 += 4u * UG) {
        var xr: array<f32, 4>;
        var vr: array<f32, 4>;
        var wr: array<f32, 4>;
        var x: array<array<f32, UC>, 4>;
        for (var u = 0u; u < 4u; u++) {
            let r = r0 + u * UG;
            let ok = r < n;
            xr[u] = select(0.0, vget(vn + r), ok);
            if (upd) {
                vr[u] = select(0.0, vget(vp + r), ok);
                wr[u] = select(0.0, vget(wo + r), ok);
            }
            for (var q = 0u; q < UC; q++) {
                x[u][q] = select(0.0, lda_(r, c0 + q), ok && c0 + q < n);
            }
        }
        for (var u = 0u; u < 4u; u++) {
            let r = r0 + u * UG;
            for (var q = 0u; q < UC; q++) {
                if (upd) {
                    x[u][q] = x[u][q] - (vr[u] * wc[q] + wr[u] * vc[q]);
                    if (r < n && c0 + q < n) {
                        sta(r, c0 + q, x[u][q]);
                    }
                }
                acc[q] = fma(x[u][q], xr[u], acc[q]);
            }
        }
    }
    let tot = column_sums(t, acc);
    let c = c0 + t;
    if (t < UC && c < n) {
        vset(yo + c, tot);
    }
}

// Σ over the UG invocations of acc[q], returned to invocation q < UC
// (conflict-free strides; called in uniform control flow).
fn column_sums(t: u32, acc: array<f32, UC>) -> f32 {
    for (var q = 0u; q < UC; q++) {
        ured[q * UG + t] = acc[q];
    }
    workgroupBarrier();
    // invocation t < 32·UC sums eight entries of column t / 32
    let qc = t >> 5u;
    let lane = t & 31u;
    if (qc < UC) {
        var z = 0.0;
        for (var i = 0u; i < 8u; i++) {
            z += ured[qc * UG + i * 32u + lane];
        }
        ured2[t] = z;
    }
    workgroupBarrier();
    var tot = 0.0;
    if (t < UC) {
        for (var i = 0u; i < 32u; i++) {
            tot += ured2[t * 32u + i];
        }
    }
    return tot;
}

// trd_update with 16-byte accesses (n a multiple of 4): invocation t
// takes rows 4i .. 4i + 4 of the 4 columns of its workgroup; rows above
// s + 1 in the first group are masked (left as they are, and out of y).
@compute @workgroup_size(256, 1, 1)
fn trd_update4(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let n = p.n;
    let n4 = n / 4u;
    let s = step_now() - 1u;
    let vp4 = ((s + 1u) & 1u) * n4;
    let vn4 = (s & 1u) * n4;
    let wo4 = 2u * n4;
    let c0 = s + 1u + UC * wid.x;
    let upd = s > 0u;
    var wc = vec4<f32>(0.0);
    var vc = vec4<f32>(0.0);
    if (upd) {
        for (var q = 0u; q < UC; q++) {
            let c = c0 + q;
            if (c < n) {
                wc[q] = vw4[wo4 + c / 4u][c % 4u];
                vc[q] = vw4[vp4 + c / 4u][c % 4u];
            }
        }
    }
    let len4 = arrayLength(&a4);
    var acc = vec4<f32>(0.0);
    let g0 = (s + 1u) / 4u;
    for (var g = g0 + t; g < n4; g += UG) {
        // rows 4g .. 4g + 4; those above s + 1 count nothing
        let row = vec4<u32>(4u * g) + vec4<u32>(0u, 1u, 2u, 3u);
        let live = row > vec4<u32>(s);
        let zero = vec4<f32>(0.0);
        let xr = select(zero, vw4[vn4 + g], live);
        var vr = zero;
        var wr = zero;
        if (upd) {
            vr = select(zero, vw4[vp4 + g], live);
            wr = select(zero, vw4[wo4 + g], live);
        }
        var x: array<vec4<f32>, UC>;
        for (var q = 0u; q < UC; q++) {
            let idx = g + (c0 + q) * n4;
            if (c0 + q < n && idx < len4) {
                x[q] = a4[idx];
            }
        }
        for (var q = 0u; q < UC; q++) {
            let idx = g + (c0 + q) * n4;
            if (c0 + q < n && idx < len4) {
                if (upd) {
                    x[q] = x[q] - (vr * wc[q] + wr * vc[q]);
                    a4[idx] = x[q];
                }
                acc[q] += dot(x[q], xr);
            }
        }
    }
    var sums: array<f32, UC>;
    for (var q = 0u; q < UC; q++) {
        sums[q] = acc[q];
    }
    let tot = column_sums(t, sums);
    let c = c0 + t;
    if (t < UC && c < n) {
        vw4[3u * n4 + c / 4u][c % 4u] = tot;
    }
}

// Pivot of a Sturm sequence kept away from zero.
fn guarded(q: f32) -> f32 {
    if (abs(q) < p.pivmin) {
        return -p.pivmin;
    }
    return q;
}

// Number of eigenvalues below x of the block of rows b0 .. b1.
fn sturm(b0: u32, b1: u32, x: f32) -> u32 {
    let n = p.n;
    var q = guarded(deget(b0) - x);
    var cnt = select(0u, 1u, q < 0.0);
    for (var i = b0 + 1u; i < b1; i++) {
        let e = deget(n + i - 1u);
        q = guarded((deget(i) - x) - e * (e / q));
        cnt += select(0u, 1u, q < 0.0);
    }
    return cnt;
}

fn dmget(j: u32, i: u32) -> f32 {
    return vget(j + i * p.n);
}

// Multisection rounds of trd_bisect: each shrinks the bracket 33-fold,
// so seven take a Gershgorin bracket below 2^-35 of its width (past
// f32 resolution).
const ROUNDS: u32 = 7u;

var<workgroup> counts: array<u32, 32>;
var<workgroup> bracket: vec2<f32>;

// One workgroup of 32 per eigenvalue: each round, invocation l counts the
// eigenvalues below lo + (hi − lo)·(l + 1)/33, and the bracket becomes
// the sub-interval where the count passes k (count(lo) ≤ k < count(hi)).
@compute @workgroup_size(32, 1, 1)
fn trd_bisect(
    @builtin(local_invocation_index) l: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nw: vec3<u32>,
) {
    let j = wid.x + wid.y * nw.x;
    let valid = j < p.jobs && j < arrayLength(&jobs) && j < arrayLength(&lohi);
    var job = vec4<u32>(0u);
    if (valid) {
        job = jobs[j];
        if (l == 0u) {
            bracket = lohi[j].xy;
        }
    }
    let b0 = job.x;
    let b1 = job.y;
    let k = job.z;
    for (var round = 0u; round < ROUNDS; round++) {
        let lh = workgroupUniformLoad(&bracket);
        let x = lh.x + (lh.y - lh.x) * (f32(l + 1u) / 33.0);
        var c = 0u;
        if (valid && b1 > b0) {
            c = sturm(b0, b1, x);
        }
        counts[l] = c;
        workgroupBarrier();
        if (l == 0u) {
            // first point whose count exceeds k
            var f = 32u;
            for (var q = 32u; q > 0u; q--) {
                if (counts[q - 1u] > k) {
                    f = q - 1u;
                }
            }
            let w = lh.y - lh.x;
            var lo = lh.x;
            var hi = lh.y;
            if (f < 32u) {
                hi = max(lh.x + w * (f32(f + 1u) / 33.0), lo);
            }
            if (f > 0u) {
                lo = min(lh.x + w * (f32(f) / 33.0), hi);
            }
            bracket = vec2<f32>(lo, hi);
        }
    }
    let lh = workgroupUniformLoad(&bracket);
    if (valid && l == 0u) {
        lohi[j].z = 0.5 * (lh.x + lh.y);
    }
}

// One invocation per eigenvalue (from trd_bisect): its vector.
@compute @workgroup_size(32, 1, 1)
fn trd_vectors(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    if (j >= p.jobs || j >= arrayLength(&jobs) || j >= arrayLength(&lohi)) {
        return;
    }
    let n = p.n;
    let job = jobs[j];
    let b0 = job.x;
    let b1 = job.y;
    let lam = lohi[j].z;
    // ---- twisted factorization: D₊ forward (into the row of the vector:
    // entry (j, i) of `a`), D₋ backward (into vw), the twist where |γ|
    // is smallest
    var dp = 1.0;
    for (var i = b0; i < b1; i++) {
        var q = deget(i) - lam;
        if (i > b0) {
            let e = deget(n + i - 1u);
            q = q - e * (e / dp);
        }
        dp = guarded(q);
        sta(j, i, dp);
    }
    var dm = 1.0;
    var best = 3.0e38;
    var r = b1 - 1u;
    for (var i = b1; i > b0; i--) {
        let ii = i - 1u;
        let di = deget(ii) - lam;
        var q = di;
        if (ii + 1u < b1) {
            let e = deget(n + ii);
            q = q - e * (e / dm);
        }
        dm = guarded(q);
        vset(j + ii * n, dm);
        let g = abs(lda_(j, ii) + dm - di);
        if (g < best) {
            best = g;
            r = ii;
        }
    }
    // ---- z from the twist outwards; then unit length, zeros outside
    sta(j, r, 1.0);
    var nz = 1.0;
    var z = 1.0;
    for (var i = r; i > b0; i--) {
        let ii = i - 1u;
        z = -(deget(n + ii) / lda_(j, ii)) * z;
        sta(j, ii, z);
        nz = fma(z, z, nz);
    }
    z = 1.0;
    for (var i = r; i + 1u < b1; i++) {
        z = -(deget(n + i) / dmget(j, i + 1u)) * z;
        sta(j, i + 1u, z);
        nz = fma(z, z, nz);
    }
    let inv = 1.0 / sqrt(nz);
    for (var i = 0u; i < n; i++) {
        if (i < b0 || i >= b1) {
            sta(j, i, 0.0);
        } else {
            sta(j, i, lda_(j, i) * inv);
        }
    }
}

@compute @workgroup_size(256, 1, 1)
fn trd_defect(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nw: vec3<u32>,
) {
    let n = p.n;
    // columns wid.x, wid.x + groups, …; rows ≥ the column
    var mx = 0.0;
    var bad = false;
    for (var c = wid.x; c < n; c += nw.x) {
        for (var r = c + t; r < n; r += UG) {
            let g = lda_(r, c) - select(0.0, 1.0, r == c);
            let bits = bitcast<u32>(g) & 0x7fffffffu;
            bad = bad || bits > 0x7f800000u;
            mx = max(mx, abs(g));
        }
    }
    publish_max(t, mx, bad);
}

// max over i of max(0, 1 − L_ii) for the Cholesky factor L of a Gram
// matrix of unit vectors (1 − L_ii is the part of vector i that lies in
// the span of the earlier ones); NaN bits for a NaN.
@compute @workgroup_size(256, 1, 1)
fn trd_pivots(@builtin(local_invocation_index) t: u32) {
    let n = p.n;
    var mx = 0.0;
    var bad = false;
    for (var i = t; i < n; i += UG) {
        let l = lda_(i, i);
        bad = bad || (bitcast<u32>(l) & 0x7fffffffu) > 0x7f800000u;
        mx = max(mx, 1.0 - l);
    }
    publish_max(t, mx, bad);
}

// flag[0] = max(flag[0], max over the UG invocations of mx ≥ 0), as bits
// (non-negative floats order as their bits); a NaN anywhere (`bad`) reads
// back as NaN, its bits exceeding those of +inf (tested on the bits,
// since a compiler may assume x == x). Called in uniform control flow.
fn publish_max(t: u32, mx: f32, bad: bool) {
    red[t] = bitcast<f32>(select(bitcast<u32>(mx), 0x7fc00000u, bad));
    workgroupBarrier();
    if (t == 0u) {
        var z = 0u;
        for (var q = 0u; q < UG; q++) {
            z = max(z, bitcast<u32>(red[q]) & 0x7fffffffu);
        }
        if (arrayLength(&flag) > 0u) {
            atomicMax(&flag[0], z);
        }
    }
}
