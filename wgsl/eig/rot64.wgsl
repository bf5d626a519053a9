// Jacobi sweeps on symmetric matrices of even order n with 32 < n ≤ 64,
// one workgroup of 512 (`eigh_rot64_w512`, the default) or 256
// (`eigh_rot64`) invocations per matrix, eigenpairs in rotation order: the
// inner step of the block Jacobi SVD on its 2b×2b pair Gram matrices
// (b = 32). The same rotations, skip rule, ordering and arithmetic as
// `eigh_jacobi` of `jacobi.wgsl` with F_KEEP, so the results are the same;
// the difference is where the data live. `eigh_jacobi` of size class 64
// keeps V in global memory (A and V of order 64 would fill the 32 KiB of
// workgroup memory by themselves), with a storage barrier per round.
// Here A is held as its packed lower triangle (row i at i(i+1)/2, 8 KiB)
// and V (16 KiB) stays in workgroup memory as well.
//
// Per round: phase 1 computes (c, s) of every pair and the pair's new 2×2
// diagonal block, barrier; phase 2 updates every off-diagonal 2×2 block
// (pair P, pair Q) as J_Pᵀ·A_PQ·J_Q (one stored copy, the lower one) and
// V ← V·J, barrier. A matrix is scaled by 2^-e (exact) so that max|a_ij|
// is in [1, 2) and the eigenvalues are scaled back.
//
// Outputs: w (n per matrix, the diagonal in rotation order), v (n×n,
// column-major), info (1 when the last sweep still rotated).
//
// The kernel runs without runtime bounds checks: global accesses are
// guarded by `arrayLength`; `ra` is indexed by lo(i, j) with i, j < n ≤ 64
// (< 2080), `rv` by j·64 + i with i, j < 64, `rcs` by a pair index < 32.

// Params, the bindings, EPS and TINY: eig/io.wgsl (rows = the order n,
// even, 32 < n ≤ 64; out_vt and out_off are not used here).

// Packed lower triangle of A (64·65/2 words).
var<workgroup> ra: array<f32, 2080>;
// V, column j at j·64.
var<workgroup> rv: array<f32, 4096>;
// (c, s) of each pair of the round.
var<workgroup> rcs: array<vec2<f32>, 32>;
var<workgroup> rmax: atomic<u32>;
var<workgroup> rrot: atomic<u32>;
// Rotated in the last finished sweep (written by invocation 0).
var<workgroup> rflag: u32;

// Position of a_ij (= a_ji) in `ra`.
fn lo(i: u32, j: u32) -> u32 {
    let x = max(i, j);
    return ((x * (x + 1u)) >> 1u) + min(i, j);
}

// Pair k of round r of the circle ordering of N (even) indices: (p < q).
fn rpair(k: u32, r: u32, nn: u32) -> vec2<u32> {
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

@compute @workgroup_size(256, 1, 1)
fn eigh_rot64(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    rot64_body(t, wid.x, 256u);
}

@compute @workgroup_size(512, 1, 1)
fn eigh_rot64_w512(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    rot64_body(t, wid.x, 512u);
}

// The kernel for invocation t of a workgroup of wg invocations (256 or
// 512) on matrix batch_base + group.
fn rot64_body(t: u32, group: u32, wg: u32) {
    let n = min(p.rows, 64u);
    let np = n >> 1u;
    let m = p.batch_base + group;
    let mat = m < p.batch;
    if (t == 0u) {
        atomicStore(&rmax, 0u);
        atomicStore(&rrot, 0u);
        rflag = 0u;
    }
    workgroupBarrier();
    // The lower triangle, and V = I.
    for (var k = t; k < 4096u; k += wg) {
        let i = k & 63u;
        let j = k >> 6u;
        if (i < n && j < n && i >= j) {
            var x = 0.0;
            let idx = m * n * n + j * n + i;
            if (mat && idx < arrayLength(&a)) {
                x = a[idx];
            }
            ra[lo(i, j)] = x;
            atomicMax(&rmax, bitcast<u32>(abs(x)));
        }
        rv[k] = select(0.0, 1.0, i == j);
    }
    workgroupBarrier();
    let bits = atomicLoad(&rmax);
    let be = (bits >> 23u) & 0xffu;
    let e = select(0, i32(be) - 127, be != 0u);
    let tri = (n * (n + 1u)) >> 1u;
    for (var k = t; k < tri; k += wg) {
        ra[k] = ldexp(ra[k], -e);
    }
    workgroupBarrier();

    // Off-diagonal blocks per round: (P, P + d mod np) for 1 ≤ d ≤ np/2,
    // d = np/2 only for P < np/2 (each unordered pair once); np ≤ 32.
    let nd = np >> 1u;
    var sweep = 0u;
    loop {
        if (sweep >= p.max_sweeps) {
            break;
        }
        for (var r = 0u; r + 1u < n; r++) {
            if (t < np) {
                let pq = rpair(t, r, n);
                var c = 1.0;
                var s = 0.0;
                let ip = lo(pq.x, pq.x);
                let iq = lo(pq.y, pq.y);
                let ipq = lo(pq.y, pq.x);
                let app = ra[ip];
                let aqq = ra[iq];
                let apq = ra[ipq];
                let thr = max(EPS * sqrt(abs(app)) * sqrt(abs(aqq)), TINY);
                if (abs(apq) > thr) {
                    let theta = (aqq - app) / (2.0 * apq);
                    let at = abs(theta);
                    var tt = select(1.0 / (at + sqrt(fma(at, at, 1.0))), 0.5 / at, at > 1e18);
                    tt = select(tt, -tt, theta < 0.0);
                    c = 1.0 / sqrt(fma(tt, tt, 1.0));
                    s = tt * c;
                    ra[ip] = fma(-tt, apq, app);
                    ra[iq] = fma(tt, apq, aqq);
                    ra[ipq] = 0.0;
                    atomicOr(&rrot, 1u);
                }
                rcs[t] = vec2<f32>(c, s);
            }
            workgroupBarrier();
            // A ← Jᵀ·A·J on the off-diagonal blocks.
            for (var k = t; k < (nd << 5u); k += wg) {
                let bp = k & 31u;
                let d = (k >> 5u) + 1u;
                if (bp < np && (2u * d < np || bp < d)) {
                    var bq = bp + d;
                    if (bq >= np) {
                        bq -= np;
                    }
                    let pp = rpair(bp, r, n);
                    let qq = rpair(bq, r, n);
                    let cp = rcs[bp];
                    let cq = rcs[bq];
                    let i00 = lo(pp.x, qq.x);
                    let i01 = lo(pp.x, qq.y);
                    let i10 = lo(pp.y, qq.x);
                    let i11 = lo(pp.y, qq.y);
                    let x00 = ra[i00];
                    let x01 = ra[i01];
                    let x10 = ra[i10];
                    let x11 = ra[i11];
                    // Rows: J_Pᵀ·X.
                    let y00 = fma(cp.x, x00, -cp.y * x10);
                    let y01 = fma(cp.x, x01, -cp.y * x11);
                    let y10 = fma(cp.y, x00, cp.x * x10);
                    let y11 = fma(cp.y, x01, cp.x * x11);
                    // Columns: ·J_Q.
                    ra[i00] = fma(cq.x, y00, -cq.y * y01);
                    ra[i01] = fma(cq.y, y00, cq.x * y01);
                    ra[i10] = fma(cq.x, y10, -cq.y * y11);
                    ra[i11] = fma(cq.y, y10, cq.x * y11);
                }
            }
            // V ← V·J (rows i < n).
            for (var k = t; k < (np << 6u); k += wg) {
                let i = k & 63u;
                let bp = k >> 6u;
                let cs = rcs[bp];
                if (i < n && cs.y != 0.0) {
                    let pq = rpair(bp, r, n);
                    let ip = (pq.x << 6u) + i;
                    let iq = (pq.y << 6u) + i;
                    let vp = rv[ip];
                    let vq = rv[iq];
                    rv[ip] = fma(cs.x, vp, -cs.y * vq);
                    rv[iq] = fma(cs.y, vp, cs.x * vq);
                }
            }
            workgroupBarrier();
        }
        sweep++;
        if (t == 0u) {
            rflag = atomicExchange(&rrot, 0u);
        }
        if (workgroupUniformLoad(&rflag) == 0u) {
            break;
        }
    }

    // Eigenvalues (rotation order), V, info.
    if (mat) {
        for (var j = t; j < n; j += wg) {
            let idx = m * n + j;
            if (idx < arrayLength(&out_w)) {
                out_w[idx] = ldexp(ra[lo(j, j)], e);
            }
        }
        for (var k = t; k < 4096u; k += wg) {
            let i = k & 63u;
            let j = k >> 6u;
            let idx = m * n * n + j * n + i;
            if (i < n && j < n && idx < arrayLength(&out_v)) {
                out_v[idx] = rv[k];
            }
        }
        if (t == 0u && m < arrayLength(&info)) {
            info[m] = select(0u, 1u, rflag != 0u);
        }
    }
}
