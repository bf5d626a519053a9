// trsm_diag_pack with subgroup broadcasts (appended to factor/panel.wgsl,
// whose helpers it shares; adapters with SUBGROUP):
//   trsm_diag_sg   the same result. The rows go in groups of
//                  g = min(subgroup size, 32) in substitution order, a
//                  group's rows held by consecutive invocations of one
//                  subgroup (subgroups of consecutive invocations, as the
//                  other subgroup kernels assume). Inside a group, step s's
//                  owner finishes its x and the group's other rows take it
//                  by one shuffle and subtract its term: the substitution
//                  chain is register arithmetic and shuffles, with no
//                  workgroup-memory round trip or barrier. Then every row
//                  after the group subtracts the group's terms from xrun:
//                  one barrier per group (each row's slot is written once,
//                  when its group finishes). The group-of-eight form
//                  (trsm_groups) was measured at about 0.22 µs per row of
//                  chain on an H200. Subgroups narrower than 8, or
//                  backward groups that would straddle subgroups (nb not a
//                  multiple of g), take trsm_groups.

// The substitution of the loaded block, leaving every row's final value
// in xrun (the caller puts a barrier before reading other rows' values).
fn trsm_solve_sg(at: TrsmAt, tid: u32, size: u32) {
    let nb = p.nb;
    let g = min(size, 32u);
    // from the uniform flags, not from `at` (its other fields vary by
    // invocation, and barriers follow under this branch)
    let lower = ((p.flags & 1u) != 0u) == ((p.flags & 2u) != 0u);
    if (size < 8u || !(lower || nb % g == 0u)) {
        trsm_groups(at, tid);
        return;
    }
    let in_block = at.row < nb;
    var x = xrun[tid];
    for (var s0 = 0u; s0 < nb; s0 += g) {
        let s1 = min(s0 + g, nb);
        let in_group = in_block && at.step >= s0 && at.step < s1;
        for (var s = s0; s < s1; s++) {
            let i = subst_row(s, nb, at.lower);
            if (at.row == i && !at.unit) {
                x = x / blk[i + i * NB];
            }
            // the owner's lane in the subgroup (the same subgroup for every
            // row of the group)
            let xs = subgroupShuffle(x, (64u * at.lane + i) % size);
            if (in_group && at.step > s) {
                x = fma(-blk[at.row + i * NB], xs, x);
            }
        }
        if (in_group) {
            xrun[tid] = x;
        }
        workgroupBarrier();
        if (in_block && at.step >= s1) {
            for (var q = s0; q < s1; q++) {
                let k = subst_row(q, nb, at.lower);
                x = fma(-blk[at.row + k * NB], xrun[k + 64u * at.lane], x);
            }
        }
    }
}

@compute @workgroup_size(256, 1, 1)
fn trsm_diag_sg(
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(subgroup_size) size: u32,
) {
    let at = trsm_at(tid, wid, groups);
    trsm_load(at, tid);
    workgroupBarrier();
    trsm_solve_sg(at, tid, size);
    trsm_store(at, tid);
}

// One block step of a triangular solve with at most four right-hand sides
// (op(T) = T, not transposed), in one dispatch: every workgroup solves the
// diagonal block k0 .. k0+nb itself (trsm_solve_sg, a few µs), workgroup
// 0 writes X_k into w (n × nrhs, leading dimension p.m, from row k0), and
// workgroup q subtracts T[r, k0..k0+nb]·X_k from the rows r of its
// 64-row chunk of those after the block (below it for a lower T, above
// for an upper one). The blocked trsm took two dispatches per block, the
// diagonal solve and a GEMV. The right-hand sides' rows of the block are
// read by every workgroup and written by none (X goes to w, copied into
// B after the last block), so the workgroups need no order among them.
@compute @workgroup_size(256, 1, 1)
fn trsv_step(
    @builtin(local_invocation_index) tid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(subgroup_size) size: u32,
) {
    let at = trsm_at(tid, vec3<u32>(0u), vec3<u32>(1u));
    trsm_load(at, tid);
    workgroupBarrier();
    trsm_solve_sg(at, tid, size);
    workgroupBarrier();
    let nb = p.nb;
    if (wid.x == 0u && at.live) {
        w[p.k0 + at.row + at.col * p.m] = xrun[tid];
    }
    let r = select(wid.x * 64u + at.row, p.k0 + nb + wid.x * 64u + at.row, at.lower);
    let end = select(p.k0, p.m, at.lower);
    if (at.col < p.n && r < end) {
        let bi = p.b_off + r + at.col * p.lda;
        var acc = a[bi];
        for (var k = 0u; k < nb; k++) {
            acc = fma(-t[p.t_off + r + (p.k0 + k) * p.ldt], xrun[k + 64u * at.lane], acc);
        }
        a[bi] = acc;
    }
}
