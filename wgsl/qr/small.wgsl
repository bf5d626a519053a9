// Batched Householder QR of small matrices (m, n ≤ 64): one workgroup of
// 64 invocations per matrix, the whole matrix in workgroup memory, two
// `workgroupBarrier()`s per column. Needs the common/twosum.wgsl helpers.
//
// Layout: `sa[i + j * 65]` is row i, column j; invocation j owns column j
// (it alone writes it while a reflector is applied), and the odd leading
// dimension 65 keeps the 64 invocations reading one row of 64 columns on 64
// different banks.
//
// Entry points:
//   geqrf_small  LAPACK geqr2: packed output (R on and above the diagonal,
//                reflector vectors below) into `outq`, tau (min(m, n) per
//                matrix) into `outr`; H = I − tau·v·vᵀ, v(0) = 1.
//   qr_small     the same factorization, then R (k×n, k = min(m, n), exact
//                zeros below the diagonal) into `outr` and the reduced Q
//                (m×k), formed in place by backward accumulation (LAPACK
//                org2r), into `outq`.
// Reflector norms: power-of-two scaled, double-float (TwoProd/TwoSum) sums
// of squares. Every global access is guarded by `arrayLength`; workgroup
// arrays are indexed by rows and columns < 64 (checked on the host).

struct SmallQrParams {
    m: u32,
    n: u32,
    batch_base: u32,
    batch: u32,
}

@group(0) @binding(0) var<uniform> p: SmallQrParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> outq: array<f32>;
@group(0) @binding(3) var<storage, read_write> outr: array<f32>;

const WG: u32 = 64u;
const LD: u32 = 65u;

var<workgroup> sa: array<f32, 4160>;
var<workgroup> taus: array<f32, 64>;

fn load_matrix(t: u32, mi: u32, m: u32, n: u32) {
    let base = mi * m * n;
    let len = arrayLength(&a);
    for (var e = t; e < m * n; e += WG) {
        let i = e % m;
        let c = e / m;
        var v = 0.0;
        if (base + e < len) {
            v = a[base + e];
        }
        sa[i + c * LD] = v;
    }
}

// The reflector of column j (rows j .. m), LAPACK larfg, by one invocation.
fn reflector(j: u32, m: u32) {
    let cj = j * LD;
    var mx = 0.0;
    for (var i = j; i < m; i++) {
        mx = max(mx, abs(sa[i + cj]));
    }
    var e = 0;
    if (mx > 0.0) {
        e = max(i32((bitcast<u32>(mx) >> 23u) & 0xffu) - 126, -125);
    }
    var ssq = vec2<f32>(0.0);
    for (var i = j + 1u; i < m; i++) {
        let x = ldexp(sa[i + cj], -e);
        ssq = df_add(ssq, two_prod(x, x));
    }
    var tj = 0.0;
    if (ssq.x > 0.0) {
        let al = ldexp(sa[j + cj], -e);
        let tot = df_add(ssq, two_prod(al, al));
        let s0 = sqrt(tot.x);
        let sq = two_prod(s0, s0);
        let nrm = s0 + (((tot.x - sq.x) - sq.y) + tot.y) / (2.0 * s0);
        let beta = select(nrm, -nrm, al >= 0.0);
        tj = (beta - al) / beta;
        let den = al - beta;
        for (var i = j + 1u; i < m; i++) {
            sa[i + cj] = ldexp(sa[i + cj], -e) / den;
        }
        sa[j + cj] = ldexp(beta, e);
    }
    taus[j] = tj;
}

// Householder QR of the m×n matrix in `sa`, in place (LAPACK geqr2).
fn factor(t: u32, m: u32, n: u32) {
    let k = min(m, n);
    for (var j = 0u; j < k; j++) {
        if (t == j) {
            reflector(j, m);
        }
        workgroupBarrier();
        // H_j applied to column t > j
        if (t > j && t < n) {
            let cj = j * LD;
            let ct = t * LD;
            var w = sa[j + ct];
            for (var i = j + 1u; i < m; i++) {
                w = fma(sa[i + cj], sa[i + ct], w);
            }
            w = w * taus[j];
            sa[j + ct] = sa[j + ct] - w;
            for (var i = j + 1u; i < m; i++) {
                sa[i + ct] = fma(-w, sa[i + cj], sa[i + ct]);
            }
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(64, 1, 1)
fn geqrf_small(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let mi = p.batch_base + wid.x;
    if (mi >= p.batch) {
        return;
    }
    let m = min(p.m, WG);
    let n = min(p.n, WG);
    let k = min(m, n);
    load_matrix(t, mi, m, n);
    workgroupBarrier();
    factor(t, m, n);
    let base = mi * m * n;
    let len = arrayLength(&outq);
    for (var e = t; e < m * n; e += WG) {
        if (base + e < len) {
            outq[base + e] = sa[e % m + (e / m) * LD];
        }
    }
    let ti = mi * k + t;
    if (t < k && ti < arrayLength(&outr)) {
        outr[ti] = taus[t];
    }
}

@compute @workgroup_size(64, 1, 1)
fn qr_small(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let mi = p.batch_base + wid.x;
    if (mi >= p.batch) {
        return;
    }
    let m = min(p.m, WG);
    let n = min(p.n, WG);
    let k = min(m, n);
    load_matrix(t, mi, m, n);
    workgroupBarrier();
    factor(t, m, n);
    // R (k×n) with exact zeros below the diagonal
    let rbase = mi * k * n;
    let rlen = arrayLength(&outr);
    for (var e = t; e < k * n; e += WG) {
        let i = e % k;
        let c = e / k;
        if (rbase + e < rlen) {
            outr[rbase + e] = select(0.0, sa[i + c * LD], i <= c);
        }
    }
    workgroupBarrier();
    // Q = H_0·…·H_{k−1}·I[:, :k], in place (LAPACK org2r)
    for (var ii = 0u; ii < k; ii++) {
        let i = k - 1u - ii;
        let ci = i * LD;
        if (t > i && t < k) {
            let ct = t * LD;
            var w = sa[i + ct];
            for (var r = i + 1u; r < m; r++) {
                w = fma(sa[r + ci], sa[r + ct], w);
            }
            w = w * taus[i];
            sa[i + ct] = sa[i + ct] - w;
            for (var r = i + 1u; r < m; r++) {
                sa[r + ct] = fma(-w, sa[r + ci], sa[r + ct]);
            }
        }
        workgroupBarrier();
        if (t == i) {
            let ti = taus[i];
            for (var r = i + 1u; r < m; r++) {
                sa[r + ci] = -ti * sa[r + ci];
            }
            sa[i + ci] = 1.0 - ti;
            for (var r = 0u; r < i; r++) {
                sa[r + ci] = 0.0;
            }
        }
        workgroupBarrier();
    }
    let qbase = mi * m * k;
    let qlen = arrayLength(&outq);
    for (var e = t; e < m * k; e += WG) {
        if (qbase + e < qlen) {
            outq[qbase + e] = sa[e % m + (e / m) * LD];
        }
    }
}
