// Blocked Householder QR (LAPACK geqrf / orgqr pattern). Needs the
// common/twosum.wgsl helpers (assembled in front of this file).
//
//   geqr2_panel   one workgroup (1024 invocations) factorizes the panel of
//                 columns j0 .. j0+jb (rows j0 .. m) in place, column by
//                 column (LAPACK geqr2 + larfg): reflector norms as a power-of-two-scaled,
//                 double-float (TwoSum/TwoProd) sum of squares; the
//                 reflector applied to the rest of the panel with one
//                 workgroup reduction per column. It then builds the
//                 jb×jb upper-triangular T of the compact WY form
//                 (LAPACK larft, forward/columnwise: H_0·…·H_{jb−1} =
//                 I − V·T·Vᵀ) and stores it in columns j0 .. j0+jb of `tf`
//                 (leading dimension ldt), with exact zeros below the
//                 diagonal. tau[j] follows LAPACK: H = I − tau·v·vᵀ, v(0) = 1.
//   pack_v        V of one panel (unit diagonal, zeros above, the stored
//                 vectors below) packed (m − j0)×jb into `outm`, for the
//                 larfb GEMMs (a buffer cannot be bound read-only and
//                 read-write in one dispatch).
//   extract_r     R (rows × cols, leading dimension ldo) from the factored
//                 matrix, with exact zeros below the diagonal.
//   set_identity  columns j0 .. j0+cols of the rows×rows identity.
//
// Kernels run without runtime bounds checks: every global access goes
// through a guarded helper, workgroup arrays are indexed below their
// constant sizes (panel width jb ≤ 64 is checked on the host).

struct QrParams {
    m: u32,      // rows of the matrix in `a`
    n: u32,      // columns of the matrix in `a`
    lda: u32,    // leading dimension of `a`
    j0: u32,     // first column of the panel
    jb: u32,     // panel width (≤ 64)
    ldt: u32,    // leading dimension of `tf`
    rows: u32,   // rows of the output block (pack_v, extract_r, set_identity)
    cols: u32,   // columns of the output block
    ldo: u32,    // leading dimension of `outm`
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: QrParams;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> tau: array<f32>;
@group(0) @binding(3) var<storage, read_write> tf: array<f32>;
@group(0) @binding(4) var<storage, read_write> outm: array<f32>;

const WG: u32 = 1024u;
const NBMAX: u32 = 64u;

var<workgroup> red: array<vec2<f32>, 1024>;
var<workgroup> part: array<f32, 1024>;
var<workgroup> wsh: array<f32, 64>;
var<workgroup> taush: array<f32, 64>;
// T of the panel, column-major with leading dimension NBMAX (16 KiB).
var<workgroup> tsh: array<f32, 4096>;
// (tau, alpha − beta scaled, scale exponent, unused) of the current column.
var<workgroup> bc: vec4<f32>;

fn ai(i: u32, j: u32) -> u32 {
    return i + j * p.lda;
}

fn lda_(i: u32, j: u32) -> f32 {
    let idx = ai(i, j);
    if (idx < arrayLength(&a)) {
        return a[idx];
    }
    return 0.0;
}

fn sta(i: u32, j: u32, v: f32) {
    let idx = ai(i, j);
    if (idx < arrayLength(&a)) {
        a[idx] = v;
    }
}

// Exponent e with 2^−e·mx in [0.5, 1) for a normal mx > 0 (clamped for
// subnormals), read from the bits so that no rounding is involved.
fn exp_of(mx: f32) -> i32 {
    let biased = i32((bitcast<u32>(mx) >> 23u) & 0xffu);
    return max(biased - 126, -125);
}

// sqrt(hi + lo) of a double-float, with one Newton correction.
fn df_sqrt(x: vec2<f32>) -> f32 {
    if (x.x <= 0.0) {
        return 0.0;
    }
    let s = sqrt(x.x);
    let sq = two_prod(s, s);
    let r = ((x.x - sq.x) - sq.y) + x.y;
    return s + r / (2.0 * s);
}

// Largest power of two l ≤ WG with l·nt ≤ WG (nt ≥ 1).
fn lanes_for(nt: u32) -> u32 {
    var l = WG;
    while (l > 1u && l * nt > WG) {
        l = l / 2u;
    }
    return l;
}

// Σ_{i = i0, i0+step, … < m} v(i)·a[i, c] with v(i) = a[i, cv] below row
// r1 and 1 at row r1 (v is zero above), eight independent accumulators
// (sixteen loads in flight).
fn dot_v(i0: u32, step: u32, m: u32, cv: u32, r1: u32, c: u32) -> f32 {
    var s: array<f32, 8>;
    var i = i0;
    loop {
        if (i + 7u * step >= m) {
            break;
        }
        var x: array<f32, 8>;
        var y: array<f32, 8>;
        for (var q = 0u; q < 8u; q++) {
            x[q] = lda_(i + q * step, cv);
            y[q] = lda_(i + q * step, c);
        }
        x[0] = select(x[0], 1.0, i == r1);
        for (var q = 0u; q < 8u; q++) {
            s[q] = fma(x[q], y[q], s[q]);
        }
        i += 8u * step;
    }
    for (; i < m; i += step) {
        s[0] = fma(select(lda_(i, cv), 1.0, i == r1), lda_(i, c), s[0]);
    }
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// x·2^k for k ≤ 0 with normal factors only (ldexp may flush below 2^−126).
fn scale2(x: vec2<f32>, k: i32) -> vec2<f32> {
    if (k >= -126) {
        return x * bitcast<f32>(u32(k + 127) << 23u);
    }
    if (k >= -252) {
        return (x * bitcast<f32>(1u << 23u)) * bitcast<f32>(u32(k + 253) << 23u);
    }
    return vec2<f32>(0.0);
}

const NO_EXP: f32 = -1000.0; // exponent of an empty (all-zero) part

// Joins two (exponent e, double-float Σ x²·2^(−2e)) parts: the smaller
// one is rescaled by an exact power of two.
fn nrm_join(ea: f32, sa: vec2<f32>, eb: f32, sb: vec2<f32>) -> vec3<f32> {
    let e = max(ea, eb);
    if (e == NO_EXP) {
        return vec3<f32>(NO_EXP, 0.0, 0.0);
    }
    let xa = scale2(sa, 2 * i32(ea - e));
    let xb = scale2(sb, 2 * i32(eb - e));
    return vec3<f32>(e, df_add(xa, xb));
}

// One level of the norm reduction: invocation t < width joins the eight
// parts t, t + width, …, t + 7·width of (part, red) into slot t.
fn nrm_level(t: u32, width: u32) {
    if (t < width) {
        var r = vec3<f32>(part[t], red[t]);
        for (var q = 1u; q < 8u; q++) {
            let k = t + q * width;
            r = nrm_join(r.x, r.yz, part[k], red[k]);
        }
        part[t] = r.x;
        red[t] = r.yz;
    }
}

@compute @workgroup_size(1024, 1, 1)
fn geqr2_panel(@builtin(local_invocation_index) t: u32) {
    let m = p.m;
    let j0 = p.j0;
    let jb = min(p.jb, NBMAX);
    for (var j = 0u; j < jb; j++) {
        let col = j0 + j;
        // ---- reflector of column col (LAPACK larfg). Invocation t takes
        // rows col + 1 + t + k·WG: the exponent ek of its own max |a| and
        // Σ (a·2^−ek)² over those rows (the max and the sum over the same
        // rows, so no nonzero can hide behind a zero max); invocation 0
        // also takes α = a[col, col] into its max, so the joined exponent
        // is that of the whole column's max.
        var mx = 0.0;
        if (t == 0u) {
            mx = abs(lda_(col, col));
        }
        for (var i = col + 1u + t; i < m; i += WG) {
            mx = max(mx, abs(lda_(i, col)));
        }
        var ek = NO_EXP;
        var acc = vec2<f32>(0.0);
        if (mx > 0.0) {
            let e = exp_of(mx);
            ek = f32(e);
            for (var i = col + 1u + t; i < m; i += WG) {
                let x = ldexp(lda_(i, col), -e);
                acc = df_add(acc, two_prod(x, x));
            }
        }
        part[t] = ek;
        red[t] = acc;
        workgroupBarrier();
        nrm_level(t, 128u);
        workgroupBarrier();
        nrm_level(t, 16u);
        workgroupBarrier();
        if (t == 0u) {
            var r = vec3<f32>(part[0], red[0]);
            for (var q = 1u; q < 16u; q++) {
                r = nrm_join(r.x, r.yz, part[q], red[q]);
            }
            // the exponent of the column's max (0 for a zero column)
            var e = 0;
            if (r.x != NO_EXP) {
                e = i32(r.x);
            }
            let ssq = r.yz;
            let alpha = lda_(col, col);
            var tj = 0.0;
            var den = 1.0;
            if (ssq.x > 0.0) {
                let al = ldexp(alpha, -e);
                let tot = df_add(ssq, two_prod(al, al));
                let nrm = df_sqrt(tot);
                let beta = select(nrm, -nrm, al >= 0.0);
                tj = (beta - al) / beta;
                den = al - beta;
                sta(col, col, ldexp(beta, e));
            }
            if (col < arrayLength(&tau)) {
                tau[col] = tj;
            }
            taush[j] = tj;
            bc = vec4<f32>(tj, den, f32(e), 0.0);
        }
        workgroupBarrier();
        let tj = bc.x;
        let den = bc.y;
        let es = i32(bc.z);
        if (tj != 0.0) {
            for (var i0 = col + 1u + t; i0 < m; i0 += 8u * WG) {
                var x: array<f32, 8>;
                for (var q = 0u; q < 8u; q++) {
                    x[q] = lda_(i0 + q * WG, col);
                }
                for (var q = 0u; q < 8u; q++) {
                    let i = i0 + q * WG;
                    if (i < m) {
                        sta(i, col, ldexp(x[q], -es) / den);
                    }
                }
            }
        }
        storageBarrier();
        // ---- apply H = I − tau·v·vᵀ to the panel columns right of col
        // (runs when tau = 0 too, as a no-op: barriers stay in uniform
        // control flow)
        let nt = jb - j - 1u;
        if (nt > 0u) {
            let lanes = lanes_for(nt);
            let lg = countTrailingZeros(lanes);
            let cc = t >> lg;
            let g = t & (lanes - 1u);
            var s = 0.0;
            if (cc < nt) {
                s = dot_v(col + g, lanes, m, col, col, col + 1u + cc);
            }
            part[t] = s;
            workgroupBarrier();
            if (t < nt) {
                // lanes ≥ 16 (nt ≤ 64): four interleaved partial sums
                var w4 = vec4<f32>(0.0);
                for (var q = 0u; q < lanes; q += 4u) {
                    let b = t * lanes + q;
                    w4 += vec4<f32>(part[b], part[b + 1u], part[b + 2u], part[b + 3u]);
                }
                wsh[t] = tj * ((w4.x + w4.y) + (w4.z + w4.w));
            }
            workgroupBarrier();
            if (cc < nt) {
                let c = col + 1u + cc;
                let w = wsh[cc];
                for (var i0 = col + g; i0 < m; i0 += 8u * lanes) {
                    var v: array<f32, 8>;
                    var x: array<f32, 8>;
                    for (var q = 0u; q < 8u; q++) {
                        v[q] = lda_(i0 + q * lanes, col);
                        x[q] = lda_(i0 + q * lanes, c);
                    }
                    v[0] = select(v[0], 1.0, i0 == col);
                    for (var q = 0u; q < 8u; q++) {
                        let i = i0 + q * lanes;
                        if (i < m) {
                            sta(i, c, fma(-v[q], w, x[q]));
                        }
                    }
                }
            }
            storageBarrier();
        }
    }
    build_t(t, j0, jb, m);
}

// T of the compact WY form of the jb reflectors of columns j0 .. j0+jb
// (LAPACK larft, forward, columnwise) from V in `a` and tau in `taush`,
// stored in columns j0 .. j0+jb of `tf` with exact zeros below the
// diagonal: T[i, i] = tau_i; T[0:i, i] = −tau_i · T[0:i, 0:i] · (V[:, 0:i]ᵀ v_i).
fn build_t(t: u32, j0: u32, jb: u32, m: u32) {
    for (var i = 0u; i < jb; i++) {
        if (i > 0u) {
            let lanes = lanes_for(i);
            let lg = countTrailingZeros(lanes);
            let cc = t >> lg;
            let g = t & (lanes - 1u);
            var s = 0.0;
            if (cc < i) {
                // v_i is 1 at row j0 + i and zero above
                s = dot_v(j0 + i + g, lanes, m, j0 + i, j0 + i, j0 + cc);
            }
            part[t] = s;
            workgroupBarrier();
            if (t < i) {
                var z = 0.0;
                for (var q = 0u; q < lanes; q++) {
                    z += part[t * lanes + q];
                }
                wsh[t] = z;
            }
            workgroupBarrier();
        }
        t_column(t, i, taush[i]);
        workgroupBarrier();
    }
    store_t(t, j0, jb);
}

// Column i of T from wsh[q] = v_qᵀv_i (q < i): T[0:i, i] =
// −tau_i·T[0:i, 0:i]·wsh[0:i], T[i, i] = tau_i (the caller puts a barrier
// between columns).
fn t_column(t: u32, i: u32, ti: f32) {
    if (t < i) {
        var acc = 0.0;
        for (var q = t; q < i; q++) {
            acc = fma(tsh[t + q * NBMAX], wsh[q], acc);
        }
        tsh[t + i * NBMAX] = -ti * acc;
    }
    if (t == 0u) {
        tsh[i + i * NBMAX] = ti;
    }
}

// The jb×jb T in tsh into columns j0 .. j0+jb of `tf` (leading dimension
// p.ldt), exact zeros below the diagonal.
fn store_t(t: u32, j0: u32, jb: u32) {
    for (var e = t; e < jb * jb; e += WG) {
        put_t(j0, e % jb, e / jb, tsh[e % jb + (e / jb) * NBMAX]);
    }
}

// T[r, c] = v into column j0 + c of `tf` (leading dimension p.ldt), an
// exact zero below the diagonal.
fn put_t(j0: u32, r: u32, c: u32, v: f32) {
    let idx = r + (j0 + c) * p.ldt;
    if (idx < arrayLength(&tf)) {
        tf[idx] = select(0.0, v, r <= c);
    }
}

// LAPACK larft alone: T of every panel of reflectors already stored in
// `a` (V below the diagonal) and `tau`, one workgroup per panel (panel
// w at columns w·jb .., its width min(jb, n − w·jb), n = p.n ≤ m).
@compute @workgroup_size(1024, 1, 1)
fn larft_panel(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let j0 = wid.x * p.jb;
    let jb = min(min(p.jb, NBMAX), p.n - min(j0, p.n));
    if (t < jb) {
        let k = j0 + t;
        taush[t] = select(0.0, tau[k], k < arrayLength(&tau));
    }
    workgroupBarrier();
    build_t(t, j0, jb, p.m);
}

// T of the compact WY form of the jb reflectors of columns j0 .. j0+jb
// from their Gram matrix G = VᵀV (jb × jb in `outm`, leading dimension
// p.ldo; V unit lower trapezoidal, as pack_v leaves it) and tau, in one
// workgroup, by doubling: T of each 8-wide group of reflectors by larft's
// recurrence (T[q, j] = −tau_j·Σ_{q ≤ k < j} T[q, k]·G[k, j], one row per
// invocation, which needs only that row's earlier entries), then for
// s = 8, 16, 32 the T of each 2s-wide group from its halves' T1 and T2 as
// [T1 −T1·G12·T2; 0 T2] (Y = G12·T2 staged in T12's slots, then
// T12 = −T1·Y), one element per invocation. 11 barriers, where the
// column recurrence took two per column (128). T lives in gt's upper
// triangle, G's strict upper triangle in gt's strict lower one
// (G[k, j] at gt[j + k·GLD]); the leading dimension 65 keeps a warp's
// column-varying reads on distinct banks. Stored like build_t: columns
// j0 .. j0+jb of `tf`, exact zeros below the diagonal. For the outer
// blocks of the two-level QR (record_geqrf).
const GLD: u32 = 65u;
var<workgroup> gt: array<f32, 4160>; // 64 × GLD

@compute @workgroup_size(1024, 1, 1)
fn t_from_gram(@builtin(local_invocation_index) t: u32) {
    let j0 = p.j0;
    let jb = min(p.jb, NBMAX);
    for (var e = t; e < NBMAX * NBMAX; e += WG) {
        // slot (row, col): G[col, row] below the diagonal, T (zero for
        // now) on and above it
        let row = e % NBMAX;
        let col = e / NBMAX;
        var g = 0.0;
        if (col < row && row < jb) {
            g = outm[col + row * p.ldo];
        }
        gt[row + col * GLD] = g;
    }
    if (t < NBMAX) {
        let i = j0 + t;
        taush[t] = select(0.0, tau[min(i, arrayLength(&tau) - 1u)], t < jb && i < arrayLength(&tau));
    }
    workgroupBarrier();
    // the 8×8 diagonal blocks: invocation (block, row q)
    if (t < NBMAX) {
        let o = (t / 8u) * 8u;
        let q = o + t % 8u;
        gt[q + q * GLD] = taush[q];
        for (var j = q + 1u; j < o + 8u; j++) {
            var acc = 0.0;
            for (var k = q; k < j; k++) {
                acc = fma(gt[q + k * GLD], gt[j + k * GLD], acc);
            }
            gt[q + j * GLD] = -taush[j] * acc;
        }
    }
    workgroupBarrier();
    for (var s = 8u; s < NBMAX; s *= 2u) {
        // element (pair, r, c) of the s×s block T12 of each 2s-wide pair
        let live = t < 32u * s;
        let o = (t / (s * s)) * 2u * s;
        let r = (t / s) % s;
        let c = t % s;
        var y = 0.0;
        if (live) {
            // Y[r, c] = Σ_{k ≤ c} G[o + r, o + s + k]·T2[k, c]
            for (var k = 0u; k <= c; k++) {
                y = fma(gt[(o + s + k) + (o + r) * GLD], gt[(o + s + k) + (o + s + c) * GLD], y);
            }
            gt[(o + r) + (o + s + c) * GLD] = y;
        }
        workgroupBarrier();
        if (live) {
            // T12[r, c] = −Σ_{r ≤ k < s} T1[r, k]·Y[k, c]
            y = 0.0;
            for (var k = r; k < s; k++) {
                y = fma(gt[(o + r) + (o + k) * GLD], gt[(o + k) + (o + s + c) * GLD], y);
            }
        }
        workgroupBarrier();
        if (live) {
            gt[(o + r) + (o + s + c) * GLD] = -y;
        }
        workgroupBarrier();
    }
    for (var e = t; e < jb * jb; e += WG) {
        put_t(j0, e % jb, e / jb, gt[e % jb + (e / jb) * GLD]);
    }
}

fn sto(i: u32, j: u32, v: f32) {
    let idx = i + j * p.ldo;
    if (idx < arrayLength(&outm)) {
        outm[idx] = v;
    }
}

// outm[r + c·ldo] = V[r, c] of the panel at j0 (rows = m − j0, jb columns).
@compute @workgroup_size(16, 16, 1)
fn pack_v(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    let c = gid.y;
    if (r < p.rows && c < p.jb) {
        var v = 0.0;
        if (r == c) {
            v = 1.0;
        } else if (r > c) {
            v = lda_(p.j0 + r, p.j0 + c);
        }
        sto(r, c, v);
    }
}

// outm (rows × cols) = upper triangle of a, exact zeros below the diagonal.
@compute @workgroup_size(16, 16, 1)
fn extract_r(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let j = gid.y;
    if (i < p.rows && j < p.cols) {
        var v = 0.0;
        if (i <= j && i < p.m && j < p.n) {
            v = lda_(i, j);
        }
        sto(i, j, v);
    }
}

// outm (rows × cols) = columns j0 .. j0+cols of the rows×rows identity.
@compute @workgroup_size(16, 16, 1)
fn set_identity(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let j = gid.y;
    if (i < p.rows && j < p.cols) {
        sto(i, j, select(0.0, 1.0, i == j + p.j0));
    }
}
