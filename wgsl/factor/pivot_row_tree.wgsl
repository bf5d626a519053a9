// The pivot of a column of the register-held LU panel and the pivot row's
// values, without subgroups: the pivot from the tree reduction of
// pivot_tree.wgsl, then the invocation whose candidate won stages its row
// for everyone behind one more barrier. Same interface as
// pivot_row_subgroup.wgsl (`buf` is unused: the barriers of the next
// column's reduction come before the staged row is written again).

struct Pick {
    pr: u32, // the pivot row (0xffffffff when no candidate is comparable)
    row: Row8, // its values
}

var<workgroup> tree_row: Row8;

fn pivot_row(best: f32, bi: u32, cand: Row8, buf: u32, tid: u32) -> Pick {
    let pr = pivot_reduce(best, bi, tid);
    if (pr != 0xffffffffu && bi == pr) {
        tree_row = cand;
    }
    workgroupBarrier();
    return Pick(pr, tree_row);
}
