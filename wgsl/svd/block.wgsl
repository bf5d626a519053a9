// Data movement of the block one-sided Jacobi SVD (src/ops/svd_block.rs):
// column blocks are permuted between rounds so that the two blocks of
// every pair sit side by side, which makes the pair Gram matrices and the
// rotations strided batched GEMMs.

struct BlockParams {
    rows: u32,
    cols: u32,
    width: u32,
    map_off: u32,
}

@group(0) @binding(0) var<uniform> p: BlockParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<storage, read> slots: array<u32>;

// dst's column block s (width columns of rows entries) is src's column
// block slots[map_off + s]. Grid: x over rows (256 per workgroup), y over
// columns.
@compute @workgroup_size(256, 1, 1)
fn permute_blocks(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = gid.x;
    let j = wid.y;
    if (i >= p.rows || j >= p.cols) {
        return;
    }
    let s = j / p.width;
    let sj = slots[p.map_off + s] * p.width + (j - s * p.width);
    dst[j * p.rows + i] = src[sj * p.rows + i];
}

// dst = the rows × cols identity (columns beyond rows are zero).
@compute @workgroup_size(256, 1, 1)
fn identity(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let i = gid.x;
    let j = wid.y;
    if (i >= p.rows || j >= p.cols) {
        return;
    }
    dst[j * p.rows + i] = select(0.0, 1.0, i == j);
}

// Absolute column sums for the 1-norm: one workgroup per column (x, then
// y for more than 65535 columns), a strided pass and a tree reduction.
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256, 1, 1)
fn abs_col_sums(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let j = wid.x + wid.y * groups.x;
    var s = 0.0;
    if (j < p.cols) {
        for (var i = t; i < p.rows; i += 256u) {
            s += abs(src[j * p.rows + i]);
        }
    }
    partial[t] = s;
    workgroupBarrier();
    for (var h = 128u; h > 0u; h >>= 1u) {
        if (t < h) {
            partial[t] += partial[t + h];
        }
        workgroupBarrier();
    }
    if (t == 0u && j < p.cols) {
        dst[j] = partial[0];
    }
}

// Absolute row sums for the ∞-norm: one invocation per row, walking the
// columns (neighbouring invocations read neighbouring rows).
@compute @workgroup_size(256, 1, 1)
fn abs_row_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= p.rows) {
        return;
    }
    var s = 0.0;
    for (var j = 0u; j < p.cols; j++) {
        s += abs(src[j * p.rows + i]);
    }
    dst[i] = s;
}
