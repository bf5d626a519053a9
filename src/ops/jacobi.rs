//! Batched Jacobi eigensolver and SVD of small matrices (order ≤ 64):
//! `eigh_batched`, `svd_batched`, and the device-resident kernels the block
//! Jacobi SVD builds on (`encode_eigh_small` on Gram matrices).
//!
//! Algorithm (`wgsl/eig/jacobi.wgsl`): one workgroup of 256 invocations
//! holds 32 matrices of order ≤ 8, 8 of order ≤ 16, 2 of order ≤ 32 or one
//! of order ≤ 64 in workgroup memory (A in 16 KiB; V in 8 KiB, or in its
//! output buffer for order > 32, since A and V of order 64 together would
//! exceed Apple's 32 KiB; the rotation-order form of order 33–64 that the
//! block Jacobi SVD uses runs `wgsl/eig/rot64.wgsl` instead, A as a packed
//! triangle and V both in workgroup memory, 512 invocations, the same
//! rotations). The symmetric eigenproblem runs the two-sided
//! cyclic Jacobi method, the SVD the one-sided (Hestenes) method on the
//! columns (on Aᵀ when m < n), both with the parallel round-robin ordering:
//! n − 1 rounds of n/2 disjoint rotations per sweep, each round one phase
//! that computes the rotations and one that applies them all (2×2 blocks
//! Jᵀ·A·J for `eigh`, columns for the SVD), two barriers per round. A
//! rotation is skipped when |a_pq| ≤ ε·√|a_pp·a_qq| (`eigh`) or |a_p·a_q|
//! ≤ √m·ε·‖a_p‖·‖a_q‖ (SVD); a sweep without rotation ends, and a matrix
//! that still rotates after 30 sweeps is `Error::NoConvergence`. Each
//! matrix is scaled by a power of two so that nothing over- or underflows;
//! columns of negligible norm (rank deficiency) get an orthonormal
//! completion by two-pass Gram–Schmidt, so UᵀU = I always holds.
//! Cost per matrix and sweep: about 4n³ flops for `eigh` (A and V) and
//! 6mn² + 2n³ for the SVD; typically 6–10 sweeps at f32 precision, so
//! ≈ 30–40n³ for `eigh` and ≈ 40–60mn² for the SVD.
//! Accuracy: orthogonal transformations only, so ‖A − V·Λ·Vᵀ‖ and
//! ‖A − U·Σ·Vᵀ‖ are O(n·ε·‖A‖) and ‖VᵀV − I‖, ‖UᵀU − I‖ are O(n·ε);
//! eigenvalues and singular values have absolute errors O(n·ε·‖A‖) (and
//! the one-sided method is often relatively accurate for well-scaled
//! columns). The CPU route is nalgebra (Golub–Kahan SVD, tridiagonal QR),
//! with the same conventions: singular values descending, eigenvalues
//! ascending.

use std::sync::Arc;

use nalgebra::{DMatrix, DVector};

use crate::context::{Context, Route};
use crate::dispatch::{decide, nominal_flops};
use crate::error::{Error, Result};
use crate::gpu::matrix::{Check, CheckKind};
use crate::gpu::pool::PooledBuffer;
use crate::gpu::{params_bytes, Gpu, GpuMatrix, Kernel, Recorder};
use crate::ops::batched::{
    check_finite_batch, check_words, dispatch_chunks, first_failure, floats, read_parts,
    split_matrices,
};
use crate::ops::svd::{GpuSvd, Svd};
use crate::ops::svd_cpu;
use crate::ops::u32_of;

/// Largest order (m and n for the SVD) the Jacobi kernels take.
pub(crate) const MAX_JACOBI_N: usize = 64;

/// Sweep limit of the kernels; a matrix still rotating after it fails.
pub(crate) const MAX_SWEEPS: usize = 30;

const F_DESC: u32 = 1;
const F_OFF: u32 = 2;
const F_TRANS: u32 = 4;
const F_KEEP: u32 = 8;

/// Uniform block of `wgsl/eig/jacobi.wgsl` (`Params`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct JacobiUniform {
    rows: u32,
    cols: u32,
    batch_base: u32,
    batch: u32,
    flags: u32,
    max_sweeps: u32,
    pad0: u32,
    pad1: u32,
}

/// log2 of the size class S ≥ `order` (8, 16, 32 or 64): the `LOGS`
/// override of the kernel (also the size classes of `wgsl/qr/small.wgsl`).
pub(crate) fn log_size(order: usize) -> u32 {
    match order {
        0..=8 => 3,
        9..=16 => 4,
        17..=32 => 5,
        _ => 6,
    }
}

/// Matrices per workgroup of size class 2^logs (2048 words of A and of V
/// each for S ≤ 32, one matrix for S = 64).
fn mats_per_group(logs: u32) -> usize {
    if logs >= 6 {
        1
    } else {
        2048 >> (2 * logs)
    }
}

/// Records `entry` over the batch, in chunks of the dispatch limit.
#[allow(clippy::too_many_arguments)]
fn launch(
    gpu: &Gpu,
    rec: &mut Recorder,
    op: &'static str,
    entry: &'static str,
    order: usize,
    batch: usize,
    mut u: JacobiUniform,
    binds: &[(u32, &wgpu::Buffer)],
) -> Result<()> {
    let logs = log_size(order);
    let mats = mats_per_group(logs);
    u32_of(op, batch + mats)?;
    u.batch = u32_of(op, batch)?;
    let label = format!(
        "{entry} batch {batch} {}x{} S {} mats {mats}",
        u.rows,
        u.cols,
        1u32 << logs
    );
    let constants = [("LOGS", logs as f64)];
    let groups = batch.div_ceil(mats);
    for (base, count) in dispatch_chunks(groups, gpu.max_groups() as usize) {
        u.batch_base = u32_of(op, base * mats)?;
        gpu.launch(
            rec,
            &label,
            Kernel::Jacobi,
            entry,
            &constants,
            &params_bytes(&u),
            binds,
            [count as u32, 1, 1],
        );
    }
    Ok(())
}

fn too_big(op: &'static str, m: usize, n: usize) -> Error {
    Error::shape(
        op,
        format!(
            "m, n ≤ {MAX_JACOBI_N} (batched Jacobi; use the single-matrix op for larger matrices)"
        ),
        format!("{m}×{n}"),
    )
}

/// The order of the eigenpairs [`encode_eigh_small`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    Ascending,
    #[cfg_attr(not(test), allow(dead_code))]
    Descending,
    /// As the rotations leave them: the eigenvector matrix is the product
    /// of the Jacobi rotations, close to the identity when the input is
    /// close to diagonal. The block one-sided Jacobi SVD needs this: sorted
    /// eigenvectors can be far from any block-diagonally dominant matrix
    /// (a permutation), which breaks the convergence of block Jacobi
    /// (the uniformly-bounded-cosine condition) and made it linear.
    Rotation,
}

/// Records the symmetric eigendecomposition of `batch` matrices of order
/// `n` ≤ 64 held in `a` (batch×n×n column-major; only the lower triangles
/// are read, `a` is not written): eigenvalues into `w` (batch×n, in the
/// given order), eigenvectors into `v` (batch×n×n,
/// columns in the order of `w`), and, when given, into `off` (batch f32)
/// max over i ≠ j of |a_ij| / √(|a_ii|·|a_jj|) of the input (0 where the
/// denominator is 0). `info` gets 0, or 1 for a matrix that did not
/// converge in [`MAX_SWEEPS`] sweeps. One dispatch for the whole batch.
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_eigh_small(
    gpu: &Gpu,
    rec: &mut Recorder,
    n: usize,
    batch: usize,
    a: &wgpu::Buffer,
    w: &wgpu::Buffer,
    v: &wgpu::Buffer,
    order: Order,
    off: Option<&wgpu::Buffer>,
    info: &wgpu::Buffer,
) -> Result<()> {
    encode_eigh_impl(gpu, rec, n, batch, a, w, v, order, off, info, MAX_SWEEPS)
}

/// [`encode_eigh_small`] in rotation order with at most `sweeps` sweeps
/// (`info` then says whether they sufficed): the inner step of the block
/// Jacobi SVD, where one or two sweeps per pair are enough because the
/// outer iteration revisits every pair.
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_eigh_rotations(
    gpu: &Gpu,
    rec: &mut Recorder,
    n: usize,
    batch: usize,
    a: &wgpu::Buffer,
    w: &wgpu::Buffer,
    v: &wgpu::Buffer,
    info: &wgpu::Buffer,
    sweeps: usize,
) -> Result<()> {
    if n > 32 && n <= MAX_JACOBI_N && n.is_multiple_of(2) && rot64_enabled() {
        return encode_rot64(
            gpu,
            rec,
            n,
            batch,
            (a, w, v, info),
            sweeps.max(1),
            rot64_entry(),
        );
    }
    encode_eigh_impl(
        gpu,
        rec,
        n,
        batch,
        a,
        w,
        v,
        Order::Rotation,
        None,
        info,
        sweeps.max(1),
    )
}

/// Whether [`encode_eigh_rotations`] takes `wgsl/eig/rot64.wgsl` for
/// orders 33 … 64 (`WGPU_LINALG_JACOBI_ROT64=0` keeps `eigh_jacobi`, for
/// comparison). Measured on an H200 (block Jacobi SVD, 4096², b = 32,
/// benches/RESULTS.md 2026-12-01): the inner sweep on the 64 pair Gram
/// matrices of a round took 0.106 ms (256 invocations) against 0.266 ms.
fn rot64_enabled() -> bool {
    std::env::var("WGPU_LINALG_JACOBI_ROT64").map_or(true, |v| v != "0")
}

/// Entry point of `wgsl/eig/rot64.wgsl`: 512 invocations, or 256 with
/// `WGPU_LINALG_JACOBI_ROT64_WG=256`. Measured on an H200 (2026-12-01,
/// one command, svd): 512 took 740.7 ms at 4096² against 786.0 ms, and
/// 51.5 against 62.3 ms at 1024².
fn rot64_entry() -> &'static str {
    match std::env::var("WGPU_LINALG_JACOBI_ROT64_WG").as_deref() {
        Ok("256") => "eigh_rot64",
        _ => "eigh_rot64_w512",
    }
}

/// [`encode_eigh_rotations`] for even orders 33 … 64: the same rotations
/// as `eigh_jacobi` in rotation order, with A (packed lower triangle) and
/// V both in workgroup memory instead of V in global memory; one
/// workgroup per matrix.
fn encode_rot64(
    gpu: &Gpu,
    rec: &mut Recorder,
    n: usize,
    batch: usize,
    (a, w, v, info): (&wgpu::Buffer, &wgpu::Buffer, &wgpu::Buffer, &wgpu::Buffer),
    sweeps: usize,
    entry: &'static str,
) -> Result<()> {
    let op = "eigh_batched";
    if batch == 0 {
        return Ok(());
    }
    let nn = batch.checked_mul(n * n).ok_or_else(|| too_big(op, n, n))?;
    u32_of(op, nn)?;
    check_words(op, "a", a, nn)?;
    check_words(op, "w", w, batch * n)?;
    check_words(op, "v", v, nn)?;
    check_words(op, "info", info, batch)?;
    let mut u = JacobiUniform {
        rows: n as u32,
        cols: n as u32,
        batch: u32_of(op, batch)?,
        flags: F_KEEP,
        max_sweeps: u32_of(op, sweeps)?,
        ..Default::default()
    };
    let label = format!("{entry} batch {batch} {n}x{n}");
    for (base, count) in dispatch_chunks(batch, gpu.max_groups() as usize) {
        u.batch_base = u32_of(op, base)?;
        gpu.launch(
            rec,
            &label,
            Kernel::JacobiRot64,
            entry,
            &[],
            &params_bytes(&u),
            &[(1, a), (2, w), (3, v), (5, info)],
            [count as u32, 1, 1],
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn encode_eigh_impl(
    gpu: &Gpu,
    rec: &mut Recorder,
    n: usize,
    batch: usize,
    a: &wgpu::Buffer,
    w: &wgpu::Buffer,
    v: &wgpu::Buffer,
    order: Order,
    off: Option<&wgpu::Buffer>,
    info: &wgpu::Buffer,
    max_sweeps: usize,
) -> Result<()> {
    let op = "eigh_batched";
    if n > MAX_JACOBI_N {
        return Err(too_big(op, n, n));
    }
    if batch == 0 || n == 0 {
        return Ok(());
    }
    let nn = batch.checked_mul(n * n).ok_or_else(|| too_big(op, n, n))?;
    u32_of(op, nn)?;
    check_words(op, "a", a, nn)?;
    check_words(op, "w", w, batch * n)?;
    check_words(op, "v", v, nn)?;
    check_words(op, "info", info, batch)?;
    if let Some(o) = off {
        check_words(op, "off", o, batch)?;
    }
    let dummy = gpu.storage(op, 4, "eigh_batched unused binding")?;
    let flags = match order {
        Order::Ascending => 0,
        Order::Descending => F_DESC,
        Order::Rotation => F_KEEP,
    } | if off.is_some() { F_OFF } else { 0 };
    let u = JacobiUniform {
        rows: n as u32,
        cols: n as u32,
        flags,
        max_sweeps: max_sweeps as u32,
        ..Default::default()
    };
    launch(
        gpu,
        rec,
        op,
        "eigh_jacobi",
        n,
        batch,
        u,
        &[
            (1, a),
            (2, w),
            (3, v),
            (4, dummy.buffer()),
            (5, info),
            (6, off.unwrap_or(dummy.buffer())),
        ],
    )?;
    rec.keep(dummy);
    Ok(())
}

/// Records the thin SVD of `batch` m×n matrices (m, n ≤ 64) held in `a`
/// (batch×m×n column-major, not written): `u` batch×m×k, `s` batch×k
/// (descending), `vt` batch×k×n, k = min(m, n). `info` gets 0, or 1 for a
/// matrix that did not converge in [`MAX_SWEEPS`] sweeps.
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_svd_small(
    gpu: &Gpu,
    rec: &mut Recorder,
    m: usize,
    n: usize,
    batch: usize,
    a: &wgpu::Buffer,
    u: &wgpu::Buffer,
    s: &wgpu::Buffer,
    vt: &wgpu::Buffer,
    info: &wgpu::Buffer,
) -> Result<()> {
    let op = "svd_batched";
    if m > MAX_JACOBI_N || n > MAX_JACOBI_N {
        return Err(too_big(op, m, n));
    }
    let k = m.min(n);
    if batch == 0 || k == 0 {
        return Ok(());
    }
    let mn = batch.checked_mul(m * n).ok_or_else(|| too_big(op, m, n))?;
    u32_of(op, mn)?;
    check_words(op, "a", a, mn)?;
    check_words(op, "u", u, batch * m * k)?;
    check_words(op, "s", s, batch * k)?;
    check_words(op, "vt", vt, batch * k * n)?;
    check_words(op, "info", info, batch)?;
    let uni = JacobiUniform {
        rows: m.max(n) as u32,
        cols: k as u32,
        flags: if m < n { F_TRANS } else { 0 },
        max_sweeps: MAX_SWEEPS as u32,
        ..Default::default()
    };
    launch(
        gpu,
        rec,
        op,
        "svd_jacobi",
        m.max(n),
        batch,
        uni,
        &[(1, a), (2, s), (3, u), (4, vt), (5, info)],
    )?;
    Ok(())
}

fn no_convergence(op: &'static str) -> Error {
    Error::NoConvergence {
        op,
        iterations: MAX_SWEEPS,
    }
}

/// Makes every result report a set info word of the batch as
/// `Error::NoConvergence` at `download`.
fn attach_no_convergence<const N: usize>(
    op: &'static str,
    info: PooledBuffer,
    batch: usize,
    results: [&mut GpuMatrix; N],
) {
    let check = Arc::new(Check {
        word: info,
        kind: CheckKind::NoConvergence {
            op,
            iterations: MAX_SWEEPS,
        },
        count: batch,
    });
    for x in results {
        x.check = Some(check.clone());
    }
}

/// Thin SVD of every matrix of the batch `a` (m, n ≤ 64) on the GPU,
/// enqueued without reading back; non-convergence is reported by
/// `download` of any of the results.
pub(crate) fn svd_small_gpu(a: &GpuMatrix) -> Result<GpuSvd> {
    let op = "svd_batched";
    a.need_f32(op)?;
    let (m, n) = a.shape();
    if m > MAX_JACOBI_N || n > MAX_JACOBI_N {
        return Err(too_big(op, m, n));
    }
    let k = m.min(n);
    let batch = a.batch;
    let gpu = a.gpu();
    gpu.scoped(|| {
        let mut u = GpuMatrix::alloc(&a.ctx, op, m, k, batch)?;
        let mut s = GpuMatrix::alloc(&a.ctx, op, k, 1, batch)?;
        let mut vt = GpuMatrix::alloc(&a.ctx, op, k, n, batch)?;
        let info = gpu.storage(op, (batch.max(1) * 4) as u64, &format!("{op} info {batch}"))?;
        let mut rec = gpu.encoder(op);
        rec.clear_buffer(info.buffer(), 0, None);
        encode_svd_small(
            gpu,
            &mut rec,
            m,
            n,
            batch,
            a.buffer(),
            u.buffer(),
            s.buffer(),
            vt.buffer(),
            info.buffer(),
        )?;
        gpu.submit(rec);
        attach_no_convergence(op, info, batch, [&mut u, &mut s, &mut vt]);
        Ok(GpuSvd { u, s, vt })
    })
}

/// Eigenvalues (batch×n×1, ascending) and eigenvectors (batch×n×n) of
/// every symmetric matrix of the batch `a` (n ≤ 64, lower triangles read)
/// on the GPU, enqueued without reading back; non-convergence is reported
/// by `download` of either result.
pub(crate) fn eigh_small_gpu(a: &GpuMatrix) -> Result<(GpuMatrix, GpuMatrix)> {
    let op = "eigh_batched";
    a.need_f32(op)?;
    let (r, c) = a.shape();
    if r != c {
        return Err(Error::shape(op, "square matrices", format!("{r}×{c}")));
    }
    let n = r;
    if n > MAX_JACOBI_N {
        return Err(too_big(op, n, n));
    }
    let batch = a.batch;
    let gpu = a.gpu();
    gpu.scoped(|| {
        let mut w = GpuMatrix::alloc(&a.ctx, op, n, 1, batch)?;
        let mut v = GpuMatrix::alloc(&a.ctx, op, n, n, batch)?;
        let info = gpu.storage(op, (batch.max(1) * 4) as u64, &format!("{op} info {batch}"))?;
        let mut rec = gpu.encoder(op);
        rec.clear_buffer(info.buffer(), 0, None);
        encode_eigh_small(
            gpu,
            &mut rec,
            n,
            batch,
            a.buffer(),
            w.buffer(),
            v.buffer(),
            Order::Ascending,
            None,
            info.buffer(),
        )?;
        gpu.submit(rec);
        attach_no_convergence(op, info, batch, [&mut w, &mut v]);
        Ok((w, v))
    })
}

impl GpuMatrix {
    /// Thin SVD of every matrix of the batch (m, n ≤ 64) by one-sided
    /// Jacobi, enqueued without reading back (`s` batch×k×1 descending,
    /// `u` batch×m×k, `vt` batch×k×n). A matrix that did not converge makes
    /// `download` of any result fail with `Error::NoConvergence`.
    pub fn svd_batched(&self) -> Result<GpuSvd> {
        svd_small_gpu(self)
    }

    /// Eigenvalues (batch×n×1, ascending) and eigenvectors (batch×n×n) of
    /// every symmetric matrix of the batch (n ≤ 64, lower triangles read)
    /// by two-sided Jacobi, enqueued without reading back.
    pub fn eigh_batched(&self) -> Result<(GpuMatrix, GpuMatrix)> {
        eigh_small_gpu(self)
    }
}

/// One shape for the whole batch, within the kernel's limits, finite.
fn check_host_batch(op: &'static str, a: &[DMatrix<f32>], square: bool) -> Result<(usize, usize)> {
    let (m, n) = a[0].shape();
    if let Some((i, bad)) = a.iter().enumerate().find(|(_, x)| x.shape() != (m, n)) {
        return Err(Error::shape(
            op,
            format!("every matrix {m}×{n}"),
            format!("{}×{} (matrix {i})", bad.nrows(), bad.ncols()),
        ));
    }
    if square && m != n {
        return Err(Error::shape(op, "square matrices", format!("{m}×{n}")));
    }
    if m > MAX_JACOBI_N || n > MAX_JACOBI_N {
        return Err(too_big(op, m, n));
    }
    check_finite_batch(op, a)?;
    Ok((m, n))
}

impl Context {
    /// Thin SVDs (`s` descending, `u` m×k, `vt` k×n, k = min(m, n)) of a
    /// batch of equally shaped matrices with m, n ≤ 64. The GPU route runs
    /// one-sided Jacobi, several matrices per workgroup; a matrix that does
    /// not converge is `Error::InBatch { index, source: NoConvergence }`.
    pub fn svd_batched(&self, a: &[DMatrix<f32>]) -> Result<Vec<Svd>> {
        let op = "svd_batched";
        if a.is_empty() {
            return Ok(Vec::new());
        }
        let (m, n) = check_host_batch(op, a, false)?;
        let batch = a.len();
        let k = m.min(n);
        if k == 0 {
            return Ok(a.iter().map(svd_cpu::svd).collect());
        }
        match decide(self, op, nominal_flops(op, m, 0, n, batch), batch)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let ga = self.upload_batch(a)?;
                    let u = gpu.storage(op, (batch * m * k * 4) as u64, "svd_batched u")?;
                    let s = gpu.storage(op, (batch * k * 4) as u64, "svd_batched s")?;
                    let vt = gpu.storage(op, (batch * k * n * 4) as u64, "svd_batched vt")?;
                    let info = gpu.storage(op, (batch * 4) as u64, "svd_batched info")?;
                    let mut rec = gpu.encoder(op);
                    encode_svd_small(
                        gpu,
                        &mut rec,
                        m,
                        n,
                        batch,
                        ga.buffer(),
                        u.buffer(),
                        s.buffer(),
                        vt.buffer(),
                        info.buffer(),
                    )?;
                    let words = read_parts(
                        gpu,
                        rec,
                        op,
                        &[
                            (info.buffer(), batch),
                            (s.buffer(), batch * k),
                            (u.buffer(), batch * m * k),
                            (vt.buffer(), batch * k * n),
                        ],
                    )?;
                    let (info, rest) = words.split_at(batch);
                    first_failure(info, |_| no_convergence(op))?;
                    let (sw, rest) = rest.split_at(batch * k);
                    let (uw, vw) = rest.split_at(batch * m * k);
                    let (s, u, vt) = (floats(sw), floats(uw), floats(vw));
                    Ok(split_matrices(m, k, &u)
                        .into_iter()
                        .zip(split_matrices(k, n, &vt))
                        .zip(s.chunks_exact(k))
                        .map(|((u, vt), s)| Svd {
                            u,
                            s: DVector::from_column_slice(s),
                            vt,
                        })
                        .collect())
                })
            }
            _ => Ok(a.iter().map(svd_cpu::svd).collect()),
        }
    }

    /// Eigenvalues (ascending) and orthonormal eigenvectors (columns, in
    /// the same order) of a batch of symmetric matrices of one order
    /// n ≤ 64; only the lower triangles are read (NumPy `eigh(UPLO='L')`).
    /// The GPU route runs two-sided Jacobi; a matrix that does not converge
    /// is `Error::InBatch { index, source: NoConvergence }`.
    pub fn eigh_batched(&self, a: &[DMatrix<f32>]) -> Result<Vec<(DVector<f32>, DMatrix<f32>)>> {
        let op = "eigh_batched";
        if a.is_empty() {
            return Ok(Vec::new());
        }
        let (n, _) = check_host_batch(op, a, true)?;
        let batch = a.len();
        if n == 0 {
            return Ok(a.iter().map(svd_cpu::eigh).collect());
        }
        match decide(self, op, nominal_flops(op, n, 0, n, batch), batch)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let ga = self.upload_batch(a)?;
                    let w = gpu.storage(op, (batch * n * 4) as u64, "eigh_batched w")?;
                    let v = gpu.storage(op, (batch * n * n * 4) as u64, "eigh_batched v")?;
                    let info = gpu.storage(op, (batch * 4) as u64, "eigh_batched info")?;
                    let mut rec = gpu.encoder(op);
                    encode_eigh_small(
                        gpu,
                        &mut rec,
                        n,
                        batch,
                        ga.buffer(),
                        w.buffer(),
                        v.buffer(),
                        Order::Ascending,
                        None,
                        info.buffer(),
                    )?;
                    let words = read_parts(
                        gpu,
                        rec,
                        op,
                        &[
                            (info.buffer(), batch),
                            (w.buffer(), batch * n),
                            (v.buffer(), batch * n * n),
                        ],
                    )?;
                    let (info, rest) = words.split_at(batch);
                    first_failure(info, |_| no_convergence(op))?;
                    let (ww, vw) = rest.split_at(batch * n);
                    let w = floats(ww);
                    Ok(w.chunks_exact(n)
                        .map(DVector::from_column_slice)
                        .zip(split_matrices(n, n, &floats(vw)))
                        .collect())
                })
            }
            _ => Ok(a.iter().map(svd_cpu::eigh).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_fit_workgroup_memory() {
        for order in 1..=MAX_JACOBI_N {
            let logs = log_size(order);
            let s = 1usize << logs;
            assert!(order <= s);
            let mats = mats_per_group(logs);
            assert!(mats <= 32 && 256 % mats == 0);
            // `sa` holds 4096 words, `sv` 2048 (S ≤ 32), `sw` 256, `scs` 128.
            assert!(mats * s * s <= 4096);
            if logs < 6 {
                assert!(mats * s * s <= 2048);
            }
            assert!(mats * s <= 256 && mats * s / 2 <= 128);
        }
    }

    /// A GPU context, or `None` where there is no adapter (CI requires one
    /// through `WGPU_LINALG_REQUIRE_GPU=1`, which makes `Context::new` fail).
    fn gpu_ctx() -> Option<Context> {
        let ctx = Context::new().expect("context");
        ctx.has_gpu().then_some(ctx)
    }

    /// Runs the eigen kernel on `mats` (n×n each) with the given options;
    /// returns (w, v, off, info).
    fn run_eigh(
        ctx: &Context,
        mats: &[DMatrix<f32>],
        descending: bool,
        sweeps: usize,
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<u32>) {
        let gpu = ctx.gpu().unwrap();
        let n = mats[0].nrows();
        let batch = mats.len();
        let ga = ctx.upload_batch(mats).unwrap();
        let w = gpu.storage("t", (batch * n * 4) as u64, "w").unwrap();
        let v = gpu.storage("t", (batch * n * n * 4) as u64, "v").unwrap();
        let off = gpu.storage("t", (batch * 4) as u64, "off").unwrap();
        let info = gpu.storage("t", (batch * 4) as u64, "info").unwrap();
        let mut rec = gpu.encoder("t");
        encode_eigh_impl(
            gpu,
            &mut rec,
            n,
            batch,
            ga.buffer(),
            w.buffer(),
            v.buffer(),
            if descending {
                Order::Descending
            } else {
                Order::Ascending
            },
            Some(off.buffer()),
            info.buffer(),
            sweeps,
        )
        .unwrap();
        let words = read_parts(
            gpu,
            rec,
            "t",
            &[
                (w.buffer(), batch * n),
                (v.buffer(), batch * n * n),
                (off.buffer(), batch),
                (info.buffer(), batch),
            ],
        )
        .unwrap();
        let (ww, rest) = words.split_at(batch * n);
        let (vw, rest) = rest.split_at(batch * n * n);
        let (ow, iw) = rest.split_at(batch);
        (floats(ww), floats(vw), floats(ow), iw.to_vec())
    }

    /// Gram matrices of order 2b as the block SVD builds them, singular
    /// ones with zero rows and columns included: descending eigenvalues,
    /// residuals, and the `off` measure of the input.
    #[test]
    fn eigh_descending_with_off_on_gram_matrices() {
        let Some(ctx) = gpu_ctx() else { return };
        let mut seed = 12345u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        for &(n, rows) in &[(8usize, 20usize), (16, 40), (32, 50), (64, 80)] {
            let grams: Vec<DMatrix<f32>> = (0..3)
                .map(|k| {
                    let mut x = DMatrix::<f32>::from_fn(rows, n, |_, _| next());
                    if k == 1 {
                        // rank deficient: two equal columns and a zero column
                        let c0 = x.column(0).clone_owned();
                        x.set_column(1, &c0);
                        x.column_mut(n - 1).fill(0.0);
                    }
                    if k == 2 {
                        x.fill(0.0);
                        x[(0, 0)] = 1.0;
                    }
                    let x64 = x.map(f64::from);
                    (x64.transpose() * &x64).map(|v| v as f32)
                })
                .collect();
            let (w, v, off, info) = run_eigh(&ctx, &grams, true, MAX_SWEEPS);
            assert!(info.iter().all(|&i| i == 0), "n={n}: info {info:?}");
            for (b, g) in grams.iter().enumerate() {
                let wb = &w[b * n..(b + 1) * n];
                assert!(wb.windows(2).all(|p| p[0] >= p[1]), "n={n}: not descending");
                let vb =
                    DMatrix::from_column_slice(n, n, &v[b * n * n..(b + 1) * n * n]).map(f64::from);
                let g64 = g.map(f64::from);
                let lam = DMatrix::from_diagonal(&DVector::from_iterator(
                    n,
                    wb.iter().map(|&x| x as f64),
                ));
                let norm = g64.norm().max(f64::MIN_POSITIVE);
                let res = (&g64 * &vb - &vb * lam).norm() / norm;
                let orth = (vb.transpose() * &vb - DMatrix::identity(n, n)).norm();
                let bound = 16.0 * n as f64 * f32::EPSILON as f64;
                assert!(res <= bound, "n={n} b={b}: ‖GV − VΛ‖/‖G‖ = {res:e}");
                assert!(orth <= bound, "n={n} b={b}: ‖VᵀV − I‖ = {orth:e}");
                let mut want = 0.0f64;
                for j in 0..n {
                    for i in j + 1..n {
                        let d = g64[(i, i)].abs().sqrt() * g64[(j, j)].abs().sqrt();
                        if d > 0.0 {
                            want = want.max(g64[(i, j)].abs() / d);
                        }
                    }
                }
                let got = off[b] as f64;
                assert!(
                    (got - want).abs() <= 1e-5 * want.max(1.0),
                    "n={n} b={b}: off {got} vs {want}"
                );
            }
        }
    }

    /// Runs the rotation-order kernels on `mats`: the given entry of
    /// `rot64.wgsl`, else `eigh_jacobi` with F_KEEP; returns (w, v, info).
    fn run_rotations(
        ctx: &Context,
        mats: &[DMatrix<f32>],
        sweeps: usize,
        rot64: Option<&'static str>,
    ) -> (Vec<f32>, Vec<f32>, Vec<u32>) {
        let gpu = ctx.gpu().unwrap();
        let n = mats[0].nrows();
        let batch = mats.len();
        let ga = ctx.upload_batch(mats).unwrap();
        let w = gpu.storage("t", (batch * n * 4) as u64, "w").unwrap();
        let v = gpu.storage("t", (batch * n * n * 4) as u64, "v").unwrap();
        let info = gpu.storage("t", (batch * 4) as u64, "info").unwrap();
        let mut rec = gpu.encoder("t");
        let bufs = (ga.buffer(), w.buffer(), v.buffer(), info.buffer());
        if let Some(entry) = rot64 {
            encode_rot64(gpu, &mut rec, n, batch, bufs, sweeps, entry).unwrap();
        } else {
            let (a, w, v, info) = bufs;
            encode_eigh_impl(
                gpu,
                &mut rec,
                n,
                batch,
                a,
                w,
                v,
                Order::Rotation,
                None,
                info,
                sweeps,
            )
            .unwrap();
        }
        let words = read_parts(
            gpu,
            rec,
            "t",
            &[
                (w.buffer(), batch * n),
                (v.buffer(), batch * n * n),
                (info.buffer(), batch),
            ],
        )
        .unwrap();
        let (ww, rest) = words.split_at(batch * n);
        let (vw, iw) = rest.split_at(batch * n * n);
        (floats(ww), floats(vw), iw.to_vec())
    }

    /// `eigh_rot64` and `eigh_rot64_w512` (A packed and V in workgroup
    /// memory) against `eigh_jacobi` in rotation order on pair Gram
    /// matrices of orders 34 … 64 (random, rank deficient, nearly
    /// diagonal): after one sweep the same rotations (V and the diagonal
    /// agree to rounding), and after full sweeps an eigendecomposition
    /// within 16·n·ε.
    #[test]
    fn rot64_matches_eigh_jacobi_in_rotation_order() {
        let Some(ctx) = gpu_ctx() else { return };
        let mut seed = 777u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        };
        for &(n, rows) in &[(34usize, 70usize), (48, 100), (64, 130)] {
            let grams: Vec<DMatrix<f32>> = (0..4)
                .map(|k| {
                    let mut x = DMatrix::<f32>::from_fn(rows, n, |_, _| next());
                    if k == 1 {
                        let c0 = x.column(0).clone_owned();
                        x.set_column(1, &c0);
                        x.column_mut(n - 1).fill(0.0);
                    }
                    let mut x64 = x.map(f64::from);
                    if k == 2 {
                        // nearly orthogonal columns of graded norms
                        let q = x64.clone().qr().q();
                        x64 = DMatrix::from_fn(rows, n, |i, j| {
                            q[(i, j)] * (1.0 + j as f64) + 1e-4 * x64[(i, j)]
                        });
                    }
                    if k == 3 {
                        x64.fill(0.0);
                    }
                    (x64.transpose() * &x64).map(|v| v as f32)
                })
                .collect();
            let bound = 16.0 * n as f64 * f32::EPSILON as f64;
            for sweeps in [1, MAX_SWEEPS] {
                let (w0, v0, i0) = run_rotations(&ctx, &grams, sweeps, None);
                for entry in ["eigh_rot64", "eigh_rot64_w512"] {
                    let (w1, v1, i1) = run_rotations(&ctx, &grams, sweeps, Some(entry));
                    assert_eq!(i0, i1, "{entry} n={n} sweeps={sweeps}: info");
                    for (b, g) in grams.iter().enumerate() {
                        let scale = g.abs().max().max(f32::MIN_POSITIVE) as f64;
                        let (lo, hi) = (b * n, (b + 1) * n);
                        let dw = w0[lo..hi]
                            .iter()
                            .zip(&w1[lo..hi])
                            .map(|(x, y)| (*x as f64 - *y as f64).abs())
                            .fold(0.0, f64::max);
                        let dv = v0[lo * n..hi * n]
                            .iter()
                            .zip(&v1[lo * n..hi * n])
                            .map(|(x, y)| (*x as f64 - *y as f64).abs())
                            .fold(0.0, f64::max);
                        assert!(
                            dw <= bound * scale && dv <= bound,
                            "{entry} n={n} b={b} sweeps={sweeps}: |Δw| {dw:e}, |ΔV| {dv:e}"
                        );
                        if sweeps == MAX_SWEEPS {
                            assert_eq!(i1[b], 0, "n={n} b={b}: no convergence");
                            let vb = DMatrix::from_column_slice(n, n, &v1[lo * n..hi * n])
                                .map(f64::from);
                            let lam = DMatrix::from_diagonal(&DVector::from_iterator(
                                n,
                                w1[lo..hi].iter().map(|&x| x as f64),
                            ));
                            let g64 = g.map(f64::from);
                            let norm = g64.norm().max(f64::MIN_POSITIVE);
                            let res = (&g64 * &vb - &vb * lam).norm() / norm;
                            let orth = (vb.transpose() * &vb - DMatrix::identity(n, n)).norm();
                            assert!(res <= bound, "n={n} b={b}: ‖GV − VΛ‖/‖G‖ = {res:e}");
                            assert!(orth <= bound, "n={n} b={b}: ‖VᵀV − I‖ = {orth:e}");
                        }
                    }
                }
            }
        }
    }

    /// One sweep is not enough for a random matrix: info flags it.
    #[test]
    fn sweep_limit_sets_info() {
        let Some(ctx) = gpu_ctx() else { return };
        let n = 12;
        let a = DMatrix::<f32>::from_fn(n, n, |i, j| {
            let (i, j) = (i.max(j) as f32, i.min(j) as f32);
            (1.3 * i + 0.7 * j).sin()
        });
        let (_, _, _, info) = run_eigh(&ctx, &[a.clone(), DMatrix::identity(n, n)], false, 1);
        assert_eq!(info, vec![1, 0]);
    }
}
