//! Least squares through the Gram matrix, for well-conditioned systems.
//!
//! Algorithm: G = AᵀA (tall, m ≥ n) or G = AAᵀ (wide) as one GEMM; the
//! eigenvalues of G by the tridiagonal route (`eigh_tridiag`, no vectors)
//! give the singular values σᵢ = √λᵢ and κ(A) = √(λ_max/λ_min). The route
//! is taken only when κ(A) ≤ [`KAPPA_MAX`] and every σᵢ is more than twice
//! the rank threshold (so the rank is min(m, n), and no σ is near it);
//! otherwise the caller takes the Householder route. Then G = L·Lᵀ
//! (Cholesky on the GPU) and
//! - tall: x = G⁻¹·Aᵀb, one step of refinement of the semi-normal
//!   equations (r = b − A·x, x += G⁻¹·Aᵀr), residuals ‖b − A·x‖² per column;
//! - wide (minimum norm): y = G⁻¹·b, x = Aᵀy, one refinement step
//!   (r = b − A·x, x += Aᵀ·G⁻¹·r), so x stays in the row space of A.
//!
//! A tall system turned down with 4 < κ ≤ [`KAPPA_CHOLQR`] gets its thin
//! QR by CholeskyQR2 from the same G instead (`cholqr2`: Q₁ = A·L₁⁻ᵀ,
//! then once more on Q₁), kept where ‖QᵀQ − I‖_F ≤ max(m, n)·ε; the caller
//! finishes it as after a Householder QR (the singular values of R).
//!
//! Cost: m·k² flops for G (k = min(m, n)), 4mk·r for the right-hand
//! sides, the tridiagonal reduction of G (4k³/3, memory bound, 2k
//! dispatches) and k³/3 for its Cholesky; no QR of A. Against the
//! Householder route (4mk² for the QR, the SVD of R on top) this is the
//! route the 32768×2048 benchmark needs.
//!
//! Accuracy: G's eigenvalues carry an absolute error δ ≈ c·(m + k)·ε·σ₁²
//! (the GEMM's and the reduction's rounding), so σᵢ is off by about
//! δ/(2σᵢ) ≤ c·(m + k)·ε·σ₁·κ/2: at κ ≤ 4 at most twice the SVD route's
//! c·max(m, n)·ε·σ₁. The refined semi-normal equations give a solution as
//! accurate as a QR-based one for κ²·ε ≪ 1 (Björck, *Numerical Methods for
//! Least Squares Problems*, §2.5.4).

use nalgebra::DVector;

use crate::error::{Error, Result};
use crate::gpu::GpuMatrix;
use crate::ops::factor::TriFlags;
use crate::ops::qr::orth_defect;
use crate::ops::qr_lstsq::col_sumsq;
use crate::ops::svd_route::eigvalsh_large_gpu;
use crate::ops::with_override;

/// Largest κ(A) = σ_max/σ_min the Gram route takes.
pub(crate) const KAPPA_MAX: f64 = 4.0;

/// Largest κ(A) for which a tall system the Gram route turns down gets its
/// Q and R by CholeskyQR2 from the Gram matrix already formed (κ²·ε about
/// 1e-2: the first pass leaves Q₁ close to orthonormal, the second makes it
/// so), instead of by Householder QR.
pub(crate) const KAPPA_CHOLQR: f64 = 300.0;

/// Smallest min(m, n) the Gram route takes: smaller Gram matrices would
/// leave the tridiagonal route (the small eigensolver has no
/// eigenvalues-only form), and the CPU route serves them anyway.
pub(crate) const MIN_K: usize = 65;

thread_local! {
    static GRAM_ALLOWED: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with every `lstsq` and `pinv` on this thread allowed (`true`)
/// or not allowed (`false`) to take the Gram route and its CholeskyQR2
/// branch, whatever the environment says (`WGPU_LINALG_LSTSQ=householder`
/// turns both off). For tests and comparisons with the Householder route.
#[doc(hidden)]
pub fn with_lstsq_gram<R>(allowed: bool, f: impl FnOnce() -> R) -> R {
    with_override(&GRAM_ALLOWED, allowed, f)
}

fn gram_allowed() -> bool {
    GRAM_ALLOWED
        .with(|v| v.get())
        .unwrap_or_else(|| std::env::var("WGPU_LINALG_LSTSQ").map_or(true, |v| v != "householder"))
}

/// The Gram route's result: the solution on the GPU, the residuals (tall
/// systems only), and the singular values, descending.
pub(crate) struct GramSolution {
    pub x: GpuMatrix,
    pub residuals: Option<DVector<f64>>,
    pub s: Vec<f64>,
}

/// What [`lstsq_gram`] gives its caller.
pub(crate) enum GramRoute {
    /// The solution by the Gram route.
    Solved(GramSolution),
    /// A tall A too ill-conditioned for that (4 < κ ≤ [`KAPPA_CHOLQR`]):
    /// its thin Q (m×n, orthonormal to the measured bound) and R (n×n,
    /// upper triangular with exact zeros below) by CholeskyQR2, for the
    /// caller to finish as after a Householder QR.
    CholQr { q: GpuMatrix, r: GpuMatrix },
    /// Neither: the Householder route decides.
    Neither,
}

/// Least squares of `A·X ≈ B` through the Gram matrix (module docs); for
/// a tall A with 4 < κ ≤ [`KAPPA_CHOLQR`], its QR by CholeskyQR2 instead;
/// `Neither` where no route applies (small, very ill-conditioned or near
/// the rank threshold, a failed Cholesky, or a non-finite value on the
/// way: the Householder route then decides).
pub(crate) fn lstsq_gram(
    op: &'static str,
    a: &GpuMatrix,
    b: &GpuMatrix,
    rcond: f64,
) -> Result<GramRoute> {
    let (m, n) = a.shape();
    let k = m.min(n);
    if k < MIN_K || !gram_allowed() {
        return Ok(GramRoute::Neither);
    }
    let tall = m >= n;
    // phase timings in the debug log (each adds a synchronization)
    let clock = std::time::Instant::now();
    let lap = |what: &str, g: &GpuMatrix| -> Result<()> {
        if log::log_enabled!(target: "wgpu_linalg::lstsq", log::Level::Debug) {
            g.gpu().read_f32(g.buffer(), 0, 1)?;
            log::debug!(target: "wgpu_linalg::lstsq", "{op} {m}x{n}: {what} done at {:.3} ms", clock.elapsed().as_secs_f64() * 1e3);
        }
        Ok(())
    };
    // G = AᵀA (tall) or AAᵀ (wide), k×k
    let g = a.matmul_t(tall, a, !tall)?;
    lap("Gram matrix", &g)?;
    let lam = match eigvalsh_large_gpu(op, &g) {
        Ok(l) => l,
        Err(Error::NonFinite { .. }) => return Ok(GramRoute::Neither),
        Err(e) => return Err(e),
    };
    let (lmin, lmax) = (f64::from(lam[0]), f64::from(lam[k - 1]));
    if !(lmin > 0.0 && lmax.is_finite()) || lmax > KAPPA_MAX * KAPPA_MAX * lmin {
        let cholqr = tall && lmin > 0.0 && lmax <= KAPPA_CHOLQR * KAPPA_CHOLQR * lmin;
        if cholqr {
            if let Some((q, r)) = cholqr2(a, &g)? {
                log::debug!(target: "wgpu_linalg::lstsq", "{op} {m}x{n}: Gram eigenvalues {lmin:.3e}..{lmax:.3e}, CholeskyQR2");
                return Ok(GramRoute::CholQr { q, r });
            }
        }
        log::debug!(target: "wgpu_linalg::lstsq", "{op} {m}x{n}: Gram eigenvalues {lmin:.3e}..{lmax:.3e}, Householder route");
        return Ok(GramRoute::Neither);
    }
    let s: Vec<f64> = lam.iter().rev().map(|&l| f64::from(l).sqrt()).collect();
    if s[k - 1] <= 2.0 * rcond * s[0] {
        log::debug!(target: "wgpu_linalg::lstsq", "{op} {m}x{n}: σ_min near the rank threshold, Householder route");
        return Ok(GramRoute::Neither);
    }
    lap("eigenvalues", &g)?;
    let l = g.cholesky()?;
    drop(g);
    if l.check().is_err() {
        return Ok(GramRoute::Neither);
    }
    lap("Cholesky", &l)?;
    // G⁻¹·c by the two triangular solves with L
    let solve_g = |c: &GpuMatrix| -> Result<GpuMatrix> {
        let lower = TriFlags::default();
        let y = l.solve_triangular(c, lower)?;
        l.solve_triangular(
            &y,
            TriFlags {
                trans: true,
                ..lower
            },
        )
    };
    // B − A·x
    let residual = |x: &GpuMatrix| a.gemm(-1.0, false, x, false, 1.0, b);
    let x = if tall {
        let x0 = solve_g(&a.matmul_t(true, b, false)?)?;
        let r = residual(&x0)?;
        x0.axpy(1.0, &solve_g(&a.matmul_t(true, &r, false)?)?)?
    } else {
        let x0 = a.matmul_t(true, &solve_g(b)?, false)?;
        let r = residual(&x0)?;
        x0.axpy(1.0, &a.matmul_t(true, &solve_g(&r)?, false)?)?
    };
    lap("solution", &x)?;
    let residuals = if tall && m > n {
        let sums = col_sumsq(&residual(&x)?.download()?.map(f64::from));
        if sums.iter().any(|v| !v.is_finite()) {
            return Ok(GramRoute::Neither);
        }
        Some(sums)
    } else {
        None
    };
    log::debug!(target: "wgpu_linalg::lstsq", "{op} {m}x{n}: Gram route, κ {:.3}", s[0] / s[k - 1]);
    Ok(GramRoute::Solved(GramSolution { x, residuals, s }))
}

/// Thin QR of a tall A (m×n) by CholeskyQR2 from its Gram matrix G = AᵀA:
/// L₁ = chol(G), Q₁ = A·L₁⁻ᵀ, L₂ = chol(Q₁ᵀQ₁), Q = Q₁·L₂⁻ᵀ and
/// R = L₂ᵀ·L₁ᵀ, the triangular inverses formed on the GPU and applied as
/// GEMMs. `None` where a Cholesky factorization fails or the measured
/// ‖QᵀQ − I‖_F exceeds max(m, n)·ε (half the bound of the QR tests). Cost:
/// three m·n² GEMMs besides G, two n³/3 Cholesky factorizations and two
/// triangular inverses.
fn cholqr2(a: &GpuMatrix, g: &GpuMatrix) -> Result<Option<(GpuMatrix, GpuMatrix)>> {
    let (m, n) = a.shape();
    let eye = a.ctx.upload(&nalgebra::DMatrix::<f32>::identity(n, n))?;
    // X·L⁻ᵀ and L for the Gram matrix h of X, or None
    let pass = |x: &GpuMatrix, h: &GpuMatrix| -> Result<Option<(GpuMatrix, GpuMatrix)>> {
        let l = h.cholesky()?;
        if l.check().is_err() {
            return Ok(None);
        }
        let linv = l.solve_triangular(&eye, TriFlags::default())?;
        Ok(Some((x.matmul_t(false, &linv, true)?, l)))
    };
    let Some((q1, l1)) = pass(a, g)? else {
        return Ok(None);
    };
    let Some((q, l2)) = pass(&q1, &q1.matmul_t(true, &q1, false)?)? else {
        return Ok(None);
    };
    let defect = orth_defect(&q)?;
    if defect.is_nan() || defect > m.max(n) as f64 * f64::from(f32::EPSILON) {
        return Ok(None);
    }
    Ok(Some((q, l2.matmul_t(true, &l1, true)?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::with_kappa;
    use nalgebra::DMatrix;

    /// Which systems the route takes: well-conditioned ones beyond 64
    /// columns (rows), tall and wide; not κ > 4, not σ_min near the rank
    /// threshold, not 64 or fewer columns, not when switched off. Where it
    /// is taken, its singular values match the f64 SVD's. Tall systems
    /// with 4 < κ ≤ 300 get Q and R by CholeskyQR2 (checked against f64);
    /// wide ones and κ = 1e4 get neither.
    #[test]
    fn the_route_is_taken_where_it_applies() {
        let Some(ctx) = crate::testing::gpu_context(wgpu::Features::empty(), "the Gram route")
        else {
            return;
        };
        let eps = f64::from(f32::EPSILON);
        // (m, n, κ, rcond, route): 'g' Gram, 'c' CholeskyQR2, 'n' neither
        let cases = [
            (300, 100, 2.0, 1e-4, 'g'),
            (100, 300, 3.5, 1e-4, 'g'),
            (129, 129, 1.1, 1e-4, 'g'),
            (300, 100, 6.0, 1e-4, 'c'),
            (1000, 70, 250.0, 1e-4, 'c'),
            (100, 300, 6.0, 1e-4, 'n'),
            (400, 100, 1e4, 1e-4, 'n'),
            (300, 100, 2.0, 0.3, 'n'),
            (300, 64, 1.5, 1e-4, 'n'),
        ];
        for (i, &(m, n, kappa, rcond, route)) in cases.iter().enumerate() {
            let a = with_kappa(i as u64 + 1, m, n, kappa).map(|x| x as f32);
            let b = with_kappa(i as u64 + 101, m, 2, 1.0).map(|x| x as f32);
            let (ga, gb) = (ctx.upload(&a).unwrap(), ctx.upload(&b).unwrap());
            let what = format!("{m}x{n} κ {kappa} rcond {rcond}");
            let got = lstsq_gram("lstsq", &ga, &gb, rcond).unwrap();
            assert!(
                matches!(
                    (&got, route),
                    (GramRoute::Solved(_), 'g')
                        | (GramRoute::CholQr { .. }, 'c')
                        | (GramRoute::Neither, 'n')
                ),
                "{what}: not route {route}"
            );
            if let GramRoute::CholQr { q, r } = &got {
                // A = QR, QᵀQ = I, R upper triangular with exact zeros
                let (q, r) = (q.download().unwrap(), r.download().unwrap());
                let (q, r) = (q.map(f64::from), r.map(f64::from));
                let a64 = a.map(f64::from);
                let res = (&a64 - &q * &r).norm() / a64.norm();
                let orth = (q.transpose() * &q - DMatrix::<f64>::identity(n, n)).norm();
                assert!(
                    res <= 2.0 * m as f64 * eps,
                    "{what}: ‖A − QR‖/‖A‖ {res:.3e}"
                );
                assert!(orth <= 2.0 * m as f64 * eps, "{what}: ‖QᵀQ − I‖ {orth:.3e}");
                for jj in 0..n {
                    for ii in jj + 1..n {
                        assert_eq!(r[(ii, jj)], 0.0, "{what}: R below the diagonal");
                    }
                }
            }
            let GramRoute::Solved(g) = got else { continue };
            let s64 = a.map(f64::from).singular_values();
            let mut s64: Vec<f64> = s64.iter().copied().collect();
            s64.sort_by(|x, y| y.total_cmp(x));
            for (s, s0) in g.s.iter().zip(&s64) {
                assert!(
                    (s - s0).abs() <= 2.0 * m.max(n) as f64 * eps * s64[0],
                    "{m}x{n}: σ {s} vs {s0}"
                );
            }
            assert_eq!(g.residuals.is_some(), m > n, "{m}x{n}: residuals");
            assert!(
                matches!(
                    with_lstsq_gram(false, || lstsq_gram("lstsq", &ga, &gb, rcond)).unwrap(),
                    GramRoute::Neither
                ),
                "{m}x{n}: switched off"
            );
        }
    }
}
