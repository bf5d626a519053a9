//! Batched small-matrix factorizations (n ≤ 64): Cholesky, LU with partial
//! pivoting, solve and inverse, several matrices per workgroup.
//!
//! Algorithm: the matrices are loaded into workgroup memory (16 KiB), one
//! invocation per row, and factorized right-looking with one
//! `workgroupBarrier()` per column (unblocked `potf2` / `getf2`). Small
//! matrices share a workgroup so that the barriers serve many of them and
//! few invocations idle: 32 matrices of n ≤ 8 or 16 of n ≤ 16 per workgroup
//! of 256, 4 of n ≤ 32 per 128, 1 of n ≤ 64 per 64 ([`variant`]). The LU
//! does not move rows: each invocation tracks its row's logical position,
//! and the pivot search scans the candidates in position order (first max,
//! as `isamax`). `solve` eliminates the first right-hand sides with the
//! matrix (forward substitution for free) and then back-substitutes; `inv`
//! is the same with the identity. One dispatch covers the whole batch (in
//! chunks of the 65535-workgroup limit); failures are flagged per matrix in
//! an `info` buffer read back with the results.
//! Cost per matrix: n³/3 flops (Cholesky), 2n³/3 (LU), 2n³/3 + 2n²r
//! (solve with r right-hand sides), about 8n³/3 (inverse).
//! Accuracy: the classical backward-error bounds of unblocked f32
//! factorizations, ‖A − L·Lᵀ‖ ≲ n·ε·‖A‖ and ‖P·A − L·U‖ ≲ n·ε·‖L‖·‖U‖
//! (with |L| ≤ 1 from partial pivoting), so solutions have backward error
//! of order n·ε.
//!
//! The CPU route runs the same unblocked algorithms in f32 on the host, so
//! both routes report the same failing column.

use nalgebra::DMatrix;

use crate::context::{Context, Route};
use crate::dispatch::decide;
use crate::error::{Error, Result};
use crate::gpu::Recorder;
use crate::gpu::{params_bytes, Gpu, GpuMatrix, Kernel};
use crate::ops::lu::Lu;
use crate::ops::u32_of;

/// Largest order the batched kernels take.
pub(crate) const MAX_SMALL_N: usize = 64;

/// The kernels of `wgsl/batched/small.wgsl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Cholesky,
    Lu,
    Solve,
}

/// A kernel shape: matrices of up to `rows` rows, `mats` of them per
/// workgroup of `rows · mats` invocations (one invocation per row).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Variant {
    rows: usize,
    mats: usize,
    /// Override constants of the entry point.
    constants: &'static [(&'static str, f64)],
}

/// The kernel shape for matrices of order `n` (1 ≤ n ≤ 64): as many
/// matrices per workgroup as workgroup memory holds (16 KiB of matrices),
/// so that few invocations idle and one barrier per column serves them all.
fn variant(n: usize) -> Variant {
    let (rows, mats, constants): (_, _, &'static [_]) = match n {
        0..=8 => (8, 32, &[("NARROW", 1.0)]),
        9..=16 => (16, 16, &[("NARROW", 0.0)]),
        17..=32 => (32, 4, &[]),
        _ => (64, 1, &[]),
    };
    Variant {
        rows,
        mats,
        constants,
    }
}

impl Variant {
    /// Invocations per workgroup.
    fn invocations(self) -> usize {
        self.rows * self.mats
    }

    /// The entry point of `family` with this shape (its workgroup size).
    fn entry(self, family: Family) -> &'static str {
        match (family, self.invocations()) {
            (Family::Cholesky, 64) => "cholesky_small",
            (Family::Cholesky, 128) => "cholesky_small4",
            (Family::Cholesky, _) => "cholesky_small16",
            (Family::Lu, 64) => "lu_small",
            (Family::Lu, 128) => "lu_small4",
            (Family::Lu, _) => "lu_small16",
            (Family::Solve, 64) => "solve_small",
            (Family::Solve, 128) => "solve_small4",
            (Family::Solve, _) => "solve_small16",
        }
    }
}

/// Dispatches of at most `max` workgroups covering `groups` workgroups:
/// (first workgroup, workgroups).
pub(crate) fn dispatch_chunks(groups: usize, max: usize) -> impl Iterator<Item = (usize, usize)> {
    let max = max.max(1);
    (0..groups)
        .step_by(max)
        .map(move |base| (base, (groups - base).min(max)))
}

/// Uniform block of `wgsl/batched/small.wgsl` (`Params`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct SmallUniform {
    n: u32,
    batch_base: u32,
    batch: u32,
    nrhs: u32,
    rhs_identity: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

/// Checks that `a` is a batch of square f32 matrices of order ≤ 64 and that
/// `out` (when given) has the same shape and batch. Returns n.
fn check_gpu_batch(op: &'static str, a: &GpuMatrix, out: Option<&GpuMatrix>) -> Result<usize> {
    a.need_f32(op)?;
    let n = a.rows;
    if a.cols != n {
        return Err(Error::shape(
            op,
            "square matrices",
            format!("{}×{}", a.rows, a.cols),
        ));
    }
    if n > MAX_SMALL_N {
        return Err(too_big(op, n));
    }
    if let Some(o) = out {
        a.same_device(op, o)?;
        o.need_f32(op)?;
        if o.shape() != (n, n) || o.batch != a.batch {
            return Err(Error::shape(
                op,
                format!("output {}×{n}×{n}", a.batch),
                format!("output {}×{}×{}", o.batch, o.rows, o.cols),
            ));
        }
    }
    Ok(n)
}

pub(crate) fn check_words(
    op: &'static str,
    what: &str,
    buf: &wgpu::Buffer,
    words: usize,
) -> Result<()> {
    if buf.size() < (words as u64) * 4 {
        return Err(Error::shape(
            op,
            format!("{what} buffer of at least {} bytes", words * 4),
            format!("{} bytes", buf.size()),
        ));
    }
    Ok(())
}

fn too_big(op: &'static str, n: usize) -> Error {
    Error::shape(
        op,
        format!(
            "n ≤ {MAX_SMALL_N} (batched ops take n ≤ {MAX_SMALL_N}; use the single-matrix op for larger matrices)"
        ),
        format!("{n}×{n}"),
    )
}

/// Records `family` over `batch` matrices of order `n`, several per
/// workgroup when they are small (see [`variant`]), in chunks the dispatch
/// limit allows.
#[allow(clippy::too_many_arguments)]
fn launch_small(
    gpu: &Gpu,
    enc: &mut Recorder,
    op: &'static str,
    family: Family,
    n: usize,
    batch: usize,
    nrhs: usize,
    rhs_identity: bool,
    binds: &[(u32, &wgpu::Buffer)],
) -> Result<()> {
    if batch == 0 || n == 0 {
        return Ok(());
    }
    let v = variant(n);
    let entry = v.entry(family);
    // The matrix indices of the last workgroup stay below 2³².
    u32_of(op, batch + v.mats)?;
    let mut u = SmallUniform {
        n: u32_of(op, n)?,
        batch: u32_of(op, batch)?,
        nrhs: u32_of(op, nrhs)?,
        rhs_identity: rhs_identity as u32,
        ..Default::default()
    };
    let label = format!(
        "{entry} batch {batch} n {n} nrhs {nrhs} wg {}x{}",
        v.mats, v.rows
    );
    let groups = batch.div_ceil(v.mats);
    for (base, count) in dispatch_chunks(groups, gpu.max_groups() as usize) {
        u.batch_base = u32_of(op, base * v.mats)?;
        gpu.launch(
            enc,
            &label,
            Kernel::Batched,
            entry,
            v.constants,
            &params_bytes(&u),
            binds,
            [count as u32, 1, 1],
        );
    }
    Ok(())
}

/// Records the Cholesky factorization of every matrix of the batch `a`
/// into `out` (lower L, zeros above the diagonal); `info` gets one u32 per
/// matrix: 0, or c + 1 when the pivot of column c is not positive.
pub(crate) fn encode_cholesky_small(
    gpu: &Gpu,
    enc: &mut Recorder,
    a: &GpuMatrix,
    out: &GpuMatrix,
    info: &wgpu::Buffer,
) -> Result<()> {
    let op = "cholesky_batched";
    let n = check_gpu_batch(op, a, Some(out))?;
    check_words(op, "info", info, a.batch)?;
    launch_small(
        gpu,
        enc,
        op,
        Family::Cholesky,
        n,
        a.batch,
        0,
        false,
        &[(1, a.buffer()), (2, out.buffer()), (4, info)],
    )
}

/// Records the LU factorization with partial pivoting of every matrix of
/// the batch `a`: packed factors into `out`, 0-based LAPACK interchanges
/// into `ipiv` (n u32 per matrix), and into `info` 0 or c + 1 for the first
/// exactly zero pivot c (the factors are still complete, as in `getrf`).
pub(crate) fn encode_lu_small(
    gpu: &Gpu,
    enc: &mut Recorder,
    a: &GpuMatrix,
    out: &GpuMatrix,
    ipiv: &wgpu::Buffer,
    info: &wgpu::Buffer,
) -> Result<()> {
    let op = "lu_batched";
    let n = check_gpu_batch(op, a, Some(out))?;
    check_words(op, "ipiv", ipiv, a.batch * n)?;
    check_words(op, "info", info, a.batch)?;
    launch_small(
        gpu,
        enc,
        op,
        Family::Lu,
        n,
        a.batch,
        0,
        false,
        &[(1, a.buffer()), (2, out.buffer()), (3, ipiv), (4, info)],
    )
}

/// Records `x_i = A_i⁻¹·b_i` for every matrix of the batch (LU with partial
/// pivoting, then substitution); `b` and `x_out` are batches of n×r
/// matrices. `info` gets 0 or c + 1 for the first exactly zero pivot c.
pub(crate) fn encode_solve_small(
    gpu: &Gpu,
    enc: &mut Recorder,
    a: &GpuMatrix,
    b: &GpuMatrix,
    x_out: &GpuMatrix,
    info: &wgpu::Buffer,
) -> Result<()> {
    encode_solve_impl(gpu, enc, "solve_batched", a, Some(b), x_out, info)
}

/// Records `x_i = A_i⁻¹` for every matrix of the batch (the solve kernel
/// with the identity as right-hand side, which is never stored).
pub(crate) fn encode_inv_small(
    gpu: &Gpu,
    enc: &mut Recorder,
    a: &GpuMatrix,
    x_out: &GpuMatrix,
    info: &wgpu::Buffer,
) -> Result<()> {
    encode_solve_impl(gpu, enc, "inv_batched", a, None, x_out, info)
}

fn encode_solve_impl(
    gpu: &Gpu,
    enc: &mut Recorder,
    op: &'static str,
    a: &GpuMatrix,
    b: Option<&GpuMatrix>,
    x_out: &GpuMatrix,
    info: &wgpu::Buffer,
) -> Result<()> {
    let n = check_gpu_batch(op, a, None)?;
    let nrhs = match b {
        Some(b) => {
            a.same_device(op, b)?;
            b.need_f32(op)?;
            if b.rows != n || b.batch != a.batch {
                return Err(Error::shape(
                    op,
                    format!("b {}×{n}×r", a.batch),
                    format!("b {}×{}×{}", b.batch, b.rows, b.cols),
                ));
            }
            b.cols
        }
        None => n,
    };
    a.same_device(op, x_out)?;
    x_out.need_f32(op)?;
    if x_out.shape() != (n, nrhs) || x_out.batch != a.batch {
        return Err(Error::shape(
            op,
            format!("x {}×{n}×{nrhs}", a.batch),
            format!("x {}×{}×{}", x_out.batch, x_out.rows, x_out.cols),
        ));
    }
    check_words(op, "info", info, a.batch)?;
    // For the inverse `b` is not read; `a` stands in (both bindings read-only).
    let b_buf = b.map_or(a.buffer(), |b| b.buffer());
    launch_small(
        gpu,
        enc,
        op,
        Family::Solve,
        n,
        a.batch,
        nrhs,
        b.is_none(),
        &[(1, a.buffer()), (4, info), (5, b_buf), (6, x_out.buffer())],
    )
}

/// Copies `parts` (buffer, words) one after another into one buffer,
/// submits `enc` and reads everything back at once.
pub(crate) fn read_parts(
    gpu: &Gpu,
    mut enc: Recorder,
    op: &'static str,
    parts: &[(&wgpu::Buffer, usize)],
) -> Result<Vec<u32>> {
    let total: usize = parts.iter().map(|p| p.1).sum();
    let res = gpu.storage(op, total as u64 * 4, &format!("{op} results"))?;
    let mut off = 0u64;
    for (buf, words) in parts {
        let bytes = *words as u64 * 4;
        if bytes > 0 {
            enc.copy_buffer_to_buffer(buf, 0, res.buffer(), off, bytes);
        }
        off += bytes;
    }
    gpu.submit(enc);
    let bytes = gpu.read_bytes(res.buffer(), 0, total as u64 * 4)?;
    Ok(bytemuck::pod_collect_to_vec(&bytes))
}

pub(crate) fn floats(words: &[u32]) -> Vec<f32> {
    words.iter().map(|w| f32::from_bits(*w)).collect()
}

pub(crate) fn split_matrices(rows: usize, cols: usize, data: &[f32]) -> Vec<DMatrix<f32>> {
    let len = rows * cols;
    if len == 0 {
        return Vec::new();
    }
    data.chunks_exact(len)
        .map(|c| DMatrix::from_column_slice(rows, cols, c))
        .collect()
}

/// The first failing matrix of `info`, as an `InBatch` error.
pub(crate) fn first_failure(info: &[u32], err: impl Fn(usize) -> Error) -> Result<()> {
    match info.iter().position(|&v| v != 0) {
        Some(index) => Err(Error::InBatch {
            index,
            source: Box::new(err(info[index] as usize - 1)),
        }),
        None => Ok(()),
    }
}

/// Input checks common to every batched call (the slice is not empty):
/// square matrices of one shape, n ≤ 64, finite entries. Returns n.
fn check_host_batch(op: &'static str, a: &[DMatrix<f32>]) -> Result<usize> {
    let (r, c) = a[0].shape();
    if r != c {
        return Err(Error::shape(
            op,
            "square matrices",
            format!("{r}×{c} (matrix 0)"),
        ));
    }
    if let Some((i, bad)) = a.iter().enumerate().find(|(_, m)| m.shape() != (r, c)) {
        return Err(Error::shape(
            op,
            format!("every matrix {r}×{c}"),
            format!("{}×{} (matrix {i})", bad.nrows(), bad.ncols()),
        ));
    }
    if r > MAX_SMALL_N {
        return Err(too_big(op, r));
    }
    check_finite_batch(op, a)?;
    Ok(r)
}

/// NaN or infinity in any matrix of the batch is `Error::NonFinite`.
pub(crate) fn check_finite_batch(op: &'static str, a: &[DMatrix<f32>]) -> Result<()> {
    if a.iter().any(|m| m.iter().any(|v| !v.is_finite())) {
        return Err(Error::NonFinite { op });
    }
    Ok(())
}

fn cube(n: usize) -> f64 {
    (n as f64).powi(3)
}

impl Context {
    /// Cholesky factors `L_i` (lower, zeros above the diagonal) of a batch
    /// of symmetric positive definite matrices of one order n ≤ 64; only the
    /// lower triangles are read. A pivot that is not positive in matrix i at
    /// column c is `Error::InBatch { index: i, source: NotPositiveDefinite
    /// { column: c } }` (the first failing matrix).
    pub fn cholesky_batched(&self, a: &[DMatrix<f32>]) -> Result<Vec<DMatrix<f32>>> {
        let op = "cholesky_batched";
        if a.is_empty() {
            return Ok(Vec::new());
        }
        let n = check_host_batch(op, a)?;
        let batch = a.len();
        if n == 0 {
            return Ok(vec![DMatrix::zeros(0, 0); batch]);
        }
        match decide(self, op, cube(n) / 3.0 * batch as f64, batch)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let ga = self.upload_batch(a)?;
                    let out = GpuMatrix::alloc(self, op, n, n, batch)?;
                    let info = gpu.storage(op, batch as u64 * 4, &format!("{op} info {batch}"))?;
                    let mut enc = gpu.encoder(op);
                    encode_cholesky_small(gpu, &mut enc, &ga, &out, info.buffer())?;
                    let words = read_parts(
                        gpu,
                        enc,
                        op,
                        &[(out.buffer(), batch * n * n), (info.buffer(), batch)],
                    )?;
                    let (vals, info) = words.split_at(batch * n * n);
                    first_failure(info, |column| Error::NotPositiveDefinite { column })?;
                    Ok(split_matrices(n, n, &floats(vals)))
                })
            }
            _ => a
                .iter()
                .enumerate()
                .map(|(index, m)| {
                    cpu_potrf(m).map_err(|column| Error::InBatch {
                        index,
                        source: Box::new(Error::NotPositiveDefinite { column }),
                    })
                })
                .collect(),
        }
    }

    /// LU factorizations with partial pivoting (`P_i·A_i = L_i·U_i`) of a
    /// batch of square matrices of one order n ≤ 64. As LAPACK `getrf`, an
    /// exactly zero pivot does not fail: the factors are returned (U is then
    /// singular).
    pub fn lu_batched(&self, a: &[DMatrix<f32>]) -> Result<Vec<Lu>> {
        let op = "lu_batched";
        if a.is_empty() {
            return Ok(Vec::new());
        }
        let n = check_host_batch(op, a)?;
        let batch = a.len();
        if n == 0 {
            return Ok(vec![
                Lu::from_packed(DMatrix::zeros(0, 0), Vec::new());
                batch
            ]);
        }
        match decide(self, op, 2.0 * cube(n) / 3.0 * batch as f64, batch)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let ga = self.upload_batch(a)?;
                    let out = GpuMatrix::alloc(self, op, n, n, batch)?;
                    let ipiv =
                        gpu.storage(op, (batch * n) as u64 * 4, &format!("{op} ipiv {batch}"))?;
                    let info = gpu.storage(op, batch as u64 * 4, &format!("{op} info {batch}"))?;
                    let mut enc = gpu.encoder(op);
                    encode_lu_small(gpu, &mut enc, &ga, &out, ipiv.buffer(), info.buffer())?;
                    let words = read_parts(
                        gpu,
                        enc,
                        op,
                        &[(out.buffer(), batch * n * n), (ipiv.buffer(), batch * n)],
                    )?;
                    let (vals, piv) = words.split_at(batch * n * n);
                    let vals = floats(vals);
                    Ok(split_matrices(n, n, &vals)
                        .into_iter()
                        .zip(piv.chunks_exact(n))
                        .map(|(lu, p)| Lu::from_packed(lu, p.to_vec()))
                        .collect())
                })
            }
            _ => Ok(a
                .iter()
                .map(|m| {
                    let (lu, ipiv, _) = cpu_getrf(m);
                    Lu::from_packed(lu, ipiv)
                })
                .collect()),
        }
    }

    /// Solves `A_i·X_i = B_i` for a batch of square matrices of one order
    /// n ≤ 64 and right-hand sides of one shape n×r (LU with partial
    /// pivoting and substitution). An exactly zero pivot of matrix i at
    /// column c is `Error::InBatch { index: i, source: Singular { column: c } }`.
    pub fn solve_batched(
        &self,
        a: &[DMatrix<f32>],
        b: &[DMatrix<f32>],
    ) -> Result<Vec<DMatrix<f32>>> {
        let op = "solve_batched";
        if a.len() != b.len() {
            return Err(Error::shape(
                op,
                format!("{} right-hand sides (one per matrix)", a.len()),
                format!("{}", b.len()),
            ));
        }
        if a.is_empty() {
            return Ok(Vec::new());
        }
        let (br, r) = b[0].shape();
        let (ar, ac) = a[0].shape();
        if ar == ac && br != ar {
            return Err(Error::shape(
                op,
                format!("b with {ar} rows"),
                format!("{br}×{r} (b 0)"),
            ));
        }
        if let Some((i, bad)) = b.iter().enumerate().find(|(_, m)| m.shape() != (br, r)) {
            return Err(Error::shape(
                op,
                format!("every b {br}×{r}"),
                format!("{}×{} (b {i})", bad.nrows(), bad.ncols()),
            ));
        }
        let n = check_host_batch(op, a)?;
        check_finite_batch(op, b)?;
        let batch = a.len();
        if n == 0 {
            return Ok(vec![DMatrix::zeros(0, r); batch]);
        }
        let flops = (2.0 * cube(n) / 3.0 + 2.0 * (n * n * r) as f64) * batch as f64;
        match decide(self, op, flops, batch)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let ga = self.upload_batch(a)?;
                    let gb = self.upload_batch(b)?;
                    let x = GpuMatrix::alloc(self, op, n, r, batch)?;
                    let info = gpu.storage(op, batch as u64 * 4, &format!("{op} info {batch}"))?;
                    let mut enc = gpu.encoder(op);
                    encode_solve_small(gpu, &mut enc, &ga, &gb, &x, info.buffer())?;
                    self.finish_solve(gpu, enc, op, &x, info.buffer())
                })
            }
            _ => a
                .iter()
                .zip(b)
                .enumerate()
                .map(|(index, (m, rhs))| cpu_solve(m, Some(rhs)).map_err(|e| in_batch(index, e)))
                .collect(),
        }
    }

    /// Inverses of a batch of square matrices of one order n ≤ 64 (LU with
    /// partial pivoting, then the identity solved for). An exactly zero
    /// pivot is `Error::InBatch { index, source: Singular { column } }`.
    pub fn inv_batched(&self, a: &[DMatrix<f32>]) -> Result<Vec<DMatrix<f32>>> {
        let op = "inv_batched";
        if a.is_empty() {
            return Ok(Vec::new());
        }
        let n = check_host_batch(op, a)?;
        let batch = a.len();
        if n == 0 {
            return Ok(vec![DMatrix::zeros(0, 0); batch]);
        }
        match decide(self, op, 2.0 * cube(n) * batch as f64, batch)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let ga = self.upload_batch(a)?;
                    let x = GpuMatrix::alloc(self, op, n, n, batch)?;
                    let info = gpu.storage(op, batch as u64 * 4, &format!("{op} info {batch}"))?;
                    let mut enc = gpu.encoder(op);
                    encode_inv_small(gpu, &mut enc, &ga, &x, info.buffer())?;
                    self.finish_solve(gpu, enc, op, &x, info.buffer())
                })
            }
            _ => a
                .iter()
                .enumerate()
                .map(|(index, m)| cpu_solve(m, None).map_err(|e| in_batch(index, e)))
                .collect(),
        }
    }

    /// Reads back the solutions and the info words of a solve/inverse.
    fn finish_solve(
        &self,
        gpu: &Gpu,
        enc: Recorder,
        op: &'static str,
        x: &GpuMatrix,
        info: &wgpu::Buffer,
    ) -> Result<Vec<DMatrix<f32>>> {
        let (n, r, batch) = (x.rows, x.cols, x.batch);
        let words = read_parts(gpu, enc, op, &[(x.buffer(), batch * n * r), (info, batch)])?;
        let (vals, info) = words.split_at(batch * n * r);
        first_failure(info, |column| Error::Singular { column })?;
        if n * r == 0 {
            return Ok(vec![DMatrix::zeros(n, r); batch]);
        }
        Ok(split_matrices(n, r, &floats(vals)))
    }
}

fn in_batch(index: usize, e: Error) -> Error {
    Error::InBatch {
        index,
        source: Box::new(e),
    }
}

/// Unblocked right-looking Cholesky in f32 (the kernel's algorithm): L with
/// zeros above the diagonal, or the first column whose pivot is not > 0.
fn cpu_potrf(a: &DMatrix<f32>) -> std::result::Result<DMatrix<f32>, usize> {
    let n = a.nrows();
    let mut l = a.clone();
    for k in 0..n {
        let d = l[(k, k)];
        if d.is_nan() || d <= 0.0 {
            return Err(k);
        }
        let s = d.sqrt();
        let rs = 1.0 / s;
        l[(k, k)] = s;
        for i in k + 1..n {
            l[(i, k)] *= rs;
        }
        for j in k + 1..n {
            let ljk = l[(j, k)];
            for i in j..n {
                l[(i, j)] -= l[(i, k)] * ljk;
            }
        }
    }
    for j in 1..n {
        for i in 0..j {
            l[(i, j)] = 0.0;
        }
    }
    Ok(l)
}

/// Unblocked LU with partial pivoting in f32 (LAPACK `getf2`): packed
/// factors, 0-based interchanges and the first exactly zero pivot, if any.
fn cpu_getrf(a: &DMatrix<f32>) -> (DMatrix<f32>, Vec<u32>, Option<usize>) {
    let n = a.nrows();
    let mut lu = a.clone();
    let mut ipiv = Vec::with_capacity(n);
    let mut zero = None;
    for k in 0..n {
        let mut p = k;
        let mut best = -1.0f32;
        for i in k..n {
            let v = lu[(i, k)].abs();
            if v > best {
                best = v;
                p = i;
            }
        }
        ipiv.push(p as u32);
        if p != k {
            lu.swap_rows(k, p);
        }
        let d = lu[(k, k)];
        if d == 0.0 {
            zero.get_or_insert(k);
            continue;
        }
        for i in k + 1..n {
            lu[(i, k)] /= d;
        }
        for j in k + 1..n {
            let ukj = lu[(k, j)];
            for i in k + 1..n {
                lu[(i, j)] -= lu[(i, k)] * ukj;
            }
        }
    }
    (lu, ipiv, zero)
}

/// `A⁻¹·B` (or `A⁻¹` when `b` is `None`) by `cpu_getrf` and substitution.
fn cpu_solve(a: &DMatrix<f32>, b: Option<&DMatrix<f32>>) -> Result<DMatrix<f32>> {
    let n = a.nrows();
    let (lu, ipiv, zero) = cpu_getrf(a);
    if let Some(column) = zero {
        return Err(Error::Singular { column });
    }
    let mut x = match b {
        Some(b) => b.clone(),
        None => DMatrix::identity(n, n),
    };
    for (k, &p) in ipiv.iter().enumerate() {
        if p as usize != k {
            x.swap_rows(k, p as usize);
        }
    }
    for c in 0..x.ncols() {
        for j in 0..n {
            let y = x[(j, c)];
            for i in j + 1..n {
                x[(i, c)] -= lu[(i, j)] * y;
            }
        }
        for j in (0..n).rev() {
            let y = x[(j, c)] / lu[(j, j)];
            x[(j, c)] = y;
            for i in 0..j {
                x[(i, c)] -= lu[(i, j)] * y;
            }
        }
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_fit_their_matrices_and_workgroup_memory() {
        for n in 1..=MAX_SMALL_N {
            let v = variant(n);
            assert!(n <= v.rows, "n={n}: {v:?}");
            // `sa` holds 4096 words, rows × workgroup size of them used;
            // `sx` 1024 (whole columns of the chunk).
            assert!(v.rows * v.invocations() <= 4096, "n={n}: {v:?}");
            assert_eq!(1024 % v.invocations(), 0, "n={n}: {v:?}");
            assert!(v.invocations() <= 256);
            let entry = v.entry(Family::Solve);
            assert!(entry.starts_with("solve_small"), "{entry}");
        }
        assert_eq!(variant(8).mats, 32);
        assert_eq!(variant(16).mats, 16);
        assert_eq!(variant(32).mats, 4);
        assert_eq!(variant(33).mats, 1);
    }

    #[test]
    fn dispatch_chunks_cover_every_workgroup_once() {
        for (groups, max) in [(0, 5), (1, 5), (5, 5), (6, 5), (11, 5), (3, 0)] {
            let chunks: Vec<_> = dispatch_chunks(groups, max).collect();
            let mut next = 0;
            for &(base, count) in &chunks {
                assert_eq!(base, next);
                assert!(count >= 1 && count <= max.max(1));
                next += count;
            }
            assert_eq!(next, groups, "{groups} / {max}: {chunks:?}");
        }
    }
}
