//! The CPU route: nalgebra implementations with the same signatures as the
//! GPU ops. Also the oracle the tests compare against (in f64).

pub(crate) mod linsolve;

use nalgebra::DMatrix;

/// `alpha·op(A)·op(B) + beta·C` (C not read when absent or `beta == 0`).
pub(crate) fn gemm(
    alpha: f32,
    a: &DMatrix<f32>,
    ta: bool,
    b: &DMatrix<f32>,
    tb: bool,
    beta: f32,
    c: Option<&DMatrix<f32>>,
) -> DMatrix<f32> {
    let m = if ta { a.ncols() } else { a.nrows() };
    let n = if tb { b.nrows() } else { b.ncols() };
    let mut out = match c {
        Some(c) if beta != 0.0 => c.clone(),
        _ => DMatrix::zeros(m, n),
    };
    let beta = if c.is_some() { beta } else { 0.0 };
    match (ta, tb) {
        (false, false) => out.gemm(alpha, a, b, beta),
        (true, false) => out.gemm_tr(alpha, a, b, beta),
        (false, true) => out.gemm(alpha, a, &b.transpose(), beta),
        (true, true) => out.gemm_tr(alpha, a, &b.transpose(), beta),
    }
    out
}
