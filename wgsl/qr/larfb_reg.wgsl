// The block reflector of a Householder panel held in registers, on the
// block's columns right of the panel, in one dispatch (appended to
// qr/geqr2_reg.wgsl built with common/row8.wgsl, whose reductions it
// shares; in place of a packing of V and three small GEMMs, whose
// launches and narrow reductions had cost more than the panel itself):
//   larfb_reg   C ← Hᵀ·C = C − V·(Tᵀ·(Vᵀ·C)) for the p.cols columns from
//               j0 + jb, rows j0 .. m, with V (jb ≤ 8 columns, unit
//               diagonal) read in place from a and T from tf as geqr2_reg
//               leaves them (leading dimension ldt). One workgroup per
//               column of C: Vᵀc is a Row8 of subgroup sums and one
//               barrier, then every invocation forms w = Tᵀ·(Vᵀc) itself
//               and updates its rows.

// Row i of the panel from column j0: eight independent loads (a loop that
// set one lane per load waited for each load in turn).
fn panel_row(i: u32, j0: u32) -> Row8 {
    return Row8(
        vec4<f32>(lda_(i, j0), lda_(i, j0 + 1u), lda_(i, j0 + 2u), lda_(i, j0 + 3u)),
        vec4<f32>(lda_(i, j0 + 4u), lda_(i, j0 + 5u), lda_(i, j0 + 6u), lda_(i, j0 + 7u)),
    );
}

// Row i of V: the stored vectors below the diagonal, 1 on it, zeros above
// and right of the panel's jb columns.
fn v_row(i: u32, j0: u32, jb: u32) -> Row8 {
    let x = panel_row(i, j0);
    let r = vec4<u32>(i - j0);
    let lo = select(select(vec4<f32>(0.0), vec4<f32>(1.0), r == LANES_LO), x.lo, r > LANES_LO);
    let hi = select(select(vec4<f32>(0.0), vec4<f32>(1.0), r == LANES_HI), x.hi, r > LANES_HI);
    return row_head(Row8(lo, hi), jb);
}

fn tf_at(idx: u32) -> f32 {
    if (idx < arrayLength(&tf)) {
        return tf[idx];
    }
    return 0.0;
}

@compute @workgroup_size(PW, 1, 1)
fn larfb_reg(
    @builtin(local_invocation_index) t: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(subgroup_size) size: u32,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    if (wid.x >= p.cols) {
        return;
    }
    let m = p.m;
    let j0 = p.j0;
    let jb = min(p.jb, CMAX);
    let col = j0 + jb + wid.x;
    var d = row_zero();
    for (var i = j0 + t; i < m; i += PW) {
        let v = v_row(i, j0, jb);
        let c = vec4<f32>(lda_(i, col));
        d = Row8(fma(c, v.lo, d.lo), fma(c, v.hi, d.hi));
    }
    dots_put(Lanes8(d.lo, d.hi), t / size, lane, size);
    workgroupBarrier();
    let sl = dots_total(PW / size, lane, size);
    let s = Row8(sl.lo, sl.hi);
    // w = Tᵀ·s: w_c = Σ_{r ≤ c} T[r, c]·s_r; T's column c read as eight
    // independent loads (a loop that set one lane per load waited for
    // each load in turn)
    var w = row_zero();
    for (var c = 0u; c < CMAX; c++) {
        if (c < jb) {
            let b = (j0 + c) * p.ldt;
            let tc = Row8(
                vec4<f32>(tf_at(b), tf_at(b + 1u), tf_at(b + 2u), tf_at(b + 3u)),
                vec4<f32>(tf_at(b + 4u), tf_at(b + 5u), tf_at(b + 6u), tf_at(b + 7u)),
            );
            // lanes below T's diagonal (or past the panel) may hold
            // anything: only r ≤ c counts
            let up = Row8(
                select(vec4<f32>(0.0), tc.lo, LANES_LO <= vec4<u32>(c)),
                select(vec4<f32>(0.0), tc.hi, LANES_HI <= vec4<u32>(c)),
            );
            w = row_set(w, c, row_dot(up, s));
        }
    }
    for (var i = j0 + t; i < m; i += PW) {
        sta(i, col, lda_(i, col) - row_dot(v_row(i, j0, jb), w));
    }
}
