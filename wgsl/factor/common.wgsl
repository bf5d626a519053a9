// Parameters, bindings and helpers shared by the blocked-factorization
// kernels (factor/blocked.wgsl, factor/getf2*.wgsl).

struct FParams {
    m: u32,       // rows of the matrix (a)
    n: u32,       // columns of the matrix (a), or right-hand sides
    k0: u32,      // first row/column of the block
    nb: u32,      // block width (≤ 64)
    lda: u32,     // leading dimension of a
    ldt: u32,     // leading dimension of t
    t_off: u32,   // element offset of T's (0, 0) in t
    flags: u32,   // bit 0: upper, bit 1: transpose, bit 2: unit diagonal
    mode: u32,
    b_off: u32,   // element offset of the right-hand sides in a (trsm_diag_pack)
    o_off: u32,   // element offset of the packed output (potrf_block)
    pad2: u32,
}

@group(0) @binding(0) var<uniform> p: FParams;
@group(0) @binding(1) var<storage, read> t: array<f32>;
@group(0) @binding(2) var<storage, read_write> a: array<f32>;
@group(0) @binding(3) var<storage, read_write> info: array<u32>;
@group(0) @binding(4) var<storage, read_write> ipiv: array<u32>;
@group(0) @binding(5) var<storage, read_write> w: array<f32>;

var<workgroup> bad_s: u32;

fn at(i: u32, j: u32) -> u32 {
    return i + j * p.lda;
}
