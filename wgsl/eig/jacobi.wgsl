// Batched Jacobi kernels for small matrices (order ≤ 64): the symmetric
// eigenproblem (two-sided cyclic Jacobi) and the SVD (one-sided Hestenes
// Jacobi), one workgroup of 256 invocations holding one or several whole
// matrices in workgroup memory.
//
// Size class S = 2^LOGS (override constant, 8 … 64) ≥ the order: a
// workgroup holds MATS = 2048 / S² matrices for S ≤ 32 (32 of n ≤ 8, 8 of
// n ≤ 16, 2 of n ≤ 32) and one for S = 64. Each matrix has a team of
// T = 256 / MATS invocations. A matrix occupies S² words of `sa` (column
// j at j·S); V occupies S² words of `sv`, or, for S = 64 (A and V together
// would exceed the 32 KiB limit), lives in its output buffer in global
// memory (V of the SVD in the output that receives it, ld = k), with
// `storageBarrier()` between rounds.
//
// Ordering: parallel cyclic (round-robin "circle" method): the order is
// padded to N even (a dummy index N − 1 = n when n is odd, never rotated);
// sweep = N − 1 rounds of N/2 disjoint pairs; pair k of round r is
// (r, N − 1) for k = 0 and ((r + k) mod (N − 1), (r − k) mod (N − 1)).
// Each round: phase 1 computes (c, s) of every pair (one invocation each),
// barrier, phase 2 applies all rotations at once, barrier.
//   eigh: phase 1 also writes the new 2×2 diagonal block of its pair
//     (a_pp − t·a_pq, a_qq + t·a_pq, a_pq = 0); phase 2 updates every
//     off-diagonal 2×2 block (pair P, pair Q) as J_Pᵀ·A_PQ·J_Q and writes
//     it and its transpose (A stays exactly symmetric), and V ← V·J.
//   svd: phase 1 forms α = ‖a_p‖², β = ‖a_q‖², γ = a_p·a_q (T / 2^⌈log2
//     N/2⌉ invocations per pair, partial sums in `spart`, one more
//     barrier); phase 2 rotates the columns of A and of V.
// A rotation is skipped when |a_pq| ≤ ε·sqrt|a_pp|·sqrt|a_qq| (eigh) or
// |γ| ≤ sqrt(R)·ε·sqrt(α)·sqrt(β) (svd), or when it is negligible in
// absolute terms (TINY, below). A sweep without rotation ends the matrix;
// the workgroup stops when all its matrices stopped or after max_sweeps,
// and info[m] = 1 for a matrix that still rotated in its last sweep.
//
// Scaling: each matrix is multiplied by 2^-e (exact) so that max|a_ij| is
// in [1, 2); results are scaled back. So no product overflows, and TINY
// is relative to ‖A‖.
//
// Outputs: eigh: w (n per matrix, ascending or descending by flag), v
// (n×n, eigenvector columns permuted to match), optionally `off` = max
// over i ≠ j of |a_ij| / sqrt(|a_ii|·|a_jj|) of the input (0 where the
// denominator is 0). svd (input m×n, R = max, C = k = min; m < n works on
// Aᵀ): s (k, descending), u (m×k), vt (k×n). A column whose norm is
// negligible (≤ 4·TINY after scaling) gets an orthonormal completion
// (two-pass Gram–Schmidt of the unit vector e_i with the smallest row norm
// of the other columns, the team in parallel), so UᵀU = I holds for
// rank-deficient matrices.
//
// lavapipe note: a long loop run by one lane (or a few) of a SIMD group
// followed by lane-varying loops gave wrong lane values on lavapipe (the
// completion on one invocation, the SVD dot products on one invocation per
// pair); both are spread over the team now.
//
// Kernels run without runtime bounds checks: every global access is
// guarded by `arrayLength` and the batch; workgroup arrays are indexed by
// slot·S² + j·S + i with i, j < S (sa, sv), slot·S + j (sw, srank),
// slot·S/2 + k (scs) and slot < MATS ≤ 32.

// Params, the bindings, EPS and TINY: eig/io.wgsl.

// log2 of the size class S (3 … 6).
override LOGS: u32 = 6u;

const F_DESC: u32 = 1u;
const F_OFF: u32 = 2u;
// eigh: eigenpairs in the order the rotations leave them (no sorting).
const F_KEEP: u32 = 8u;
const F_TRANS: u32 = 4u;
const WG: u32 = 256u;

// The matrices A (16 KiB).
var<workgroup> sa: array<f32, 4096>;
// V for S ≤ 32 (8 KiB).
var<workgroup> sv: array<f32, 2048>;
// Eigenvalues / singular values per slot (slot·S + j).
var<workgroup> sw: array<f32, 256>;
// Output position of each column.
var<workgroup> srank: array<u32, 256>;
// (c, s) of each pair of the round (slot·S/2 + k).
var<workgroup> scs: array<vec2<f32>, 128>;
// Per slot: max |a| (f32 bits), off measure (f32 bits), rotated this sweep.
var<workgroup> smax: array<atomic<u32>, 32>;
var<workgroup> soff: array<atomic<u32>, 32>;
var<workgroup> mrot: array<atomic<u32>, 32>;
// Per slot: rotated in the last finished sweep.
var<workgroup> mlast: array<u32, 32>;
// Partial sums (α, β, γ) of the SVD's phase 1, one per invocation.
var<workgroup> spart: array<vec4<f32>, 256>;
// Any slot rotated in the last sweep (written by invocation 0).
var<workgroup> gflag: u32;

struct Team {
    // Invocation within the team.
    lt: u32,
    // Team size.
    tsz: u32,
    // Slot of the matrix in the workgroup.
    g: u32,
    // Matrix index in the batch.
    m: u32,
    // The matrix exists.
    mat: bool,
    // First word of the slot in `sa` / `sv`.
    base: u32,
}

fn log_mats() -> u32 {
    return select(11u - 2u * LOGS, 0u, LOGS >= 6u);
}

fn team(t: u32, group: u32) -> Team {
    let logm = log_mats();
    let logt = 8u - logm;
    let lt = t & ((1u << logt) - 1u);
    let g = t >> logt;
    let m = p.batch_base + (group << logm) + g;
    return Team(lt, 1u << logt, g, m, m < p.batch, g << (2u * LOGS));
}

// ceil(log2(x)) for x ≥ 1.
fn clog2(x: u32) -> u32 {
    return select(0u, 32u - countLeadingZeros(x - 1u), x > 1u);
}

// Pair k of round r of the circle ordering of N (even) indices: (p < q).
fn pair_of(k: u32, r: u32, nn: u32) -> vec2<u32> {
    let mm = nn - 1u;
    if (k == 0u) {
        return vec2<u32>(r, mm);
    }
    var x = r + k;
    if (x >= mm) {
        x -= mm;
    }
    var y = r + mm - k;
    if (y >= mm) {
        y -= mm;
    }
    return vec2<u32>(min(x, y), max(x, y));
}

// Exponent e with max|a|·2^-e in [1, 2) (0 for zero or subnormal).
fn scale_exp(bits: u32) -> i32 {
    let be = (bits >> 23u) & 0xffu;
    return select(0, i32(be) - 127, be != 0u);
}

fn sai(tm: Team, i: u32, j: u32) -> u32 {
    return tm.base + (j << LOGS) + i;
}

// V is in global memory (S = 64).
fn v_global() -> bool {
    return LOGS >= 6u;
}

// V(i, j) of order nv; in global memory it is the output `out_vt` (alt) or
// `out_v`, matrix m at m·nv², column-major.
fn vget(tm: Team, i: u32, j: u32, nv: u32, alt: bool) -> f32 {
    if (v_global()) {
        if (i >= nv || j >= nv || !tm.mat) {
            return 0.0;
        }
        let idx = tm.m * nv * nv + j * nv + i;
        if (alt) {
            if (idx < arrayLength(&out_vt)) {
                return out_vt[idx];
            }
        } else {
            if (idx < arrayLength(&out_v)) {
                return out_v[idx];
            }
        }
        return 0.0;
    }
    return sv[tm.base + (j << LOGS) + i];
}

fn vset(tm: Team, i: u32, j: u32, nv: u32, alt: bool, x: f32) {
    if (v_global()) {
        if (i >= nv || j >= nv || !tm.mat) {
            return;
        }
        let idx = tm.m * nv * nv + j * nv + i;
        if (alt) {
            if (idx < arrayLength(&out_vt)) {
                out_vt[idx] = x;
            }
        } else {
            if (idx < arrayLength(&out_v)) {
                out_v[idx] = x;
            }
        }
        return;
    }
    sv[tm.base + (j << LOGS) + i] = x;
}

// Barrier after a phase that wrote V.
fn sync_v() {
    workgroupBarrier();
    if (LOGS >= 6u) {
        storageBarrier();
    }
}

// Resets the per-slot words (before the first barrier).
fn init_slot(tm: Team) {
    if (tm.lt == 0u) {
        atomicStore(&smax[tm.g], 0u);
        atomicStore(&soff[tm.g], 0u);
        atomicStore(&mrot[tm.g], 0u);
        mlast[tm.g] = 0u;
    }
}

// Closes a sweep: every slot's rotation flag moves to `mlast`; returns
// (uniformly) whether any slot rotated. Call after a barrier.
fn end_sweep(tm: Team, t: u32) -> bool {
    if (tm.lt == 0u) {
        mlast[tm.g] = atomicExchange(&mrot[tm.g], 0u);
    }
    workgroupBarrier();
    if (t == 0u) {
        var any = 0u;
        for (var g = 0u; g < (1u << log_mats()); g++) {
            any |= mlast[g];
        }
        gflag = any;
    }
    return workgroupUniformLoad(&gflag) != 0u;
}

// Multiplies the slot's N×N (eigh: symmetric, lower items) or R×N block of
// `sa` by 2^-e.
fn scale_block(tm: Team, rows: u32, cols: u32, e: i32) {
    let lr = clog2(rows);
    for (var k = tm.lt; k < (cols << lr); k += tm.tsz) {
        let i = k & ((1u << lr) - 1u);
        let j = k >> lr;
        if (i < rows) {
            let x = sai(tm, i, j);
            sa[x] = ldexp(sa[x], -e);
        }
    }
}

// Output position of value j among the slot's n values of `sw`.
fn rank_of(tm: Team, j: u32, n: u32, desc: bool) -> u32 {
    let b = tm.g << LOGS;
    let wj = sw[b + j];
    var r = 0u;
    for (var k = 0u; k < n; k++) {
        let wk = sw[b + k];
        let before = select((wk < wj), (wk > wj), desc) || (wk == wj && k < j);
        r += select(0u, 1u, before);
    }
    return r;
}

fn write_info(tm: Team) {
    if (tm.lt == 0u && tm.mat && tm.m < arrayLength(&info)) {
        info[tm.m] = select(0u, 1u, mlast[tm.g] != 0u);
    }
}

// ---------------------------------------------------------------------
// Symmetric eigenproblem, two-sided Jacobi.

fn eigh_body(t: u32, group: u32) {
    let tm = team(t, group);
    let n = p.rows;
    let nn = n + (n & 1u);
    let np = nn >> 1u;
    let desc = (p.flags & F_DESC) != 0u;
    let want_off = (p.flags & F_OFF) != 0u;
    init_slot(tm);
    workgroupBarrier();

    // Load the lower triangle, mirrored; zeros in the padding; V = I.
    let ln = clog2(nn);
    for (var k = tm.lt; k < (nn << ln); k += tm.tsz) {
        let i = k & ((1u << ln) - 1u);
        let j = k >> ln;
        if (i < nn && i >= j) {
            var x = 0.0;
            if (i < n && tm.mat) {
                let idx = tm.m * n * n + j * n + i;
                if (idx < arrayLength(&a)) {
                    x = a[idx];
                }
            }
            sa[sai(tm, i, j)] = x;
            sa[sai(tm, j, i)] = x;
            atomicMax(&smax[tm.g], bitcast<u32>(abs(x)));
            vset(tm, i, j, n, false, select(0.0, 1.0, i == j));
            if (i != j) {
                vset(tm, j, i, n, false, 0.0);
            }
        }
    }
    sync_v();
    let e = scale_exp(atomicLoad(&smax[tm.g]));
    if (want_off) {
        for (var k = tm.lt; k < (nn << ln); k += tm.tsz) {
            let i = k & ((1u << ln) - 1u);
            let j = k >> ln;
            if (i < n && i > j) {
                let d = sqrt(abs(sa[sai(tm, i, i)])) * sqrt(abs(sa[sai(tm, j, j)]));
                let r = select(0.0, abs(sa[sai(tm, i, j)]) / d, d > 0.0);
                atomicMax(&soff[tm.g], bitcast<u32>(r));
            }
        }
    }
    workgroupBarrier();
    scale_block(tm, nn, nn, e);
    workgroupBarrier();

    // Off-diagonal blocks per round: (P, P + d mod np) for 1 ≤ d ≤ np/2,
    // d = np/2 only for P < np/2 (each unordered pair once).
    let lp = clog2(max(np, 1u));
    let nd = np >> 1u;
    let pb = tm.g << (LOGS - 1u);
    var sweep = 0u;
    loop {
        if (sweep >= p.max_sweeps) {
            break;
        }
        for (var r = 0u; r + 1u < nn; r++) {
            for (var k = tm.lt; k < np; k += tm.tsz) {
                let pq = pair_of(k, r, nn);
                var c = 1.0;
                var s = 0.0;
                if (pq.y < n) {
                    let ip = sai(tm, pq.x, pq.x);
                    let iq = sai(tm, pq.y, pq.y);
                    let ipq = sai(tm, pq.x, pq.y);
                    let app = sa[ip];
                    let aqq = sa[iq];
                    let apq = sa[ipq];
                    let thr = max(EPS * sqrt(abs(app)) * sqrt(abs(aqq)), TINY);
                    if (abs(apq) > thr) {
                        let theta = (aqq - app) / (2.0 * apq);
                        let at = abs(theta);
                        var tt = select(1.0 / (at + sqrt(fma(at, at, 1.0))), 0.5 / at, at > 1e18);
                        tt = select(tt, -tt, theta < 0.0);
                        c = 1.0 / sqrt(fma(tt, tt, 1.0));
                        s = tt * c;
                        sa[ip] = fma(-tt, apq, app);
                        sa[iq] = fma(tt, apq, aqq);
                        sa[ipq] = 0.0;
                        sa[sai(tm, pq.y, pq.x)] = 0.0;
                        atomicOr(&mrot[tm.g], 1u);
                    }
                }
                scs[pb + k] = vec2<f32>(c, s);
            }
            workgroupBarrier();
            // A ← Jᵀ·A·J on the off-diagonal blocks.
            for (var k = tm.lt; k < (nd << lp); k += tm.tsz) {
                let bp = k & ((1u << lp) - 1u);
                let d = (k >> lp) + 1u;
                if (bp < np && (2u * d < np || bp < d)) {
                    var bq = bp + d;
                    if (bq >= np) {
                        bq -= np;
                    }
                    let pp = pair_of(bp, r, nn);
                    let qq = pair_of(bq, r, nn);
                    let cp = scs[pb + bp];
                    let cq = scs[pb + bq];
                    let x00 = sa[sai(tm, pp.x, qq.x)];
                    let x01 = sa[sai(tm, pp.x, qq.y)];
                    let x10 = sa[sai(tm, pp.y, qq.x)];
                    let x11 = sa[sai(tm, pp.y, qq.y)];
                    // Rows: J_Pᵀ·X.
                    let y00 = fma(cp.x, x00, -cp.y * x10);
                    let y01 = fma(cp.x, x01, -cp.y * x11);
                    let y10 = fma(cp.y, x00, cp.x * x10);
                    let y11 = fma(cp.y, x01, cp.x * x11);
                    // Columns: ·J_Q.
                    let z00 = fma(cq.x, y00, -cq.y * y01);
                    let z01 = fma(cq.y, y00, cq.x * y01);
                    let z10 = fma(cq.x, y10, -cq.y * y11);
                    let z11 = fma(cq.y, y10, cq.x * y11);
                    sa[sai(tm, pp.x, qq.x)] = z00;
                    sa[sai(tm, pp.x, qq.y)] = z01;
                    sa[sai(tm, pp.y, qq.x)] = z10;
                    sa[sai(tm, pp.y, qq.y)] = z11;
                    sa[sai(tm, qq.x, pp.x)] = z00;
                    sa[sai(tm, qq.y, pp.x)] = z01;
                    sa[sai(tm, qq.x, pp.y)] = z10;
                    sa[sai(tm, qq.y, pp.y)] = z11;
                }
            }
            // V ← V·J.
            rotate_v(tm, r, n, nn, np, pb, false);
            sync_v();
        }
        sweep++;
        if (!end_sweep(tm, t)) {
            break;
        }
    }

    // Eigenvalues, their order, and the outputs.
    for (var j = tm.lt; j < n; j += tm.tsz) {
        sw[(tm.g << LOGS) + j] = sa[sai(tm, j, j)];
    }
    workgroupBarrier();
    for (var j = tm.lt; j < n; j += tm.tsz) {
        var rk = j;
        if ((p.flags & F_KEEP) == 0u) {
            rk = rank_of(tm, j, n, desc);
        }
        srank[(tm.g << LOGS) + j] = rk;
        let idx = tm.m * n + rk;
        if (tm.mat && idx < arrayLength(&out_w)) {
            out_w[idx] = ldexp(sw[(tm.g << LOGS) + j], e);
        }
    }
    workgroupBarrier();
    permute_v(tm, n, false, false);
    write_info(tm);
    if (want_off && tm.lt == 0u && tm.mat && tm.m < arrayLength(&out_off)) {
        out_off[tm.m] = bitcast<f32>(atomicLoad(&soff[tm.g]));
    }
}

// V ← V·J for the pairs of round r (rows i < nv of V).
fn rotate_v(tm: Team, r: u32, nv: u32, nn: u32, np: u32, pb: u32, alt: bool) {
    let lv = clog2(nv);
    for (var k = tm.lt; k < (np << lv); k += tm.tsz) {
        let i = k & ((1u << lv) - 1u);
        let bp = k >> lv;
        if (i < nv) {
            let cs = scs[pb + bp];
            if (cs.y != 0.0) {
                let pq = pair_of(bp, r, nn);
                let vp = vget(tm, i, pq.x, nv, alt);
                let vq = vget(tm, i, pq.y, nv, alt);
                vset(tm, i, pq.x, nv, alt, fma(cs.x, vp, -cs.y * vq));
                vset(tm, i, pq.y, nv, alt, fma(cs.y, vp, cs.x * vq));
            }
        }
    }
}

// Writes V (nv×nv) with column j moved to column srank[j]: into `sv`'s
// output in place of the global V (through `sa`, which is free by now),
// or from `sv`. `tr_out`: write Vᵀ instead (row srank[j]).
fn permute_v(tm: Team, nv: u32, alt: bool, tr_out: bool) {
    let lv = clog2(max(nv, 1u));
    let items = nv << lv;
    let rb = tm.g << LOGS;
    if (v_global()) {
        // Everybody is done with `sa` and with the global V.
        for (var k = tm.lt; k < items; k += tm.tsz) {
            let i = k & ((1u << lv) - 1u);
            let j = k >> lv;
            if (i < nv) {
                sa[sai(tm, i, j)] = vget(tm, i, j, nv, alt);
            }
        }
        workgroupBarrier();
        storageBarrier();
    }
    for (var k = tm.lt; k < items; k += tm.tsz) {
        let i = k & ((1u << lv) - 1u);
        let j = k >> lv;
        if (i < nv && tm.mat) {
            var x = 0.0;
            if (v_global()) {
                x = sa[sai(tm, i, j)];
            } else {
                x = sv[tm.base + (j << LOGS) + i];
            }
            let rk = srank[rb + j];
            let idx = tm.m * nv * nv + select(rk * nv + i, i * nv + rk, tr_out);
            if (alt) {
                if (idx < arrayLength(&out_vt)) {
                    out_vt[idx] = x;
                }
            } else {
                if (idx < arrayLength(&out_v)) {
                    out_v[idx] = x;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------
// SVD, one-sided Jacobi on the columns of A (R×C, R ≥ C; Aᵀ when m < n).

fn svd_body(t: u32, group: u32) {
    let tm = team(t, group);
    let rr = p.rows;
    let cc = p.cols;
    let tr = (p.flags & F_TRANS) != 0u;
    // V lives in the output of the short factor: Vᵀ (k×n) or U (m×k).
    let alt = !tr;
    let nn = cc + (cc & 1u);
    let np = nn >> 1u;
    init_slot(tm);
    workgroupBarrier();

    let lr = clog2(rr);
    for (var k = tm.lt; k < (nn << lr); k += tm.tsz) {
        let i = k & ((1u << lr) - 1u);
        let j = k >> lr;
        if (i < rr) {
            var x = 0.0;
            if (j < cc && tm.mat) {
                // Input m×n: R×C as is, or C×R read transposed.
                let idx = tm.m * rr * cc + select(j * rr + i, i * cc + j, tr);
                if (idx < arrayLength(&a)) {
                    x = a[idx];
                }
            }
            sa[sai(tm, i, j)] = x;
            atomicMax(&smax[tm.g], bitcast<u32>(abs(x)));
        }
    }
    let lc = clog2(nn);
    for (var k = tm.lt; k < (nn << lc); k += tm.tsz) {
        let i = k & ((1u << lc) - 1u);
        let j = k >> lc;
        if (i < nn) {
            vset(tm, i, j, cc, alt, select(0.0, 1.0, i == j && i < cc));
        }
    }
    sync_v();
    let e = scale_exp(atomicLoad(&smax[tm.g]));
    scale_block(tm, rr, nn, e);
    workgroupBarrier();

    let tol = sqrt(f32(rr)) * EPS;
    let tiny2 = TINY * TINY;
    let pb = tm.g << (LOGS - 1u);
    // Lanes per pair in phase 1: the team over the pairs (padded to 2^lp).
    let lsub = countTrailingZeros(tm.tsz) - clog2(max(np, 1u));
    let sub = 1u << lsub;
    let k0 = tm.lt >> lsub;
    let r0 = tm.lt & (sub - 1u);
    var sweep = 0u;
    loop {
        if (sweep >= p.max_sweeps) {
            break;
        }
        for (var r = 0u; r + 1u < nn; r++) {
            // Partial sums: `sub` lanes per pair, rows i ≡ lane (mod sub).
            if (k0 < np) {
                let pq = pair_of(k0, r, nn);
                var al = 0.0;
                var be = 0.0;
                var ga = 0.0;
                if (pq.y < cc) {
                    let bp = sai(tm, 0u, pq.x);
                    let bq = sai(tm, 0u, pq.y);
                    for (var i = r0; i < rr; i += sub) {
                        let x = sa[bp + i];
                        let y = sa[bq + i];
                        al = fma(x, x, al);
                        be = fma(y, y, be);
                        ga = fma(x, y, ga);
                    }
                }
                spart[t] = vec4<f32>(al, be, ga, 0.0);
            }
            workgroupBarrier();
            if (k0 < np && r0 == 0u) {
                var g3 = vec4<f32>(0.0);
                for (var l = 0u; l < sub; l++) {
                    g3 += spart[t + l];
                }
                let al = g3.x;
                let be = g3.y;
                let ga = g3.z;
                var c = 1.0;
                var s = 0.0;
                if (al > tiny2 && be > tiny2 && abs(ga) > tol * sqrt(al) * sqrt(be)) {
                    let zeta = (be - al) / (2.0 * ga);
                    let az = abs(zeta);
                    var tt = select(1.0 / (az + sqrt(fma(az, az, 1.0))), 0.5 / az, az > 1e18);
                    tt = select(tt, -tt, zeta < 0.0);
                    c = 1.0 / sqrt(fma(tt, tt, 1.0));
                    s = tt * c;
                    atomicOr(&mrot[tm.g], 1u);
                }
                scs[pb + k0] = vec2<f32>(c, s);
            }
            workgroupBarrier();
            // Columns of A.
            for (var k = tm.lt; k < (np << lr); k += tm.tsz) {
                let i = k & ((1u << lr) - 1u);
                let bp = k >> lr;
                if (i < rr) {
                    let cs = scs[pb + bp];
                    if (cs.y != 0.0) {
                        let pq = pair_of(bp, r, nn);
                        let ip = sai(tm, i, pq.x);
                        let iq = sai(tm, i, pq.y);
                        let x = sa[ip];
                        let y = sa[iq];
                        sa[ip] = fma(cs.x, x, -cs.y * y);
                        sa[iq] = fma(cs.y, x, cs.x * y);
                    }
                }
            }
            rotate_v(tm, r, cc, nn, np, pb, alt);
            sync_v();
        }
        sweep++;
        if (!end_sweep(tm, t)) {
            break;
        }
    }

    // σ_j = ‖a_j‖ (column scaled by a power of 2 first).
    let rb = tm.g << LOGS;
    for (var j = tm.lt; j < cc; j += tm.tsz) {
        let bj = sai(tm, 0u, j);
        var mx = 0.0;
        for (var i = 0u; i < rr; i++) {
            mx = max(mx, abs(sa[bj + i]));
        }
        let ej = scale_exp(bitcast<u32>(mx));
        var ss = 0.0;
        for (var i = 0u; i < rr; i++) {
            let x = ldexp(sa[bj + i], -ej);
            ss = fma(x, x, ss);
        }
        sw[rb + j] = ldexp(sqrt(ss), ej);
    }
    workgroupBarrier();
    // u_j = a_j / σ_j; negligible columns zeroed, then completed.
    for (var k = tm.lt; k < (cc << lr); k += tm.tsz) {
        let i = k & ((1u << lr) - 1u);
        let j = k >> lr;
        if (i < rr) {
            let sj = sw[rb + j];
            let x = sai(tm, i, j);
            sa[x] = select(0.0, sa[x] / sj, sj > 4.0 * TINY);
        }
    }
    workgroupBarrier();
    // Completion of the negligible columns, where a slot has any.
    for (var j = tm.lt; j < cc; j += tm.tsz) {
        if (sw[rb + j] <= 4.0 * TINY) {
            atomicOr(&mrot[tm.g], 1u);
        }
    }
    workgroupBarrier();
    if (t == 0u) {
        var any = 0u;
        for (var g = 0u; g < (1u << log_mats()); g++) {
            any |= atomicLoad(&mrot[g]);
        }
        gflag = any;
    }
    if (workgroupUniformLoad(&gflag) != 0u) {
        for (var j = 0u; j < cc; j++) {
            complete_column(tm, rr, cc, j, sw[rb + j] <= 4.0 * TINY);
        }
    }
    for (var j = tm.lt; j < cc; j += tm.tsz) {
        let rk = rank_of(tm, j, cc, true);
        srank[rb + j] = rk;
        let idx = tm.m * cc + rk;
        if (tm.mat && idx < arrayLength(&out_w)) {
            out_w[idx] = ldexp(sw[rb + j], e);
        }
    }
    workgroupBarrier();
    // The long factor (U, or V when transposed) from `sa`.
    for (var k = tm.lt; k < (cc << lr); k += tm.tsz) {
        let i = k & ((1u << lr) - 1u);
        let j = k >> lr;
        if (i < rr && tm.mat) {
            let rk = srank[rb + j];
            let idx = tm.m * rr * cc + select(rk * rr + i, i * cc + rk, tr);
            let x = sa[sai(tm, i, j)];
            if (tr) {
                if (idx < arrayLength(&out_vt)) {
                    out_vt[idx] = x;
                }
            } else {
                if (idx < arrayLength(&out_v)) {
                    out_v[idx] = x;
                }
            }
        }
    }
    workgroupBarrier();
    // The short factor: Vᵀ (rows permuted) or, transposed, U (columns).
    permute_v(tm, cc, alt, !tr);
    write_info(tm);
}

// When `neg`: column j of the slot (zero, its σ negligible) := the unit
// vector e_i with (about) the smallest row norm of the other columns,
// orthogonalized against them twice (classical Gram–Schmidt), normalized.
// Every invocation calls it (barriers inside); the team works in parallel.
// `smax` and `srank` serve as scratch (free at this point).
fn complete_column(tm: Team, rr: u32, cc: u32, j: u32, neg: bool) {
    let rb = tm.g << LOGS;
    let bj = sai(tm, 0u, j);
    if (tm.lt == 0u) {
        atomicStore(&smax[tm.g], 0xffffffffu);
    }
    workgroupBarrier();
    if (neg) {
        // Key: the row norm² with its low 6 bits replaced by the row.
        for (var i = tm.lt; i < rr; i += tm.tsz) {
            var rn = 0.0;
            for (var l = 0u; l < cc; l++) {
                let x = select(sa[sai(tm, i, l)], 0.0, l == j);
                rn = fma(x, x, rn);
            }
            atomicMin(&smax[tm.g], (bitcast<u32>(rn) & 0xffffffc0u) | i);
        }
    }
    workgroupBarrier();
    let best = atomicLoad(&smax[tm.g]) & 63u;
    if (neg) {
        for (var i = tm.lt; i < rr; i += tm.tsz) {
            sa[bj + i] = select(0.0, 1.0, i == best);
        }
    }
    workgroupBarrier();
    for (var it = 0u; it < 2u; it++) {
        if (neg) {
            for (var l = tm.lt; l < cc; l += tm.tsz) {
                let bl = sai(tm, 0u, l);
                var d = 0.0;
                for (var i = 0u; i < rr; i++) {
                    d = fma(sa[bl + i], sa[bj + i], d);
                }
                srank[rb + l] = bitcast<u32>(select(d, 0.0, l == j));
            }
        }
        workgroupBarrier();
        if (neg) {
            for (var i = tm.lt; i < rr; i += tm.tsz) {
                var x = sa[bj + i];
                for (var l = 0u; l < cc; l++) {
                    x = fma(-bitcast<f32>(srank[rb + l]), sa[sai(tm, i, l)], x);
                }
                sa[bj + i] = x;
            }
        }
        workgroupBarrier();
    }
    var nrm = 0.0;
    if (neg) {
        for (var i = 0u; i < rr; i++) {
            nrm = fma(sa[bj + i], sa[bj + i], nrm);
        }
    }
    workgroupBarrier();
    if (neg) {
        let inv = 1.0 / sqrt(nrm);
        for (var i = tm.lt; i < rr; i += tm.tsz) {
            sa[bj + i] = sa[bj + i] * inv;
        }
    }
    workgroupBarrier();
}

@compute @workgroup_size(256, 1, 1)
fn eigh_jacobi(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    eigh_body(t, wid.x);
}

@compute @workgroup_size(256, 1, 1)
fn svd_jacobi(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    svd_body(t, wid.x);
}
