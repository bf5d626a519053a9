// C as scalars: any m, leading dimension and offset.

@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// C[i0 + q] ← v[q] + beta·C[i0 + q] for the rows i0 + q < m of one column
// (idx is the element index of row i0).
fn store_col4(idx: u32, i0: u32, v: vec4<f32>) {
    for (var q = 0u; q < 4u; q++) {
        if (i0 + q < p.m) {
            var r = v[q];
            if (p.beta != 0.0) {
                r = fma(p.beta, c[idx + q], r);
            }
            c[idx + q] = r;
        }
    }
}

// Element index of row 0 of column j of C_z (c_base = c_off + z·stride_c).
fn col_start(z: u32, c_base: u32, j: u32) -> u32 {
    return c_base + j * p.ldc;
}
