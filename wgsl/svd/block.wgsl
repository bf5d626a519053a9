// Data movement of the block one-sided Jacobi SVD (src/ops/svd_block.rs):
// column blocks are permuted between rounds so that the two blocks of
// every pair sit side by side, which makes the pair Gram matrices and the
// rotations strided batched GEMMs.

// permute_blocks: rows, cols, width = block width, aux = map offset;
// gram_*: rows, cols = w2 (pair width), width = rows per chunk, aux = chunks.
// gram_sum_off: cols = w2, width = floor bits, aux = chunks, aux2 = offset
// of the pair measures in dst2; the rest say what they read.
struct BlockParams {
    rows: u32,
    cols: u32,
    width: u32,
    aux: u32,
    rows2: u32,
    aux2: u32,
    pad0: u32,
    pad1: u32,
}

@group(0) @binding(0) var<uniform> p: BlockParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> slots: array<u32>;
@group(0) @binding(7) var<storage, read_write> dst2: array<f32>;
@group(0) @binding(8) var<storage, read> wrot: array<f32>;
@group(0) @binding(9) var<storage, read> vsrc: array<f32>;
@group(0) @binding(10) var<storage, read_write> vdst: array<f32>;
@group(0) @binding(11) var<storage, read> src4: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read_write> dst4: array<vec4<f32>>;

// dst's column block s (width columns of rows entries) is src's column
// block slots[aux + s]. Grid: x over rows (256 per workgroup), y over
// columns.
@compute @workgroup_size(256, 1, 1)
fn permute_blocks(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = gid.x;
    let j = wid.y;
    if (i >= p.rows || j >= p.cols) {
        return;
    }
    let s = j / p.width;
    let sj = slots[p.aux + s] * p.width + (j - s * p.width);
    dst[j * p.rows + i] = src[sj * p.rows + i];
}

// permute_blocks with four rows per invocation (rows a multiple of 4), on
// the vec4 views of src and dst: a quarter of the workgroups.
@compute @workgroup_size(256, 1, 1)
fn permute_blocks4(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let q = gid.x;
    let j = wid.y;
    let rows4 = p.rows / 4u;
    if (q >= rows4 || j >= p.cols) {
        return;
    }
    let s = j / p.width;
    let sj = slots[p.aux + s] * p.width + (j - s * p.width);
    dst4[j * rows4 + q] = src4[sj * rows4 + q];
}

// dst = the rows × cols identity (columns beyond rows are zero).
@compute @workgroup_size(256, 1, 1)
fn identity(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = gid.x;
    let j = wid.y;
    if (i >= p.rows || j >= p.cols) {
        return;
    }
    dst[j * p.rows + i] = select(0.0, 1.0, i == j);
}

// Absolute column sums for the 1-norm: one workgroup per column (x, then
// y for more than 65535 columns), a strided pass and a tree reduction.
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn abs_col_sums(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let j = wid.x + wid.y * groups.x;
    var s = 0.0;
    if (j < p.cols) {
        for (var i = t; i < p.rows; i += 256u) {
            s += abs(src[j * p.rows + i]);
        }
    }
    partial[t] = s;
    workgroupBarrier();
    for (var h = 128u; h > 0u; h >>= 1u) {
        if (t < h) {
            partial[t] += partial[t + h];
        }
        workgroupBarrier();
    }
    if (t == 0u && j < p.cols) {
        dst[j] = partial[0];
    }
}

// Absolute row sums for the ∞-norm: one invocation per row, walking the
// columns (neighbouring invocations read neighbouring rows).
@compute @workgroup_size(256, 1, 1)
fn abs_row_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.rows) {
        return;
    }
    var s = 0.0;
    for (var j = 0u; j < p.cols; j++) {
        s += abs(src[j * p.rows + i]);
    }
    dst[i] = s;
}

// Gram matrices of column pairs, split over row chunks: for pair z and
// chunk c, partial[z][c] = T_z[rows of c]ᵀ·T_z[rows of c], where T_z is the
// rows × w2 block of src starting at element z·rows·w2 (w2 = 2b ≤ 64).
// 256 invocations: 16 × 16 of them each accumulate a 4 × 4 block of the
// w2 × w2 result (only (w2/4)² of them when w2 < 64) over 16-row slabs
// staged in workgroup memory. gram_sum_off then sums the chunks, so every
// entry is a sum of chunk sums (shorter f32 accumulation chains than one
// long dot product).
var<workgroup> slab: array<f32, 1024>; // 16 rows × 64 columns, row-major

// Row `row` of columns lc + 16·q (q = 0..3) of the block at `base`, zero
// outside rows < r1 and columns < w2.
fn gram_fetch(base: u32, row: u32, r1: u32, lc: u32, w2: u32) -> vec4<f32> {
    var x = vec4<f32>(0.0);
    for (var q = 0u; q < 4u; q++) {
        let col = lc + 16u * q;
        if (row < r1 && col < w2) {
            x[q] = src[base + col * p.rows + row];
        }
    }
    return x;
}

@compute @workgroup_size(256, 1, 1)
fn gram_partial(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let c = wid.x;
    let z = wid.y;
    let w2 = p.cols;
    let w4 = w2 / 4u;
    let tx = t % 16u;
    let ty = t / 16u;
    let busy = tx < w4 && ty < w4;
    let base = z * p.rows * w2;
    let r0 = c * p.width;
    let r1 = min(r0 + p.width, p.rows);
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    // loads: invocation t reads row (t % 16) of columns t / 16 + 16·q
    let lr = t % 16u;
    let lc = t / 16u;
    // the next slab's four values are fetched into registers while the
    // current one is multiplied
    var nxt = gram_fetch(base, r0 + lr, r1, lc, w2);
    for (var r = r0; r < r1; r += 16u) {
        for (var q = 0u; q < 4u; q++) {
            slab[lr * 64u + lc + 16u * q] = nxt[q];
        }
        workgroupBarrier();
        nxt = gram_fetch(base, r + 16u + lr, r1, lc, w2);
        if (busy) {
            for (var k = 0u; k < 16u; k++) {
                let o = k * 64u;
                let a = vec4<f32>(slab[o + 4u * tx], slab[o + 4u * tx + 1u],
                                  slab[o + 4u * tx + 2u], slab[o + 4u * tx + 3u]);
                let b = vec4<f32>(slab[o + 4u * ty], slab[o + 4u * ty + 1u],
                                  slab[o + 4u * ty + 2u], slab[o + 4u * ty + 3u]);
                acc0 = fma(a, vec4<f32>(b.x), acc0);
                acc1 = fma(a, vec4<f32>(b.y), acc1);
                acc2 = fma(a, vec4<f32>(b.z), acc2);
                acc3 = fma(a, vec4<f32>(b.w), acc3);
            }
        }
        workgroupBarrier();
    }
    if (busy) {
        let out = (z * p.aux + c) * w2 * w2;
        let i = 4u * tx;
        let j = 4u * ty;
        for (var e = 0u; e < 4u; e++) {
            dst[out + j * w2 + i + e] = acc0[e];
            dst[out + (j + 1u) * w2 + i + e] = acc1[e];
            dst[out + (j + 2u) * w2 + i + e] = acc2[e];
            dst[out + (j + 3u) * w2 + i + e] = acc3[e];
        }
    }
}

// One pass of shifted CholeskyQR, Q = X·M with M = L⁻ᵀ for the Cholesky
// factor L of G + δ·I, where G = XᵀX is given as p.aux partial Gram
// matrices (gram_partial's output, in src4), X is p.rows × p.cols
// (p.cols ≤ 64) in vsrc and Q goes to vdst; δ = shift·max_i g_ii with
// shift = bitcast(p.width). A pivot below δ is raised to δ (modified
// Cholesky), so a rank-deficient X gives small, finite columns instead of
// NaN. Every workgroup sums G and factorizes it itself (an l×l problem,
// cheaper than the launch it saves) and then multiplies its p.aux2 rows
// (a multiple of 64) of X by M.
// The factorization needs one barrier per column: the elimination keeps
// the columns unscaled (S[i,k] −= S[i,j]·S[k,j]/d_j reads only column j
// and writes only columns right of it) and scales L[:, j] = S[:, j]/√d_j
// at the end; L⁻¹ is formed by forward substitution, one invocation per
// column, into the free strict upper triangle of sg; sg finally holds M
// with M[k, j] at sg[j·64 + k].
var<workgroup> sg: array<f32, 4096>;
var<workgroup> piv: array<f32, 64>;   // d_j, the (raised) pivots
var<workgroup> xdiag: array<f32, 64>; // X[c, c] = 1/L[c, c]

// sg: G in, L of G + δ·I out (lower, column j at sg[j·64 + i])
fn shifted_chol(n: u32, t: u32) {
    var mx = 0.0;
    for (var i = 0u; i < n; i++) {
        mx = max(mx, sg[i * 64u + i]);
    }
    let delta = max(bitcast<f32>(p.width) * mx, 1e-30);
    for (var j = 0u; j < n; j++) {
        let d = max(sg[j * 64u + j], delta);
        let r = 1.0 / d;
        if (t == 0u) {
            piv[j] = d;
        }
        let w = n - j - 1u;
        for (var e = t; e < w * w; e += 256u) {
            let i = j + 1u + e % w;
            let k = j + 1u + e / w;
            if (k <= i) {
                sg[k * 64u + i] -= sg[j * 64u + i] * (sg[j * 64u + k] * r);
            }
        }
        workgroupBarrier();
    }
    for (var e = t; e < n * n; e += 256u) {
        let i = e % n;
        let j = e / n;
        if (i > j) {
            sg[j * 64u + i] = sg[j * 64u + i] / sqrt(piv[j]);
        } else if (i == j) {
            sg[j * 64u + j] = sqrt(piv[j]);
        }
    }
    workgroupBarrier();
}

// sg: L in (shifted_chol's output), M = L⁻ᵀ out
fn chol_inverse(n: u32, t: u32) {
    // column c of X = L⁻¹: X[c, c] = 1/L[c, c], then for i > c
    // X[i, c] = −(Σ_{c ≤ k < i} L[i, k]·X[k, c]) / L[i, i], at sg[i·64 + c]
    if (t < n) {
        let c = t;
        let xc = 1.0 / sg[c * 64u + c];
        xdiag[c] = xc;
        for (var i = c + 1u; i < n; i++) {
            var s = sg[c * 64u + i] * xc;
            for (var k = c + 1u; k < i; k++) {
                s = fma(sg[k * 64u + i], sg[k * 64u + c], s);
            }
            sg[i * 64u + c] = -s / sg[i * 64u + i];
        }
    }
    workgroupBarrier();
    // M[k, j] = X[j, k] at sg[j·64 + k]: the diagonal from xdiag, zeros
    // where L was (k > j)
    for (var e = t; e < n * n; e += 256u) {
        let k = e % n;
        let j = e / n;
        if (k == j) {
            sg[j * 64u + k] = xdiag[k];
        } else if (k > j) {
            sg[j * 64u + k] = 0.0;
        }
    }
    workgroupBarrier();
}

// sg = Σ_c partial c of G (p.aux chunks in src4), n×n at sg[j·64 + i]
fn gram_sum_into_sg(n: u32, t: u32) {
    let size4 = n * n / 4u; // n is a multiple of 4
    let chunks = p.aux;
    // the chunk sum is latency bound (every workgroup reads all partials):
    // vec4 loads, eight chunks in flight
    for (var e = t; e < size4; e += 256u) {
        var s0 = vec4<f32>(0.0);
        var s1 = vec4<f32>(0.0);
        var s2 = vec4<f32>(0.0);
        var s3 = vec4<f32>(0.0);
        var c = 0u;
        for (; c + 8u <= chunks; c += 8u) {
            s0 += src4[c * size4 + e] + src4[(c + 4u) * size4 + e];
            s1 += src4[(c + 1u) * size4 + e] + src4[(c + 5u) * size4 + e];
            s2 += src4[(c + 2u) * size4 + e] + src4[(c + 6u) * size4 + e];
            s3 += src4[(c + 3u) * size4 + e] + src4[(c + 7u) * size4 + e];
        }
        for (; c < chunks; c++) {
            s0 += src4[c * size4 + e];
        }
        let s = (s0 + s1) + (s2 + s3);
        for (var q = 0u; q < 4u; q++) {
            let f = 4u * e + q;
            sg[(f / n) * 64u + f % n] = s[q];
        }
    }
    workgroupBarrier();
}

// vdst = vsrc·M for this workgroup's p.aux2 rows (M in sg)
fn apply_m(n: u32, t: u32, wg: u32) {
    // invocation t: rows r0 + t % 64 + 64·s, columns 16·(t / 64) + 0..15
    let m = p.rows;
    let j0 = (t / 64u) * 16u;
    let r0 = wg * p.aux2;
    let r1 = min(r0 + p.aux2, m);
    for (var i = r0 + t % 64u; i < r1; i += 64u) {
        var q0 = vec4<f32>(0.0);
        var q1 = vec4<f32>(0.0);
        var q2 = vec4<f32>(0.0);
        var q3 = vec4<f32>(0.0);
        for (var k = 0u; k < n; k++) {
            let x = vsrc[k * m + i];
            let mk = k + j0 * 64u;
            q0 = fma(vec4<f32>(x), vec4<f32>(sg[mk], sg[mk + 64u], sg[mk + 128u], sg[mk + 192u]), q0);
            q1 = fma(vec4<f32>(x), vec4<f32>(sg[mk + 256u], sg[mk + 320u], sg[mk + 384u], sg[mk + 448u]), q1);
            q2 = fma(vec4<f32>(x), vec4<f32>(sg[mk + 512u], sg[mk + 576u], sg[mk + 640u], sg[mk + 704u]), q2);
            q3 = fma(vec4<f32>(x), vec4<f32>(sg[mk + 768u], sg[mk + 832u], sg[mk + 896u], sg[mk + 960u]), q3);
        }
        for (var c = 0u; c < 16u; c++) {
            let j = j0 + c;
            if (j < n) {
                vdst[j * m + i] = lane16(q0, q1, q2, q3, c);
            }
        }
    }
}

@compute @workgroup_size(256, 1, 1)
fn cholqr_apply(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let n = p.cols;
    gram_sum_into_sg(n, t);
    shifted_chol(n, t);
    chol_inverse(n, t);
    apply_m(n, t, wid.x);
}

// cholqr_apply, and workgroup 0 also writes this pass's R = Lᵀ (n×n,
// column-major, zeros below the diagonal) to dst, so that the QR of the
// input is Q·(R₃·R₂·R₁) after three passes.
@compute @workgroup_size(256, 1, 1)
fn cholqr_apply_r(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let n = p.cols;
    gram_sum_into_sg(n, t);
    shifted_chol(n, t);
    if (wid.x == 0u) {
        // R[i, j] = L[j, i], at sg[i·64 + j] for j ≥ i; chol_inverse
        // writes only above L's diagonal before its first barrier
        for (var e = t; e < n * n; e += 256u) {
            let i = e % n;
            let j = e / n;
            dst[j * n + i] = select(0.0, sg[i * 64u + j], i <= j);
        }
    }
    chol_inverse(n, t);
    apply_m(n, t, wid.x);
}

// G_z = Σ_c partial[z][c] (partials in src, G into dst) and the pair's
// convergence measure as gram_off computes it, into dst2[aux2 + z]: one
// workgroup per pair, so the Gram matrix is summed and measured in one
// dispatch.
@compute @workgroup_size(256, 1, 1)
fn gram_sum_off(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let w2 = p.cols;
    let z = wid.x;
    let size = w2 * w2;
    let chunks = p.aux;
    // the partials in src4 (w2 is even, so size is a multiple of 4): vec4
    // loads, several chunks in flight (the sum is latency bound)
    let size4 = size / 4u;
    for (var e = t; e < size4; e += 256u) {
        let base = z * chunks * size4 + e;
        var s0 = vec4<f32>(0.0);
        var s1 = vec4<f32>(0.0);
        var s2 = vec4<f32>(0.0);
        var s3 = vec4<f32>(0.0);
        var c = 0u;
        for (; c + 4u <= chunks; c += 4u) {
            s0 += src4[base + c * size4];
            s1 += src4[base + (c + 1u) * size4];
            s2 += src4[base + (c + 2u) * size4];
            s3 += src4[base + (c + 3u) * size4];
        }
        for (; c < chunks; c++) {
            s0 += src4[base + c * size4];
        }
        let s = (s0 + s1) + (s2 + s3);
        for (var q = 0u; q < 4u; q++) {
            sg[4u * e + q] = s[q];
            dst[z * size + 4u * e + q] = s[q];
        }
    }
    workgroupBarrier();
    let floor = bitcast<f32>(p.width);
    var m = 0.0;
    for (var e = t; e < size; e += 256u) {
        let i = e % w2;
        let j = e / w2;
        let gi = sg[i * w2 + i];
        let gj = sg[j * w2 + j];
        if (i != j && gi > floor && gj > floor) {
            m = max(m, abs(sg[e]) / (sqrt(gi) * sqrt(gj)));
        }
    }
    partial[t] = m;
    workgroupBarrier();
    for (var h = 128u; h > 0u; h >>= 1u) {
        if (t < h) {
            partial[t] = max(partial[t], partial[t + h]);
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        dst2[p.aux2 + z] = partial[0];
    }
}

// dst[e] = a standard normal number for e < p.rows (the count), from a PCG
// hash of (e, seed = p.width) and Box–Muller. Grid: x, then y rows of x.
fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

@compute @workgroup_size(256, 1, 1)
fn gaussian(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let e = (wid.y * groups.x + wid.x) * 256u + t;
    if (e >= p.rows) {
        return;
    }
    let h1 = pcg(e ^ pcg(p.width));
    let h2 = pcg(h1 ^ 0x9e3779b9u);
    let u1 = (f32(h1 >> 8u) + 0.5) / 16777216.0;
    let u2 = f32(h2 >> 8u) / 16777216.0;
    dst[e] = sqrt(-2.0 * log(u1)) * cos(6.2831853 * u2);
}

// The finish of the block Jacobi SVD on the GPU.
//   col_norms       for column j of the rotated A (p.rows × p.cols, in src)
//                   dst[2j] = ‖A[:, j]‖ (double-float sum of squares) and,
//                   for V (p.rows2 × p.cols, in vsrc), dst[2j + 1] = the
//                   largest |V[i, j]| over the padding rows i ≥ p.aux.
//                   One workgroup per column.
//   gather_columns  dst column c (p.rows entries) = column slots[c] of src
//                   (leading dimension p.aux) times wrot[c] (times 1 when
//                   p.width is 0), for c < p.cols. Grid: x over rows (256
//                   per workgroup), y over columns.
var<workgroup> nrm2: array<vec2<f32>, 256>;

@compute @workgroup_size(256, 1, 1)
fn col_norms(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let j = wid.x;
    var acc = vec2<f32>(0.0);
    var mx = 0.0;
    if (j < p.cols) {
        for (var i = t; i < p.rows; i += 256u) {
            let x = src[j * p.rows + i];
            acc = df_add(acc, two_prod(x, x));
        }
        for (var i = p.aux + t; i < p.rows2; i += 256u) {
            mx = max(mx, abs(vsrc[j * p.rows2 + i]));
        }
    }
    nrm2[t] = acc;
    partial[t] = mx;
    workgroupBarrier();
    for (var h = 128u; h > 0u; h >>= 1u) {
        if (t < h) {
            nrm2[t] = df_add(nrm2[t], nrm2[t + h]);
            partial[t] = max(partial[t], partial[t + h]);
        }
        workgroupBarrier();
    }
    if (t == 0u && j < p.cols) {
        dst[2u * j] = sqrt(nrm2[0].x + nrm2[0].y);
        dst[2u * j + 1u] = partial[0];
    }
}

@compute @workgroup_size(256, 1, 1)
fn gather_columns(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = gid.x;
    let c = wid.y;
    if (i >= p.rows || c >= p.cols) {
        return;
    }
    var f = 1.0;
    if (p.width != 0u) {
        f = wrot[c];
    }
    dst[c * p.rows + i] = src[slots[c] * p.aux + i] * f;
}

// col_dots: dst[j] = Σ_{i < p.rows} src[j·p.rows + i]·vsrc[j·p.rows2 + i]
// for the p.cols columns (double-float sum; the Rayleigh quotients vᵀ(Av)
// of eigh). One workgroup per column.
@compute @workgroup_size(256, 1, 1)
fn col_dots(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let j = wid.x;
    var acc = vec2<f32>(0.0);
    if (j < p.cols) {
        for (var i = t; i < p.rows; i += 256u) {
            acc = df_add(acc, two_prod(src[j * p.rows + i], vsrc[j * p.rows2 + i]));
        }
    }
    nrm2[t] = acc;
    workgroupBarrier();
    for (var h = 128u; h > 0u; h >>= 1u) {
        if (t < h) {
            nrm2[t] = df_add(nrm2[t], nrm2[t + h]);
        }
        workgroupBarrier();
    }
    if (t == 0u && j < p.cols) {
        dst[j] = nrm2[0].x + nrm2[0].y;
    }
}

// sym_shift: dst (p.rows × p.rows) = the symmetric matrix whose lower
// triangle is src's, plus bitcast(p.width)·I (eigh's shift). Grid: x over
// rows (256 per workgroup), y over columns.
@compute @workgroup_size(256, 1, 1)
fn sym_shift(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = gid.x;
    let j = wid.y;
    let n = p.rows;
    if (i >= n || j >= n) {
        return;
    }
    var v = select(src[j + i * n], src[i + j * n], i >= j);
    if (i == j) {
        v += bitcast<f32>(p.width);
    }
    dst[i + j * n] = v;
}

// Largest |g_ij| / √(g_ii·g_jj) over the rows i > j of column j of the
// p.rows × p.rows Gram matrix in src (only its lower triangle is read),
// columns with g ≤ floor (bits in p.width) left out, into dst[j]: the
// convergence measure of block Jacobi over every column pair at once. One
// workgroup per column.
@compute @workgroup_size(256, 1, 1)
fn gram_col_off(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let n = p.rows;
    let j = wid.x;
    let floor = bitcast<f32>(p.width);
    let len = arrayLength(&src);
    var m = 0.0;
    if (j * n + j < len) {
        let gj = src[j * n + j];
        if (gj > floor) {
            for (var i = j + 1u + t; i < n; i += 256u) {
                if (i * n + i < len) {
                    let gi = src[i * n + i];
                    if (gi > floor) {
                        m = max(m, abs(src[j * n + i]) / (sqrt(gi) * sqrt(gj)));
                    }
                }
            }
        }
    }
    partial[t] = m;
    workgroupBarrier();
    for (var h = 128u; h > 0u; h >>= 1u) {
        if (t < h) {
            partial[t] = max(partial[t], partial[t + h]);
        }
        workgroupBarrier();
    }
    if (t == 0u && j < arrayLength(&dst)) {
        dst[j] = partial[0];
    }
}
