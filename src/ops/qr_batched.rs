//! Batched Householder QR of small matrices (m, n ≤ 64) in size classes
//! S = 8, 16, 32, 64 ≥ max(m, n) (`wgsl/qr/small.wgsl`, the class an
//! override constant): a workgroup of 64 invocations holds 64 / S matrices,
//! invocation j of a matrix's team owning column j in registers; unblocked
//! `geqr2` with one barrier per column (the column owner forms the
//! reflector and broadcasts v and tau through double-buffered workgroup
//! memory, the other columns apply it), then (for `qr_batched`) R written
//! out and Q formed in place by backward accumulation (`org2r`), one
//! barrier per reflector. Loads and stores run coalesced over the
//! contiguous matrices of a workgroup through a staging array of
//! 66·S words. One dispatch for the whole batch (in chunks of the
//! 65535-workgroup limit). Cost per matrix: 4mns − 2(m+n)s² + 4s³/3 flops
//! (s = min(m, n)) and as much again for Q. Accuracy: that of unblocked
//! Householder, ‖A − QR‖ ≲ c·n·ε‖A‖, ‖QᵀQ − I‖ ≲ c·n·ε. Larger matrices
//! are factorized one by one by the blocked algorithm.

use nalgebra::{DMatrix, DVector};

use crate::context::{Context, Route};
use crate::dispatch::{decide, nominal_flops};
use crate::error::{Error, Result};
use crate::gpu::{params_bytes, GpuMatrix, Kernel};
use crate::ops::batched::{check_finite_batch, dispatch_chunks};
use crate::ops::jacobi::log_size;
use crate::ops::qr_cpu as cpu;
use crate::ops::u32_of;

/// Largest m and n the batched kernels take.
pub(crate) const MAX_SMALL: usize = 64;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct SmallQrUniform {
    m: u32,
    n: u32,
    batch_base: u32,
    batch: u32,
}

/// Matrices per workgroup of size class 2^logs (64 invocations, one per
/// column of each matrix).
fn mats_per_group(logs: u32) -> usize {
    64 >> logs
}

impl GpuMatrix {
    /// Records `entry` of `wgsl/qr/small.wgsl` over the batch into
    /// (out_q rows_q×cols_q, out_r rows_r×cols_r) per matrix, with the size
    /// class of max(m, n).
    fn small_qr(
        &self,
        op: &'static str,
        entry: &'static str,
        q_shape: (usize, usize),
        r_shape: (usize, usize),
    ) -> Result<(GpuMatrix, GpuMatrix)> {
        self.need_f32(op)?;
        let (m, n) = self.shape();
        if m > MAX_SMALL || n > MAX_SMALL {
            return Err(Error::shape(
                op,
                format!("matrices of at most {MAX_SMALL}×{MAX_SMALL}"),
                format!("{m}×{n}"),
            ));
        }
        let gpu = self.gpu();
        let batch = self.batch;
        gpu.scoped(|| {
            let oq = GpuMatrix::alloc(&self.ctx, op, q_shape.0, q_shape.1, batch)?;
            let or = GpuMatrix::alloc(&self.ctx, op, r_shape.0, r_shape.1, batch)?;
            let mut rec = gpu.encoder(op);
            if m > 0 && n > 0 {
                let logs = log_size(m.max(n));
                let mats = mats_per_group(logs);
                // The kernel indexes words up to (batch + mats)·m·n in u32.
                u32_of(op, (batch + mats) * m * n)?;
                let mut u = SmallQrUniform {
                    m: m as u32,
                    n: n as u32,
                    batch_base: 0,
                    batch: u32_of(op, batch)?,
                };
                let label = format!(
                    "{entry} batch {batch} {m}x{n} S {} mats {mats}",
                    1u32 << logs
                );
                let constants = [("LOGS", logs as f64)];
                let groups = batch.div_ceil(mats);
                for (base, count) in dispatch_chunks(groups, gpu.max_groups() as usize) {
                    u.batch_base = u32_of(op, base * mats)?;
                    gpu.launch(
                        &mut rec,
                        &label,
                        Kernel::QrBatched,
                        entry,
                        &constants,
                        &params_bytes(&u),
                        &[(1, self.buffer()), (2, oq.buffer()), (3, or.buffer())],
                        [count as u32, 1, 1],
                    );
                }
            }
            gpu.submit(rec);
            Ok((oq, or))
        })
    }

    /// Reduced QR of every matrix of the batch (m, n ≤ 64): Q batch of m×k,
    /// R batch of k×n (k = min(m, n), exact zeros below the diagonal).
    pub fn qr_batched(&self) -> Result<(GpuMatrix, GpuMatrix)> {
        let (m, n) = self.shape();
        let k = m.min(n);
        self.small_qr("qr_batched", "qr_small", (m, k), (k, n))
    }

    /// LAPACK `geqrf` of every matrix of the batch (m, n ≤ 64): the factored
    /// matrices (batch of m×n) and tau (batch of k×1).
    pub fn geqrf_batched(&self) -> Result<(GpuMatrix, GpuMatrix)> {
        let (m, n) = self.shape();
        self.small_qr("geqrf_batched", "geqrf_small", (m, n), (m.min(n), 1))
    }
}

/// Common checks of the host batched calls: one shape, finite entries.
fn check_batch(op: &'static str, a: &[DMatrix<f32>]) -> Result<(usize, usize)> {
    let (m, n) = a[0].shape();
    if let Some((i, bad)) = a.iter().enumerate().find(|(_, x)| x.shape() != (m, n)) {
        return Err(Error::shape(
            op,
            format!("every matrix {m}×{n}"),
            format!("{}×{} (matrix {i})", bad.nrows(), bad.ncols()),
        ));
    }
    check_finite_batch(op, a)?;
    Ok((m, n))
}

impl Context {
    /// Reduced QR `(Q_i, R_i)` of a batch of equally shaped matrices
    /// (rectangular allowed). Up to 64×64 one GPU dispatch factorizes the
    /// whole batch (several matrices per workgroup up to 32×32); larger matrices go through
    /// the blocked algorithm one by one.
    pub fn qr_batched(&self, a: &[DMatrix<f32>]) -> Result<Vec<(DMatrix<f32>, DMatrix<f32>)>> {
        let op = "qr_batched";
        if a.is_empty() {
            return Ok(Vec::new());
        }
        let (m, n) = check_batch(op, a)?;
        let k = m.min(n);
        let batch = a.len();
        if m == 0 || n == 0 {
            return Ok(vec![(DMatrix::zeros(m, k), DMatrix::zeros(k, n)); batch]);
        }
        match decide(self, op, nominal_flops(op, m, 0, n, batch), batch)? {
            Route::Gpu if m <= MAX_SMALL && n <= MAX_SMALL => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let (q, r) = self.upload_batch(a)?.qr_batched()?;
                    Ok(q.download_batch()?
                        .into_iter()
                        .zip(r.download_batch()?)
                        .collect())
                })
            }
            Route::Gpu => {
                let ctx = self.with_route(Route::Gpu);
                a.iter().map(|x| ctx.qr(x)).collect()
            }
            _ => Ok(a
                .iter()
                .map(|x| {
                    let (h, tau) = cpu::geqrf(x);
                    (cpu::orgqr(&h, &tau, 0, k), cpu::r_of(&h, k))
                })
                .collect()),
        }
    }

    /// LAPACK `geqrf` of each matrix of a batch of equally shaped matrices
    /// (see [`Context::geqrf`]); one dispatch for the batch up to 64×64.
    pub fn geqrf_batched(&self, a: &[DMatrix<f32>]) -> Result<Vec<(DMatrix<f32>, DVector<f32>)>> {
        let op = "geqrf_batched";
        if a.is_empty() {
            return Ok(Vec::new());
        }
        let (m, n) = check_batch(op, a)?;
        let batch = a.len();
        if m == 0 || n == 0 {
            return Ok(a.iter().map(|x| (x.clone(), DVector::zeros(0))).collect());
        }
        match decide(self, op, nominal_flops(op, m, 0, n, batch), batch)? {
            Route::Gpu if m <= MAX_SMALL && n <= MAX_SMALL => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let (h, tau) = self.upload_batch(a)?.geqrf_batched()?;
                    Ok(h.download_batch()?
                        .into_iter()
                        .zip(tau.download_batch()?)
                        .map(|(h, t)| (h, DVector::from_column_slice(t.as_slice())))
                        .collect())
                })
            }
            Route::Gpu => {
                let ctx = self.with_route(Route::Gpu);
                a.iter().map(|x| ctx.geqrf(x)).collect()
            }
            _ => Ok(a.iter().map(cpu::geqrf).collect()),
        }
    }
}
