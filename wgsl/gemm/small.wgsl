// C = alpha * op(A) * op(B) + beta * C for small and batched problems:
// 16×16 tile of C per workgroup, one element per invocation, 16-deep
// k slabs in workgroup memory. Batch index is the z workgroup.

override TA: bool = false;
override TB: bool = false;

const TS: u32 = 16u;

var<workgroup> As: array<f32, 256>; // [k][i]
var<workgroup> Bs: array<f32, 256>; // [j][k]

@compute @workgroup_size(16, 16, 1)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let tx = lid.x;
    let ty = lid.y;
    let i = wid.x * TS + tx;
    let j = wid.y * TS + ty;
    let z = wid.z + p.batch_base;
    let a_base = p.a_off + z * p.stride_a;
    let b_base = p.b_off + z * p.stride_b;
    let c_base = p.c_off + z * p.stride_c;

    var acc = 0.0;
    for (var k0 = 0u; k0 < p.k; k0 += TS) {
        // op(A)(wid.x*16 + tx, k0 + ty) -> As[ty][tx]
        let ai = wid.x * TS + tx;
        let al = k0 + ty;
        var av = 0.0;
        if (ai < p.m && al < p.k) {
            if (TA) {
                av = load_a(a_base + al + ai * p.lda);
            } else {
                av = load_a(a_base + ai + al * p.lda);
            }
        }
        As[ty * TS + tx] = av;
        // op(B)(k0 + tx, wid.y*16 + ty) -> Bs[ty][tx]
        let bl = k0 + tx;
        let bj = wid.y * TS + ty;
        var bv = 0.0;
        if (bl < p.k && bj < p.n) {
            if (TB) {
                bv = load_b(b_base + bj + bl * p.ldb);
            } else {
                bv = load_b(b_base + bl + bj * p.ldb);
            }
        }
        Bs[ty * TS + tx] = bv;
        workgroupBarrier();
        for (var kk = 0u; kk < TS; kk++) {
            acc = fma(As[kk * TS + tx], Bs[ty * TS + kk], acc);
        }
        workgroupBarrier();
    }
    if (i < p.m && j < p.n) {
        let idx = c_base + i + j * p.ldc;
        var r = p.alpha * acc;
        if (p.beta != 0.0) {
            r = fma(p.beta, c[idx], r);
        }
        c[idx] = r;
    }
}
