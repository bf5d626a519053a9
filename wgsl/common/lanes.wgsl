// Component c (0..15) of sixteen values held as four vec4 accumulators
// (the register blocks of cholqr_apply).
fn lane16(q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32>, c: u32) -> f32 {
    if (c >= 12u) {
        return q3[c % 4u];
    }
    if (c >= 8u) {
        return q2[c % 4u];
    }
    if (c >= 4u) {
        return q1[c % 4u];
    }
    return q0[c % 4u];
}
