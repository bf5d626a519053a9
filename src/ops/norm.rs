//! Matrix norms (NumPy `norm` orders) and condition numbers.
//!
//! Algorithm: the Frobenius norm is the scaled, compensated sum of squares
//! of `GpuMatrix::norm_fro` (GPU) or an f64 sum (CPU); the 1- and ∞-norms
//! (and −1, −∞) are the largest (smallest) absolute column or row sum, one
//! GPU reduction kernel each; the 2-norm, −2 and the nuclear norm come
//! from the singular values (`svdvals`, one-sided Jacobi on the GPU). Cost
//! O(mn) for the elementwise orders, an SVD for the spectral ones.
//! Accuracy: sums of absolute values lose at most m·ε relatively; the
//! spectral orders inherit the SVD's n·ε·σ₁ bound. `cond` is σ₁/σ_min for
//! the 2-norm (∞ for a singular matrix, like NumPy) and ‖A‖·‖A⁻¹‖ for the
//! other orders.

use nalgebra::DMatrix;

use crate::context::{Context, Route};
use crate::dispatch::decide;
use crate::error::{Error, Result};
use crate::gpu::{params_bytes, GpuMatrix, Kernel};
use crate::ops::qr::check_finite;
use crate::ops::svd_block::BlockUniform;
use crate::ops::svd_route::svdvals_of;
use crate::ops::u32_of;

/// The orders of [`Context::norm`] (NumPy's `ord`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Norm {
    /// Frobenius: √Σ a_ij².
    Fro,
    /// Nuclear: Σ σ_i.
    Nuc,
    /// Largest absolute column sum.
    One,
    /// Largest singular value.
    Two,
    /// Largest absolute row sum.
    Inf,
    /// Smallest absolute column sum.
    NegOne,
    /// Smallest singular value.
    NegTwo,
    /// Smallest absolute row sum.
    NegInf,
}

/// Absolute column sums (`rows = false`) or row sums, in f64.
fn abs_sums_cpu(a: &DMatrix<f32>, by_rows: bool) -> Vec<f64> {
    let (m, n) = a.shape();
    if by_rows {
        let mut s = vec![0.0f64; m];
        for j in 0..n {
            for (i, acc) in s.iter_mut().enumerate() {
                *acc += (a[(i, j)] as f64).abs();
            }
        }
        s
    } else {
        a.column_iter()
            .map(|c| c.iter().map(|&x| (x as f64).abs()).sum())
            .collect()
    }
}

fn pick(sums: &[f64], largest: bool) -> f32 {
    let v = if largest {
        sums.iter().copied().fold(0.0, f64::max)
    } else {
        sums.iter().copied().fold(f64::INFINITY, f64::min)
    };
    v as f32
}

impl GpuMatrix {
    /// Absolute column sums (`by_rows = false`) or row sums, computed on the
    /// GPU and read back (one value per column or row).
    pub(crate) fn abs_sums(&self, by_rows: bool) -> Result<Vec<f64>> {
        let op = "norm";
        let (m, n) = self.shape();
        let gpu = self.gpu();
        let len = if by_rows { m } else { n };
        if m == 0 || n == 0 {
            return Ok(vec![0.0; len]);
        }
        gpu.scoped(|| {
            let out = gpu.storage(op, (len * 4) as u64, "norm sums")?;
            let u = BlockUniform {
                rows: u32_of(op, m)?,
                cols: u32_of(op, n)?,
                ..Default::default()
            };
            let mut rec = gpu.encoder(op);
            let (entry, groups) = if by_rows {
                ("abs_row_sums", [m.div_ceil(256) as u32, 1, 1])
            } else {
                let max = gpu.max_groups() as usize;
                let gx = n.min(max);
                ("abs_col_sums", [gx as u32, n.div_ceil(gx) as u32, 1])
            };
            gpu.launch(
                &mut rec,
                &format!("{op} {entry} {m}x{n}"),
                Kernel::SvdBlock,
                entry,
                &[],
                &params_bytes(&u),
                &[(1, self.buffer()), (2, out.buffer())],
                groups,
            );
            gpu.submit(rec);
            Ok(gpu
                .read_f32(out.buffer(), 0, len as u64)?
                .into_iter()
                .map(f64::from)
                .collect())
        })
    }

    /// The norm of the given order (one matrix; see [`Context::norm`]).
    pub fn norm(&self, ord: Norm) -> Result<f32> {
        let op = "norm";
        self.need_single(op)?;
        let (m, n) = self.shape();
        empty_check(ord, m, n)?;
        if m == 0 || n == 0 {
            return Ok(0.0);
        }
        match ord {
            Norm::Fro => self.norm_fro(),
            Norm::One => Ok(pick(&self.abs_sums(false)?, true)),
            Norm::NegOne => Ok(pick(&self.abs_sums(false)?, false)),
            Norm::Inf => Ok(pick(&self.abs_sums(true)?, true)),
            Norm::NegInf => Ok(pick(&self.abs_sums(true)?, false)),
            Norm::Two | Norm::NegTwo | Norm::Nuc => {
                let s = self.gpu().scoped(|| svdvals_of(op, self))?;
                Ok(spectral(s.as_slice(), ord))
            }
        }
    }
}

/// The spectral orders from the singular values (descending).
fn spectral(s: &[f32], ord: Norm) -> f32 {
    match ord {
        Norm::Two => s.first().copied().unwrap_or(0.0),
        Norm::NegTwo => s.last().copied().unwrap_or(0.0),
        _ => s.iter().map(|&x| x as f64).sum::<f64>() as f32,
    }
}

/// NumPy: the largest orders of an empty matrix are 0, the smallest are
/// undefined.
fn empty_check(ord: Norm, m: usize, n: usize) -> Result<()> {
    if (m == 0 || n == 0) && matches!(ord, Norm::NegOne | Norm::NegTwo | Norm::NegInf) {
        return Err(Error::shape(
            "norm",
            "a non-empty matrix for the smallest-value orders",
            format!("{m}×{n}"),
        ));
    }
    Ok(())
}

impl Context {
    /// The matrix norm of order `ord` (NumPy `linalg.norm(a, ord)` for
    /// 2-D arrays).
    pub fn norm(&self, a: &DMatrix<f32>, ord: Norm) -> Result<f32> {
        let op = "norm";
        check_finite(op, a)?;
        let (m, n) = a.shape();
        empty_check(ord, m, n)?;
        if m == 0 || n == 0 {
            return Ok(0.0);
        }
        if matches!(ord, Norm::Two | Norm::NegTwo | Norm::Nuc) {
            return Ok(spectral(self.svdvals(a)?.as_slice(), ord));
        }
        // elementwise orders: O(mn), weighed as 2mn flops
        match decide(self, op, 2.0 * m as f64 * n as f64, 1)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| self.upload(a)?.norm(ord))
            }
            _ => Ok(match ord {
                Norm::Fro => a
                    .iter()
                    .map(|&x| (x as f64) * (x as f64))
                    .sum::<f64>()
                    .sqrt() as f32,
                Norm::One => pick(&abs_sums_cpu(a, false), true),
                Norm::NegOne => pick(&abs_sums_cpu(a, false), false),
                Norm::Inf => pick(&abs_sums_cpu(a, true), true),
                _ => pick(&abs_sums_cpu(a, true), false),
            }),
        }
    }

    /// The 2-norm condition number σ₁/σ_min (∞ when σ_min = 0, like
    /// NumPy); any shape.
    pub fn cond(&self, a: &DMatrix<f32>) -> Result<f32> {
        self.cond_with(a, Norm::Two)
    }

    /// The condition number in the norm of order `ord`: σ₁/σ_min for
    /// `Two` (σ_min/σ₁ for `NegTwo`), otherwise ‖A‖·‖A⁻¹‖ for a square A
    /// (`Error::Shape` otherwise; ∞ when A is exactly singular).
    pub fn cond_with(&self, a: &DMatrix<f32>, ord: Norm) -> Result<f32> {
        let op = "cond";
        check_finite(op, a)?;
        let (m, n) = a.shape();
        if m == 0 || n == 0 {
            return Err(Error::shape(op, "a non-empty matrix", format!("{m}×{n}")));
        }
        if matches!(ord, Norm::Two | Norm::NegTwo) {
            let s = self.svdvals(a)?;
            let (hi, lo) = (s[0] as f64, s[s.len() - 1] as f64);
            let c = if ord == Norm::Two { hi / lo } else { lo / hi };
            return Ok(if c.is_nan() { f32::INFINITY } else { c as f32 });
        }
        if m != n {
            return Err(Error::shape(
                op,
                "a square matrix for orders other than 2 and −2",
                format!("{m}×{n}"),
            ));
        }
        let inv = match self.inv(a) {
            Ok(x) => x,
            Err(Error::Singular { .. }) => return Ok(f32::INFINITY),
            Err(e) => return Err(e),
        };
        if inv.iter().any(|x| !x.is_finite()) {
            return Ok(f32::INFINITY);
        }
        Ok(self.norm(a, ord)? * self.norm(&inv, ord)?)
    }
}
