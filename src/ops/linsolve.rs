//! Cholesky, LU, triangular solves, `solve`, inverses, determinants and
//! mixed-precision refinement.
//!
//! Algorithms (GPU route): blocked right-looking Cholesky (64-wide block
//! columns; the diagonal block factorized in one workgroup with a barrier per
//! column, the panel by a triangular solve, the trailing matrix by a
//! lower-triangle GEMM; n³/3 flops + about n³/3 in the skipped-tile slack);
//! blocked LU with partial pivoting (32-wide panels in one workgroup with a
//! workgroup max-reduction per column, row swaps on the GPU, U12 by a
//! triangular solve, A22 by GEMM; 2n³/3 flops); blocked triangular solves
//! (64×64 diagonal blocks in workgroup memory, off-diagonal updates as GEMM;
//! n²·r flops). Accuracy: the usual backward-stable bounds of these
//! algorithms in f32, ‖A − LLᵀ‖ ≲ c·n·ε‖A‖ and ‖PA − LU‖ ≲ c·n·ε·ρ‖A‖ (ρ the
//! growth factor, small in practice); `solve_refined` reaches f64 accuracy by
//! iterative refinement with f64 residuals on the host.

use nalgebra::DMatrix;

use crate::context::{Context, Route};
use crate::cpu::linsolve as cpu;
use crate::dispatch::{decide, nominal_flops};
use crate::error::{Error, Result};
use crate::gpu::matrix::{Check, CheckKind};
use crate::gpu::pool::PooledBuffer;
use crate::gpu::Recorder;
use crate::gpu::{Gpu, GpuMatrix};
use crate::ops::batched::{encode_cholesky_small, encode_solve_small, MAX_SMALL_N};
use crate::ops::blas1::{encode_copy, encode_laswp};
use crate::ops::factor::{
    encode_getrf, encode_potrf, encode_trsm, FactorParams, Scratch, TriFlags,
};
use crate::ops::lu::Lu;
use crate::ops::qr::check_finite;
use std::sync::Arc;

pub(crate) fn check_square(op: &'static str, a: &DMatrix<f32>) -> Result<()> {
    if a.is_square() {
        Ok(())
    } else {
        Err(Error::shape(
            op,
            "a square matrix",
            format!("{}×{}", a.nrows(), a.ncols()),
        ))
    }
}

fn check_rhs(op: &'static str, n: usize, b: &DMatrix<f32>) -> Result<()> {
    if b.nrows() == n {
        Ok(())
    } else {
        Err(Error::shape(
            op,
            format!("B with {n} rows"),
            format!("B {}×{}", b.nrows(), b.ncols()),
        ))
    }
}

/// A zeroed u32 status word.
fn status_word(gpu: &Gpu, op: &'static str, enc: &mut Recorder) -> Result<PooledBuffer> {
    let w = gpu.storage(op, 4, "status word")?;
    enc.clear_buffer(w.buffer(), 0, None);
    Ok(w)
}

/// Scratch for the packed panels of the blocked algorithms.
fn scratch(gpu: &Gpu, op: &'static str, floats: usize) -> Result<PooledBuffer> {
    gpu.storage(op, (floats.max(1) * 4) as u64, "factor scratch")
}

/// LU factors kept on the GPU: packed L\U and the pivots.
#[derive(Clone)]
pub struct GpuLu {
    /// Packed factors (m×n), carrying the singularity status.
    pub packed: GpuMatrix,
    pub(crate) ipiv: Arc<PooledBuffer>,
}

impl GpuLu {
    /// Downloads the factors (does not fail on a zero pivot, like `getrf`).
    pub fn download(&self) -> Result<Lu> {
        let gpu = self.packed.gpu();
        let k = self.packed.rows.min(self.packed.cols);
        let data = gpu.read_f32(self.packed.buffer(), 0, self.packed.len1() as u64)?;
        let piv = gpu.read_bytes(self.ipiv.buffer(), 0, (k * 4) as u64)?;
        Ok(Lu::from_packed(
            DMatrix::from_vec(self.packed.rows, self.packed.cols, data),
            bytemuck::pod_collect_to_vec(&piv),
        ))
    }

    /// Solves `A·X = B` with these factors (A square). The result carries
    /// the singularity status: its `download` fails with `Singular`.
    pub fn solve(&self, b: &GpuMatrix) -> Result<GpuMatrix> {
        let a = &self.packed;
        let n = a.rows;
        if a.rows != a.cols {
            return Err(Error::shape(
                "solve",
                "square factors",
                format!("{}×{}", a.rows, a.cols),
            ));
        }
        check_gpu_rhs(a, b)?;
        let gpu = a.gpu();
        gpu.scoped(|| {
            let mut x = GpuMatrix::alloc(&a.ctx, "solve", n, b.cols, 1)?;
            let mut enc = gpu.encoder("lu solve");
            if n * b.cols > 0 {
                enc.copy_buffer_to_buffer(b.buffer(), 0, x.buffer(), 0, (n * b.cols * 4) as u64);
            }
            encode_lu_solve(gpu, &mut enc, a.buffer(), n, &self.ipiv, x.buffer(), b.cols)?;
            gpu.submit(enc);
            x.check = a.check.clone();
            Ok(x)
        })
    }
}

fn encode_lu_solve(
    gpu: &Gpu,
    enc: &mut Recorder,
    lu: &wgpu::Buffer,
    n: usize,
    ipiv: &PooledBuffer,
    x: &wgpu::Buffer,
    nrhs: usize,
) -> Result<()> {
    let nb = FactorParams::default().trsm_nb;
    let sc = scratch(gpu, "solve", nb * nrhs)?;
    encode_laswp(gpu, enc, x, n, n, 0, nrhs, ipiv.buffer(), 0, n, (0, 0))?;
    encode_trsm(
        gpu,
        enc,
        lu,
        0,
        n,
        n,
        TriFlags {
            upper: false,
            trans: false,
            unit: true,
        },
        x,
        n,
        nrhs,
        sc.buffer(),
    )?;
    encode_u_solve(gpu, enc, lu, n, x, nrhs, sc.buffer())?;
    enc.keep(sc);
    Ok(())
}

/// B's n rows (in the caller's right-hand sides `b`) for `a`'s system:
/// one matrix of n rows, on `a`'s device, f32.
fn check_gpu_rhs(a: &GpuMatrix, b: &GpuMatrix) -> Result<()> {
    let n = a.rows;
    if b.rows != n || b.batch != 1 {
        return Err(Error::shape(
            "solve",
            format!("B with {n} rows"),
            format!("B {}×{}×{}", b.batch, b.rows, b.cols),
        ));
    }
    a.same_device("solve", b)?;
    b.need_f32("solve")
}

/// X ← U⁻¹·X with U the upper triangle of the packed LU factors in `lu`
/// (n×n, leading dimension n); `sc` holds trsm_nb·nrhs floats.
fn encode_u_solve(
    gpu: &Gpu,
    enc: &mut Recorder,
    lu: &wgpu::Buffer,
    n: usize,
    x: &wgpu::Buffer,
    nrhs: usize,
    sc: &wgpu::Buffer,
) -> Result<()> {
    encode_trsm(
        gpu,
        enc,
        lu,
        0,
        n,
        n,
        TriFlags {
            upper: true,
            trans: false,
            unit: false,
        },
        x,
        n,
        nrhs,
        sc,
    )
}

/// Records the LU of the m×n matrix in `buf` (leading dimension m) in
/// place and returns the pivots and the status word it sets (zeroed
/// here); the scratch stays kept by `enc`.
fn encode_lu(
    gpu: &Gpu,
    enc: &mut Recorder,
    op: &'static str,
    buf: &wgpu::Buffer,
    m: usize,
    n: usize,
) -> Result<(PooledBuffer, PooledBuffer)> {
    let ipiv = gpu.storage(op, (m.min(n).max(1) * 4) as u64, "pivots")?;
    let info = status_word(gpu, op, enc)?;
    if m * n > 0 {
        let sc = Scratch::new(gpu, op, m, n, FactorParams::default().lu_panel_cols(m, n))?;
        encode_getrf(gpu, enc, buf, m, n, m, ipiv.buffer(), info.buffer(), &sc)?;
        sc.keep_in(enc);
    }
    Ok((ipiv, info))
}

impl GpuMatrix {
    /// Cholesky factor L (lower, zeros above) of this SPD matrix, on the
    /// GPU. A non-positive pivot surfaces as `NotPositiveDefinite` when the
    /// result (or anything checked from it) is downloaded or `check`ed.
    pub fn cholesky(&self) -> Result<GpuMatrix> {
        let op = "cholesky";
        self.need_f32(op)?;
        if self.batch > 1 && self.rows == self.cols && self.rows <= MAX_SMALL_N {
            return self.cholesky_small();
        }
        if self.rows != self.cols || self.batch != 1 {
            return Err(Error::shape(
                op,
                "one square matrix",
                format!("{}×{}×{}", self.batch, self.rows, self.cols),
            ));
        }
        let n = self.rows;
        let gpu = self.gpu();
        gpu.scoped(|| {
            let mut out = GpuMatrix::alloc(&self.ctx, op, n, n, 1)?;
            let mut enc = gpu.encoder("cholesky");
            let info = status_word(gpu, op, &mut enc)?;
            if n > 0 {
                enc.copy_buffer_to_buffer(self.buffer(), 0, out.buffer(), 0, (n * n * 4) as u64);
                let sc = Scratch::new(gpu, op, n, n, FactorParams::default().chol_panel_cols())?;
                encode_potrf(gpu, &mut enc, out.buffer(), n, n, info.buffer(), &sc)?;
                sc.keep_in(&mut enc);
            }
            gpu.submit(enc);
            out.check = Some(Arc::new(Check {
                word: info,
                kind: CheckKind::NotPositiveDefinite,
                count: 1,
            }));
            Ok(out)
        })
    }

    /// LU with partial pivoting on the GPU (rectangular allowed).
    pub fn lu(&self) -> Result<GpuLu> {
        let op = "lu";
        self.need_f32(op)?;
        if self.batch != 1 {
            return Err(Error::shape(
                op,
                "one matrix (use lu_batched for batches)",
                format!("a batch of {}", self.batch),
            ));
        }
        let (m, n) = (self.rows, self.cols);
        let gpu = self.gpu();
        gpu.scoped(|| {
            let mut out = GpuMatrix::alloc(&self.ctx, op, m, n, 1)?;
            let mut enc = gpu.encoder("lu");
            if m * n > 0 {
                enc.copy_buffer_to_buffer(self.buffer(), 0, out.buffer(), 0, (m * n * 4) as u64);
            }
            let (ipiv, info) = encode_lu(gpu, &mut enc, op, out.buffer(), m, n)?;
            gpu.submit(enc);
            out.check = Some(Arc::new(Check {
                word: info,
                kind: CheckKind::Singular,
                count: 1,
            }));
            Ok(GpuLu {
                packed: out,
                ipiv: Arc::new(ipiv),
            })
        })
    }

    /// Batched Cholesky of n ≤ 64 matrices: one workgroup per matrix.
    fn cholesky_small(&self) -> Result<GpuMatrix> {
        let gpu = self.gpu();
        gpu.scoped(|| {
            let mut out = GpuMatrix::alloc(
                &self.ctx,
                "cholesky_batched",
                self.rows,
                self.cols,
                self.batch,
            )?;
            let info = gpu.storage("cholesky_batched", (self.batch * 4) as u64, "batch status")?;
            let mut enc = gpu.encoder("cholesky_batched");
            encode_cholesky_small(gpu, &mut enc, self, &out, info.buffer())?;
            gpu.submit(enc);
            out.check = Some(Arc::new(Check {
                word: info,
                kind: CheckKind::NotPositiveDefinite,
                count: self.batch,
            }));
            Ok(out)
        })
    }

    /// Batched solve of n ≤ 64 systems: one workgroup per system.
    fn solve_small(&self, b: &GpuMatrix) -> Result<GpuMatrix> {
        let gpu = self.gpu();
        gpu.scoped(|| {
            let mut x = GpuMatrix::alloc(&self.ctx, "solve_batched", b.rows, b.cols, self.batch)?;
            let info = gpu.storage("solve_batched", (self.batch * 4) as u64, "batch status")?;
            let mut enc = gpu.encoder("solve_batched");
            encode_solve_small(gpu, &mut enc, self, b, &x, info.buffer())?;
            gpu.submit(enc);
            x.check = Some(Arc::new(Check {
                word: info,
                kind: CheckKind::Singular,
                count: self.batch,
            }));
            Ok(x)
        })
    }

    /// `self⁻¹·B` through LU (self square). For a batch of n ≤ 64 systems
    /// (`b` a batch of the same size) one workgroup solves each system.
    pub fn solve(&self, b: &GpuMatrix) -> Result<GpuMatrix> {
        if self.batch > 1
            && self.rows == self.cols
            && self.rows <= MAX_SMALL_N
            && b.batch == self.batch
        {
            self.same_device("solve", b)?;
            self.need_f32("solve")?;
            b.need_f32("solve")?;
            return self.solve_small(b);
        }
        if self.rows != self.cols || self.batch != 1 {
            return Err(Error::shape(
                "solve",
                "a square matrix",
                format!("{}×{}×{}", self.batch, self.rows, self.cols),
            ));
        }
        self.solve_augmented(b)
    }

    /// One square system through the LU of [A | B]: the factorization's
    /// row interchanges and trailing updates carry B along, so its last
    /// columns end as Y = L⁻¹·P·B, and only the backward substitution
    /// U·X = Y remains (no laswp of B, no forward substitution, one
    /// recording). On an H200 (benches/RESULTS.md, 2026-12-01) solve took
    /// 23.1 / 77.0 ms at n = 4096 / 8192 against 24.3 / 79.8 ms through
    /// `lu` and `GpuLu::solve`.
    fn solve_augmented(&self, b: &GpuMatrix) -> Result<GpuMatrix> {
        let op = "solve";
        let n = self.rows;
        let nrhs = b.cols;
        check_gpu_rhs(self, b)?;
        self.need_f32(op)?;
        let gpu = self.gpu();
        if (n * (n + nrhs) * 4) as u64 > gpu.max_binding() {
            // [A | B] would not fit one binding where A and B apart do
            return self.lu()?.solve(b);
        }
        gpu.scoped(|| {
            let cols = n + nrhs;
            let aug = GpuMatrix::alloc(&self.ctx, op, n, cols, 1)?;
            let mut x = GpuMatrix::alloc(&self.ctx, op, n, nrhs, 1)?;
            let mut enc = gpu.encoder(op);
            let (a_bytes, b_bytes) = ((n * n * 4) as u64, (n * nrhs * 4) as u64);
            if n > 0 {
                enc.copy_buffer_to_buffer(self.buffer(), 0, aug.buffer(), 0, a_bytes);
            }
            if n * nrhs > 0 {
                enc.copy_buffer_to_buffer(b.buffer(), 0, aug.buffer(), a_bytes, b_bytes);
            }
            let (ipiv, info) = encode_lu(gpu, &mut enc, op, aug.buffer(), n, cols)?;
            if n * nrhs > 0 {
                enc.copy_buffer_to_buffer(aug.buffer(), a_bytes, x.buffer(), 0, b_bytes);
                let sc = scratch(gpu, op, FactorParams::default().trsm_nb * nrhs)?;
                encode_u_solve(
                    gpu,
                    &mut enc,
                    aug.buffer(),
                    n,
                    x.buffer(),
                    nrhs,
                    sc.buffer(),
                )?;
                enc.keep(sc);
            }
            enc.keep(ipiv);
            gpu.submit(enc);
            x.check = Some(Arc::new(Check {
                word: info,
                kind: CheckKind::Singular,
                count: 1,
            }));
            Ok(x)
        })
    }

    /// `op(T)⁻¹·B` for triangular `self` (only its triangle is read).
    pub fn solve_triangular(&self, b: &GpuMatrix, flags: TriFlags) -> Result<GpuMatrix> {
        let op = "solve_triangular";
        self.need_f32(op)?;
        b.need_f32(op)?;
        self.same_device(op, b)?;
        if self.rows != self.cols || self.batch != 1 || b.batch != 1 {
            return Err(Error::shape(
                op,
                "one square T and one B",
                format!(
                    "T {}×{}×{}, B batch {}",
                    self.batch, self.rows, self.cols, b.batch
                ),
            ));
        }
        let n = self.rows;
        if b.rows != n {
            return Err(Error::shape(
                op,
                format!("B with {n} rows"),
                format!("B {}×{}", b.rows, b.cols),
            ));
        }
        let gpu = self.gpu();
        gpu.scoped(|| {
            let x = GpuMatrix::alloc(&self.ctx, op, n, b.cols, 1)?;
            let mut enc = gpu.encoder(op);
            if n * b.cols > 0 {
                enc.copy_buffer_to_buffer(b.buffer(), 0, x.buffer(), 0, (n * b.cols * 4) as u64);
                let sc = scratch(gpu, op, FactorParams::default().trsm_nb * b.cols)?;
                encode_trsm(
                    gpu,
                    &mut enc,
                    self.buffer(),
                    0,
                    n,
                    n,
                    flags,
                    x.buffer(),
                    n,
                    b.cols,
                    sc.buffer(),
                )?;
                enc.keep(sc);
            }
            gpu.submit(enc);
            Ok(x)
        })
    }

    /// The inverse through LU.
    pub fn inv(&self) -> Result<GpuMatrix> {
        let eye = self.ctx.upload(&DMatrix::identity(self.rows, self.rows))?;
        self.solve(&eye)
    }
}

impl Context {
    /// Lower Cholesky factor L of an SPD matrix (A = L·Lᵀ), exact zeros
    /// above the diagonal. `NotPositiveDefinite { column }` otherwise.
    pub fn cholesky(&self, a: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        let op = "cholesky";
        check_square(op, a)?;
        check_finite(op, a)?;
        let n = a.nrows();
        match decide(self, op, nominal_flops(op, n, 0, n, 1), 1)? {
            Route::Gpu => self
                .gpu_or_err()?
                .scoped(|| self.upload(a)?.cholesky()?.download()),
            _ => cpu::cholesky(a),
        }
    }

    /// LU with partial pivoting, `P·A = L·U` (rectangular allowed). Like
    /// LAPACK `getrf` an exactly zero pivot is not an error here.
    pub fn lu(&self, a: &DMatrix<f32>) -> Result<Lu> {
        let op = "lu";
        check_finite(op, a)?;
        let (m, n) = a.shape();
        match decide(self, op, nominal_flops(op, m, 0, n, 1), 1)? {
            Route::Gpu => self
                .gpu_or_err()?
                .scoped(|| self.upload(a)?.lu()?.download()),
            _ => Ok(cpu::getrf(a).0),
        }
    }

    /// `A⁻¹·B` for square A through LU; `Singular { column }` on an exactly
    /// zero pivot.
    pub fn solve(&self, a: &DMatrix<f32>, b: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        let op = "solve";
        check_square(op, a)?;
        check_rhs(op, a.nrows(), b)?;
        check_finite(op, a)?;
        check_finite(op, b)?;
        let n = a.nrows();
        match decide(self, op, nominal_flops(op, n, b.ncols(), n, 1), 1)? {
            Route::Gpu => self.gpu_or_err()?.scoped(|| {
                let ga = self.upload(a)?;
                let gb = self.upload(b)?;
                ga.solve(&gb)?.download()
            }),
            _ => {
                let (lu, zero) = cpu::getrf(a);
                if let Some(column) = zero {
                    return Err(Error::Singular { column });
                }
                Ok(cpu::lu_solve(&lu, b))
            }
        }
    }

    /// `T⁻¹·B` for triangular T (lower or upper; only that triangle is
    /// read), by blocked substitution without forming an inverse.
    pub fn solve_triangular(
        &self,
        t: &DMatrix<f32>,
        b: &DMatrix<f32>,
        upper: bool,
    ) -> Result<DMatrix<f32>> {
        self.solve_triangular_with(
            t,
            b,
            TriFlags {
                upper,
                trans: false,
                unit: false,
            },
        )
    }

    /// `op(T)⁻¹·B` with the transpose and unit-diagonal options.
    pub fn solve_triangular_with(
        &self,
        t: &DMatrix<f32>,
        b: &DMatrix<f32>,
        flags: TriFlags,
    ) -> Result<DMatrix<f32>> {
        let op = "solve_triangular";
        check_square(op, t)?;
        check_rhs(op, t.nrows(), b)?;
        check_finite(op, t)?;
        check_finite(op, b)?;
        if !flags.unit {
            if let Some(column) = (0..t.nrows()).find(|&i| t[(i, i)] == 0.0) {
                return Err(Error::Singular { column });
            }
        }
        let n = t.nrows();
        match decide(self, op, nominal_flops(op, n, b.ncols(), n, 1), 1)? {
            Route::Gpu => self.gpu_or_err()?.scoped(|| {
                let gt = self.upload(t)?;
                let gb = self.upload(b)?;
                gt.solve_triangular(&gb, flags)?.download()
            }),
            _ => Ok(cpu::trsm(t, b, flags)),
        }
    }

    /// The inverse of a square matrix (`Singular` on a zero pivot).
    pub fn inv(&self, a: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        check_square("inv", a)?;
        self.solve(a, &DMatrix::identity(a.nrows(), a.nrows()))
    }

    /// The inverse of a triangular matrix (its other triangle exactly zero).
    pub fn tri_inv(&self, t: &DMatrix<f32>, upper: bool) -> Result<DMatrix<f32>> {
        check_square("tri_inv", t)?;
        let mut x = self.solve_triangular(t, &DMatrix::identity(t.nrows(), t.nrows()), upper)?;
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                if (upper && i > j) || (!upper && i < j) {
                    x[(i, j)] = 0.0;
                }
            }
        }
        Ok(x)
    }

    /// `A⁻¹` from the Cholesky factor L of A: `L⁻ᵀ·L⁻¹`.
    pub fn cholesky_inv(&self, l: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        let linv = self.tri_inv(l, false)?;
        self.matmul_t(&linv, true, &linv, false)
    }

    /// The determinant (through LU; 0 for a singular matrix).
    pub fn det(&self, a: &DMatrix<f32>) -> Result<f32> {
        let (sign, logabs) = self.slogdet(a)?;
        Ok(if sign == 0.0 {
            0.0
        } else {
            sign * (logabs as f64).exp() as f32
        })
    }

    /// Sign and natural log of |det A| (NumPy's `slogdet`): accumulated in
    /// f64 from the LU diagonal, so it neither overflows nor underflows.
    /// A singular matrix gives `(0, -inf)`.
    pub fn slogdet(&self, a: &DMatrix<f32>) -> Result<(f32, f32)> {
        let op = "slogdet";
        check_square(op, a)?;
        check_finite(op, a)?;
        let n = a.nrows();
        let (diag, ipiv) = match decide(self, "lu", nominal_flops("lu", n, 0, n, 1), 1)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let f = self.upload(a)?.lu()?;
                    let d = gpu.storage(op, (n.max(1) * 4) as u64, "lu diagonal")?;
                    let mut enc = gpu.encoder("lu diagonal");
                    encode_copy(
                        gpu,
                        &mut enc,
                        f.packed.buffer(),
                        0,
                        n + 1,
                        d.buffer(),
                        0,
                        1,
                        1,
                        n,
                        1.0,
                    )?;
                    gpu.submit(enc);
                    let diag = gpu.read_f32(d.buffer(), 0, n as u64)?;
                    let piv: Vec<u32> = bytemuck::pod_collect_to_vec(&gpu.read_bytes(
                        f.ipiv.buffer(),
                        0,
                        (n * 4) as u64,
                    )?);
                    Ok((diag, piv))
                })?
            }
            _ => {
                let (lu, _) = cpu::getrf(a);
                (
                    (0..n).map(|i| lu.packed()[(i, i)]).collect(),
                    lu.ipiv().to_vec(),
                )
            }
        };
        let mut sign = 1.0f64;
        let mut logabs = 0.0f64;
        for (i, (&d, &p)) in diag.iter().zip(&ipiv).enumerate() {
            if d == 0.0 {
                return Ok((0.0, f32::NEG_INFINITY));
            }
            if d < 0.0 {
                sign = -sign;
            }
            if p as usize != i {
                sign = -sign;
            }
            logabs += (d.abs() as f64).ln();
        }
        Ok((sign as f32, logabs as f32))
    }

    /// `A⁻¹·B` in f64 from an f32 LU (GPU where routed) and iterative
    /// refinement with f64 residuals on the host: corrections are applied
    /// while they shrink (at least halving) and are not negligible; the
    /// result must then have a normwise backward error within √n·ε(f64)
    /// (LAPACK `dsgesv`'s test), else `NoConvergence`.
    pub fn solve_refined(&self, a: &DMatrix<f64>, b: &DMatrix<f64>) -> Result<DMatrix<f64>> {
        let op = "solve_refined";
        if !a.is_square() {
            return Err(Error::shape(
                op,
                "a square matrix",
                format!("{}×{}", a.nrows(), a.ncols()),
            ));
        }
        let n = a.nrows();
        if b.nrows() != n {
            return Err(Error::shape(
                op,
                format!("B with {n} rows"),
                format!("B {}×{}", b.nrows(), b.ncols()),
            ));
        }
        if !a.iter().chain(b.iter()).all(|x| x.is_finite()) {
            return Err(Error::NonFinite { op });
        }
        if n == 0 || b.ncols() == 0 {
            return Ok(DMatrix::zeros(n, b.ncols()));
        }
        let a32 = a.map(|x| x as f32);
        check_finite(op, &a32)?; // f64 values beyond the f32 range
        let gpu_route = decide(self, op, nominal_flops(op, n, b.ncols(), n, 1), 1)? == Route::Gpu;
        // factor once, keep the factors where they were computed
        enum Factors {
            Gpu(GpuLu),
            Cpu(Lu),
        }
        let factors = if gpu_route {
            let f = self.upload(&a32)?.lu()?;
            f.packed.check()?;
            Factors::Gpu(f)
        } else {
            let (lu, zero) = cpu::getrf(&a32);
            if let Some(column) = zero {
                return Err(Error::Singular { column });
            }
            Factors::Cpu(lu)
        };
        let solve32 = |r: &DMatrix<f32>| -> Result<DMatrix<f32>> {
            match &factors {
                Factors::Gpu(f) => f.solve(&self.upload(r)?)?.download(),
                Factors::Cpu(lu) => Ok(cpu::lu_solve(lu, r)),
            }
        };
        let norm_inf = |m: &DMatrix<f64>| {
            (0..m.nrows())
                .map(|i| m.row(i).iter().map(|x| x.abs()).sum::<f64>())
                .fold(0.0, f64::max)
        };
        let a_norm = norm_inf(a);
        let tol = (n as f64).sqrt() * f64::EPSILON;
        let mut x = solve32(&b.map(|v| v as f32))?.map(f64::from);
        let backward_ok = |x: &DMatrix<f64>| {
            let r = b - a * x;
            (0..x.ncols()).all(|c| r.column(c).amax() <= tol * a_norm * x.column(c).amax())
        };
        let mut prev = f64::INFINITY;
        const MAX_ITERS: usize = 30;
        for it in 0..MAX_ITERS {
            let r = b - a * &x;
            // scale the residual into f32 range before the f32 solve
            let scale = r.amax();
            if scale == 0.0 {
                return Ok(x);
            }
            let dx = solve32(&(r / scale).map(|v| v as f32))?.map(|v| v as f64 * scale);
            let dn = dx.amax();
            if dn.is_nan() || dn >= 0.5 * prev {
                // the correction stopped shrinking: x is as good as it gets
                return if backward_ok(&x) {
                    Ok(x)
                } else {
                    Err(Error::NoConvergence {
                        op,
                        iterations: it + 1,
                    })
                };
            }
            x += &dx;
            if dn <= f64::EPSILON * x.amax() {
                return if backward_ok(&x) {
                    Ok(x)
                } else {
                    Err(Error::NoConvergence {
                        op,
                        iterations: it + 1,
                    })
                };
            }
            prev = dn;
        }
        Err(Error::NoConvergence {
            op,
            iterations: MAX_ITERS,
        })
    }
}
