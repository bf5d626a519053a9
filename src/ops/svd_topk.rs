//! Top-k singular triplets by block subspace (power) iteration.
//!
//! Algorithm (GPU route): V₀ is an n×l block of seeded Gaussian numbers
//! (generated on the GPU)
//! (l = k + oversample, at most min(m, n), rounded up to a multiple of 4).
//! Each iteration runs the Z-step as two GEMM launches, `B = A·V` and
//! `Z = Aᵀ·Q_B` (split-K GEMMs: the outputs are skinny, k is long), with
//! both blocks re-orthonormalized on the GPU by shifted CholeskyQR3 (for
//! l ≤ 64: three Gram/Cholesky/GEMM passes, 12 dispatches, see
//! `svd_block::record_cholqr3`; two-pass MGS beyond), `Q_B = orth(B)`,
//! `Q_Z = orth(Z)`, V ← Q_Z, and `R_Z = Q_Zᵀ·Z` when Ritz values are
//! wanted. Since `Q_Bᵀ·A = Zᵀ = R_Zᵀ·Q_Zᵀ`,
//! the Rayleigh–Ritz step is the SVD of the small l×l matrix R_Zᵀ = U_r·Σ·W_rᵀ
//! (f64, on the host): the Ritz triplets are `U = Q_B·U_r`, Σ,
//! `V = Q_Z·W_r`, the first k of which are returned (`U` and `Vᵀ` formed by
//! GEMMs on the GPU). The convergence test compares the k Ritz values of
//! successive iterations (relative to the largest; reading back R_Z, l²
//! values); `tol = 0` runs all iterations without a readback. Cost per
//! iteration: 4mnl flops in the GEMMs and 6(m + n)l² in the orthonormalizations.
//! Accuracy: the Ritz values converge like (σ_{l+1}/σ_i)^(2·iterations)
//! toward σ_i, with errors of order ε·σ₁ from f32 arithmetic; the returned
//! U and V have orthonormal columns to O(ε) while σ_k ≫ ε·σ₁.
//! The CPU route is nalgebra's full SVD truncated to k (exact, for the small
//! matrices the dispatcher sends there).

use nalgebra::{DMatrix, DVector};

use crate::context::{Context, Route};
use crate::dispatch::{decide, nominal_flops};
use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuMatrix, Recorder};
use crate::ops::matmul::{encode_gemm, Gemm};
use crate::ops::qr::{check_finite, QrAlgo, QrMode};
use crate::ops::svd::{GpuSvd, Svd, TopkOpts};
use crate::ops::svd_block::{record_cholqr3, BlockUniform};
use crate::ops::svd_cpu;

/// Records a rows × cols block of seeded standard normal numbers
/// (a PCG hash of the index and Box–Muller, on the GPU: generating the
/// 8192 × 40 start block on the host took 10 ms).
fn record_gaussian(
    gpu: &Gpu,
    rec: &mut Recorder,
    op: &'static str,
    out: &GpuMatrix,
    seed: u32,
) -> Result<()> {
    let count = out.rows * out.cols;
    let words = u32::try_from(count).map_err(|_| Error::TooLarge {
        op,
        bytes: count as u64 * 4,
        limit: u32::MAX as u64,
    })?;
    let groups = count.div_ceil(256).max(1);
    let max = gpu.max_groups() as usize;
    let gx = groups.min(max);
    let u = BlockUniform {
        rows: words,
        width: seed,
        ..Default::default()
    };
    gpu.launch(
        rec,
        &format!("{op} gaussian {}x{}", out.rows, out.cols),
        crate::gpu::Kernel::SvdBlock,
        "gaussian",
        &[],
        &crate::gpu::params_bytes(&u),
        &[(2, out.buffer())],
        [gx as u32, groups.div_ceil(gx) as u32, 1],
    );
    Ok(())
}

fn check_k(op: &'static str, m: usize, n: usize, k: usize) -> Result<()> {
    if k > m.min(n) {
        return Err(Error::shape(
            op,
            format!("k ≤ min(m, n) = {}", m.min(n)),
            format!("k = {k}"),
        ));
    }
    Ok(())
}

fn check_opts(op: &'static str, opts: &TopkOpts) -> Result<()> {
    if !opts.tol.is_finite() || opts.tol < 0.0 {
        return Err(Error::NonFinite { op });
    }
    Ok(())
}

/// The k largest singular values of the l×l matrix, descending, in f64.
fn ritz(rz: &DMatrix<f32>) -> nalgebra::SVD<f64, nalgebra::Dyn, nalgebra::Dyn> {
    rz.transpose().map(f64::from).svd(true, true)
}

/// Records `C = op(X)·Y` for the n×l (or m×l) blocks of subspace
/// iteration: X is given by (buffer, rows, transposed) with `inner` the
/// shared dimension, Y and C are single column-major matrices.
fn product(
    gpu: &Gpu,
    rec: &mut Recorder,
    x: (&wgpu::Buffer, usize, bool),
    y: &GpuMatrix,
    c: &GpuMatrix,
    inner: usize,
) -> Result<()> {
    encode_gemm(
        gpu,
        rec,
        &Gemm::single(
            (c.rows, c.cols, inner),
            x,
            (y.buffer(), y.rows, false),
            (c.buffer(), c.rows),
        ),
    )
}

impl GpuMatrix {
    /// Orthonormal columns spanning `x`: recorded CholeskyQR3, or (for
    /// blocks CholeskyQR3 does not take) the pending recording submitted
    /// and two-pass MGS run after it.
    fn orth(
        &self,
        gpu: &Gpu,
        rec: &mut Recorder,
        op: &'static str,
        x: &GpuMatrix,
        cholqr: bool,
    ) -> Result<GpuMatrix> {
        if cholqr {
            return record_cholqr3(gpu, rec, op, x);
        }
        gpu.submit(std::mem::replace(rec, gpu.encoder(op)));
        x.qr_with(QrMode::Reduced, QrAlgo::Mgs)?.q_or_err(op)
    }

    /// The k largest singular triplets by subspace iteration (see
    /// [`Context::svd_topk_with`]); U, s and Vᵀ stay on the GPU.
    pub fn svd_topk(&self, k: usize, opts: TopkOpts) -> Result<GpuSvd> {
        let op = "svd_topk";
        self.need_single(op)?;
        check_opts(op, &opts)?;
        let (m, n) = self.shape();
        check_k(op, m, n, k)?;
        let ctx = &self.ctx;
        if k == 0 {
            return Ok(GpuSvd {
                u: GpuMatrix::alloc(ctx, op, m, 0, 1)?,
                s: GpuMatrix::alloc(ctx, op, 0, 1, 1)?,
                vt: GpuMatrix::alloc(ctx, op, 0, n, 1)?,
            });
        }
        let l = (k + opts.oversample).min(m.min(n));
        // CholeskyQR3 takes blocks of ≤ 64 columns in multiples of 4 (the
        // extra random columns only help); wider blocks use two-pass MGS
        let l4 = l.next_multiple_of(4);
        let cholqr = l4 <= 64;
        let l = if cholqr { l4 } else { l };
        let gpu = self.gpu();
        gpu.scoped(|| {
            // One recording for the whole iteration: every intermediate
            // stays alive in `held` until the recording is submitted; the
            // only synchronizations are the Ritz-value checks.
            let mut rec = gpu.encoder(op);
            let mut held: Vec<GpuMatrix> = Vec::new();
            let mut v = GpuMatrix::alloc(ctx, op, n, l, 1)?;
            record_gaussian(gpu, &mut rec, op, &v, 0x5eed_70b0 ^ (m * 31 + n) as u32)?;
            let mut prev: Option<Vec<f64>> = None;
            let iters = opts.iters.max(1);
            let mut last = None;
            for it in 0..iters {
                let b = GpuMatrix::alloc(ctx, op, m, l, 1)?;
                product(gpu, &mut rec, (self.buffer(), m, false), &v, &b, n)?;
                let qb = self.orth(gpu, &mut rec, op, &b, cholqr)?;
                let z = GpuMatrix::alloc(ctx, op, n, l, 1)?;
                product(gpu, &mut rec, (self.buffer(), m, true), &qb, &z, m)?;
                let qz = self.orth(gpu, &mut rec, op, &z, cholqr)?;
                held.extend([v, b]);
                v = qz.clone();
                let final_iter = it + 1 == iters;
                if opts.tol > 0.0 || final_iter {
                    // R_Z = Q_Zᵀ·Z: A ≈ Q_B·Zᵀ = Q_B·R_Zᵀ·Q_Zᵀ
                    let rz = GpuMatrix::alloc(ctx, op, l, l, 1)?;
                    product(gpu, &mut rec, (qz.buffer(), n, true), &z, &rz, n)?;
                    gpu.submit(std::mem::replace(&mut rec, gpu.encoder(op)));
                    held.clear();
                    let svd = ritz(&rz.download()?);
                    let s: Vec<f64> = svd.singular_values.iter().take(k).copied().collect();
                    let done = match &prev {
                        Some(p) => {
                            let top = s[0].max(f64::MIN_POSITIVE);
                            s.iter()
                                .zip(p)
                                .all(|(a, b)| (a - b).abs() <= opts.tol as f64 * top)
                        }
                        None => false,
                    };
                    prev = Some(s);
                    if done || final_iter {
                        last = Some((qb, qz, svd));
                        break;
                    }
                } else {
                    held.extend([qb, z]);
                }
            }
            let (qb, qz, svd) = last.ok_or_else(|| Error::Gpu("svd_topk: no iteration".into()))?;
            let (Some(ur), Some(wrt)) = (svd.u.as_ref(), svd.v_t.as_ref()) else {
                unreachable!("SVD asked for U and Vᵀ")
            };
            let ur_k = ctx.upload(&ur.columns(0, k).map(|x| x as f32))?;
            // rows of W_rᵀ are the columns of W_r: Vᵀ = W_r[:, :k]ᵀ·Q_Zᵀ
            let wrt_k = ctx.upload(&wrt.rows(0, k).map(|x| x as f32))?;
            let s =
                DMatrix::from_iterator(k, 1, svd.singular_values.iter().take(k).map(|&x| x as f32));
            Ok(GpuSvd {
                u: qb.matmul(&ur_k)?,
                s: ctx.upload(&s)?,
                vt: wrt_k.matmul_t(false, &qz, true)?,
            })
        })
    }
}

impl Context {
    /// The k largest singular triplets of A (m×n, tall or wide) by block
    /// subspace iteration with the default [`TopkOpts`]: `u` m×k, `s`
    /// descending, `vt` k×n.
    pub fn svd_topk(&self, a: &DMatrix<f32>, k: usize) -> Result<Svd> {
        self.svd_topk_with(a, k, TopkOpts::default())
    }

    /// [`Context::svd_topk`] with explicit iteration count, oversampling
    /// and tolerance (see the module documentation for the algorithm).
    /// `Error::Shape` when k > min(m, n); `Error::NonFinite` for NaN/Inf
    /// in A or a negative or non-finite `tol`.
    pub fn svd_topk_with(&self, a: &DMatrix<f32>, k: usize, opts: TopkOpts) -> Result<Svd> {
        let op = "svd_topk";
        check_finite(op, a)?;
        check_opts(op, &opts)?;
        let (m, n) = a.shape();
        check_k(op, m, n, k)?;
        if k == 0 {
            return Ok(Svd {
                u: DMatrix::zeros(m, 0),
                s: DVector::zeros(0),
                vt: DMatrix::zeros(0, n),
            });
        }
        let l = (k + opts.oversample).min(m.min(n));
        match decide(self, op, nominal_flops(op, m, l, n, 1), 1)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let r = self.upload(a)?.svd_topk(k, opts)?;
                    Ok(Svd {
                        u: r.u.download()?,
                        s: DVector::from_column_slice(r.s.download()?.as_slice()),
                        vt: r.vt.download()?,
                    })
                })
            }
            _ => {
                let full = svd_cpu::svd(a);
                Ok(Svd {
                    u: full.u.columns(0, k).into_owned(),
                    s: full.s.rows(0, k).into_owned(),
                    vt: full.vt.rows(0, k).into_owned(),
                })
            }
        }
    }
}
