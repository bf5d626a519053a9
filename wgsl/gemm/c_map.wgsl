// C as vec4, its columns scattered by blocks (the block Jacobi SVD writes
// each rotated pair straight into the next round's layout): C has no
// offset and a batch stride of n·ldc, so element idx is row idx mod ldc of
// the global column g = idx / ldc; block s = g / W (W = p.pad0 columns)
// is stored as block cmap[p.pad1 + s], at the same column inside the
// block. m, ldc and W·ldc are multiples of 4, so every four-row group is
// one aligned 16-byte store.

@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> cmap: array<u32>;

// Rows i0 .. i0+3 (i0 a multiple of 4, so all four exist when i0 < m).
fn store_col4(idx: u32, i0: u32, v: vec4<f32>) {
    let w = max(p.pad0, 1u);
    let g = idx / p.ldc;
    let s = g / w;
    if (i0 < p.m && p.pad1 + s < arrayLength(&cmap)) {
        let dst = ((cmap[p.pad1 + s] * w + (g - s * w)) * p.ldc + i0) / 4u;
        if (dst < arrayLength(&c)) {
            var r = v;
            if (p.beta != 0.0) {
                r = fma(vec4<f32>(p.beta), c[dst], r);
            }
            c[dst] = r;
        }
    }
}
