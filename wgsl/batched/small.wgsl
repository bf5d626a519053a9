// Batched small-matrix factorizations (n ≤ 64): one workgroup of 64
// invocations per matrix, the whole matrix in workgroup memory, one
// `workgroupBarrier()` per column.
//
// Layout: the matrix lives in `sa` column-major with a fixed leading
// dimension of 64 (`sa[j * 64 + i]` is row i, column j), so a column read by
// invocations 0..63 touches 64 consecutive words (no bank conflicts) and a
// read of one entry by all invocations is a broadcast. Invocation i owns
// row i: it alone writes that row (right-looking updates), so the only
// cross-invocation reads are of the current column and the pivot row.
//
// Writes that would race with other invocations' reads of the current
// column (the scaled column of L) are deferred to the start of the next
// column, after the barrier, when nobody reads that column any more.
//
// Entry points:
//   cholesky_small  A = L·Lᵀ, L lower with zeros above the diagonal.
//   lu_small        P·A = L·U, partial pivoting (first max |a| in the
//                   column, like LAPACK isamax), packed factors + 0-based
//                   LAPACK ipiv.
//   solve_small     LU as above, then forward/back substitution of the
//                   right-hand sides (or of the identity, for the inverse)
//                   in chunks of 32 columns staged in workgroup memory.
// `info[m]` is 0, or c + 1 for the first failing column c (Cholesky: a pivot
// that is not > 0 or NaN; LU: an exactly zero pivot).
//
// Kernels run without runtime bounds checks: every global access is guarded
// by `arrayLength`, and workgroup arrays are indexed by values < 64 (rows,
// columns) or < 32 (right-hand-side columns of a chunk).

struct Params {
    // Order of each matrix (≤ 64).
    n: u32,
    // First matrix of this dispatch (chunks over the dispatch limit).
    batch_base: u32,
    // Matrices in the whole batch.
    batch: u32,
    // Right-hand sides per matrix (solve_small).
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

const WG: u32 = 64u;
const LD: u32 = 64u;
const CHUNK: u32 = 32u;
const NONE: u32 = 0xffffffffu;

// The matrix (16 KiB).
var<workgroup> sa: array<f32, 4096>;
// Row arrangements of the LU (logical position -> original row), two
// buffers used alternately by column parity.
var<workgroup> perm: array<u32, 128>;
// Pivot positions of the LU (LAPACK ipiv, 0-based).
var<workgroup> pivpos: array<u32, 64>;
// A chunk of right-hand sides, `sx[c * 64 + i]` (8 KiB).
var<workgroup> sx: array<f32, 2048>;

// Loads matrix `m` into `sa`: invocation i loads row i (coalesced columns).
fn load_matrix(i: u32, n: u32, m: u32) {
    if (i < n) {
        let base = m * n * n;
        let len = arrayLength(&a);
        for (var j = 0u; j < n; j++) {
            let idx = base + j * n + i;
            var v = 0.0;
            if (idx < len) {
                v = a[idx];
            }
            sa[j * LD + i] = v;
        }
    }
}

// Writes the info word of matrix `m`.
fn write_info(i: u32, m: u32, v: u32) {
    if (i == 0u && m < arrayLength(&info)) {
        info[m] = v;
    }
}

// LU with partial pivoting of the n×n matrix in `sa`, in place. Rows are not
// moved: the arrangement (logical position -> original row) is kept in
// `perm` and the pivot positions in `pivpos`; on return the final
// arrangement is at `perm[(n & 1) * 64 ..]` and all invocations see the
// factors. Returns 0, or c + 1 for the first exactly zero pivot c.
fn lu_factor(i: u32, n: u32) -> u32 {
    perm[i] = i;
    var inf = 0u;
    var pend = 0.0;
    var pend_col = NONE;
    var done = false;
    workgroupBarrier();
    for (var k = 0u; k < n; k++) {
        let cur = (k & 1u) * WG;
        let nxt = WG - cur;
        // Deferred multiplier of the previous column (nobody reads it now).
        if (pend_col != NONE) {
            sa[pend_col * LD + i] = pend;
            pend_col = NONE;
        }
        // Pivot search over positions k..n-1 in logical order: first max |a|.
        var best = -1.0;
        var bpos = k;
        for (var q = k; q < n; q++) {
            let v = abs(sa[k * LD + perm[cur + q]]);
            if (v > best) {
                best = v;
                bpos = q;
            }
        }
        let prow = perm[cur + bpos];
        let d = sa[k * LD + prow];
        if (d == 0.0 && inf == 0u) {
            inf = k + 1u;
        }
        // Next arrangement: positions k and bpos swapped.
        var src = i;
        if (i == k) {
            src = bpos;
        } else if (i == bpos) {
            src = k;
        }
        perm[nxt + i] = perm[cur + src];
        if (i == 0u) {
            pivpos[k] = bpos;
        }
        if (i == prow) {
            done = true;
        }
        // Right-looking update of this invocation's row, if not yet a pivot.
        if (i < n && !done) {
            let aik = sa[k * LD + i];
            let l = select(aik / d, aik, d == 0.0);
            for (var j = k + 1u; j < n; j++) {
                sa[j * LD + i] = fma(-l, sa[j * LD + prow], sa[j * LD + i]);
            }
            pend = l;
            pend_col = k;
        }
        workgroupBarrier();
    }
    if (pend_col != NONE) {
        sa[pend_col * LD + i] = pend;
    }
    workgroupBarrier();
    return inf;
}

@compute @workgroup_size(64, 1, 1)
fn cholesky_small(
    @builtin(local_invocation_index) i: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let m = p.batch_base + wid.x;
    if (m >= p.batch) {
        return;
    }
    let n = p.n;
    load_matrix(i, n, m);
    workgroupBarrier();
    var inf = 0u;
    var pend = 0.0;
    var pend_col = NONE;
    for (var k = 0u; k < n; k++) {
        if (pend_col != NONE) {
            sa[pend_col * LD + i] = pend;
            pend_col = NONE;
        }
        let d = sa[k * LD + k];
        if (!(d > 0.0) && inf == 0u) {
            inf = k + 1u;
        }
        let s = sqrt(d);
        let rs = 1.0 / s;
        if (i < n && i >= k) {
            // l_ik; every invocation forms l_jk = a_jk·rs the same way.
            let lik = sa[k * LD + i] * rs;
            for (var j = k + 1u; j <= i; j++) {
                sa[j * LD + i] = fma(-lik, sa[k * LD + j] * rs, sa[j * LD + i]);
            }
            pend = select(lik, s, i == k);
            pend_col = k;
        }
        workgroupBarrier();
    }
    if (pend_col != NONE) {
        sa[pend_col * LD + i] = pend;
    }
    // Invocation i writes row i, which it alone wrote: no barrier needed.
    if (i < n) {
        let base = m * n * n;
        let len = arrayLength(&outm);
        for (var j = 0u; j < n; j++) {
            let idx = base + j * n + i;
            if (idx < len) {
                outm[idx] = select(0.0, sa[j * LD + i], j <= i);
            }
        }
    }
    write_info(i, m, inf);
}

@compute @workgroup_size(64, 1, 1)
fn lu_small(
    @builtin(local_invocation_index) i: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let m = p.batch_base + wid.x;
    if (m >= p.batch) {
        return;
    }
    let n = p.n;
    load_matrix(i, n, m);
    let inf = lu_factor(i, n);
    let fin = (n & 1u) * WG;
    if (i < n) {
        let r = perm[fin + i];
        let base = m * n * n;
        let len = arrayLength(&outm);
        for (var j = 0u; j < n; j++) {
            let idx = base + j * n + i;
            if (idx < len) {
                outm[idx] = sa[j * LD + r];
            }
        }
        let pidx = m * n + i;
        if (pidx < arrayLength(&ipiv)) {
            ipiv[pidx] = pivpos[i];
        }
    }
    write_info(i, m, inf);
}

@compute @workgroup_size(64, 1, 1)
fn solve_small(
    @builtin(local_invocation_index) i: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let m = p.batch_base + wid.x;
    if (m >= p.batch) {
        return;
    }
    let n = p.n;
    load_matrix(i, n, m);
    let inf = lu_factor(i, n);
    let fin = (n & 1u) * WG;
    // Original row of logical row i.
    var ri = 0u;
    if (i < n) {
        ri = perm[fin + i];
    }
    let nrhs = p.nrhs;
    let base = m * n * nrhs;
    let blen = arrayLength(&b);
    let xlen = arrayLength(&x);
    for (var c0 = 0u; c0 < nrhs; c0 += CHUNK) {
        let w = min(CHUNK, nrhs - c0);
        workgroupBarrier();
        // Row i of P·B.
        if (i < n) {
            for (var c = 0u; c < w; c++) {
                var v = 0.0;
                if (p.rhs_identity != 0u) {
                    v = select(0.0, 1.0, ri == c0 + c);
                } else {
                    let idx = base + (c0 + c) * n + ri;
                    if (idx < blen) {
                        v = b[idx];
                    }
                }
                sx[c * LD + i] = v;
            }
        }
        // Forward substitution with the unit lower L: at step j rows > j
        // subtract l_ij·y_j (row j is final after the barrier).
        for (var j = 0u; j < n; j++) {
            workgroupBarrier();
            if (i > j && i < n) {
                let l = sa[j * LD + ri];
                for (var c = 0u; c < w; c++) {
                    sx[c * LD + i] = fma(-l, sx[c * LD + j], sx[c * LD + i]);
                }
            }
        }
        // Back substitution with U: at step j rows < j subtract
        // u_ij·(y_j / u_jj); row j itself is divided at the end, by its
        // owner, with the same division.
        for (var jj = 0u; jj < n; jj++) {
            let j = n - 1u - jj;
            workgroupBarrier();
            if (i < j) {
                let rj = perm[fin + j];
                let ujj = sa[j * LD + rj];
                let u = sa[j * LD + ri];
                for (var c = 0u; c < w; c++) {
                    sx[c * LD + i] = fma(-u, sx[c * LD + j] / ujj, sx[c * LD + i]);
                }
            }
        }
        workgroupBarrier();
        if (i < n) {
            let uii = sa[i * LD + ri];
            for (var c = 0u; c < w; c++) {
                let idx = base + (c0 + c) * n + i;
                if (idx < xlen) {
                    x[idx] = sx[c * LD + i] / uii;
                }
            }
        }
    }
    write_info(i, m, inf);
}
