// C as vec4, its columns scattered by blocks (the block Jacobi SVD writes
// each rotated pair straight into the next round's layout): C has no
// offset and a batch stride of n·ldc, so column j of C_z is the global
// column g = z·n + j; block s = g >> p.pad0 (blocks of 2^pad0 columns) is
// stored as block cmap[p.pad1 + s], at the same column inside the block.
// m and ldc are multiples of 4, so every four-row group is one aligned
// 16-byte store.

@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> cmap: array<u32>;

// Element index of row 0 of column j of C_z after the scatter (past the
// end of C where the map has no entry: the store then skips it).
fn col_start(z: u32, c_base: u32, j: u32) -> u32 {
    let g = z * p.n + j;
    let s = g >> p.pad0;
    if (p.pad1 + s >= arrayLength(&cmap)) {
        return 4u * arrayLength(&c);
    }
    let col = (cmap[p.pad1 + s] << p.pad0) | (g & ((1u << p.pad0) - 1u));
    return col * p.ldc;
}

// Rows i0 .. i0+3 (i0 a multiple of 4, so all four exist when i0 < m).
fn store_col4(idx: u32, i0: u32, v: vec4<f32>) {
    if (i0 < p.m && idx / 4u < arrayLength(&c)) {
        var r = v;
        if (p.beta != 0.0) {
            r = fma(vec4<f32>(p.beta), c[idx / 4u], r);
        }
        c[idx / 4u] = r;
    }
}
