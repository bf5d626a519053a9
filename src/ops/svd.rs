//! Singular value decomposition and symmetric eigensolvers.
//!
//! Types shared by the SVD family: [`Svd`], [`GpuSvd`], [`TopkOpts`].
//! The algorithms live in `jacobi` (batched small matrices, one workgroup
//! each), `svd_block` (block one-sided Jacobi for large matrices),
//! `eigh_tridiag` (large symmetric eigenproblems through the tridiagonal
//! form) and `svd_topk` (subspace iteration).

use nalgebra::{DMatrix, DVector};

use crate::gpu::GpuMatrix;

/// A (thin, full or truncated) singular value decomposition
/// `A ≈ U·diag(s)·Vᵀ`: `s` descending, `u` m×k, `vt` k×n.
#[derive(Clone, Debug, PartialEq)]
pub struct Svd {
    pub u: DMatrix<f32>,
    pub s: DVector<f32>,
    pub vt: DMatrix<f32>,
}

/// The device-resident form of [`Svd`]: `u` batch×m×k, `s` batch×k×1,
/// `vt` batch×k×n.
#[derive(Clone, Debug)]
pub struct GpuSvd {
    pub u: GpuMatrix,
    pub s: GpuMatrix,
    pub vt: GpuMatrix,
}

/// Options of [`crate::Context::svd_topk_with`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopkOpts {
    /// Most power iterations (each one `B = A·V`, `Z = Aᵀ·B`,
    /// re-orthonormalization).
    pub iters: usize,
    /// Extra columns carried along with the k wanted ones.
    pub oversample: usize,
    /// Stop once the k Ritz values change by at most `tol` (relative to the
    /// largest) between checks; 0 runs all `iters`.
    pub tol: f32,
}

impl Default for TopkOpts {
    fn default() -> Self {
        TopkOpts {
            iters: 8,
            oversample: 8,
            tol: 1e-5,
        }
    }
}

impl Svd {
    /// `U·diag(s)·Vᵀ` in f64 (for checks).
    pub fn reconstruct(&self) -> DMatrix<f64> {
        let mut us = self.u.map(f64::from);
        for (j, &s) in self.s.iter().enumerate() {
            us.column_mut(j).scale_mut(s as f64);
        }
        us * self.vt.map(f64::from)
    }
}
