// Workgroup tree reductions shared by the QR kernels: each including file
// declares `const WG` (its workgroup size) and
// `var<workgroup> red: array<vec2<f32>, WG>`; df_add comes from
// common/twosum.wgsl. Every invocation returns the result.

fn tree_max(t: u32, v: f32) -> f32 {
    red[t] = vec2<f32>(v, 0.0);
    workgroupBarrier();
    for (var w = WG / 2u; w > 0u; w = w / 2u) {
        if (t < w) {
            red[t] = vec2<f32>(max(red[t].x, red[t + w].x), 0.0);
        }
        workgroupBarrier();
    }
    let r = red[0].x;
    workgroupBarrier(); // red[0] is read before anyone overwrites it
    return r;
}

fn tree_dfsum(t: u32, v: vec2<f32>) -> vec2<f32> {
    red[t] = v;
    workgroupBarrier();
    for (var w = WG / 2u; w > 0u; w = w / 2u) {
        if (t < w) {
            red[t] = df_add(red[t], red[t + w]);
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}
