// Placeholder until the kernels land.
struct P { n: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn placeholder(@builtin(global_invocation_id) gid: vec3<u32>) {
    if (gid.x < p.n) {
        a[gid.x] = a[gid.x];
    }
}
