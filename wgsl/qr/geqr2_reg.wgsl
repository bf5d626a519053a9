// Householder panel held in registers, with subgroup reductions (appended
// to householder.wgsl, whose helpers, bindings and outputs it shares):
//   geqr2_reg   what geqr2_panel does for a panel of jb ≤ 8 columns and
//               m − j0 ≤ RPI·PW rows: reflectors (LAPACK larfg, the norm
//               as a power-of-two-scaled double-float sum of squares),
//               each applied to the rest of the panel, V and R in place,
//               tau, and T of the compact WY form in columns j0 .. j0+jb
//               of `tf` (leading dimension ldt, exact zeros below the
//               diagonal).
// Invocation t holds the panel rows j0 + t + r·PW (r < RPI) in registers:
// the panel is read once and written once, and a column costs two
// barriers: one for the norm, one for the dot products of v with the
// columns right of it. The same reduction carries v's dot products with
// the reflectors left of it, the Gram column G[0:j, j] that T's column j
// needs (T[0:j, j] = −tau_j·T[0:j, 0:j]·G[0:j, j]), so T costs no pass
// over the panel: after the column loop, invocation q forms row q of T
// from the stored Gram columns (T[q, j] needs only row q's earlier
// entries). geqr2_panel reads and writes the panel in global memory at
// every column step, and its time per column was those round trips.
// A row is a Row (common/row8.wgsl, or common/row4.wgsl for panels four
// columns wide, where a panel takes more than four rows per invocation:
// eight rows of eight columns would be the whole register budget of a
// 1024-invocation workgroup), so the step's column selects vector lanes
// rather than indexing an array. The reductions carry eight lanes
// (Lanes8) whatever the width. Needs SUBGROUP (any subgroup size from 4
// up, subgroups of consecutive invocations).

override PW: u32 = 256u; // workgroup size (a multiple of 32, ≤ 1024)
override RPI: u32 = 4u; // panel rows per invocation: m − j0 ≤ RPI·PW
const RMAX: u32 = 16u;
const CMAX: u32 = ROW_W; // panel columns at most (8, or 4 with common/row4.wgsl)

// per-subgroup partials: (exponent, Σ x²) of the norm, and the dot
// products
var<workgroup> nrm_e: array<f32, 256>;
var<workgroup> nrm_s: array<vec2<f32>, 256>;
// (lanes 0..4 at 2·slot, lanes 4..8 at 2·slot + 1)
var<workgroup> dots: array<vec4<f32>, 512>;
var<workgroup> alpha_s: f32; // a[col, col] of the current column
// per column j: the Gram column G[0:j, j] in lanes below j, tau_j in lane j
var<workgroup> t8: array<Row, CMAX>;

// Σ over the subgroup of double-floats, by butterfly exchanges.
fn sg_df_sum(v: vec2<f32>, size: u32) -> vec2<f32> {
    var s = v;
    for (var off = 1u; off < 128u; off *= 2u) {
        if (off < size) {
            let o = vec2<f32>(subgroupShuffleXor(s.x, off), subgroupShuffleXor(s.y, off));
            s = df_add(s, o);
        }
    }
    return s;
}

// (exponent, Σ x²·2^(−2·exponent)) joined over the subgroup: the largest
// exponent, every part rescaled to it by an exact power of two. The
// exponents are whole numbers, and an integer subgroup maximum is one
// instruction where a float one is a chain of shuffles.
fn sg_nrm(e: f32, s: vec2<f32>, size: u32) -> vec3<f32> {
    let em = f32(subgroupMax(i32(e)));
    var x = vec2<f32>(0.0);
    if (e != NO_EXP) {
        x = scale2(s, 2 * i32(e - em));
    }
    return vec3<f32>(em, sg_df_sum(x, size));
}

// Eight lanes of partial sums (the reductions' width whatever the row's).
struct Lanes8 {
    lo: vec4<f32>,
    hi: vec4<f32>,
}

fn sg_row_sum(x: Lanes8) -> Lanes8 {
    return Lanes8(subgroupAdd(x.lo), subgroupAdd(x.hi));
}

// Σ over the subgroup (size ≥ 8) of the eight lanes of x, reduce-
// scattered: three halving exchanges (4, 2 and 1 values: each lane keeps
// the half its lane bit picks and adds its partner's copy of it), then
// whole ones. Lane l ends with the total of lane l / (size/8) of x. Nine
// shuffles where eight subgroup sums take forty, and a shuffle is one
// instruction per clock for a whole NVIDIA SM: with 32 subgroups
// reducing at once, the forty were most of a column's time.
fn sg_scatter8(x: Lanes8, lane: u32, size: u32) -> f32 {
    let o1 = size / 2u;
    let up1 = (lane & o1) != 0u;
    let h4 = select(x.lo, x.hi, up1) + subgroupShuffleXor(select(x.hi, x.lo, up1), o1);
    let o2 = size / 4u;
    let up2 = (lane & o2) != 0u;
    let h2 = select(h4.xy, h4.zw, up2) + subgroupShuffleXor(select(h4.zw, h4.xy, up2), o2);
    let o3 = size / 8u;
    let up3 = (lane & o3) != 0u;
    var h = select(h2.x, h2.y, up3) + subgroupShuffleXor(select(h2.y, h2.x, up3), o3);
    for (var off = size / 16u; off > 0u; off /= 2u) {
        h += subgroupShuffleXor(h, off);
    }
    return h;
}

// This subgroup's Σ of d into dots[2·slot ..] (every invocation calls it).
fn dots_put(d: Lanes8, slot: u32, lane: u32, size: u32) {
    if (size >= 8u) {
        let h = sg_scatter8(d, lane, size);
        let e = size / 8u;
        if (lane % e == 0u) {
            let c = lane / e;
            dots[2u * slot + c / 4u][c % 4u] = h;
        }
    } else {
        let ds = sg_row_sum(d);
        if (lane == 0u) {
            dots[2u * slot] = ds.lo;
            dots[2u * slot + 1u] = ds.hi;
        }
    }
}

// The sum of the `parts` partials in dots, in every invocation: each lane
// adds its share, the subgroup reduce-scatters them and every lane
// gathers the eight totals (after the barrier that follows dots_put).
fn dots_total(parts: u32, lane: u32, size: u32) -> Lanes8 {
    var wp = Lanes8(vec4<f32>(0.0), vec4<f32>(0.0));
    for (var k = lane; k < parts; k += size) {
        wp = Lanes8(wp.lo + dots[2u * k], wp.hi + dots[2u * k + 1u]);
    }
    if (size >= 8u) {
        let h = sg_scatter8(wp, lane, size);
        let e = size / 8u;
        return Lanes8(
            vec4<f32>(
                subgroupShuffle(h, 0u),
                subgroupShuffle(h, e),
                subgroupShuffle(h, 2u * e),
                subgroupShuffle(h, 3u * e),
            ),
            vec4<f32>(
                subgroupShuffle(h, 4u * e),
                subgroupShuffle(h, 5u * e),
                subgroupShuffle(h, 6u * e),
                subgroupShuffle(h, 7u * e),
            ),
        );
    }
    return sg_row_sum(wp);
}

// Where an invocation of geqr2_reg works: its index, subgroup lane and
// size, its subgroup's slot among the partials, and the partials' count.
struct QrAt {
    t: u32,
    lane: u32,
    size: u32,
    slot: u32,
    parts: u32,
}

// Column j of the panel (a constant at each call): the reflector, T's
// column, and the reflector applied to the columns right of j.
fn qr_column(j: u32, at: QrAt, x: ptr<function, array<Row, RMAX>>) {
    let m = p.m;
    let j0 = p.j0;
    let t = at.t;
    let lane = at.lane;
    let size = at.size;
    let slot = at.slot;
    let parts = at.parts;
    let col = j0 + j;
    // ---- the norm of the column below the diagonal: each invocation's
    // exponent and scaled double-float sum over its rows; the owner of
    // row col (invocation j, slot 0) adds |α| to its max only
    var mx = 0.0;
    if (t == j) {
        let al = row_get((*x)[0], j);
        mx = abs(al);
        alpha_s = al;
    }
    for (var r = 0u; r < RPI; r++) {
        let i = j0 + t + r * PW;
        if (i > col && i < m) {
            mx = max(mx, abs(row_get((*x)[r], j)));
        }
    }
    var ek = NO_EXP;
    var acc = vec2<f32>(0.0);
    if (mx > 0.0) {
        let e = exp_of(mx);
        ek = f32(e);
        for (var r = 0u; r < RPI; r++) {
            let i = j0 + t + r * PW;
            if (i > col && i < m) {
                let y = ldexp(row_get((*x)[r], j), -e);
                acc = df_add(acc, two_prod(y, y));
            }
        }
    }
    let sn = sg_nrm(ek, acc, size);
    if (lane == 0u) {
        nrm_e[slot] = sn.x;
        nrm_s[slot] = sn.yz;
    }
    workgroupBarrier();
    // every subgroup joins all partials itself
    var pe = NO_EXP;
    var ps = vec2<f32>(0.0);
    for (var k = lane; k < parts; k += size) {
        let jn = nrm_join(pe, ps, nrm_e[k], nrm_s[k]);
        pe = jn.x;
        ps = jn.yz;
    }
    let tot = sg_nrm(pe, ps, size);
    var e = 0;
    if (tot.x != NO_EXP) {
        e = i32(tot.x);
    }
    let ssq = tot.yz;
    let alpha = alpha_s;
    var tj = 0.0;
    var den = 1.0;
    var beta_s = alpha;
    if (ssq.x > 0.0) {
        let al = ldexp(alpha, -e);
        let tt = df_add(ssq, two_prod(al, al));
        let nrm = df_sqrt(tt);
        let beta = select(nrm, -nrm, al >= 0.0);
        tj = (beta - al) / beta;
        den = al - beta;
        beta_s = ldexp(beta, e);
    }
    if (t == 0u && col < arrayLength(&tau)) {
        tau[col] = tj;
    }
    // ---- v (1 at row col, scaled below), and the partial dot products
    // of v with the panel's columns: right of j, the columns H_j
    // updates; left of j, the reflectors before it (v_c is 1 at row
    // j0 + c < col and stored below), the Gram column G[0:j, j]
    var d = Lanes8(vec4<f32>(0.0), vec4<f32>(0.0));
    for (var r = 0u; r < RPI; r++) {
        let i = j0 + t + r * PW;
        if (i >= col && i < m) {
            var y = (*x)[r];
            var v = 1.0;
            if (i == col) {
                y = row_set(y, j, beta_s);
            } else {
                if (tj != 0.0) {
                    y = row_set(y, j, ldexp(row_get(y, j), -e) / den);
                }
                v = row_get(y, j);
            }
            (*x)[r] = y;
            d = Lanes8(fma(vec4<f32>(v), row_lo4(y), d.lo), fma(vec4<f32>(v), row_hi4(y), d.hi));
        }
    }
    dots_put(d, slot, lane, size);
    workgroupBarrier();
    let w = dots_total(parts, lane, size);
    // ---- apply H_j to the columns right of j: x_c −= v·tau·(vᵀx_c)
    let tw = row_of_lanes(tj * w.lo, tj * w.hi);
    for (var r = 0u; r < RPI; r++) {
        let i = j0 + t + r * PW;
        if (i >= col && i < m) {
            let y = (*x)[r];
            let v = select(row_get(y, j), 1.0, i == col);
            (*x)[r] = row_axpy_right(y, v, tw, j);
        }
    }
    // ---- what T's column j needs: tau_j and the Gram column, formed
    // after the loop (a serial T step here held every column's barrier)
    if (t == 0u) {
        t8[j] = row_set(row_of_lanes(w.lo, w.hi), j, tj);
    }
}

@compute @workgroup_size(PW, 1, 1)
fn geqr2_reg(
    @builtin(local_invocation_index) t: u32,
    @builtin(subgroup_size) size: u32,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    let m = p.m;
    let j0 = p.j0;
    let jb = min(p.jb, CMAX);
    let slot = t / size;
    let parts = PW / size;
    let zero = row_zero();
    // x[r]: row j0 + t + r·PW, columns j0 .. j0+CMAX (zero outside the
    // panel)
    var x: array<Row, RMAX>;
    for (var r = 0u; r < RPI; r++) {
        let i = j0 + t + r * PW;
        var y = zero;
        if (i < m) {
            // one lane per load, in a loop: the same row as eight loads
            // in one expression (panel_row) gave a wrong Q at 8192 rows on
            // an H200 (eight rows per invocation), reproducibly on one
            // machine and not on another; this form did not
            for (var c = 0u; c < CMAX; c++) {
                if (c < jb) {
                    y = row_set(y, c, lda_(i, j0 + c));
                }
            }
        }
        x[r] = y;
    }
    // the columns one call each, with constant column numbers, so that
    // every lane selection resolves at compile time (a loop over them
    // holds barriers, and the compiler does not unroll it)
    let at = QrAt(t, lane, size, slot, parts);
    qr_column(0u, at, &x);
    if (jb > 1u) {
        qr_column(1u, at, &x);
    }
    if (jb > 2u) {
        qr_column(2u, at, &x);
    }
    if (jb > 3u) {
        qr_column(3u, at, &x);
    }
    if (CMAX > 4u && jb > 4u) {
        qr_column(4u, at, &x);
    }
    if (CMAX > 5u && jb > 5u) {
        qr_column(5u, at, &x);
    }
    if (CMAX > 6u && jb > 6u) {
        qr_column(6u, at, &x);
    }
    if (CMAX > 7u && jb > 7u) {
        qr_column(7u, at, &x);
    }
    for (var r = 0u; r < RPI; r++) {
        let i = j0 + t + r * PW;
        if (i < m) {
            let y = x[r];
            for (var c = 0u; c < CMAX; c++) {
                if (c < jb) {
                    sta(i, j0 + c, row_get(y, c));
                }
            }
        }
    }
    // T (upper triangular, T[q, q] = tau_q, T[q, j] = −tau_j·Σ_{q ≤ k < j}
    // T[q, k]·G[k, j]): invocation q forms row q alone, from t8
    workgroupBarrier();
    if (t < jb) {
        var tr = row_set(zero, t, row_get(t8[t], t));
        for (var j = t + 1u; j < jb; j++) {
            let g = t8[j];
            tr = row_set(tr, j, -row_get(g, j) * row_dot(tr, row_head(g, j)));
        }
        for (var c = 0u; c < jb; c++) {
            put_t(j0, t, c, row_get(tr, c));
        }
    }
}
