//! The CPU route of the SVD and symmetric eigensolvers: nalgebra
//! (Golub–Kahan SVD with vectors in f64, singular values alone and the
//! tridiagonal QR of `eigh` in f32), results put into the
//! crate's conventions (singular values descending with Vᵀ rows to match,
//! eigenvalues ascending with eigenvector columns to match).

use nalgebra::{DMatrix, DVector};

use crate::ops::svd::Svd;

/// Thin SVD (k = min(m, n) triplets, singular values descending).
pub(crate) fn svd(a: &DMatrix<f32>) -> Svd {
    let (m, n) = a.shape();
    let k = m.min(n);
    if k == 0 {
        return Svd {
            u: DMatrix::zeros(m, 0),
            s: DVector::zeros(0),
            vt: DMatrix::zeros(0, n),
        };
    }
    // in f64: nalgebra 0.35's f32 SVD with vectors loses accuracy on some
    // inputs (σ₁ off by 1e-3 relative at cond 1e6, and by 10% for a rank-1
    // 2×64 matrix when min(m, n) = 2); the values alone are fine in f32
    let f = a.map(f64::from).svd(true, true);
    let (Some(u), Some(vt)) = (f.u, f.v_t) else {
        unreachable!("SVD asked for U and Vᵀ")
    };
    Svd {
        u: u.map(|x| x as f32),
        s: f.singular_values.map(|x| x as f32),
        vt: vt.map(|x| x as f32),
    }
}

/// Singular values only, descending.
pub(crate) fn svdvals(a: &DMatrix<f32>) -> DVector<f32> {
    if a.is_empty() {
        return DVector::zeros(0);
    }
    let mut s: Vec<f32> = a.clone().singular_values().iter().copied().collect();
    s.sort_by(|x, y| y.total_cmp(x));
    DVector::from_vec(s)
}

/// Eigenvalues ascending and the matching orthonormal eigenvectors (as
/// columns) of the symmetric matrix `a` (its lower triangle is used).
pub(crate) fn eigh(a: &DMatrix<f32>) -> (DVector<f32>, DMatrix<f32>) {
    let n = a.nrows();
    if n == 0 {
        return (DVector::zeros(0), DMatrix::zeros(0, 0));
    }
    let sym = symmetrized_lower(a);
    let e = sym.symmetric_eigen();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| e.eigenvalues[i].total_cmp(&e.eigenvalues[j]));
    let w = DVector::from_iterator(n, order.iter().map(|&i| e.eigenvalues[i]));
    let v = DMatrix::from_fn(n, n, |r, c| e.eigenvectors[(r, order[c])]);
    (w, v)
}

/// Eigenvalues only, ascending.
pub(crate) fn eigvalsh(a: &DMatrix<f32>) -> DVector<f32> {
    if a.is_empty() {
        return DVector::zeros(0);
    }
    let mut w: Vec<f32> = symmetrized_lower(a)
        .symmetric_eigenvalues()
        .iter()
        .copied()
        .collect();
    w.sort_by(|x, y| x.total_cmp(y));
    DVector::from_vec(w)
}

/// The symmetric matrix whose lower triangle is that of `a` (NumPy's
/// `eigh(UPLO='L')`).
pub(crate) fn symmetrized_lower(a: &DMatrix<f32>) -> DMatrix<f32> {
    let n = a.nrows();
    DMatrix::from_fn(n, n, |i, j| if i >= j { a[(i, j)] } else { a[(j, i)] })
}
