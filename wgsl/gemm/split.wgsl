// Split of an f32 matrix X (rows × cols, column-major, leading dimension
// ld, offset off) into scaled f16 parts for the split-f16 GEMM: X·s =
// hi + lo with hi the leading 11 bits of X·s and lo = f16(X·s − hi), s a
// power of two per row (A) or per column (B) that brings the largest
// magnitude of the row or column into [2^14, 2^15), so hi cannot overflow
// and hi + lo carries about 22 significant bits.
//
// The parts are written interleaved, so that one plain cooperative GEMM
// (coop.wgsl) of the two results sums the three significant products
// Al·Bh + Ah·Bl + Ah·Bh, smallest first in every 16-deep chunk of k:
// X padded to prow × pcol (zeros outside X; prow a multiple of 8 for A,
// of 16 for B, and pcol of 16 for A) becomes
// - for A (split_rows): prow × 3·pcol, leading dimension prow: the 16
//   columns 16c..16c+16 of X give columns 48c.. (lo), 48c+16.. (hi) and
//   48c+32.. (hi again);
// - for B (split_cols): 3·prow × pcol, leading dimension 3·prow: rows
//   16c..16c+16 give rows 48c.. (hi), 48c+16.. (lo) and 48c+32.. (hi).
enable f16;

struct SplitParams {
    rows: u32, cols: u32, ld: u32, off: u32,
    prow: u32, pcol: u32, pad0: u32, pad1: u32,
}

@group(0) @binding(0) var<uniform> q: SplitParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// (s, 1/s) per row (scale_rows) or per column (scale_cols), exact powers of two
@group(0) @binding(2) var<storage, read_write> sc: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> parts: array<f16>; // interleaved, see above

// (s, 1/s) for a row or column whose largest magnitude is mx: s = 2^e with
// e = 14 − ⌊log2 mx⌋, kept within the normal range; (1, 1) for zero (and
// for infinities and NaN, which then propagate).
fn scale_of(mx: f32) -> vec2<f32> {
    let bits = bitcast<u32>(mx);
    let ex = i32((bits >> 23u) & 255u) - 127; // −127 for zero and subnormals
    if (mx == 0.0 || ex == 128) {
        return vec2<f32>(1.0, 1.0);
    }
    let e = clamp(14 - ex, -126, 126);
    return vec2<f32>(bitcast<f32>(u32(e + 127) << 23u), bitcast<f32>(u32(127 - e) << 23u));
}

// Largest magnitude of each row as the bits of a non-negative f32 (which
// order as u32), gathered with atomicMax (cleared to 0 first).
@group(0) @binding(5) var<storage, read_write> mxbits: array<atomic<u32>>;

// Columns per invocation of row_max.
const ROW_CHUNK: u32 = 64u;

// One invocation per row and chunk of ROW_CHUNK columns (the rows are
// contiguous, so neighbouring invocations read neighbouring addresses); a
// grid of (rows / 256) × (cols / ROW_CHUNK) workgroups, so that a matrix of
// few rows still fills the GPU.
@compute @workgroup_size(256, 1, 1)
fn row_max(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= q.rows) {
        return;
    }
    let l0 = gid.y * ROW_CHUNK;
    let l1 = min(l0 + ROW_CHUNK, q.cols);
    var mx = 0.0;
    for (var l = l0; l < l1; l++) {
        mx = max(mx, abs(x[q.off + i + l * q.ld]));
    }
    atomicMax(&mxbits[i], bitcast<u32>(mx));
}

// (s, 1/s) per row from row_max's maxima.
@compute @workgroup_size(256, 1, 1)
fn scale_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= q.rows) {
        return;
    }
    sc[i] = scale_of(bitcast<f32>(atomicLoad(&mxbits[i])));
}

var<workgroup> red: array<f32, 256>;

// One workgroup per column, a tree reduction of the largest magnitude.
@compute @workgroup_size(256, 1, 1)
fn scale_cols(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let j = wid.x;
    var mx = 0.0;
    for (var l = t; l < q.rows; l += 256u) {
        mx = max(mx, abs(x[q.off + l + j * q.ld]));
    }
    red[t] = mx;
    workgroupBarrier();
    for (var h = 128u; h > 0u; h >>= 1u) {
        if (t < h) {
            red[t] = max(red[t], red[t + h]);
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        sc[j] = scale_of(red[0]);
    }
}

// The parts of entry (i, l) of X·s, (hi, lo): hi keeps the leading 11
// significant bits of v = X[i, l]·s, cut off in the bit pattern (so
// f16(hi32) is exact: no conversion rounds it, and no compiler may fold
// the remainder to zero by taking f32(f16(v)) for v); lo = f16(v − hi32),
// the remainder (at most 13 significant bits, exact in f32), rounded to
// 11. Together 22 to 24 bits of v while |v| stays in f16's normal range,
// which the scaling ensures for the largest entries. Zero outside X.
fn split_one(i: u32, l: u32, s: f32) -> vec2<f16> {
    var v = 0.0;
    if (i < q.rows && l < q.cols) {
        v = x[q.off + i + l * q.ld] * s;
    }
    let hi32 = bitcast<f32>(bitcast<u32>(v) & 0xffffe000u);
    return vec2<f16>(f16(hi32), f16(v - hi32));
}

// X·diag(s): A, scaled by row (s = sc[i]); k runs along the columns.
@compute @workgroup_size(64, 4, 1)
fn split_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let l = gid.y;
    if (i >= q.prow || l >= q.pcol) {
        return;
    }
    var s = 1.0;
    if (i < q.rows) {
        s = sc[i].x;
    }
    let h = split_one(i, l, s);
    let col = 48u * (l / 16u) + l % 16u;
    parts[i + col * q.prow] = h.y;
    parts[i + (col + 16u) * q.prow] = h.x;
    parts[i + (col + 32u) * q.prow] = h.x;
}

// B, scaled by column (s = sc[l] for column l); k runs along the rows.
@compute @workgroup_size(64, 4, 1)
fn split_cols(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let l = gid.y;
    if (i >= q.prow || l >= q.pcol) {
        return;
    }
    var s = 1.0;
    if (l < q.cols) {
        s = sc[l].x;
    }
    let h = split_one(i, l, s);
    let row = 48u * (i / 16u) + i % 16u + l * 3u * q.prow;
    parts[row] = h.x;
    parts[row + 16u] = h.y;
    parts[row + 32u] = h.x;
}
