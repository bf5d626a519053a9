// Four f32 values in one vec4, with the names of common/row8.wgsl (Row,
// ROW_W, row_zero, row_get, row_set, row_axpy_right, row_head, row_dot,
// row_lo4, row_hi4, row_of_lanes): the LU and Householder panels
// (factor/getf2_reg.wgsl, qr/geqr2_reg.wgsl) built four columns wide. A
// panel taller than 4096 rows takes eight rows per invocation in a
// workgroup of 1024, and eight such rows of eight columns are 64
// registers of values alone, which is all a 1024-invocation workgroup may
// hold on NVIDIA GPUs (64K registers per multiprocessor): the rest spills
// to local memory. Four columns halve that.

struct Row4 {
    v: vec4<f32>,
}

alias Row = Row4;
const ROW_W: u32 = 4u;

const LANES4: vec4<u32> = vec4<u32>(0u, 1u, 2u, 3u);

fn row_zero() -> Row4 {
    return Row4(vec4<f32>(0.0));
}

fn row_get(x: Row4, c: u32) -> f32 {
    let v = x.v;
    return v[c & 3u];
}

fn row_set(x: Row4, c: u32, v: f32) -> Row4 {
    return Row4(select(x.v, vec4<f32>(v), LANES4 == vec4<u32>(c)));
}

// x − s·y in the columns right of j, x elsewhere.
fn row_axpy_right(x: Row4, s: f32, y: Row4, j: u32) -> Row4 {
    return Row4(select(x.v, fma(vec4<f32>(-s), y.v, x.v), LANES4 > vec4<u32>(j)));
}

// x with its lanes from n on set to zero.
fn row_head(x: Row4, n: u32) -> Row4 {
    return Row4(select(vec4<f32>(0.0), x.v, LANES4 < vec4<u32>(n)));
}

fn row_dot(x: Row4, y: Row4) -> f32 {
    return dot(x.v, y.v);
}

// As in common/row8.wgsl: the lanes as the low and high halves of eight
// (the high half zero), and the row of such lanes.
fn row_lo4(x: Row4) -> vec4<f32> {
    return x.v;
}

fn row_hi4(x: Row4) -> vec4<f32> {
    return vec4<f32>(0.0);
}

fn row_of_lanes(lo: vec4<f32>, hi: vec4<f32>) -> Row4 {
    return Row4(lo);
}
