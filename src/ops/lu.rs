//! LU factorization with partial pivoting (`getrf`): `P·A = L·U`.

use nalgebra::DMatrix;

/// The factors of `P·A = L·U` for an m×n matrix, stored packed like LAPACK
/// `getrf`: U on and above the diagonal, the unit-lower L below it.
#[derive(Clone, Debug, PartialEq)]
pub struct Lu {
    /// Packed factors, m×n.
    pub(crate) lu: DMatrix<f32>,
    /// LAPACK-style interchanges, 0-based: row i was swapped with `ipiv[i]`
    /// at step i (length min(m, n)).
    pub(crate) ipiv: Vec<u32>,
}

impl Lu {
    /// Builds from packed factors and 0-based LAPACK interchanges.
    pub fn from_packed(lu: DMatrix<f32>, ipiv: Vec<u32>) -> Lu {
        Lu { lu, ipiv }
    }

    /// The packed factors (U on and above the diagonal, L below).
    pub fn packed(&self) -> &DMatrix<f32> {
        &self.lu
    }

    /// The interchanges: at step i rows i and `ipiv()[i]` were swapped.
    pub fn ipiv(&self) -> &[u32] {
        &self.ipiv
    }

    /// L, m×min(m,n), unit lower trapezoidal (allocates).
    pub fn l(&self) -> DMatrix<f32> {
        let (m, n) = self.lu.shape();
        let k = m.min(n);
        DMatrix::from_fn(m, k, |i, j| {
            if i == j {
                1.0
            } else if i > j {
                self.lu[(i, j)]
            } else {
                0.0
            }
        })
    }

    /// U, min(m,n)×n, upper trapezoidal (allocates).
    pub fn u(&self) -> DMatrix<f32> {
        let (m, n) = self.lu.shape();
        let k = m.min(n);
        DMatrix::from_fn(k, n, |i, j| if i <= j { self.lu[(i, j)] } else { 0.0 })
    }

    /// The row permutation as a vector: row i of `P·A` is row `perm()[i]`
    /// of A (allocates).
    pub fn perm(&self) -> Vec<usize> {
        let m = self.lu.nrows();
        let mut p: Vec<usize> = (0..m).collect();
        for (i, &q) in self.ipiv.iter().enumerate() {
            p.swap(i, q as usize);
        }
        p
    }
}
