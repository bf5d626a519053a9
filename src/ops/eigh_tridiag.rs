//! Large symmetric eigenproblems on the GPU through the tridiagonal form.
//!
//! Algorithm: the matrix (lower triangle read, scaled by a power of two so
//! that ‖A‖_∞ < 1) is reduced to tridiagonal T = QᵀAQ by Householder
//! reflectors (LAPACK `sytd2`, lower), two dispatches per column: a
//! one-workgroup kernel finishes column s and builds its reflector, and a
//! wide kernel applies the previous rank-2 update to the trailing matrix
//! while it forms the next product A₂₂·v (the trailing matrix is read and
//! written once per step). The host reads d and e (2n floats), splits T
//! where an off-diagonal is negligible (|e_i| ≤ √n·ε·‖T‖), and one invocation
//! per eigenvalue finds it by multisection on Sturm counts (32 points a
//! round, one workgroup each) and one invocation its vector by
//! the twisted factorization of T − λI (one pass, no iteration). Vectors
//! of close eigenvalues are not orthogonal to working precision from that
//! alone, so Y is orthonormalized by CholeskyQR (Gram YᵀY as a GEMM,
//! Cholesky, triangular solve): it mixes a vector only with those whose
//! eigenvalues are close, which keeps the residuals small. A second pass
//! runs when the measured defect ‖YᵀY − I‖_max after the first exceeds
//! 4·√n·ε. The reduction is submitted every 256 columns, so the GPU works
//! while the host records the rest. Finally Z = Q·Y by the blocked compact-WY application of the
//! reflectors (`larft` + `larfb` as in QR). Cost: 4n³/3 flops of
//! matrix–vector work in the reduction (memory bound, 2n dispatches),
//! O(n²) per eigenvalue for bisection and vectors, 2n³ + n³/3 flops for
//! CholeskyQR and 2n³ for the back-transformation.
//!
//! Accuracy: backward stable reduction (‖A − QTQᵀ‖ ≲ c·n·ε·‖A‖);
//! eigenvalues to ε·‖T‖ absolute; residuals ‖AZ − ZΛ‖ ≲ c·n·ε·‖A‖ and
//! ‖ZᵀZ − I‖ ≲ c·√n·ε after CholeskyQR. Where the Cholesky of the Gram
//! matrix fails (eigenvectors of a cluster that came out nearly parallel)
//! or the defect stays above the bound after two passes, [`eigh_tridiag`]
//! returns `None` and the caller takes the block Jacobi route.

use nalgebra::DMatrix;

use crate::error::{Error, Result};
use crate::gpu::pool::PooledBuffer;
use crate::gpu::{params_bytes, Gpu, GpuMatrix, Kernel, Recorder};
use crate::ops::factor::{encode_potrf, encode_trsm, FactorParams, Scratch, TriFlags};
use crate::ops::matmul::{encode_gemm, Gemm};
use crate::ops::qr::{record_apply_q, record_larft, QrRec};
use crate::ops::svd_block::{record_gather, symmetrized_shifted};
use crate::ops::u32_of;

/// Uniform block of `wgsl/eig/tridiag.wgsl` (`TrdParams`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct TrdUniform {
    n: u32,
    jobs: u32,
    pivmin: f32,
    pad0: u32,
}

const EPS: f64 = f32::EPSILON as f64;

/// Whether the phases are timed (debug log of `wgpu_linalg::svd`; the
/// timing adds a synchronization after each phase).
fn debug_laps() -> bool {
    log::log_enabled!(target: "wgpu_linalg::svd", log::Level::Debug)
}

/// Eigenvalues (ascending) and, with `vectors`, the eigenvectors of the
/// symmetric n×n matrix whose lower triangle is `a` (module docs). `None`
/// when the eigenvectors could not be orthonormalized to the bound.
pub(crate) fn eigh_tridiag(
    op: &'static str,
    a: &GpuMatrix,
    vectors: bool,
) -> Result<Option<(Vec<f32>, Option<GpuMatrix>)>> {
    // invocations of the column kernel (WGPU_LINALG_TRD_THREADS: 256, 512
    // or 1024, for tuning runs)
    let threads = std::env::var("WGPU_LINALG_TRD_THREADS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|t| [256, 512, 1024].contains(t))
        .unwrap_or(1024);
    eigh_tridiag_with(op, a, vectors, threads)
}

/// [`eigh_tridiag`] with `threads` invocations (a multiple of 32, at most
/// 1024) in the column kernel: each keeps 8 rows of the column in
/// registers, rows beyond 8·threads go through memory.
fn eigh_tridiag_with(
    op: &'static str,
    a: &GpuMatrix,
    vectors: bool,
    threads: u32,
) -> Result<Option<(Vec<f32>, Option<GpuMatrix>)>> {
    let gpu = a.gpu();
    let ctx = &a.ctx;
    let n = a.rows;
    let clock = std::time::Instant::now();
    let lap = |what: &str| {
        log::debug!(target: "wgpu_linalg::svd", "{op} {n}: {what} done at {:.3} ms", clock.elapsed().as_secs_f64() * 1e3);
    };
    let sym = symmetrized_shifted(op, a, 0.0)?;
    let sums = sym.abs_sums(true)?;
    // (f64::max would pass over a NaN row sum)
    if sums.iter().any(|x| !x.is_finite()) {
        return Err(Error::NonFinite { op });
    }
    let inf_norm = sums.into_iter().fold(0.0, f64::max);
    if inf_norm == 0.0 {
        let z = vectors
            .then(|| ctx.upload(&DMatrix::<f32>::identity(n, n)))
            .transpose()?;
        return Ok(Some((vec![0.0; n], z)));
    }
    // 2^-e with ‖A‖_∞·2^-e in [0.5, 1)
    let e = inf_norm.log2().floor() as i32 + 1;
    let scale = 2f64.powi(-e);
    let work = sym.scale(scale as f32)?;
    drop(sym);

    // ---- reduction to tridiagonal form
    let vw = gpu.storage(op, (4 * n * 4) as u64, "eigh tridiagonal vectors")?;
    let de = gpu.storage(op, (2 * n * 4) as u64, "eigh tridiagonal d, e")?;
    let tau = GpuMatrix::alloc(ctx, op, n, 1, 1)?;
    let h = GpuMatrix::alloc(ctx, op, n, n, 1)?;
    let mut rec = gpu.encoder(op);
    rec.clear_buffer(tau.buffer(), 0, None);
    rec.clear_buffer(h.buffer(), 0, None);
    rec.clear_buffer(de.buffer(), 0, None);
    rec.clear_buffer(vw.buffer(), 0, None);
    let max_groups = gpu.max_groups() as usize;
    if n.div_ceil(4) > max_groups {
        return Err(Error::TooLarge {
            op,
            bytes: (n as u64) * (n as u64) * 4,
            limit: (max_groups as u64 * 4).pow(2) * 4,
        });
    }
    let u = TrdUniform {
        n: u32_of(op, n)?,
        ..Default::default()
    };
    let column_threads = [("RG", f64::from(threads))];
    let counter = gpu.storage(op, 4, "eigh step counter")?;
    rec.clear_buffer(counter.buffer(), 0, None);
    let binds_reduce = [
        (1, work.buffer()),
        (11, counter.buffer()),
        (2, vw.buffer()),
        (3, de.buffer()),
        (4, tau.buffer()),
        (5, h.buffer()),
    ];
    let binds_vec4 = [
        (9, work.buffer()),
        (10, vw.buffer()),
        (11, counter.buffer()),
    ];
    for s in 0..n {
        // the GPU starts while the host records the next 256 columns
        gpu.flush_after(&mut rec, 512);
        gpu.launch(
            &mut rec,
            "eigh column",
            Kernel::Tridiag,
            "trd_column",
            &column_threads,
            &params_bytes(&u),
            &binds_reduce,
            [1, 1, 1],
        );
        if s + 2 <= n {
            let cols = n - s - 1;
            // 16-byte accesses where every column starts aligned
            let (entry, binds) = if n.is_multiple_of(4) {
                ("trd_update4", &binds_vec4[..])
            } else {
                ("trd_update", &binds_reduce[..3])
            };
            gpu.launch(
                &mut rec,
                &format!("eigh update {cols}"),
                Kernel::Tridiag,
                entry,
                &[],
                &params_bytes(&u),
                binds,
                [cols.div_ceil(4) as u32, 1, 1],
            );
        }
    }
    gpu.submit(rec);
    drop(work);
    lap("scaling");
    let de_host = gpu.read_f32(de.buffer(), 0, (2 * n) as u64)?;
    lap("tridiagonal reduction");
    let d: Vec<f64> = de_host[..n].iter().map(|&x| f64::from(x)).collect();
    let ev: Vec<f64> = de_host[n..2 * n - 1]
        .iter()
        .map(|&x| f64::from(x))
        .collect();
    if d.iter().chain(ev.iter()).any(|x| !x.is_finite()) {
        return Err(Error::NonFinite { op });
    }

    // ---- split T, bracket every eigenvalue, bisection (+ vectors)
    let tnorm = (0..n)
        .map(|i| {
            let l = if i > 0 { ev[i - 1].abs() } else { 0.0 };
            let r = if i + 1 < n { ev[i].abs() } else { 0.0 };
            d[i].abs() + l + r
        })
        .fold(0.0, f64::max);
    let (jobs, bounds) = bisection_jobs(&d, &ev, tnorm);
    let jobs_buf = gpu.storage_from(op, bytemuck::cast_slice(&jobs), "eigh jobs")?;
    let lohi = gpu.storage_from(op, bytemuck::cast_slice(&bounds), "eigh brackets")?;
    let v = TrdUniform {
        n: u32_of(op, n)?,
        jobs: u32_of(op, n)?,
        pivmin: (tnorm * f64::from(f32::MIN_POSITIVE)).max(1e-30) as f32,
        ..Default::default()
    };
    let mut rec = gpu.encoder(op);
    let gx = n.min(max_groups);
    gpu.launch(
        &mut rec,
        &format!("eigh bisection {n}"),
        Kernel::Tridiag,
        "trd_bisect",
        &[],
        &params_bytes(&v),
        &[(3, de.buffer()), (6, jobs_buf.buffer()), (7, lohi.buffer())],
        [gx as u32, u32_of(op, n.div_ceil(gx))?, 1],
    );
    if debug_laps() {
        gpu.submit(std::mem::replace(&mut rec, gpu.encoder(op)));
        gpu.read_f32(lohi.buffer(), 0, 1)?;
        lap("bisection");
    }
    // Yᵀ: eigenvector j in row j (only with vectors)
    let yt = vectors
        .then(|| GpuMatrix::alloc(ctx, op, n, n, 1))
        .transpose()?;
    if let Some(yt) = &yt {
        let scratch = gpu.storage(op, (n * n * 4) as u64, "eigh twisted factorization")?;
        gpu.launch(
            &mut rec,
            &format!("eigh vectors {n}"),
            Kernel::Tridiag,
            "trd_vectors",
            &[],
            &params_bytes(&v),
            &[
                (1, yt.buffer()),
                (2, scratch.buffer()),
                (3, de.buffer()),
                (6, jobs_buf.buffer()),
                (7, lohi.buffer()),
            ],
            [n.div_ceil(32) as u32, 1, 1],
        );
        rec.keep(scratch);
    }
    gpu.submit(rec);
    let found = gpu.read_f32(lohi.buffer(), 0, (4 * n) as u64)?;
    lap("bisection and vectors");
    let lam: Vec<f32> = (0..n).map(|j| found[4 * j + 2]).collect();
    if lam.iter().any(|x| !x.is_finite()) {
        return Err(Error::NonFinite { op });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| lam[x].total_cmp(&lam[y]).then(x.cmp(&y)));
    let unscale = |x: f32| (f64::from(x) / scale) as f32;
    let values: Vec<f32> = order.iter().map(|&j| unscale(lam[j])).collect();
    let Some(yt) = yt else {
        return Ok(Some((values, None)));
    };

    // ---- orthonormalize the rows of Yᵀ (CholeskyQR, at most two passes)
    let tol = 4.0 * (n as f64).sqrt() * EPS;
    let mut passes = 0;
    let mut defect;
    loop {
        if !cholqr_rows(gpu, op, &yt)? {
            log::debug!(target: "wgpu_linalg::svd", "{op}: Gram matrix of the tridiagonal eigenvectors not positive definite: Jacobi route");
            return Ok(None);
        }
        passes += 1;
        lap("CholeskyQR pass");
        defect = orth_defect(gpu, op, &yt)?;
        if defect <= tol {
            break;
        }
        if passes == 2 || defect.is_nan() {
            log::debug!(target: "wgpu_linalg::svd", "{op}: tridiagonal eigenvectors not orthonormal ({defect:.2e} after {passes} passes): Jacobi route");
            return Ok(None);
        }
    }
    log::debug!(target: "wgpu_linalg::svd", "{op} {n}: tridiagonal route, {passes} CholeskyQR passes, defect {defect:.2e}");
    lap("CholeskyQR");

    // ---- Z = Q·Y, columns in ascending order of the eigenvalues
    let y = yt.transpose()?;
    drop(yt);
    let mut qrec = QrRec::new(gpu, op);
    let f = record_larft(gpu, &mut qrec, h, tau, op)?;
    if debug_laps() {
        qrec.submit(gpu);
        qrec = QrRec::new(gpu, op);
        gpu.read_f32(y.buffer(), 0, 1)?;
        lap("transpose and larft");
    }
    record_apply_q(gpu, &mut qrec, &f, false, y.buffer(), n, n, None, op)?;
    qrec.submit(gpu);
    if debug_laps() {
        gpu.read_f32(y.buffer(), 0, 1)?;
        lap("back-transformation");
    }
    let sorted = order.iter().enumerate().all(|(i, &j)| i == j);
    let z = if sorted {
        y
    } else {
        let z = GpuMatrix::alloc(ctx, op, n, n, 1)?;
        let mut rec = gpu.encoder(op);
        record_gather(gpu, &mut rec, op, (&y, n, n), &order, None, &z)?;
        gpu.submit(rec);
        z
    };
    Ok(Some((values, Some(z))))
}

/// One bisection job per eigenvalue: (first row, end row, index in the
/// block, 0) and (lower bracket, upper bracket, 0, 0), blocks of T split
/// where |e_i| ≤ √n·ε·‖T‖.
fn bisection_jobs(d: &[f64], e: &[f64], tnorm: f64) -> (Vec<[u32; 4]>, Vec<[f32; 4]>) {
    let n = d.len();
    let split = (n as f64).sqrt() * EPS * tnorm;
    let mut jobs = Vec::with_capacity(n);
    let mut bounds = Vec::with_capacity(n);
    let mut b0 = 0;
    for i in 0..n {
        if i + 1 < n && e[i].abs() > split {
            continue;
        }
        let b1 = i + 1;
        let off = |k: usize| {
            if k < n - 1 && k + 1 < b1 {
                e[k].abs()
            } else {
                0.0
            }
        };
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for k in b0..b1 {
            let r = off(k) + if k > b0 { e[k - 1].abs() } else { 0.0 };
            lo = lo.min(d[k] - r);
            hi = hi.max(d[k] + r);
        }
        let margin = 4.0 * EPS * tnorm + 1e-30;
        for k in 0..b1 - b0 {
            jobs.push([b0 as u32, b1 as u32, k as u32, 0]);
            bounds.push([(lo - margin) as f32, (hi + margin) as f32, 0.0, 0.0]);
        }
        b0 = b1;
    }
    (jobs, bounds)
}

/// max |G_ij − δ_ij| of G = Yᵀ·(Yᵀ)ᵀ (lower triangle), NaN if any entry is.
fn orth_defect(gpu: &Gpu, op: &'static str, yt: &GpuMatrix) -> Result<f64> {
    let n = yt.rows;
    let g = gpu.storage(op, (n * n * 4) as u64, "eigh Gram")?;
    let flag = gpu.storage(op, 4, "eigh defect")?;
    let mut rec = gpu.encoder(op);
    gram_rows(gpu, &mut rec, yt, g.buffer())?;
    record_max(
        gpu,
        &mut rec,
        op,
        ("trd_defect", n.min(1024)),
        g.buffer(),
        n,
        &flag,
    )?;
    gpu.submit(rec);
    Ok(f64::from(gpu.read_f32(flag.buffer(), 0, 1)?[0]))
}

/// Records `flag` ← the maximum that `entry` (`trd_defect` or
/// `trd_pivots`, on `groups` workgroups) reduces the n×n matrix `m` to.
fn record_max(
    gpu: &Gpu,
    rec: &mut Recorder,
    op: &'static str,
    (entry, groups): (&'static str, usize),
    m: &wgpu::Buffer,
    n: usize,
    flag: &PooledBuffer,
) -> Result<()> {
    rec.clear_buffer(flag.buffer(), 0, None);
    let u = TrdUniform {
        n: u32_of(op, n)?,
        ..Default::default()
    };
    gpu.launch(
        rec,
        &format!("eigh {entry} {n}"),
        Kernel::Tridiag,
        entry,
        &[],
        &params_bytes(&u),
        &[(1, m), (8, flag.buffer())],
        [u32_of(op, groups)?, 1, 1],
    );
    Ok(())
}

/// Records the lower triangle of Yᵀ·Y (the rows of `yt` are the vectors).
fn gram_rows(gpu: &Gpu, rec: &mut Recorder, yt: &GpuMatrix, g: &wgpu::Buffer) -> Result<()> {
    let n = yt.rows;
    let mut gemm = Gemm::single(
        (n, n, n),
        (yt.buffer(), n, false),
        (yt.buffer(), n, true),
        (g, n),
    );
    gemm.lower_only = true;
    encode_gemm(gpu, rec, &gemm)
}

/// One CholeskyQR pass on the rows of `yt`: G = LLᵀ, Yᵀ ← L⁻¹·Yᵀ.
/// `false` when the Cholesky factorization meets a non-positive pivot or
/// a pivot L_ii < 1/20: vector i then came out nearly in the span of the
/// earlier ones, and orthogonalizing it would amplify its errors.
fn cholqr_rows(gpu: &Gpu, op: &'static str, yt: &GpuMatrix) -> Result<bool> {
    let n = yt.rows;
    let g = gpu.storage(op, (n * n * 4) as u64, "eigh Gram")?;
    let info = gpu.storage(op, 4, "eigh Cholesky status")?;
    let flag = gpu.storage(op, 4, "eigh Cholesky pivots")?;
    let nb = FactorParams::default();
    let sc = Scratch::new(gpu, op, n, n, nb.chol_panel_cols())?;
    let tsc = gpu.storage(op, (nb.trsm_nb.max(64) * n * 4) as u64, "eigh trsm scratch")?;
    let mut rec = gpu.encoder(op);
    rec.clear_buffer(info.buffer(), 0, None);
    gram_rows(gpu, &mut rec, yt, g.buffer())?;
    encode_potrf(gpu, &mut rec, g.buffer(), n, n, info.buffer(), &sc)?;
    record_max(gpu, &mut rec, op, ("trd_pivots", 1), g.buffer(), n, &flag)?;
    encode_trsm(
        gpu,
        &mut rec,
        g.buffer(),
        0,
        n,
        n,
        TriFlags {
            upper: false,
            trans: false,
            unit: false,
        },
        yt.buffer(),
        n,
        n,
        tsc.buffer(),
    )?;
    sc.keep_in(&mut rec);
    gpu.submit(rec);
    let status = gpu.read_bytes(info.buffer(), 0, 4)?;
    let lost = gpu.read_f32(flag.buffer(), 0, 1)?[0];
    Ok(status.iter().all(|&b| b == 0) && lost <= 0.95)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        }
    }

    /// The tridiagonal route itself (no Jacobi fallback) on random
    /// symmetric matrices straddling the QR panel widths 32 and 64:
    /// eigenvalues, residuals and orthogonality against nalgebra in f64.
    #[test]
    fn tridiagonal_route_on_random_symmetric_matrices() {
        let Some(ctx) =
            crate::testing::gpu_context(wgpu::Features::empty(), "the tridiagonal route")
        else {
            return;
        };
        for (case, &n) in [65usize, 96, 129, 200].iter().enumerate() {
            let mut r = lcg(17 + case as u64);
            let x = DMatrix::<f64>::from_fn(n, n, |_, _| r());
            // scaled far from 1 to exercise the power-of-two scaling
            let a64 = (&x + x.transpose()) * 1e3;
            let a = a64.map(|v| v as f32);
            let exact = a.map(f64::from);
            let mut w64: Vec<f64> = exact
                .clone()
                .symmetric_eigenvalues()
                .iter()
                .copied()
                .collect();
            w64.sort_by(|p, q| p.total_cmp(q));
            let norm = w64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let tol = 16.0 * n as f64 * EPS;
            let g = ctx.upload(&a).unwrap();
            let (w, z) = eigh_tridiag("eigh", &g, true)
                .unwrap()
                .expect("tridiagonal route");
            let z = z.unwrap().download().unwrap().map(f64::from);
            for i in 0..n {
                assert!(
                    (f64::from(w[i]) - w64[i]).abs() <= tol * norm,
                    "n {n}: λ[{i}]"
                );
            }
            let lam = DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
                n,
                w.iter().map(|&v| f64::from(v)),
            ));
            let res = (&exact * &z - &z * lam).norm() / exact.norm();
            assert!(res <= tol, "n {n}: residual {res:.2e}");
            let orth = (z.transpose() * &z - DMatrix::<f64>::identity(n, n)).norm();
            assert!(orth <= tol, "n {n}: orthogonality {orth:.2e}");
            let (wv, none) = eigh_tridiag("eigvalsh", &g, false).unwrap().unwrap();
            assert!(none.is_none());
            assert_eq!(wv, w, "n {n}: values alone differ from values with vectors");
        }
        // non-finite input anywhere in the lower triangle is an error
        for bad in [f32::NAN, f32::INFINITY] {
            let mut a = DMatrix::<f32>::identity(70, 70);
            a[(69, 3)] = bad;
            let g = ctx.upload(&a).unwrap();
            assert!(matches!(
                eigh_tridiag("eigh", &g, true),
                Err(Error::NonFinite { .. })
            ));
        }
        // a column kernel of 32 invocations keeps 256 rows in registers:
        // n = 300 also runs its path through memory
        let n = 300;
        let mut r = lcg(99);
        let x = DMatrix::<f64>::from_fn(n, n, |_, _| r());
        let exact = &x + x.transpose();
        let a = exact.map(|v| v as f32);
        let exact = a.map(f64::from);
        let g = ctx.upload(&a).unwrap();
        let (w, z) = eigh_tridiag_with("eigh", &g, true, 32)
            .unwrap()
            .expect("tridiagonal route");
        let (w_ref, _) = eigh_tridiag("eigh", &g, true).unwrap().unwrap();
        let z = z.unwrap().download().unwrap().map(f64::from);
        let lam = DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
            n,
            w.iter().map(|&v| f64::from(v)),
        ));
        let tol = 16.0 * n as f64 * EPS;
        let res = (&exact * &z - &z * lam).norm() / exact.norm();
        assert!(res <= tol, "n {n}, 32 invocations: residual {res:.2e}");
        let scale = w_ref.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (p, q) in w.iter().zip(&w_ref) {
            assert!(f64::from((p - q).abs()) <= tol * f64::from(scale));
        }
    }
}
