// Batched Householder QR of small matrices (m, n ≤ 64) in size classes.
// Needs the common/twosum.wgsl helpers.
//
// Size class S = 2^LOGS (override constant, 8 … 64) ≥ max(m, n): a
// workgroup of 64 invocations holds MATS = 64 / S matrices (8 of ≤ 8, 4 of
// ≤ 16, 2 of ≤ 32, 1 of ≤ 64), a team of S invocations per matrix, and
// invocation c of a team owns column c of its matrix in registers
// (`col`, a private array indexed only by counters of loops with the
// constant bound S, so that it stays in registers once unrolled). Rows
// ≥ m and columns ≥ n hold zeros.
//
// Column j (one workgroup barrier per column): invocation j of each team
// forms the reflector of its column (LAPACK larfg) and publishes v (zeros
// above row j and from row m on, v(j) = 1) and tau in the broadcast
// buffers `sv`, `stau` of parity j & 1; barrier; every invocation c > j
// applies H = I − tau·v·vᵀ to its column (dot product over all S rows:
// the zeros of v leave rows < j unchanged and add exact zeros). Two
// parities make a second barrier unnecessary: the buffers of step j + 1
// are the ones of step j − 1, whose readers all passed the barrier of
// step j. The column owner reads only its own registers, so nothing
// waits for the updates.
//
// Global memory: the matrices of a workgroup are contiguous in `a` and in
// the outputs, so loads and stores run over them with consecutive
// invocations on consecutive words, through the staging array `st` (the
// words in their global order, one pad word after every 32 so that the
// column reads of a team spread over the banks).
//
// Entry points:
//   geqrf_small  LAPACK geqr2: packed output (R on and above the diagonal,
//                reflector vectors below) into `outq`, tau (min(m, n) per
//                matrix) into `outr`; H = I − tau·v·vᵀ, v(0) = 1.
//   qr_small     the same factorization, then R (k×n, k = min(m, n), exact
//                zeros below the diagonal) into `outr` and the reduced Q
//                (m×k), formed in place in the registers by backward
//                accumulation (LAPACK org2r, one barrier per reflector),
//                into `outq`.
// Reflector norms: power-of-two scaled, double-float (TwoProd/TwoSum) sums
// of squares. Every global access is guarded by `arrayLength`; workgroup
// arrays are indexed below pad(MATS·S²) (st), 2·64 (sv) and 2·8 (stau),
// with m, n ≤ S checked on the host.

struct SmallQrParams {
    m: u32,
    n: u32,
    // First matrix of this dispatch.
    batch_base: u32,
    // Matrices in the whole batch.
    batch: u32,
}

@group(0) @binding(0) var<uniform> p: SmallQrParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> outq: array<f32>;
@group(0) @binding(3) var<storage, read_write> outr: array<f32>;

const WG: u32 = 64u;
// Length of the register column (the largest class).
const CMAX: u32 = 64u;

// log2 of the size class S (3 … 6).
override LOGS: u32 = 6u;
override S: u32 = 1u << LOGS;
// Matrices per workgroup.
override MATS: u32 = WG >> LOGS;
// Staging words: MATS·S² = 64·S words, plus a pad word after every 32.
override ST_LEN: u32 = 66u << LOGS;

var<workgroup> st: array<f32, ST_LEN>;
// v of the current column per team (g·S + i), two parities of 64 words.
var<workgroup> sv: array<f32, 128>;
// tau of the current column per team (parity·8 + g).
var<workgroup> stau: array<f32, 16>;

// Staging position of word e: one pad word after every 32.
fn pad(e: u32) -> u32 {
    return e + (e >> 5u);
}

// Coalesced load of `cnt` words from `a` at `gbase` into `st`, then the
// column `cb` (m rows; `live` false: zeros) of `st` into `col`.
fn load_columns(
    t: u32,
    gbase: u32,
    cnt: u32,
    cb: u32,
    m: u32,
    live: bool,
    col: ptr<function, array<f32, CMAX>>,
) {
    let len = arrayLength(&a);
    for (var e = t; e < cnt; e += WG) {
        var v = 0.0;
        if (gbase + e < len) {
            v = a[gbase + e];
        }
        st[pad(e)] = v;
    }
    workgroupBarrier();
    for (var i = 0u; i < S; i++) {
        var v = 0.0;
        if (live && i < m) {
            v = st[pad(cb + i)];
        }
        (*col)[i] = v;
    }
}

// Rows < `rows` of `col` (or, where `upper`, zeros below the diagonal
// `c`) to `st` at `cb`, when `live`.
fn stage_column(
    cb: u32,
    rows: u32,
    c: u32,
    upper: bool,
    live: bool,
    col: ptr<function, array<f32, CMAX>>,
) {
    if (live) {
        for (var i = 0u; i < S; i++) {
            if (i < rows) {
                st[pad(cb + i)] = select((*col)[i], 0.0, upper && i > c);
            }
        }
    }
}

// The reflector of the owned column at row j (LAPACK larfg): overwrites
// the column with beta at row j and v below it; returns tau.
fn reflector(j: u32, m: u32, col: ptr<function, array<f32, CMAX>>) -> f32 {
    var mx = 0.0;
    for (var i = 0u; i < S; i++) {
        mx = max(mx, select(0.0, abs((*col)[i]), i >= j));
    }
    var e = 0;
    if (mx > 0.0) {
        e = max(i32((bitcast<u32>(mx) >> 23u) & 0xffu) - 126, -125);
    }
    var ssq = vec2<f32>(0.0);
    var al = 0.0;
    for (var i = 0u; i < S; i++) {
        let x = ldexp((*col)[i], -e);
        ssq = select(ssq, df_add(ssq, two_prod(x, x)), i > j && i < m);
        al = select(al, x, i == j);
    }
    var tj = 0.0;
    if (ssq.x > 0.0) {
        let tot = df_add(ssq, two_prod(al, al));
        let s0 = sqrt(tot.x);
        let sq = two_prod(s0, s0);
        let nrm = s0 + (((tot.x - sq.x) - sq.y) + tot.y) / (2.0 * s0);
        let beta = select(nrm, -nrm, al >= 0.0);
        tj = (beta - al) / beta;
        let den = al - beta;
        let bj = ldexp(beta, e);
        for (var i = 0u; i < S; i++) {
            let x = (*col)[i];
            (*col)[i] = select(select(x, ldexp(x, -e) / den, i > j && i < m), bj, i == j);
        }
    }
    return tj;
}

// v of the column (reflector at row j) to the broadcast buffer at vb.
fn publish(vb: u32, j: u32, col: ptr<function, array<f32, CMAX>>) {
    for (var i = 0u; i < S; i++) {
        sv[vb + i] = select(select(0.0, (*col)[i], i > j), 1.0, i == j);
    }
}

// col ← (I − tau·v·vᵀ)·col with v at sv[vb ..].
fn apply(vb: u32, tau: f32, col: ptr<function, array<f32, CMAX>>) {
    var w = 0.0;
    for (var i = 0u; i < S; i++) {
        w = fma(sv[vb + i], (*col)[i], w);
    }
    w = w * tau;
    for (var i = 0u; i < S; i++) {
        (*col)[i] = fma(-w, sv[vb + i], (*col)[i]);
    }
}

// Householder QR of the team's m×n matrix, column c in `col` (LAPACK
// geqr2); returns tau of column c (0 for c ≥ k).
fn factor(c: u32, g: u32, m: u32, n: u32, k: u32, col: ptr<function, array<f32, CMAX>>) -> f32 {
    var tau = 0.0;
    for (var j = 0u; j < k; j++) {
        let par = j & 1u;
        let vb = par * WG + g * S;
        if (c == j) {
            tau = reflector(j, m, col);
            publish(vb, j, col);
            stau[par * 8u + g] = tau;
        }
        workgroupBarrier();
        if (c > j && c < n) {
            apply(vb, stau[par * 8u + g], col);
        }
    }
    return tau;
}

@compute @workgroup_size(64, 1, 1)
fn geqrf_small(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let first = p.batch_base + wid.x * MATS;
    if (first >= p.batch) {
        return;
    }
    let m = min(p.m, S);
    let n = min(p.n, S);
    let k = min(m, n);
    let nvalid = min(MATS, p.batch - first);
    let g = t >> LOGS;
    let c = t & (S - 1u);
    let mn = m * n;
    let live = g < nvalid && c < n;
    var col: array<f32, CMAX>;
    load_columns(t, first * mn, nvalid * mn, g * mn + c * m, m, live, &col);
    let tau = factor(c, g, m, n, k, &col);
    workgroupBarrier();
    stage_column(g * mn + c * m, m, c, false, live, &col);
    workgroupBarrier();
    let base = first * mn;
    let len = arrayLength(&outq);
    for (var e = t; e < nvalid * mn; e += WG) {
        if (base + e < len) {
            outq[base + e] = st[pad(e)];
        }
    }
    let ti = (first + g) * k + c;
    if (g < nvalid && c < k && ti < arrayLength(&outr)) {
        outr[ti] = tau;
    }
}

@compute @workgroup_size(64, 1, 1)
fn qr_small(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let first = p.batch_base + wid.x * MATS;
    if (first >= p.batch) {
        return;
    }
    let m = min(p.m, S);
    let n = min(p.n, S);
    let k = min(m, n);
    let nvalid = min(MATS, p.batch - first);
    let g = t >> LOGS;
    let c = t & (S - 1u);
    let mn = m * n;
    var col: array<f32, CMAX>;
    load_columns(t, first * mn, nvalid * mn, g * mn + c * m, m, g < nvalid && c < n, &col);
    let tau = factor(c, g, m, n, k, &col);
    workgroupBarrier();
    // R (k×n) with exact zeros below the diagonal
    let kn = k * n;
    stage_column(g * kn + c * k, k, c, true, g < nvalid && c < n, &col);
    workgroupBarrier();
    let rbase = first * kn;
    let rlen = arrayLength(&outr);
    for (var e = t; e < nvalid * kn; e += WG) {
        if (rbase + e < rlen) {
            outr[rbase + e] = st[pad(e)];
        }
    }
    workgroupBarrier();
    // Q = H_0·…·H_{k−1}·I[:, :k], in place (LAPACK org2r): at step i the
    // owner of column i publishes v_i and turns its column into H_i·e_i;
    // the columns c > i get H_i applied.
    for (var ii = 0u; ii < k; ii++) {
        let i = k - 1u - ii;
        let par = ii & 1u;
        let vb = par * WG + g * S;
        if (c == i) {
            publish(vb, i, &col);
            stau[par * 8u + g] = tau;
            for (var r = 0u; r < S; r++) {
                col[r] = select(select(0.0, -tau * col[r], r > i), 1.0 - tau, r == i);
            }
        }
        workgroupBarrier();
        if (c > i && c < k) {
            apply(vb, stau[par * 8u + g], &col);
        }
    }
    let mk = m * k;
    stage_column(g * mk + c * m, m, c, false, g < nvalid && c < k, &col);
    workgroupBarrier();
    let qbase = first * mk;
    let qlen = arrayLength(&outq);
    for (var e = t; e < nvalid * mk; e += WG) {
        if (qbase + e < qlen) {
            outq[qbase + e] = st[pad(e)];
        }
    }
}
