// Pivot search of the LU panel as a workgroup tree reduction: the first
// row of largest |a| in rows col..m of column col, for PW invocations.

const PW: u32 = 1024u; // workgroup size of getf2_panel
var<workgroup> red_v: array<f32, 1024>;
var<workgroup> red_i: array<u32, 1024>;

fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
    return v > w || (v == w && i < j);
}

fn find_pivot(col: u32, m: u32, tid: u32) -> u32 {
    var best = -1.0;
    var bi = 0xffffffffu;
    for (var i = col + tid; i < m; i += PW) {
        let v = abs(a[at(i, col)]);
        if (better(v, i, best, bi)) {
            best = v;
            bi = i;
        }
    }
    red_v[tid] = best;
    red_i[tid] = bi;
    workgroupBarrier();
    for (var s = PW / 2u; s > 0u; s = s / 2u) {
        if (tid < s && better(red_v[tid + s], red_i[tid + s], red_v[tid], red_i[tid])) {
            red_v[tid] = red_v[tid + s];
            red_i[tid] = red_i[tid + s];
        }
        workgroupBarrier();
    }
    let pr = red_i[0];
    workgroupBarrier(); // red_i[0] is read before anyone overwrites it
    return pr;
}
