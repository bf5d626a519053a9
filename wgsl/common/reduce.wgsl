// Reductions with compensated (double-float) accumulation: dot products,
// scaled sums of squares (Frobenius norm without overflow), and max |x|
// with its first index. Two stages: `*_partial` entries write one partial
// per workgroup; `*_finish` entries reduce the partials in one workgroup and
// leave the result in a GPU buffer, so later kernels can read it without a
// host round trip. Requires the twosum.wgsl helpers.

struct RedParams {
    n: u32, off_x: u32, off_y: u32, parts: u32,
    mode: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> p: RedParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<storage, read_write> part_idx: array<u32>;
// res[0] = max |x|, res[1] = sum result, res[2..3] = its hi/lo parts
@group(0) @binding(5) var<storage, read_write> res: array<f32>;
@group(0) @binding(6) var<storage, read_write> res_idx: array<u32>;

const WG: u32 = 256u;
var<workgroup> sh: array<vec2<f32>, 256>;
var<workgroup> shi: array<u32, 256>;

fn tree_sum(t: u32) -> vec2<f32> {
    workgroupBarrier();
    for (var w = WG / 2u; w > 0u; w = w / 2u) {
        if (t < w) {
            sh[t] = df_add(sh[t], sh[t + w]);
        }
        workgroupBarrier();
    }
    return sh[0];
}

@compute @workgroup_size(256, 1, 1)
fn dot_partial(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let t = lid.x;
    var acc = vec2<f32>(0.0);
    for (var e = wid.x * WG + t; e < p.n; e += groups.x * WG) {
        acc = df_add(acc, two_prod(x[p.off_x + e], y[p.off_y + e]));
    }
    sh[t] = acc;
    let s = tree_sum(t);
    if (t == 0u) {
        part[2u * wid.x] = s.x;
        part[2u * wid.x + 1u] = s.y;
    }
}

// Sum of (x / res[0])^2, res[0] being max |x| from maxabs_finish.
@compute @workgroup_size(256, 1, 1)
fn sumsq_partial(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let t = lid.x;
    let scale = res[0];
    var acc = vec2<f32>(0.0);
    if (scale > 0.0) {
        let inv = 1.0 / scale;
        for (var e = wid.x * WG + t; e < p.n; e += groups.x * WG) {
            let v = x[p.off_x + e] * inv;
            acc = df_add(acc, two_prod(v, v));
        }
    }
    sh[t] = acc;
    let s = tree_sum(t);
    if (t == 0u) {
        part[2u * wid.x] = s.x;
        part[2u * wid.x + 1u] = s.y;
    }
}

// mode 0: res[1] = sum of partials; mode 1: res[1] = res[0] * sqrt(sum).
@compute @workgroup_size(256, 1, 1)
fn sum_finish(@builtin(local_invocation_id) lid: vec3<u32>) {
    let t = lid.x;
    var acc = vec2<f32>(0.0);
    for (var g = t; g < p.parts; g += WG) {
        acc = df_add(acc, vec2<f32>(part[2u * g], part[2u * g + 1u]));
    }
    sh[t] = acc;
    let s = tree_sum(t);
    if (t == 0u) {
        let total = s.x + s.y;
        if (p.mode == 1u) {
            res[1] = res[0] * sqrt(total);
        } else {
            res[1] = total;
        }
        res[2] = s.x;
        res[3] = s.y;
    }
}

fn better(v: f32, i: u32, w: f32, j: u32) -> bool {
    // larger value wins; ties go to the smaller index
    return v > w || (v == w && i < j);
}

fn tree_max(t: u32) {
    workgroupBarrier();
    for (var w = WG / 2u; w > 0u; w = w / 2u) {
        if (t < w) {
            if (better(sh[t + w].x, shi[t + w], sh[t].x, shi[t])) {
                sh[t] = sh[t + w];
                shi[t] = shi[t + w];
            }
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(256, 1, 1)
fn maxabs_partial(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let t = lid.x;
    var best = -1.0;
    var bi = 0xffffffffu;
    for (var e = wid.x * WG + t; e < p.n; e += groups.x * WG) {
        let v = abs(x[p.off_x + e]);
        if (better(v, e, best, bi)) {
            best = v;
            bi = e;
        }
    }
    sh[t] = vec2<f32>(best, 0.0);
    shi[t] = bi;
    tree_max(t);
    if (t == 0u) {
        part[wid.x] = sh[0].x;
        part_idx[wid.x] = shi[0];
    }
}

@compute @workgroup_size(256, 1, 1)
fn maxabs_finish(@builtin(local_invocation_id) lid: vec3<u32>) {
    let t = lid.x;
    var best = -1.0;
    var bi = 0xffffffffu;
    for (var g = t; g < p.parts; g += WG) {
        if (better(part[g], part_idx[g], best, bi)) {
            best = part[g];
            bi = part_idx[g];
        }
    }
    sh[t] = vec2<f32>(best, 0.0);
    shi[t] = bi;
    tree_max(t);
    if (t == 0u) {
        res[0] = max(sh[0].x, 0.0);
        res_idx[0] = shi[0];
    }
}
