// Eight f32 values as two vec4s, for the register-held panels (LU and QR):
// a column index that varies at run time selects a lane of a vector
// value, which stays in registers, where indexing an array with it would
// put the whole array in local memory (the panels' column loops hold
// barriers, so the compiler does not unroll them).

struct Row8 {
    lo: vec4<f32>, // columns 0 .. 4
    hi: vec4<f32>, // columns 4 .. 8
}

// The row type and width the LU panel (factor/getf2_reg.wgsl) is built
// with; common/row4.wgsl defines the same names for four columns.
alias Row = Row8;
const ROW_W: u32 = 8u;

fn row_zero() -> Row8 {
    return Row8(vec4<f32>(0.0), vec4<f32>(0.0));
}

const LANES_LO: vec4<u32> = vec4<u32>(0u, 1u, 2u, 3u);
const LANES_HI: vec4<u32> = vec4<u32>(4u, 5u, 6u, 7u);

fn row_get(x: Row8, c: u32) -> f32 {
    let lo = x.lo;
    let hi = x.hi;
    return select(hi[c & 3u], lo[c & 3u], c < 4u);
}

fn row_set(x: Row8, c: u32, v: f32) -> Row8 {
    return Row8(
        select(x.lo, vec4<f32>(v), LANES_LO == vec4<u32>(c)),
        select(x.hi, vec4<f32>(v), LANES_HI == vec4<u32>(c)),
    );
}

// x − s·y in the columns right of j, x elsewhere.
fn row_axpy_right(x: Row8, s: f32, y: Row8, j: u32) -> Row8 {
    return Row8(
        select(x.lo, fma(vec4<f32>(-s), y.lo, x.lo), LANES_LO > vec4<u32>(j)),
        select(x.hi, fma(vec4<f32>(-s), y.hi, x.hi), LANES_HI > vec4<u32>(j)),
    );
}

// x with its lanes from n on set to zero.
fn row_head(x: Row8, n: u32) -> Row8 {
    let v = vec4<u32>(n);
    return Row8(
        select(vec4<f32>(0.0), x.lo, LANES_LO < v),
        select(vec4<f32>(0.0), x.hi, LANES_HI < v),
    );
}

fn row_dot(x: Row8, y: Row8) -> f32 {
    return dot(x.lo, y.lo) + dot(x.hi, y.hi);
}

// Lanes 0 .. 4 and 4 .. 8 of x, and the row of such lanes (the eight-lane
// reductions of qr/geqr2_reg.wgsl).
fn row_lo4(x: Row8) -> vec4<f32> {
    return x.lo;
}

fn row_hi4(x: Row8) -> vec4<f32> {
    return x.hi;
}

fn row_of_lanes(lo: vec4<f32>, hi: vec4<f32>) -> Row8 {
    return Row8(lo, hi);
}
