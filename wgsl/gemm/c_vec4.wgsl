// C as vec4: used when m, the leading dimension, the offset and the batch
// stride of C are multiples of 4, so that every four-row group of a column
// is one aligned 16-byte store.

@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;

// Rows i0 .. i0+3 (i0 a multiple of 4, so all four exist when i0 < m).
fn store_col4(idx: u32, i0: u32, v: vec4<f32>) {
    if (i0 < p.m) {
        var r = v;
        if (p.beta != 0.0) {
            r = fma(vec4<f32>(p.beta), c[idx / 4u], r);
        }
        c[idx / 4u] = r;
    }
}

// Element index of row 0 of column j of C_z (c_base = c_off + z·stride_c).
fn col_start(z: u32, c_base: u32, j: u32) -> u32 {
    return c_base + j * p.ldc;
}
