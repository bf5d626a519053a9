//! CPU route of the factorizations and solves: straightforward f32 LAPACK-
//! style algorithms on nalgebra storage, with the same semantics (and the
//! same failure columns) as the GPU kernels.

use nalgebra::DMatrix;

use crate::error::{Error, Result};
use crate::ops::factor::TriFlags;
use crate::ops::lu::Lu;

/// Lower Cholesky factor (zeros above the diagonal), right-looking.
pub(crate) fn cholesky(a: &DMatrix<f32>) -> Result<DMatrix<f32>> {
    let n = a.nrows();
    let mut l = a.clone();
    for j in 0..n {
        let d = l[(j, j)];
        if d.is_nan() || d <= 0.0 {
            return Err(Error::NotPositiveDefinite { column: j });
        }
        let piv = d.sqrt();
        l[(j, j)] = piv;
        for i in j + 1..n {
            l[(i, j)] /= piv;
        }
        for c in j + 1..n {
            let lcj = l[(c, j)];
            if lcj != 0.0 {
                for i in c..n {
                    let lij = l[(i, j)];
                    l[(i, c)] -= lij * lcj;
                }
            }
        }
    }
    for j in 0..n {
        for i in 0..j {
            l[(i, j)] = 0.0;
        }
    }
    Ok(l)
}

/// LU with partial pivoting (first largest |a| as pivot), packed, with
/// 0-based LAPACK interchanges; returns the column of the first exactly zero
/// pivot, if any, beside the factors.
pub(crate) fn getrf(a: &DMatrix<f32>) -> (Lu, Option<usize>) {
    let (m, n) = a.shape();
    let k = m.min(n);
    let mut lu = a.clone();
    let mut ipiv = Vec::with_capacity(k);
    let mut first_zero = None;
    for j in 0..k {
        let mut p = j;
        let mut best = -1.0f32;
        for i in j..m {
            let v = lu[(i, j)].abs();
            if v > best {
                best = v;
                p = i;
            }
        }
        ipiv.push(p as u32);
        if p != j {
            lu.swap_rows(j, p);
        }
        let piv = lu[(j, j)];
        if piv == 0.0 {
            first_zero.get_or_insert(j);
            continue;
        }
        let inv = 1.0 / piv;
        for i in j + 1..m {
            lu[(i, j)] *= inv;
        }
        for c in j + 1..n {
            let u = lu[(j, c)];
            if u != 0.0 {
                for i in j + 1..m {
                    let l = lu[(i, j)];
                    lu[(i, c)] -= l * u;
                }
            }
        }
    }
    (Lu::from_packed(lu, ipiv), first_zero)
}

/// `op(T)⁻¹·B` for a square triangular T (only its triangle is read).
pub(crate) fn trsm(t: &DMatrix<f32>, b: &DMatrix<f32>, f: TriFlags) -> DMatrix<f32> {
    let n = t.nrows();
    let mut x = b.clone();
    let eff_lower = f.upper == f.trans;
    let te = |i: usize, j: usize| if f.trans { t[(j, i)] } else { t[(i, j)] };
    for c in 0..x.ncols() {
        if eff_lower {
            for i in 0..n {
                let mut s = x[(i, c)];
                for l in 0..i {
                    s -= te(i, l) * x[(l, c)];
                }
                x[(i, c)] = if f.unit { s } else { s / te(i, i) };
            }
        } else {
            for i in (0..n).rev() {
                let mut s = x[(i, c)];
                for l in i + 1..n {
                    s -= te(i, l) * x[(l, c)];
                }
                x[(i, c)] = if f.unit { s } else { s / te(i, i) };
            }
        }
    }
    x
}

/// Applies the interchanges of `ipiv` to the rows of `b`.
pub(crate) fn laswp(b: &mut DMatrix<f32>, ipiv: &[u32]) {
    for (i, &p) in ipiv.iter().enumerate() {
        if p as usize != i {
            b.swap_rows(i, p as usize);
        }
    }
}

/// Solves with LU factors of a square matrix.
pub(crate) fn lu_solve(lu: &Lu, b: &DMatrix<f32>) -> DMatrix<f32> {
    let mut x = b.clone();
    laswp(&mut x, lu.ipiv());
    let x = trsm(
        lu.packed(),
        &x,
        TriFlags {
            upper: false,
            trans: false,
            unit: true,
        },
    );
    trsm(
        lu.packed(),
        &x,
        TriFlags {
            upper: true,
            trans: false,
            unit: false,
        },
    )
}
