//! Batched small-matrix factorizations (n ≤ 64): one workgroup per matrix.
