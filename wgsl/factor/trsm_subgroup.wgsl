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
    let nb = p.nb;
    let g = min(size, 32u);
    // from the uniform flags, not from `at` (its other fields vary by
    // invocation, and a barrier follows under this branch)
    let lower = ((p.flags & 1u) != 0u) == ((p.flags & 2u) != 0u);
    if (size < 8u || !(lower || nb % g == 0u)) {
        trsm_groups(at, tid);
        trsm_store(at, tid);
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
    trsm_store(at, tid);
}
