// Batched small-matrix factorizations (n ≤ 64), several matrices per
// workgroup when they are small, the whole matrices in workgroup memory, one
// `workgroupBarrier()` per column.
//
// Variants (entry points; the host picks one from n):
//   *_small     64 invocations, 1 matrix of n ≤ 64    (R = 64 rows each)
//   *_small4   128 invocations, 4 matrices of n ≤ 32  (R = 32)
//   *_small16  256 invocations, 16 matrices of n ≤ 16 (R = 16), or with the
//              override NARROW 32 matrices of n ≤ 8   (R = 8)
// Invocation t of a workgroup of W serves matrix g = t / R and row i = t % R
// of it (rows i ≥ n and matrices past the batch compute on zeros or are
// masked; every invocation runs the same column loop, to the batch's n).
//
// Layout: row i, column j of the workgroup's matrix g lives in
// `sa[j * W + t]`, W = workgroup size (R·W = 4096 words, 16 KiB, in every
// variant), so a column read by all invocations touches W consecutive words
// (no bank conflicts) and an entry read by the rows of one matrix is a
// broadcast. Invocation t owns row t: it alone writes that row
// (right-looking updates), so the only cross-invocation reads are of the
// current column (Cholesky) and the pivot row (LU).
//
// Entry points:
//   cholesky_small*  A = L·Lᵀ, L lower with zeros above the diagonal.
//   lu_small*        P·A = L·U, partial pivoting (first max |a| in the
//                    column in logical row order, like LAPACK isamax),
//                    packed factors + 0-based LAPACK ipiv. Rows are never
//                    moved: each invocation tracks the logical position of
//                    its row.
//   solve_small*     the LU with the first right-hand sides (up to a chunk)
//                    eliminated alongside the matrix (forward substitution
//                    for free), then back substitution; further chunks are
//                    forward- and back-substituted with the stored factors.
//                    With `rhs_identity` the right-hand side is the identity
//                    (inverse) and `b` is not read.
// `info[m]` is 0, or c + 1 for the first failing column c (Cholesky: a pivot
// that is not > 0 or NaN; LU: an exactly zero pivot).
//
// Kernels run without runtime bounds checks: every global access is guarded
// by `arrayLength` (and the matrix index by the batch size), and workgroup
// arrays are indexed by j·W + t with j < n ≤ R (sa, sx) or by the row slot
// of a matrix plus a value < n ≤ R (cand, rowat).

struct Params {
    // Order of each matrix (≤ 64, ≤ R of the variant).
    n: u32,
    // First matrix of this dispatch (chunks over the dispatch limit).
    batch_base: u32,
    // Matrices in the whole batch.
    batch: u32,
    // Right-hand sides per matrix (solve_small*).
    nrhs: u32,
    // 1: the right-hand side is the identity and `b` is not read.
    rhs_identity: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> outm: array<f32>;
@group(0) @binding(3) var<storage, read_write> ipiv: array<u32>;
@group(0) @binding(4) var<storage, read_write> info: array<u32>;
@group(0) @binding(5) var<storage, read> b: array<f32>;
@group(0) @binding(6) var<storage, read_write> x: array<f32>;

// In the 256-invocation entry points: 32 matrices of n ≤ 8 instead of 16 of
// n ≤ 16.
override NARROW: bool = false;

const NONE: u32 = 0xffffffffu;
// Words of `sx`: right-hand-side columns per chunk are SXN / W.
const SXN: u32 = 1024u;

// The matrices (16 KiB).
var<workgroup> sa: array<f32, 4096>;
// Pivot-search candidates of the LU by logical position, two buffers used
// alternately by column parity: `cand[gb + q]` = (key, code) of the row at
// position q ≥ k, key = |a_qk| (-1 for NaN), code = 64·q + row.
var<workgroup> cand: array<vec2<f32>, 512>;
// A chunk of right-hand sides, `sx[c * W + t]` (4 KiB).
var<workgroup> sx: array<f32, 1024>;
// Row of each pivot position of the LU, per matrix: `rowat[gb + k]`.
var<workgroup> rowat: array<u32, 256>;

// Where an invocation sits: its matrix and row.
struct Slot {
    // Invocation index in the workgroup.
    t: u32,
    // Row within its matrix (< R).
    i: u32,
    // Invocation index of row 0 of its matrix.
    gb: u32,
    // Index of its matrix in the batch.
    m: u32,
    // The matrix exists (m < batch).
    mat: bool,
    // The matrix exists and i < n.
    row: bool,
}

fn slot(t: u32, group: u32, logr: u32, wg: u32) -> Slot {
    let i = t & ((1u << logr) - 1u);
    let m = p.batch_base + group * (wg >> logr) + (t >> logr);
    let mat = m < p.batch;
    return Slot(t, i, t - i, m, mat, mat && i < p.n);
}

// Loads row i of matrix m into `sa` (zeros for a matrix past the batch).
// Lanes of one matrix read consecutive words of each column.
fn load_matrix(s: Slot, n: u32, wg: u32) {
    if (s.i < n) {
        let base = s.m * n * n;
        let len = arrayLength(&a);
        for (var j = 0u; j < n; j++) {
            let idx = base + j * n + s.i;
            var v = 0.0;
            if (s.mat && idx < len) {
                v = a[idx];
            }
            sa[j * wg + s.t] = v;
        }
    }
}

// Writes the info word of the invocation's matrix (row 0 only).
fn write_info(s: Slot, v: u32) {
    if (s.i == 0u && s.mat && s.m < arrayLength(&info)) {
        info[s.m] = v;
    }
}

fn cholesky_body(t: u32, group: u32, logr: u32, wg: u32) {
    let s = slot(t, group, logr, wg);
    let n = p.n;
    load_matrix(s, n, wg);
    workgroupBarrier();
    var inf = 0u;
    // The scaled entry of column k (l_ik, or the diagonal) is written at the
    // start of column k + 1, after the barrier: other rows read a_ik during
    // column k.
    var pend = 0.0;
    var pend_col = NONE;
    for (var k = 0u; k < n; k++) {
        if (pend_col != NONE) {
            sa[pend_col * wg + s.t] = pend;
            pend_col = NONE;
        }
        let d = sa[k * wg + s.gb + k];
        if (!(d > 0.0) && inf == 0u) {
            inf = k + 1u;
        }
        let sq = sqrt(d);
        let rs = 1.0 / sq;
        if (s.i < n && s.i >= k) {
            // l_ik; every row forms l_jk = a_jk·rs the same way.
            let lik = sa[k * wg + s.t] * rs;
            for (var j = k + 1u; j <= s.i; j++) {
                sa[j * wg + s.t] = fma(-lik, sa[k * wg + s.gb + j] * rs, sa[j * wg + s.t]);
            }
            pend = select(lik, sq, s.i == k);
            pend_col = k;
        }
        workgroupBarrier();
    }
    if (pend_col != NONE) {
        sa[pend_col * wg + s.t] = pend;
    }
    // Row i is written by its owner, which alone wrote it: no barrier.
    if (s.row) {
        let base = s.m * n * n;
        let len = arrayLength(&outm);
        for (var j = 0u; j < n; j++) {
            let idx = base + j * n + s.i;
            if (idx < len) {
                outm[idx] = select(0.0, sa[j * wg + s.t], j <= s.i);
            }
        }
    }
    write_info(s, inf);
}

// Pivot-search key: |v|, -1 for NaN (below every number, so a NaN is a
// pivot only when every candidate is NaN, as with isamax).
fn pivot_key(v: f32) -> f32 {
    let x = abs(v);
    return select(-1.0, x, x >= 0.0);
}

struct LuState {
    // 0, or c + 1 for the first exactly zero pivot c.
    inf: u32,
    // Logical position of the invocation's row (its row of P·A).
    pos: u32,
    // ipiv[i]: the position swapped with position i at step i.
    piv: u32,
}

// LU with partial pivoting of the matrices in `sa`, in place, eliminating
// the first `w` right-hand-side columns of `sx` alongside. Rows stay where
// they are: the row at position k (the pivot of step k) is `rowat[gb + k]`.
// On return every invocation sees the factors (barrier at the end).
fn lu_factor(s: Slot, n: u32, wg: u32, w: u32) -> LuState {
    var pos = s.i;
    var piv = 0u;
    var inf = 0u;
    if (s.i < n) {
        cand[s.t] = vec2<f32>(pivot_key(sa[s.t]), f32(s.i * 65u));
    }
    workgroupBarrier();
    for (var k = 0u; k < n; k++) {
        let cur = (k & 1u) * wg;
        let nxt = wg - cur;
        // Pivot: the first largest key in position order (the first
        // candidate, at position k, always beats the initial -2).
        var best = -2.0;
        var code = 0.0;
        for (var q = k; q < n; q++) {
            let c = cand[cur + s.gb + q];
            let take = c.x > best;
            best = select(best, c.x, take);
            code = select(code, c.y, take);
        }
        let ci = u32(code);
        let bp = ci >> 6u;
        let prow = ci & 63u;
        let d = sa[k * wg + s.gb + prow];
        if (d == 0.0 && inf == 0u) {
            inf = k + 1u;
        }
        if (s.i == k) {
            piv = bp;
        }
        let elim = s.i < n && pos >= k && s.i != prow;
        // Positions k and bp swap.
        if (s.i == prow) {
            pos = k;
            rowat[s.gb + k] = s.i;
        } else if (pos == k) {
            pos = bp;
        }
        if (elim) {
            let aik = sa[k * wg + s.t];
            let l = select(aik / d, aik, d == 0.0);
            // Nobody else reads a_ik (the search reads `cand`).
            sa[k * wg + s.t] = l;
            for (var j = k + 1u; j < n; j++) {
                sa[j * wg + s.t] = fma(-l, sa[j * wg + s.gb + prow], sa[j * wg + s.t]);
            }
            for (var c = 0u; c < w; c++) {
                sx[c * wg + s.t] = fma(-l, sx[c * wg + s.gb + prow], sx[c * wg + s.t]);
            }
            // Candidate of the next step, at this row's position (> k).
            if (k + 1u < n) {
                let key = pivot_key(sa[(k + 1u) * wg + s.t]);
                cand[nxt + s.gb + pos] = vec2<f32>(key, f32(pos * 64u + s.i));
            }
        }
        workgroupBarrier();
    }
    return LuState(inf, pos, piv);
}

fn lu_body(t: u32, group: u32, logr: u32, wg: u32) {
    let s = slot(t, group, logr, wg);
    let n = p.n;
    load_matrix(s, n, wg);
    let f = lu_factor(s, n, wg, 0u);
    // Row i of the matrix is row `pos` of the packed factors (its
    // multipliers moved with it).
    if (s.row) {
        let base = s.m * n * n;
        let len = arrayLength(&outm);
        for (var j = 0u; j < n; j++) {
            let idx = base + j * n + f.pos;
            if (idx < len) {
                outm[idx] = sa[j * wg + s.t];
            }
        }
        let pidx = s.m * n + s.i;
        if (pidx < arrayLength(&ipiv)) {
            ipiv[pidx] = f.piv;
        }
    }
    write_info(s, f.inf);
}

// Row i of right-hand-side columns c0 .. c0 + w into `sx` (in the row order
// of A: the elimination applies the interchanges).
fn load_rhs(s: Slot, n: u32, wg: u32, c0: u32, w: u32) {
    if (s.i < n) {
        let base = s.m * n * p.nrhs;
        let len = arrayLength(&b);
        for (var c = 0u; c < w; c++) {
            var v = 0.0;
            if (p.rhs_identity != 0u) {
                v = select(0.0, 1.0, s.i == c0 + c);
            } else {
                let idx = base + (c0 + c) * n + s.i;
                if (s.mat && idx < len) {
                    v = b[idx];
                }
            }
            sx[c * wg + s.t] = v;
        }
    }
}

fn solve_body(t: u32, group: u32, logr: u32, wg: u32) {
    let s = slot(t, group, logr, wg);
    let n = p.n;
    let nrhs = p.nrhs;
    let chunk = SXN / wg;
    load_matrix(s, n, wg);
    load_rhs(s, n, wg, 0u, min(chunk, nrhs));
    let f = lu_factor(s, n, wg, min(chunk, nrhs));
    let pos = f.pos;
    let act = s.i < n;
    let xbase = s.m * n * nrhs;
    let xlen = arrayLength(&x);
    for (var c0 = 0u; c0 < nrhs; c0 += chunk) {
        let w = min(chunk, nrhs - c0);
        if (c0 > 0u) {
            // Everybody is done with the previous chunk.
            workgroupBarrier();
            load_rhs(s, n, wg, c0, w);
            // Forward substitution as in the elimination: at step k every
            // row after position k subtracts l·(the pivot row's value).
            for (var k = 0u; k + 1u < n; k++) {
                workgroupBarrier();
                if (act && pos > k) {
                    let r = s.gb + rowat[s.gb + k];
                    let l = sa[k * wg + s.t];
                    for (var c = 0u; c < w; c++) {
                        sx[c * wg + s.t] = fma(-l, sx[c * wg + r], sx[c * wg + s.t]);
                    }
                }
            }
        }
        // Back substitution with U: the row at position j holds x_j once it
        // has subtracted the later unknowns and divided by u_jj; at step j
        // rows before it subtract u_ij·x_j.
        if (act && pos + 1u == n) {
            let u = sa[pos * wg + s.t];
            for (var c = 0u; c < w; c++) {
                sx[c * wg + s.t] = sx[c * wg + s.t] / u;
            }
        }
        for (var j = n - 1u; j > 0u; j--) {
            workgroupBarrier();
            if (act && pos < j) {
                let r = s.gb + rowat[s.gb + j];
                let u = sa[j * wg + s.t];
                for (var c = 0u; c < w; c++) {
                    sx[c * wg + s.t] = fma(-u, sx[c * wg + r], sx[c * wg + s.t]);
                }
                if (pos + 1u == j) {
                    let uii = sa[pos * wg + s.t];
                    for (var c = 0u; c < w; c++) {
                        sx[c * wg + s.t] = sx[c * wg + s.t] / uii;
                    }
                }
            }
        }
        // x_pos is final and was written by this invocation only.
        if (s.row) {
            for (var c = 0u; c < w; c++) {
                let idx = xbase + (c0 + c) * n + pos;
                if (idx < xlen) {
                    x[idx] = sx[c * wg + s.t];
                }
            }
        }
    }
    write_info(s, f.inf);
}

@compute @workgroup_size(64, 1, 1)
fn cholesky_small(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    cholesky_body(t, wid.x, 6u, 64u);
}

@compute @workgroup_size(128, 1, 1)
fn cholesky_small4(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    cholesky_body(t, wid.x, 5u, 128u);
}

@compute @workgroup_size(256, 1, 1)
fn cholesky_small16(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    cholesky_body(t, wid.x, select(4u, 3u, NARROW), 256u);
}

@compute @workgroup_size(64, 1, 1)
fn lu_small(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    lu_body(t, wid.x, 6u, 64u);
}

@compute @workgroup_size(128, 1, 1)
fn lu_small4(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    lu_body(t, wid.x, 5u, 128u);
}

@compute @workgroup_size(256, 1, 1)
fn lu_small16(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    lu_body(t, wid.x, select(4u, 3u, NARROW), 256u);
}

@compute @workgroup_size(64, 1, 1)
fn solve_small(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    solve_body(t, wid.x, 6u, 64u);
}

@compute @workgroup_size(128, 1, 1)
fn solve_small4(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    solve_body(t, wid.x, 5u, 128u);
}

@compute @workgroup_size(256, 1, 1)
fn solve_small16(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    solve_body(t, wid.x, select(4u, 3u, NARROW), 256u);
}
