// Split-K reduction of a GEMM whose k was cut into `parts` chunks:
//   C[c_off + i + j*ldc] = sum_s P[s*m*n + i + j*m] + beta * C[c_off + i + j*ldc]
// where P holds the partial products alpha*op(A)[:, chunk s]*op(B)[chunk s, :]
// as contiguous m×n column-major matrices. C is read only when beta != 0
// (it may hold garbage otherwise). The partials are added in order in f32:
// each is a dot product over one chunk, so the total is no less accurate
// than one f32 dot product over all of k.

struct SplitKParams {
    m: u32, n: u32, parts: u32, ldc: u32,
    c_off: u32, pad0: u32, pad1: u32, pad2: u32,
    beta: f32, pad3: f32, pad4: f32, pad5: f32,
}

@group(0) @binding(0) var<uniform> p: SplitKParams;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;

// One invocation per element of C: x runs down a column (coalesced reads of
// every partial and of C), y over columns.
@compute @workgroup_size(64, 4, 1)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let j = gid.y;
    if (i >= p.m || j >= p.n) {
        return;
    }
    let mn = p.m * p.n;
    var e = i + j * p.m;
    var r = 0.0;
    for (var s = 0u; s < p.parts; s++) {
        r += partials[e];
        e += mn;
    }
    let idx = p.c_off + i + j * p.ldc;
    if (p.beta != 0.0) {
        r = fma(p.beta, c[idx], r);
    }
    c[idx] = r;
}
