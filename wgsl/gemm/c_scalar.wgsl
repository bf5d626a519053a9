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
