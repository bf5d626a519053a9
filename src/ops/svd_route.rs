//! Routing of the SVD family and the symmetric eigensolvers: CPU
//! (nalgebra), one-workgroup Jacobi for matrices up to 64×64, block
//! one-sided Jacobi beyond (`svd_block`); a tall matrix (m ≥ 2n, wide ones
//! transposed) is first reduced to its n×n R by Householder QR.

use nalgebra::{DMatrix, DVector};

use crate::context::{Context, Route};
use crate::dispatch::{decide, nominal_flops};
use crate::error::{Error, Result};
use crate::gpu::GpuMatrix;
use crate::ops::eigh_tridiag::eigh_tridiag;
use crate::ops::jacobi::{eigh_small_gpu, svd_small_gpu};
use crate::ops::linsolve::check_square;
use crate::ops::qr::check_finite;
use crate::ops::svd::{GpuSvd, Svd};
use crate::ops::svd_block::{
    block_jacobi, finish_eigh_gpu, finish_svd, finish_svd_gpu, symmetrized_shifted,
};
use crate::ops::svd_cpu;

/// Largest matrix dimension the one-workgroup Jacobi kernels take.
const SMALL: usize = 64;

fn empty_svd(m: usize, n: usize) -> Svd {
    Svd {
        u: DMatrix::zeros(m, 0),
        s: DVector::zeros(0),
        vt: DMatrix::zeros(0, n),
    }
}

/// Whether an m×n SVD (m ≥ n) goes through Householder QR first: m ≥ 2n,
/// or m ≥ r·n with r from `WGPU_LINALG_SVD_QR_RATIO` (0 turns it off; for
/// measuring the crossover).
fn qr_first(m: usize, n: usize) -> bool {
    let ratio = std::env::var("WGPU_LINALG_SVD_QR_RATIO")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|r| r.is_finite() && *r >= 0.0)
        .unwrap_or(2.0);
    ratio > 0.0 && m as f64 >= ratio * n as f64
}

/// The thin SVD of the single matrix `g` on the GPU, results on the GPU:
/// the one-workgroup kernel up to 64×64; a wide matrix through its
/// transpose; a tall one (see [`qr_first`]) through the SVD of its R;
/// otherwise block Jacobi, finished on the GPU (the host completes U only
/// where singular values are negligible).
pub(crate) fn svd_of_gpu(op: &'static str, g: &GpuMatrix) -> Result<GpuSvd> {
    let (m, n) = g.shape();
    if m.max(n) <= SMALL {
        return svd_small_gpu(g);
    }
    if m < n {
        let t = svd_of_gpu(op, &g.transpose()?)?;
        return Ok(GpuSvd {
            u: t.vt.transpose()?,
            s: t.s,
            vt: t.u.transpose()?,
        });
    }
    if qr_first(m, n) {
        // tall: A = Q·R by Householder QR, the SVD of the n×n R, U = Q·U_R
        // (the rotations then run on n rows instead of m; the one-workgroup
        // kernel takes R up to 64×64)
        let (q, r) = g.qr()?;
        let f = svd_of_gpu(op, &r)?;
        return Ok(GpuSvd {
            u: q.matmul(&f.u)?,
            ..f
        });
    }
    let rot = block_jacobi(op, g)?;
    if let Some(f) = finish_svd_gpu(op, &rot)? {
        return Ok(f);
    }
    let f = finish_svd(&rot)?;
    let ctx = &g.ctx;
    Ok(GpuSvd {
        u: ctx.upload(&f.u)?,
        s: ctx.upload(&DMatrix::from_column_slice(f.s.len(), 1, f.s.as_slice()))?,
        vt: ctx.upload(&f.vt)?,
    })
}

/// The thin SVD of the single matrix `g`, computed on the GPU and read
/// back.
fn svd_of(op: &'static str, g: &GpuMatrix) -> Result<Svd> {
    let f = svd_of_gpu(op, g)?;
    Ok(Svd {
        u: f.u.download()?,
        s: DVector::from_column_slice(f.s.download()?.as_slice()),
        vt: f.vt.download()?,
    })
}

/// The singular values of the single matrix `g` (descending), computed on
/// the GPU; only they are read back.
pub(crate) fn svdvals_of(op: &'static str, g: &GpuMatrix) -> Result<DVector<f32>> {
    let s = svd_of_gpu(op, g)?.s.download()?;
    Ok(DVector::from_column_slice(s.as_slice()))
}

/// Whether large `eigh` may take the tridiagonal route
/// (`WGPU_LINALG_EIGH=jacobi` forces block Jacobi, for comparisons).
fn tridiagonal_route() -> bool {
    std::env::var("WGPU_LINALG_EIGH").map_or(true, |v| v != "jacobi")
}

/// eigh of one symmetric matrix beyond the one-workgroup size (lower
/// triangle of `a` read), on the GPU: through the tridiagonal form
/// ([`eigh_tridiag`]), or, where its eigenvectors could not be
/// orthonormalized (tight clusters), block Jacobi on A + s·I with
/// s = ‖A‖_∞ (positive semidefinite, so its singular vectors are A's
/// eigenvectors), finished by [`finish_eigh_gpu`]; eigenvalues ascending.
fn eigh_large_gpu(op: &'static str, a: &GpuMatrix) -> Result<(Vec<f32>, GpuMatrix)> {
    if tridiagonal_route() {
        if let Some((w, Some(v))) = eigh_tridiag(op, a, true)? {
            return Ok((w, v));
        }
    }
    let sym = symmetrized_shifted(op, a, 0.0)?;
    // ‖A‖_∞ bounds the spectral radius
    let shift = sym.abs_sums(true)?.into_iter().fold(0.0, f64::max);
    if !shift.is_finite() {
        return Err(Error::NonFinite { op });
    }
    let b = symmetrized_shifted(op, a, shift as f32)?;
    let r = block_jacobi(op, &b)?;
    finish_eigh_gpu(op, &r, &sym)
}

/// Eigenvalues (ascending) of one symmetric matrix beyond the
/// one-workgroup size: bisection on the tridiagonal form, no vectors.
pub(crate) fn eigvalsh_large_gpu(op: &'static str, a: &GpuMatrix) -> Result<Vec<f32>> {
    if tridiagonal_route() {
        if let Some((w, _)) = eigh_tridiag(op, a, false)? {
            return Ok(w);
        }
    }
    Ok(eigh_large_gpu(op, a)?.0)
}

impl Context {
    /// Thin SVD `A = U·diag(s)·Vᵀ` (U m×k, s descending, Vᵀ k×n,
    /// k = min(m, n)). GPU route: one-workgroup one-sided Jacobi for
    /// matrices up to 64×64, block one-sided Jacobi beyond
    /// (`Error::NoConvergence` if the sweep limit is hit); matrices with
    /// one side at least twice the other are first reduced to the square
    /// R of a Householder QR (A = Q·R, then U = Q·U_R).
    pub fn svd(&self, a: &DMatrix<f32>) -> Result<Svd> {
        self.svd_route("svd", a)
    }

    /// Full SVD: U m×m and Vᵀ n×n (the thin factors completed with
    /// orthonormal complements), s of length min(m, n).
    pub fn svd_full(&self, a: &DMatrix<f32>) -> Result<Svd> {
        let op = "svd_full";
        let (m, n) = a.shape();
        let thin = self.svd_route(op, a)?;
        let k = thin.s.len();
        let u = if m > k {
            self.complete_basis(&thin.u)?
        } else {
            thin.u
        };
        let vt = if n > k {
            self.complete_basis(&thin.vt.transpose())?.transpose()
        } else {
            thin.vt
        };
        Ok(Svd { u, s: thin.s, vt })
    }

    /// Singular values, descending (min(m, n) of them).
    pub fn svdvals(&self, a: &DMatrix<f32>) -> Result<DVector<f32>> {
        let op = "svdvals";
        check_finite(op, a)?;
        let (m, n) = a.shape();
        if m == 0 || n == 0 {
            return Ok(DVector::zeros(0));
        }
        match decide(self, op, nominal_flops(op, m, 0, n, 1), 1)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| svdvals_of(op, &self.upload(a)?))
            }
            _ => Ok(svd_cpu::svdvals(a)),
        }
    }

    fn svd_route(&self, op: &'static str, a: &DMatrix<f32>) -> Result<Svd> {
        check_finite(op, a)?;
        let (m, n) = a.shape();
        if m == 0 || n == 0 {
            return Ok(empty_svd(m, n));
        }
        match decide(self, op, nominal_flops(op, m, 0, n, 1), 1)? {
            Route::Gpu => self.svd_gpu(op, a),
            _ => Ok(svd_cpu::svd(a)),
        }
    }

    fn svd_gpu(&self, op: &'static str, a: &DMatrix<f32>) -> Result<Svd> {
        let gpu = self.gpu_or_err()?;
        gpu.scoped(|| svd_of(op, &self.upload(a)?))
    }

    /// Eigenvalues (ascending, as NumPy) and orthonormal eigenvectors (as
    /// columns) of the symmetric matrix whose lower triangle is A's.
    /// GPU route: two-sided Jacobi in one workgroup up to 64×64; beyond,
    /// reduction to tridiagonal form, bisection and twisted-factorization
    /// eigenvectors, orthonormalized by CholeskyQR and transformed back
    /// (`eigh_tridiag`); where that cannot orthonormalize them (tight
    /// clusters), block one-sided Jacobi on A + s·I with s = ‖A‖_∞.
    pub fn eigh(&self, a: &DMatrix<f32>) -> Result<(DVector<f32>, DMatrix<f32>)> {
        self.eigh_route("eigh", a)
    }

    /// Eigenvalues of the symmetric matrix (lower triangle of A), ascending.
    pub fn eigvalsh(&self, a: &DMatrix<f32>) -> Result<DVector<f32>> {
        let op = "eigvalsh";
        check_finite(op, a)?;
        check_square(op, a)?;
        let n = a.nrows();
        if n == 0 {
            return Ok(DVector::zeros(0));
        }
        match decide(self, op, nominal_flops(op, n, 0, n, 1), 1)? {
            Route::Gpu if n > SMALL => {
                let gpu = self.gpu_or_err()?;
                let w = gpu.scoped(|| eigvalsh_large_gpu(op, &self.upload(a)?))?;
                Ok(DVector::from_vec(w))
            }
            Route::Gpu => Ok(self.eigh_gpu(op, a)?.0),
            _ => Ok(svd_cpu::eigvalsh(a)),
        }
    }

    fn eigh_route(
        &self,
        op: &'static str,
        a: &DMatrix<f32>,
    ) -> Result<(DVector<f32>, DMatrix<f32>)> {
        check_finite(op, a)?;
        check_square(op, a)?;
        let n = a.nrows();
        if n == 0 {
            return Ok((DVector::zeros(0), DMatrix::zeros(0, 0)));
        }
        match decide(self, op, nominal_flops(op, n, 0, n, 1), 1)? {
            Route::Gpu => self.eigh_gpu(op, a),
            _ => Ok(svd_cpu::eigh(a)),
        }
    }

    fn eigh_gpu(&self, op: &'static str, a: &DMatrix<f32>) -> Result<(DVector<f32>, DMatrix<f32>)> {
        let gpu = self.gpu_or_err()?;
        let n = a.nrows();
        gpu.scoped(|| {
            if n <= SMALL {
                let (w, v) = eigh_small_gpu(&self.upload(a)?)?;
                return Ok((
                    DVector::from_column_slice(w.download()?.as_slice()),
                    v.download()?,
                ));
            }
            let (w, vecs) = eigh_large_gpu(op, &self.upload(a)?)?;
            Ok((DVector::from_vec(w), vecs.download()?))
        })
    }
}

impl GpuMatrix {
    /// Thin SVD of every matrix of the batch. Batches and matrices up to
    /// 64×64 run in one dispatch (one workgroup per matrix); a single
    /// larger matrix runs the block Jacobi SVD (after a Householder QR when
    /// one side is at least twice the other), finished on the GPU: only
    /// the column norms come back, except where singular values are
    /// negligible and the host completes U.
    pub fn svd(&self) -> Result<GpuSvd> {
        let op = "svd";
        self.need_f32(op)?;
        let (m, n) = self.shape();
        if m.max(n) <= SMALL {
            return svd_small_gpu(self);
        }
        if self.batch != 1 {
            return Err(Error::shape(
                op,
                format!("one matrix, or a batch of matrices up to {SMALL}×{SMALL}"),
                format!("a batch of {} matrices {m}×{n}", self.batch),
            ));
        }
        self.gpu().scoped(|| svd_of_gpu(op, self))
    }

    /// Eigenvalues (batch × n × 1, ascending) and eigenvectors of every
    /// symmetric matrix of the batch (lower triangles read); see
    /// [`GpuMatrix::svd`] for which sizes stay on the GPU throughout.
    pub fn eigh(&self) -> Result<(GpuMatrix, GpuMatrix)> {
        let op = "eigh";
        self.need_f32(op)?;
        let n = self.rows;
        if self.cols != n {
            return Err(Error::shape(
                op,
                "square matrices",
                format!("{}×{}", self.rows, self.cols),
            ));
        }
        if n <= SMALL {
            return eigh_small_gpu(self);
        }
        if self.batch != 1 {
            return Err(Error::shape(
                op,
                format!("one matrix, or a batch of matrices up to {SMALL}×{SMALL}"),
                format!("a batch of {} matrices {n}×{n}", self.batch),
            ));
        }
        self.gpu().scoped(|| {
            let (w, v) = eigh_large_gpu(op, self)?;
            Ok((self.ctx.upload(&DMatrix::from_column_slice(n, 1, &w))?, v))
        })
    }
}
