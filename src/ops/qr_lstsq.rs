//! Least squares, pseudo-inverse and numerical rank (NumPy semantics).
//!
//! Algorithm (GPU route): a well-conditioned system (κ(A) ≤ 4, and
//! min(m, n) at least 65) is solved through its Gram matrix
//! (`lstsq_gram`: eigenvalues of AᵀA give σ and κ, then Cholesky and one
//! refinement step; 48 ms for 32768×2048 on the H200 against PyTorch's
//! 48.6 ms). A tall system it turns down with κ ≤ 300 gets Q and R by
//! CholeskyQR2 from that Gram matrix (GEMMs; 212 ms against 673 ms by
//! Householder for 32768×2048 at κ ≈ 107), then the finish below.
//! Otherwise the matrix is reduced by blocked Householder QR
//! on the GPU — A = Q·R for m ≥ n, Aᵀ = Q·R for m < n — so the host only
//! sees the small k×k factor R (k = min(m, n)), whose singular values
//! (`svdvals`: nalgebra in f64 for a small R, block Jacobi on the GPU for
//! a large one) are those of A and reveal the rank. Tall: Qᵀ·B is
//! applied on the GPU with the block reflectors (no explicit Q), then
//! x = R⁺·(Qᵀ·B)[..n] and the residuals are ‖(Qᵀ·B)[n..]‖² per column.
//! Wide: y = (Rᵀ)⁺·B on the host, then x = Q·[y; 0] on the GPU (minimum
//! norm solution). R⁺ is a triangular solve when the rank is full and a
//! truncated SVD of R (with vectors) only when it is not. Cost: the QR (4mns − 2(m+n)s² + 4s³/3), 4mk·r for the
//! r right-hand sides, and O(k³) on the host. The CPU route is an f64 SVD
//! of A. Accuracy: backward stable; relative error of x about
//! cond(A)·n·ε (plus cond(A)²·ε·‖r‖/(‖A‖‖x‖) for inconsistent systems).
//!
//! Singular values s_i ≤ rcond·max(s) count as zero (rcond defaults to
//! ε·max(m, n)); residuals are returned only when the rank is n and m > n,
//! as in NumPy.

use nalgebra::{DMatrix, DVector};

use crate::context::{Context, Route};
use crate::dispatch::{decide, nominal_flops};
use crate::error::{Error, Result};
use crate::gpu::GpuMatrix;
use crate::ops::lstsq_gram::{lstsq_gram, GramRoute};
use crate::ops::qr::{check_finite, record_apply_q, record_extract_r, record_geqrf, QrRec};

/// The result of [`Context::lstsq`] (as `numpy.linalg.lstsq`).
#[derive(Clone, Debug, PartialEq)]
pub struct Lstsq {
    /// n×r least-squares solution of minimum norm.
    pub solution: DMatrix<f32>,
    /// Squared residual norm of each column of B; empty unless
    /// `rank == n` and m > n.
    pub residuals: DVector<f32>,
    /// The numerical rank of A.
    pub rank: usize,
    /// Singular values of A, descending (min(m, n) of them).
    pub singular_values: DVector<f32>,
}

const EPS: f64 = f32::EPSILON as f64;

fn default_rcond(m: usize, n: usize) -> f64 {
    EPS * m.max(n) as f64
}

/// The rcond argument in f64: `None` or a negative value is the default,
/// NaN or Inf an error.
fn checked_rcond(op: &'static str, rcond: Option<f32>, m: usize, n: usize) -> Result<f64> {
    match rcond {
        Some(r) if r >= 0.0 && r.is_finite() => Ok(r as f64),
        Some(r) if !r.is_finite() => Err(Error::NonFinite { op }),
        _ => Ok(default_rcond(m, n)),
    }
}

/// `V·S⁺·Uᵀ·c` given the SVD factors `u` (p×k), `s`, `vt` (k×q) and a
/// threshold: singular values ≤ thr are treated as zero.
fn pinv_apply(
    u: &DMatrix<f64>,
    s: &DVector<f64>,
    vt: &DMatrix<f64>,
    c: &DMatrix<f64>,
    thr: f64,
) -> DMatrix<f64> {
    let mut w = u.transpose() * c;
    for (i, &si) in s.iter().enumerate() {
        let f = if si > thr { 1.0 / si } else { 0.0 };
        w.row_mut(i).scale_mut(f);
    }
    vt.transpose() * w
}

/// `R⁺·c` (or `(Rᵀ)⁺·c` when `transposed`) by the SVD of R, singular
/// values ≤ thr treated as zero.
fn svd_solve(r: DMatrix<f64>, c: &DMatrix<f64>, thr: f64, transposed: bool) -> DMatrix<f64> {
    let svd = r.svd(true, true);
    let (Some(u), Some(vt)) = (svd.u.as_ref(), svd.v_t.as_ref()) else {
        unreachable!("SVD asked for U and Vᵀ")
    };
    if transposed {
        // Rᵀ = V·S·Uᵀ, so (Rᵀ)⁺ = U·S⁺·Vᵀ
        pinv_apply(
            &vt.transpose(),
            &svd.singular_values,
            &u.transpose(),
            c,
            thr,
        )
    } else {
        pinv_apply(u, &svd.singular_values, vt, c, thr)
    }
}

fn sorted_desc(s: &DVector<f64>) -> Vec<f64> {
    let mut v: Vec<f64> = s.iter().copied().collect();
    v.sort_by(|a, b| b.total_cmp(a));
    v
}

fn threshold(s: &[f64], rcond: f64) -> f64 {
    rcond * s.first().copied().unwrap_or(0.0)
}

/// Everything but the residuals, from the sorted singular values.
fn finish(
    solution: DMatrix<f64>,
    residuals: Option<DVector<f64>>,
    s: &[f64],
    thr: f64,
    n: usize,
    m: usize,
) -> Lstsq {
    let rank = s.iter().filter(|&&x| x > thr).count();
    let residuals = match residuals {
        Some(r) if rank == n && m > n => r.map(|x| x as f32),
        _ => DVector::zeros(0),
    };
    Lstsq {
        solution: solution.map(|x| x as f32),
        residuals,
        rank,
        singular_values: DVector::from_iterator(s.len(), s.iter().map(|&x| x as f32)),
    }
}

/// The squared norm of each column (the residuals of a tall system).
pub(crate) fn col_sumsq(r: &DMatrix<f64>) -> DVector<f64> {
    DVector::from_iterator(r.ncols(), r.column_iter().map(|c| c.norm_squared()))
}

fn lstsq_cpu(a: &DMatrix<f32>, b: &DMatrix<f32>, rcond: f64) -> Lstsq {
    let (m, n) = a.shape();
    let a64 = a.map(f64::from);
    let b64 = b.map(f64::from);
    let svd = a64.clone().svd(true, true);
    let (Some(u), Some(vt)) = (svd.u.as_ref(), svd.v_t.as_ref()) else {
        unreachable!("SVD asked for U and Vᵀ")
    };
    let s = sorted_desc(&svd.singular_values);
    let thr = threshold(&s, rcond);
    let x = pinv_apply(u, &svd.singular_values, vt, &b64, thr);
    let res = (m > n).then(|| col_sumsq(&(&b64 - &a64 * &x)));
    finish(x, res, &s, thr, n, m)
}

impl Context {
    /// Least-squares solution of `A·X ≈ B` of minimum norm (NumPy
    /// `lstsq`): over- and under-determined and rank-deficient systems.
    /// Singular values ≤ `rcond`·max(s) count as zero; `None` means
    /// ε(f32)·max(m, n). `Error::Shape` unless B has m rows.
    pub fn lstsq(&self, a: &DMatrix<f32>, b: &DMatrix<f32>, rcond: Option<f32>) -> Result<Lstsq> {
        self.lstsq_impl("lstsq", a, b, rcond)
    }

    /// Moore–Penrose pseudo-inverse (n×m): singular values ≤
    /// `rcond`·max(s) count as zero; `None` means ε(f32)·max(m, n).
    pub fn pinv(&self, a: &DMatrix<f32>, rcond: Option<f32>) -> Result<DMatrix<f32>> {
        check_finite("pinv", a)?;
        let m = a.nrows();
        Ok(self
            .lstsq_impl("pinv", a, &DMatrix::identity(m, m), rcond)?
            .solution)
    }

    /// Number of singular values greater than `tol` (NumPy `matrix_rank`);
    /// `None` means max(s)·max(m, n)·ε(f32). The singular values are those
    /// of [`Context::svdvals`] (same routes).
    pub fn matrix_rank(&self, a: &DMatrix<f32>, tol: Option<f32>) -> Result<usize> {
        let op = "matrix_rank";
        check_finite(op, a)?;
        let (m, n) = a.shape();
        if m == 0 || n == 0 {
            return Ok(0);
        }
        let s = self.svdvals(a)?;
        let tol = match tol {
            Some(t) => t as f64,
            None => s[0] as f64 * m.max(n) as f64 * EPS,
        };
        Ok(s.iter().filter(|&&x| x as f64 > tol).count())
    }

    fn lstsq_impl(
        &self,
        op: &'static str,
        a: &DMatrix<f32>,
        b: &DMatrix<f32>,
        rcond: Option<f32>,
    ) -> Result<Lstsq> {
        let (m, n) = a.shape();
        if b.nrows() != m {
            return Err(Error::shape(
                op,
                format!("B with {m} rows"),
                format!("B {}×{}", b.nrows(), b.ncols()),
            ));
        }
        check_finite(op, a)?;
        check_finite(op, b)?;
        let nrhs = b.ncols();
        let rcond = checked_rcond(op, rcond, m, n)?;
        if m == 0 || n == 0 {
            let b64 = b.map(f64::from);
            let res = (m > n).then(|| col_sumsq(&b64));
            return Ok(finish(DMatrix::zeros(n, nrhs), res, &[], 0.0, n, m));
        }
        match decide(self, op, nominal_flops(op, m, nrhs, n, 1), 1)? {
            Route::Gpu => self.lstsq_gpu(op, a, b, rcond),
            _ => Ok(lstsq_cpu(a, b, rcond)),
        }
    }

    fn lstsq_gpu(
        &self,
        op: &'static str,
        a: &DMatrix<f32>,
        b: &DMatrix<f32>,
        rcond: f64,
    ) -> Result<Lstsq> {
        let gpu = self.gpu_or_err()?;
        let (m, n) = a.shape();
        gpu.scoped(|| {
            let (ga, gb) = (self.upload(a)?, self.upload(b)?);
            let p = lstsq_parts(op, &ga, &gb, rcond)?;
            let x = match p.x {
                Sol::Gpu(x) => x.download()?.map(f64::from),
                Sol::Host(x) => x,
            };
            Ok(finish(x, p.residuals, &p.s, p.thr, n, m))
        })
    }
}

/// The solution of [`lstsq_parts`]: on the GPU (Gram route) or on the
/// host (Householder route, finished there).
enum Sol {
    Gpu(GpuMatrix),
    Host(DMatrix<f64>),
}

/// What [`finish`] needs, from either GPU route.
struct Parts {
    x: Sol,
    residuals: Option<DVector<f64>>,
    s: Vec<f64>,
    thr: f64,
}

/// The tall system's finish on the host from R (n×n, upper triangular),
/// c = (Qᵀ·B)[..n] and the residual block (the rest of Qᵀ·B, or B − Q·c):
/// the singular values of R, x = R⁻¹·c at full rank or the truncated SVD
/// of R otherwise, and the residuals (m > n).
fn finish_tall(
    ctx: &Context,
    r32: &DMatrix<f32>,
    c: DMatrix<f64>,
    rest: Option<DMatrix<f64>>,
    rcond: f64,
) -> Result<Parts> {
    let s = r_singular_values(ctx, r32)?;
    let r = r32.map(f64::from);
    let thr = threshold(&s, rcond);
    let x = match s.iter().all(|&x| x > thr) {
        true => r.solve_upper_triangular(&c),
        false => None,
    }
    .unwrap_or_else(|| svd_solve(r, &c, thr, false));
    Ok(Parts {
        x: Sol::Host(x),
        residuals: rest.map(|r| col_sumsq(&r)),
        s,
        thr,
    })
}

/// Least squares of device-resident A and B (inputs known finite or
/// checked by the caller): the Gram route where it applies
/// ([`lstsq_gram`]); for a tall A it turns down but that is not too
/// ill-conditioned, R and Q from its CholeskyQR2; otherwise the
/// Householder route.
fn lstsq_parts(op: &'static str, ga: &GpuMatrix, gb: &GpuMatrix, rcond: f64) -> Result<Parts> {
    let gpu = ga.gpu();
    let ctx = &ga.ctx;
    let (m, n) = ga.shape();
    let nrhs = gb.cols();
    match lstsq_gram(op, ga, gb, rcond)? {
        GramRoute::Solved(g) => {
            let thr = threshold(&g.s, rcond);
            return Ok(Parts {
                x: Sol::Gpu(g.x),
                residuals: g.residuals,
                s: g.s,
                thr,
            });
        }
        GramRoute::CholQr { q, r } => {
            // c = Qᵀ·B; the residual block B − Q·c
            let c = q.matmul_t(true, gb, false)?;
            let rest = (m > n)
                .then(|| q.gemm(-1.0, false, &c, false, 1.0, gb))
                .transpose()?;
            let c = c.download()?.map(f64::from);
            let rest = rest
                .map(|x| x.download())
                .transpose()?
                .map(|x| x.map(f64::from));
            return finish_tall(ctx, &r.download()?, c, rest, rcond);
        }
        GramRoute::Neither => {}
    }
    if m >= n {
        // A = Q·R; Qᵀ·B by the block reflectors (B copied first)
        let qtb = gb.scale(1.0)?;
        let mut rec = QrRec::new(gpu, op);
        let f = record_geqrf(gpu, &mut rec, ga, op)?;
        let r = record_extract_r(gpu, &mut rec, &f, n, op)?;
        record_apply_q(gpu, &mut rec, &f, true, qtb.buffer(), m, nrhs, None, op)?;
        rec.submit(gpu);
        let r32 = r.download()?;
        let qtb = qtb.download()?.map(f64::from);
        let c = qtb.rows(0, n).into_owned();
        let rest = (m > n).then(|| qtb.rows(n, m - n).into_owned());
        finish_tall(ctx, &r32, c, rest, rcond)
    } else {
        // Aᵀ = Q·R, A = Rᵀ·Qᵀ: x = Q·[(Rᵀ)⁺·B; 0]
        let gat = ga.transpose()?;
        let mut rec = QrRec::new(gpu, op);
        let f = record_geqrf(gpu, &mut rec, &gat, op)?;
        let r = record_extract_r(gpu, &mut rec, &f, m, op)?;
        rec.submit(gpu);
        let r32 = r.download()?;
        let s = r_singular_values(ctx, &r32)?;
        let r = r32.map(f64::from);
        let b64 = gb.download()?.map(f64::from);
        let thr = threshold(&s, rcond);
        // full rank: y = R⁻ᵀ·b; otherwise the truncated SVD of R
        let y = match s.iter().all(|&x| x > thr) {
            true => r.tr_solve_upper_triangular(&b64),
            false => None,
        }
        .unwrap_or_else(|| svd_solve(r, &b64, thr, true));
        let mut ypad = DMatrix::<f32>::zeros(n, nrhs);
        ypad.rows_mut(0, m).copy_from(&y.map(|x| x as f32));
        let gy = ctx.upload(&ypad)?;
        let mut rec = QrRec::new(gpu, op);
        record_apply_q(gpu, &mut rec, &f, false, gy.buffer(), n, nrhs, None, op)?;
        rec.submit(gpu);
        Ok(Parts {
            x: Sol::Gpu(gy),
            residuals: None,
            s,
            thr,
        })
    }
}

/// Singular values of the k×k factor R, descending, in f64: through
/// [`Context::svdvals`], so the dispatcher sends a large R to the GPU
/// (block Jacobi) and a small one to nalgebra (f64); the host f64 SVD
/// of a 2048×2048 R took seconds.
fn r_singular_values(ctx: &Context, r: &DMatrix<f32>) -> Result<Vec<f64>> {
    let s = ctx.svdvals(r)?;
    Ok(sorted_desc(&s.map(f64::from)))
}

/// The result of [`GpuMatrix::lstsq`]: as [`Lstsq`], with the solution
/// left on the GPU.
#[derive(Debug)]
pub struct GpuLstsq {
    /// n×r least-squares solution of minimum norm.
    pub solution: GpuMatrix,
    /// Squared residual norm of each column of B; empty unless
    /// `rank == n` and m > n.
    pub residuals: DVector<f32>,
    /// The numerical rank of A.
    pub rank: usize,
    /// Singular values of A, descending (min(m, n) of them).
    pub singular_values: DVector<f32>,
}

impl GpuMatrix {
    /// Least-squares solution of `self·X ≈ b` of minimum norm, as
    /// [`Context::lstsq`], with A and B on the GPU and the solution left
    /// there (the rank, singular values and residuals come back to the
    /// host). `Error::NonFinite` for NaN or Inf in A or B.
    pub fn lstsq(&self, b: &GpuMatrix, rcond: Option<f32>) -> Result<GpuLstsq> {
        let op = "lstsq";
        self.need_f32(op)?;
        b.need_f32(op)?;
        self.same_device(op, b)?;
        let (m, n) = self.shape();
        if self.batch != 1 || b.batch != 1 || b.rows != m {
            return Err(Error::shape(
                op,
                format!("one A and one B with {m} rows"),
                format!(
                    "A batch {}, B {}×{}×{}",
                    self.batch, b.batch, b.rows, b.cols
                ),
            ));
        }
        let rcond = checked_rcond(op, rcond, m, n)?;
        let gpu = self.gpu();
        gpu.scoped(|| {
            for g in [self, b] {
                if g.abs_sums(false)?.iter().any(|x| !x.is_finite()) {
                    return Err(Error::NonFinite { op });
                }
            }
            let nrhs = b.cols;
            if m == 0 || n == 0 {
                let bh = b.download()?.map(f64::from);
                let res = (m > n).then(|| col_sumsq(&bh));
                let l = finish(DMatrix::zeros(n, nrhs), res, &[], 0.0, n, m);
                return Ok(GpuLstsq {
                    solution: self.ctx.upload(&l.solution)?,
                    residuals: l.residuals,
                    rank: l.rank,
                    singular_values: l.singular_values,
                });
            }
            let p = lstsq_parts(op, self, b, rcond)?;
            let (x, xh) = match p.x {
                Sol::Gpu(x) => (Some(x), DMatrix::zeros(0, 0)),
                Sol::Host(x) => (None, x),
            };
            let l = finish(xh, p.residuals, &p.s, p.thr, n, m);
            let solution = match x {
                Some(x) => x,
                None => self.ctx.upload(&l.solution)?,
            };
            Ok(GpuLstsq {
                solution,
                residuals: l.residuals,
                rank: l.rank,
                singular_values: l.singular_values,
            })
        })
    }
}
