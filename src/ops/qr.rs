//! QR factorizations: blocked Householder (LAPACK `geqrf`/`orgqr` with the
//! compact WY form), two-pass modified Gram–Schmidt, orthonormal bases.
//!
//! Algorithm (GPU route, Householder), with [`QrParams`]:
//! - Where the panel fits in registers (≤ 8192 rows, SUBGROUP), blocks of 64
//!   columns are factorized 8 columns at a time. One workgroup holds each
//!   8-wide panel in registers (`geqr2_reg`: reflector norms as
//!   power-of-two-scaled double-float sums of squares, so they neither
//!   overflow nor lose digits; T of the panel from the Gram columns that
//!   ride in the same reductions).
//! - One dispatch then applies the panel's reflectors to the rest of the
//!   block (`larfb_reg`, a workgroup per column).
//! - The block's T comes from its Gram matrix VᵀV (a GEMM) by doubling
//!   (`t_from_gram`), and the trailing matrix is updated as
//!   `C − V·(Tᵀ·(Vᵀ·C))`, three GEMMs with V packed into scratch (`larfb`).
//! - Otherwise the panel is one workgroup of 1024 invocations streaming
//!   its columns (`geqr2_panel` with `larft`), 32 wide, or 8 wide in 64-wide
//!   blocks from min(m, n) = 4096.
//!
//! Q is formed by blocked backward accumulation from the identity
//! (`orgqr`) with the same T factors. Cost: 4mns − 2(m+n)s² + 4s³/3 flops
//! for the factorization (s = min(m, n); 2mn² − 2n³/3 when m ≥ n) and as
//! much again for Q. Two-pass MGS (`QrAlgo::Mgs`, m ≥ n) records five
//! kernels per column (projection with double-float dot products, update,
//! again, then the scaled norm and normalization); r_kk stays on the GPU.
//! Cost 4mn². Tall, skinny `QrAlgo::Mgs` inputs (n ≤ 64, m ≥ 16n) on a
//! GPU adapter go first to shifted CholeskyQR3 (`cholqr`: three Gram
//! passes of 2mn² flops, 6 dispatches, R = R₃·R₂·R₁), kept only where the
//! measured ‖QᵀQ − I‖_F ≤ 4nε; on the H200 it took 0.36–1.5 ms where the
//! MGS kernels took 2.3–12.4 ms, on lavapipe it was slower, so CPU
//! adapters keep MGS. Everything is recorded into one submission (flushed in
//! parts as it grows); nothing is read back before the results. Measured
//! on an H200 through Vulkan (benches/RESULTS.md, 2026-12-01): Q and R of
//! 4096² in 51.8 ms and of 8192² in 231 ms. The one-workgroup panels are
//! still the largest share (24.5 and 90.6 ms).
//! Every pooled buffer a recording uses is kept (`QrRec`) until it is
//! submitted, so no other thread can take it from the shared pool while
//! steps that use it are still unsubmitted.
//!
//! Accuracy: Householder QR is backward stable, ‖A − QR‖ ≲ c·n·ε·‖A‖ and
//! ‖QᵀQ − I‖ ≲ c·n·ε independent of cond(A); two-pass MGS has the same
//! residual and ‖QᵀQ − I‖ = O(ε) while cond(A)·ε ≪ 1.
//!
//! ```no_run
//! use nalgebra::DMatrix;
//! use wgpu_linalg::{QrAlgo, QrMode};
//! let ctx = wgpu_linalg::Context::new()?;
//! let a = DMatrix::<f32>::from_fn(300, 200, |i, j| ((i * 7 + j * 3) % 11) as f32 - 5.0);
//! let (q, r) = ctx.qr(&a)?;                                 // 300×200, 200×200
//! let full = ctx.qr_with(&a, QrMode::Complete, QrAlgo::Householder)?;
//! assert_eq!(full.q.unwrap().shape(), (300, 300));
//! let (h, tau) = ctx.geqrf(&a)?;                            // LAPACK compact form
//! # Ok::<(), wgpu_linalg::Error>(())
//! ```

use std::sync::Arc;

use nalgebra::{DMatrix, DVector};

use crate::context::{Context, Route};
use crate::dispatch::{decide, nominal_flops};
use crate::error::{Error, Result};
use crate::gpu::pool::PooledBuffer;
use crate::gpu::{params_bytes, Gpu, GpuMatrix, Kernel, Recorder};
use crate::ops::blas1::encode_copy;
use crate::ops::factor::FactorParams;
use crate::ops::matmul::{encode_gemm, Gemm, Operand};
use crate::ops::qr_cpu as cpu;
use crate::ops::svd_block::record_cholqr3_r;
use crate::ops::{
    env_usize, panels_in_registers, reg_panel, reg_panel_cols, u32_of, with_override,
};

/// Which factors [`Context::qr_with`] returns (NumPy's `mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QrMode {
    /// Q m×k and R k×n, k = min(m, n).
    #[default]
    Reduced,
    /// Q m×m and R m×n.
    Complete,
    /// R (k×n) only; `Qr::q` is `None`.
    R,
}

/// How [`Context::qr_with`] orthogonalizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum QrAlgo {
    /// Blocked Householder (LAPACK `geqrf` + `orgqr`); any shape.
    #[default]
    Householder,
    /// Two-pass modified Gram–Schmidt; needs m ≥ n. `Complete` mode
    /// appends an orthonormal complement (by Householder) to the MGS Q.
    Mgs,
}

/// The result of [`Context::qr_with`]: `q` is `None` for [`QrMode::R`].
/// R is upper triangular (trapezoidal) with exact zeros below the diagonal.
#[derive(Clone, Debug, PartialEq)]
pub struct Qr {
    pub q: Option<DMatrix<f32>>,
    pub r: DMatrix<f32>,
}

/// The device-resident form of [`Qr`].
#[derive(Clone, Debug)]
pub struct GpuQr {
    pub q: Option<GpuMatrix>,
    pub r: GpuMatrix,
}

impl GpuQr {
    /// The Q factor (present in every mode but `R`).
    pub(crate) fn q_or_err(&self, op: &'static str) -> Result<GpuMatrix> {
        self.q
            .clone()
            .ok_or_else(|| Error::Gpu(format!("{op}: Q missing")))
    }
}

/// Tuning parameters of the blocked Householder QR, with automatic defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QrParams {
    /// Block width (1 ..= 64) of the compact WY factors: the trailing
    /// updates are this deep, and Q is applied in blocks this wide.
    pub nb: usize,
    /// Width of the one-workgroup panels inside a block (≤ `nb`); when it
    /// is less than `nb`, a block's T comes from the Gram matrix of its
    /// reflectors (two levels of blocking).
    pub inner: usize,
}

impl Default for QrParams {
    fn default() -> Self {
        QrParams { nb: 32, inner: 32 }
    }
}

thread_local! {
    static FORCED_QR: std::cell::Cell<Option<QrParams>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with every QR recorded on this thread using `params`, whatever
/// the shape and the environment say. For tests of the two-level
/// blocking at sizes the rule keeps on one level.
#[doc(hidden)]
pub fn with_qr_params<T>(params: QrParams, f: impl FnOnce() -> T) -> T {
    with_override(&FORCED_QR, params, f)
}

impl QrParams {
    /// Widest panel the kernels take.
    pub const MAX_NB: usize = 64;

    /// Defaults for an m×n matrix. 8-wide panels inside 64-wide blocks
    /// wherever the panels are held in registers (up to 8192 rows; on an
    /// H200, benches/RESULTS.md, 2026-12-01, QR took 15.4 / 89.0 / 304 ms
    /// at n = 1024 / 4096 / 8192 this way against 19.8 / 121.8 / 356 ms
    /// with the streaming panels' defaults), else from min(m, n) = 4096.
    /// With streaming panels: the one-workgroup panel streams its columns
    /// once per column, so its time grows with its width, while the
    /// trailing GEMMs want depth. On an H200 (benches/RESULTS.md,
    /// 2026-12-01) QR took 119.7 / 364.5 ms at n = 4096 / 8192 this way, 119.7
    /// / 390.5 ms with 16-wide panels, and 149.8 / 556.0 ms with 32-wide
    /// panels on one level. Below 4096: 32-wide panels on one level
    /// (single-level 32 had beaten 64, 16 and 8 at 4096 and 8192, and at
    /// 1024 it matches the two-level form). `WGPU_LINALG_QR_NB` and
    /// `WGPU_LINALG_QR_INNER` (1 ..= 64) set the widths for tuning runs.
    pub fn for_shape(m: usize, n: usize) -> QrParams {
        if let Some(p) = FORCED_QR.with(|f| f.get()) {
            return p.clamped();
        }
        let env = |name: &str| env_usize(name).filter(|v| (1..=Self::MAX_NB).contains(v));
        let reg = panels_in_registers() && reg_panel(m).is_some();
        let (nb, inner) = if reg || m.min(n) >= 4096 {
            (64, 8)
        } else {
            (32, 32)
        };
        let nb = env("WGPU_LINALG_QR_NB").unwrap_or(nb);
        // clamped() keeps the panel within the block
        let inner = env("WGPU_LINALG_QR_INNER").unwrap_or(inner);
        QrParams { nb, inner }.clamped()
    }

    fn clamped(self) -> QrParams {
        let nb = self.nb.clamp(1, Self::MAX_NB);
        QrParams {
            nb,
            inner: self.inner.clamp(1, nb),
        }
    }
}

pub(crate) fn check_finite(op: &'static str, a: &DMatrix<f32>) -> Result<()> {
    if a.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Error::NonFinite { op })
    }
}

/// Uniform block of `wgsl/qr/householder.wgsl` (`QrParams`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct QrUniform {
    m: u32,
    n: u32,
    lda: u32,
    j0: u32,
    jb: u32,
    ldt: u32,
    rows: u32,
    cols: u32,
    ldo: u32,
    pad: [u32; 3],
}

/// Uniform block of `wgsl/qr/mgs.wgsl` (`MgsParams`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct MgsUniform {
    m: u32,
    n: u32,
    k: u32,
    ldq: u32,
    ldr: u32,
    pass: u32,
    pad: [u32; 2],
}

/// Workgroups of a 16×16 kernel over a rows × cols block.
fn grid16(gpu: &Gpu, op: &'static str, rows: usize, cols: usize) -> Result<[u32; 3]> {
    let (gx, gy) = (rows.div_ceil(16), cols.div_ceil(16));
    let max = gpu.max_groups() as usize;
    if gx > max || gy > max {
        return Err(Error::TooLarge {
            op,
            bytes: (rows as u64) * (cols as u64) * 4,
            limit: (max as u64 * 16).pow(2) * 4,
        });
    }
    Ok([gx as u32, gy as u32, 1])
}

/// `groups` workgroups as a 2-D grid within the per-dimension limit.
fn grid(gpu: &Gpu, groups: usize) -> [u32; 3] {
    let max = gpu.max_groups() as usize;
    let groups = groups.max(1);
    if groups <= max {
        [groups as u32, 1, 1]
    } else {
        [max as u32, groups.div_ceil(max) as u32, 1]
    }
}

/// (first column, width) of every panel of k columns.
fn panels(k: usize, nb: usize) -> Vec<(usize, usize)> {
    (0..k.div_ceil(nb))
        .map(|p| (p * nb, nb.min(k - p * nb)))
        .collect()
}

/// A recording plus the pooled buffers its steps use: a buffer goes back to
/// the (shared) pool only after the recording is submitted, so no other
/// thread can take it while steps that use it are still unsubmitted.
pub(crate) struct QrRec {
    pub(crate) rec: Recorder,
    bufs: Vec<Arc<PooledBuffer>>,
}

impl QrRec {
    pub(crate) fn new(gpu: &Gpu, label: &str) -> QrRec {
        QrRec {
            rec: gpu.encoder(label),
            bufs: Vec::new(),
        }
    }

    /// Keeps `b` until the submission and returns its buffer.
    fn keep(&mut self, b: PooledBuffer) -> wgpu::Buffer {
        let buf = b.buffer().clone();
        self.bufs.push(Arc::new(b));
        buf
    }

    pub(crate) fn keep_matrix(&mut self, m: &GpuMatrix) {
        self.bufs.push(m.buf.clone());
    }

    fn keep_shared(&mut self, b: &Arc<PooledBuffer>) {
        self.bufs.push(b.clone());
    }

    /// Submits the recording, then releases the buffers it kept.
    pub(crate) fn submit(self, gpu: &Gpu) {
        gpu.submit(self.rec);
        drop(self.bufs);
    }
}

/// The Householder factors of one matrix on the GPU.
pub(crate) struct Factors {
    /// The factored matrix in LAPACK form (R above, V below the diagonal).
    pub(crate) h: GpuMatrix,
    /// tau, k×1.
    pub(crate) tau: GpuMatrix,
    /// The T factor of every panel: nb × k, panel at columns j0 .. j0+jb.
    t: Arc<PooledBuffer>,
    nb: usize,
}

/// Packed V of one panel and the two GEMM intermediates of `larfb`.
struct Scratch {
    v: wgpu::Buffer,
    w: wgpu::Buffer,
    w2: wgpu::Buffer,
}

impl Scratch {
    fn new(
        gpu: &Gpu,
        rec: &mut QrRec,
        op: &'static str,
        m: usize,
        nb: usize,
        cols: usize,
    ) -> Result<Scratch> {
        let f = |n: usize| (n.max(1) * 4) as u64;
        Ok(Scratch {
            v: rec.keep(gpu.storage(op, f(m * nb), "qr packed V")?),
            w: rec.keep(gpu.storage(op, f(nb * cols), "qr larfb W")?),
            w2: rec.keep(gpu.storage(op, f(nb * cols), "qr larfb W2")?),
        })
    }
}

fn opnd(buf: &wgpu::Buffer, off: usize, ld: usize) -> Operand<'_> {
    Operand {
        buf,
        off,
        ld: ld.max(1),
        stride: 0,
    }
}

/// Records `op(Q)·C` for the block reflector of one panel: `C ← C − V·(op(T)·(Vᵀ·C))`
/// (`trans_t`: Tᵀ, i.e. Hᵀ·C), C being mr × nc at `c_off` with `ldc`.
/// The two products with a jb-row result are formed transposed
/// (`Wᵀ = Cᵀ·V`, `W2ᵀ = Wᵀ·op(T)ᵀ`): their results are then nc × jb, the
/// skinny shape the narrow GEMM variant takes without idle tile rows, and
/// the rank-jb update reads W2ᵀ transposed.
#[allow(clippy::too_many_arguments)]
fn larfb(
    gpu: &Gpu,
    rec: &mut QrRec,
    sc: &Scratch,
    (mr, jb, nc): (usize, usize, usize),
    t: &wgpu::Buffer,
    t_off: usize,
    ldt: usize,
    trans_t: bool,
    c: &wgpu::Buffer,
    c_off: usize,
    ldc: usize,
) -> Result<()> {
    let (v, w, w2) = (&sc.v, &sc.w, &sc.w2);
    let gemm = |(m, n, k), (a, ta), (b, tb), c, (alpha, beta)| Gemm {
        m,
        n,
        k,
        batch: 1,
        a,
        ta,
        b,
        tb,
        c,
        alpha,
        beta,
        half: false,
        lower_only: false,
    };
    // Wᵀ = Cᵀ·V (nc × jb)
    encode_gemm(
        gpu,
        &mut rec.rec,
        &gemm(
            (nc, jb, mr),
            (opnd(c, c_off, ldc), true),
            (opnd(v, 0, mr), false),
            opnd(w, 0, nc),
            (1.0, 0.0),
        ),
    )?;
    // W2ᵀ = Wᵀ·op(T)ᵀ
    encode_gemm(
        gpu,
        &mut rec.rec,
        &gemm(
            (nc, jb, jb),
            (opnd(w, 0, nc), false),
            (opnd(t, t_off, ldt), !trans_t),
            opnd(w2, 0, nc),
            (1.0, 0.0),
        ),
    )?;
    // C −= V·(W2ᵀ)ᵀ
    encode_gemm(
        gpu,
        &mut rec.rec,
        &gemm(
            (mr, nc, jb),
            (opnd(v, 0, mr), false),
            (opnd(w2, 0, nc), true),
            opnd(c, c_off, ldc),
            (-1.0, 1.0),
        ),
    )
}

/// Records the packing of panel (j0, jb) of the factored `h` into `sc.v`.
fn pack_v(
    gpu: &Gpu,
    rec: &mut QrRec,
    f: &Factors,
    j0: usize,
    jb: usize,
    sc: &Scratch,
) -> Result<()> {
    let op = "qr";
    let m = f.h.rows;
    let rows = m - j0;
    let u = QrUniform {
        m: u32_of(op, m)?,
        n: u32_of(op, f.h.cols)?,
        lda: u32_of(op, m.max(1))?,
        j0: u32_of(op, j0)?,
        jb: jb as u32,
        rows: u32_of(op, rows)?,
        cols: jb as u32,
        ldo: u32_of(op, rows.max(1))?,
        ..Default::default()
    };
    gpu.launch(
        &mut rec.rec,
        &format!("qr pack V {rows}x{jb}"),
        Kernel::QrBlocked,
        "pack_v",
        &[],
        &params_bytes(&u),
        &[(1, f.h.buffer()), (4, &sc.v)],
        grid16(gpu, op, rows, jb)?,
    );
    Ok(())
}

/// Records the blocked Householder factorization of a copy of `src`
/// (one m×n f32 matrix).
pub(crate) fn record_geqrf(
    gpu: &Gpu,
    rec: &mut QrRec,
    src: &GpuMatrix,
    op: &'static str,
) -> Result<Factors> {
    let (m, n) = src.shape();
    let k = m.min(n);
    let qp = QrParams::for_shape(m, n);
    let (nb, inner) = (qp.nb, qp.inner);
    let h = GpuMatrix::alloc(&src.ctx, op, m, n, 1)?;
    rec.rec
        .copy_buffer_to_buffer(src.buffer(), 0, h.buffer(), 0, (m * n * 4) as u64);
    let tau = GpuMatrix::alloc(&src.ctx, op, k, 1, 1)?;
    let t = Arc::new(gpu.storage(op, (nb * k.max(1) * 4) as u64, "qr T factors")?);
    rec.keep_matrix(src);
    rec.keep_matrix(&h);
    rec.keep_matrix(&tau);
    rec.keep_shared(&t);
    let f = Factors { h, tau, t, nb };
    if k == 0 {
        return Ok(f);
    }
    let two_level = inner < nb;
    let sc = Scratch::new(gpu, rec, op, m, nb, n)?;
    // the panels' own T factors (ldt = inner) and a block's Gram matrix,
    // on two levels
    let (t_in, gram) = if two_level {
        (
            rec.keep(gpu.storage(op, (inner * k * 4) as u64, "qr panel T factors")?),
            Some(rec.keep(gpu.storage(op, (nb * nb * 4) as u64, "qr block Gram")?)),
        )
    } else {
        (f.t.buffer().clone(), None)
    };
    let mut u = QrUniform {
        m: u32_of(op, m)?,
        n: u32_of(op, n)?,
        lda: u32_of(op, m)?,
        ldt: inner as u32,
        ..Default::default()
    };
    let flush = FactorParams::default().flush_steps;
    let reg = panels_in_registers() && gpu.features.contains(wgpu::Features::SUBGROUP);
    for (b0, bw) in panels(k, nb) {
        let b1 = b0 + bw;
        // four-column register panels where the block's rows take them
        let width = match reg_panel(m - b0).map(|(_, rpi)| reg_panel_cols(rpi)) {
            Some(cols) if reg && two_level && cols < 8 => inner.min(cols),
            _ => inner,
        };
        // the block's panels; each updates the block's columns right of
        // it (on one level, the block is the panel and that is the rest)
        for (j0, jb) in panels(bw, width) {
            let j0 = b0 + j0;
            // the GPU starts on the first panels while the rest is recorded
            gpu.flush_after(&mut rec.rec, flush);
            u.j0 = j0 as u32;
            u.jb = jb as u32;
            let reg_pw = reg_panel(m - j0).filter(|_| reg && jb <= 8);
            match reg_pw {
                Some((pw, rpi)) => gpu.launch(
                    &mut rec.rec,
                    "qr geqr2 reg",
                    if width <= 4 {
                        Kernel::QrReg4Subgroup
                    } else {
                        Kernel::QrRegSubgroup
                    },
                    "geqr2_reg",
                    &[("PW", pw as f64), ("RPI", rpi as f64)],
                    &params_bytes(&u),
                    &[(1, f.h.buffer()), (2, f.tau.buffer()), (3, &t_in)],
                    [1, 1, 1],
                ),
                None => gpu.launch(
                    &mut rec.rec,
                    &format!("qr geqr2 panel {}x{jb} nb {inner}", m - j0),
                    Kernel::QrBlocked,
                    "geqr2_panel",
                    &[],
                    &params_bytes(&u),
                    &[(1, f.h.buffer()), (2, f.tau.buffer()), (3, &t_in)],
                    [1, 1, 1],
                ),
            }
            let c_end = if two_level { b1 } else { n };
            let nc = c_end - j0 - jb;
            if let Some((pw, _)) = reg_pw.filter(|_| nc > 0 && two_level) {
                // the rest of the block: V and T read in place, one
                // workgroup per column (nc < nb ≤ 64)
                let bu = QrUniform {
                    cols: nc as u32,
                    ..u
                };
                gpu.launch(
                    &mut rec.rec,
                    "qr larfb reg",
                    Kernel::QrRegSubgroup,
                    "larfb_reg",
                    &[("PW", pw as f64)],
                    &params_bytes(&bu),
                    &[(1, f.h.buffer()), (3, &t_in)],
                    [nc as u32, 1, 1],
                );
            } else if nc > 0 {
                pack_v(gpu, rec, &f, j0, jb, &sc)?;
                larfb(
                    gpu,
                    rec,
                    &sc,
                    (m - j0, jb, nc),
                    &t_in,
                    j0 * inner,
                    inner,
                    true,
                    f.h.buffer(),
                    j0 + (j0 + jb) * m,
                    m,
                )?;
            }
        }
        if let Some(g) = &gram {
            // the block's T from G = VᵀV, then the trailing update
            pack_v(gpu, rec, &f, b0, bw, &sc)?;
            let rows = m - b0;
            encode_gemm(
                gpu,
                &mut rec.rec,
                &Gemm {
                    m: bw,
                    n: bw,
                    k: rows,
                    batch: 1,
                    a: opnd(&sc.v, 0, rows),
                    ta: true,
                    b: opnd(&sc.v, 0, rows),
                    tb: false,
                    c: opnd(g, 0, bw),
                    alpha: 1.0,
                    beta: 0.0,
                    half: false,
                    lower_only: false,
                },
            )?;
            let tu = QrUniform {
                j0: u32_of(op, b0)?,
                jb: bw as u32,
                ldt: nb as u32,
                ldo: bw as u32,
                ..u
            };
            gpu.launch(
                &mut rec.rec,
                &format!("qr block T {bw}"),
                Kernel::QrBlocked,
                "t_from_gram",
                &[],
                &params_bytes(&tu),
                &[(2, f.tau.buffer()), (3, f.t.buffer()), (4, g)],
                [1, 1, 1],
            );
            let nc = n - b1;
            if nc > 0 {
                larfb(
                    gpu,
                    rec,
                    &sc,
                    (rows, bw, nc),
                    f.t.buffer(),
                    b0 * nb,
                    nb,
                    true,
                    f.h.buffer(),
                    b0 + b1 * m,
                    m,
                )?;
            }
        }
    }
    Ok(f)
}

/// The factors of reflectors that are already stored in LAPACK form (`h`:
/// V below the diagonal, the diagonal and above ignored; `tau`: k×1), as
/// another algorithm (the tridiagonal reduction of `eigh`) leaves them:
/// records the T factor of every panel (`larft`, one workgroup per panel,
/// all panels in one dispatch) so that [`record_apply_q`] can apply Q.
pub(crate) fn record_larft(
    gpu: &Gpu,
    rec: &mut QrRec,
    h: GpuMatrix,
    tau: GpuMatrix,
    op: &'static str,
) -> Result<Factors> {
    let (m, n) = h.shape();
    let k = tau.rows.min(m).min(n);
    let nb = QrParams::for_shape(m, n).nb;
    let t = Arc::new(gpu.storage(op, (nb * k.max(1) * 4) as u64, "qr T factors")?);
    rec.keep_matrix(&h);
    rec.keep_matrix(&tau);
    rec.keep_shared(&t);
    if k > 0 {
        let u = QrUniform {
            m: u32_of(op, m)?,
            n: u32_of(op, k)?,
            lda: u32_of(op, m)?,
            jb: nb as u32,
            ldt: nb as u32,
            ..Default::default()
        };
        gpu.launch(
            &mut rec.rec,
            &format!("{op} larft {m}x{k} nb {nb}"),
            Kernel::QrBlocked,
            "larft_panel",
            &[],
            &params_bytes(&u),
            &[(1, h.buffer()), (2, tau.buffer()), (3, t.buffer())],
            [u32_of(op, k.div_ceil(nb))?, 1, 1],
        );
    }
    Ok(Factors { h, tau, t, nb })
}

/// Records `C ← Qᵀ·C` (`trans`) or `C ← Q·C` for Q = H_0·…·H_{k−1} of `f`
/// and C m×nc (leading dimension ldc). With `identity_from = Some(c0)` the
/// caller promises C = I[:, c0 .. c0+nc] (as in `orgqr`), so each panel only
/// touches the columns the identity has non-zero below its first row.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_apply_q(
    gpu: &Gpu,
    rec: &mut QrRec,
    f: &Factors,
    trans: bool,
    c: &wgpu::Buffer,
    ldc: usize,
    nc: usize,
    identity_from: Option<usize>,
    op: &'static str,
) -> Result<()> {
    let m = f.h.rows;
    let k = f.tau.rows;
    if k == 0 || nc == 0 {
        return Ok(());
    }
    rec.keep_matrix(&f.h);
    rec.keep_shared(&f.t);
    let sc = Scratch::new(gpu, rec, op, m, f.nb, nc)?;
    let mut list = panels(k, f.nb);
    if !trans {
        list.reverse();
    }
    let flush = FactorParams::default().flush_steps;
    for (j0, jb) in list {
        let first = identity_from.map_or(0, |c0| j0.saturating_sub(c0));
        if first >= nc {
            continue;
        }
        gpu.flush_after(&mut rec.rec, flush);
        pack_v(gpu, rec, f, j0, jb, &sc)?;
        larfb(
            gpu,
            rec,
            &sc,
            (m - j0, jb, nc - first),
            f.t.buffer(),
            j0 * f.nb,
            f.nb,
            trans,
            c,
            j0 + first * ldc,
            ldc,
        )?;
    }
    Ok(())
}

/// Records R (rows × n, exact zeros below the diagonal) of `f`.
pub(crate) fn record_extract_r(
    gpu: &Gpu,
    rec: &mut QrRec,
    f: &Factors,
    rows: usize,
    op: &'static str,
) -> Result<GpuMatrix> {
    let (m, n) = f.h.shape();
    let r = GpuMatrix::alloc(&f.h.ctx, op, rows, n, 1)?;
    rec.keep_matrix(&r);
    rec.keep_matrix(&f.h);
    let u = QrUniform {
        m: u32_of(op, m)?,
        n: u32_of(op, n)?,
        lda: u32_of(op, m.max(1))?,
        rows: u32_of(op, rows)?,
        cols: u32_of(op, n)?,
        ldo: u32_of(op, rows.max(1))?,
        ..Default::default()
    };
    gpu.launch(
        &mut rec.rec,
        &format!("qr extract R {rows}x{n}"),
        Kernel::QrBlocked,
        "extract_r",
        &[],
        &params_bytes(&u),
        &[(1, f.h.buffer()), (4, r.buffer())],
        grid16(gpu, op, rows, n)?,
    );
    Ok(r)
}

/// Records columns c0 .. c1 of the m×m Q of `f` (LAPACK `orgqr`, blocked
/// backward accumulation from the identity).
pub(crate) fn record_orgqr(
    gpu: &Gpu,
    rec: &mut QrRec,
    f: &Factors,
    c0: usize,
    c1: usize,
    op: &'static str,
) -> Result<GpuMatrix> {
    let m = f.h.rows;
    let cols = c1 - c0;
    let q = GpuMatrix::alloc(&f.h.ctx, op, m, cols, 1)?;
    rec.keep_matrix(&q);
    let u = QrUniform {
        j0: u32_of(op, c0)?,
        rows: u32_of(op, m)?,
        cols: u32_of(op, cols)?,
        ldo: u32_of(op, m.max(1))?,
        ..Default::default()
    };
    gpu.launch(
        &mut rec.rec,
        &format!("qr identity {m}x{cols}"),
        Kernel::QrBlocked,
        "set_identity",
        &[],
        &params_bytes(&u),
        &[(4, q.buffer())],
        grid16(gpu, op, m, cols)?,
    );
    record_apply_q(gpu, rec, f, false, q.buffer(), m, cols, Some(c0), op)?;
    Ok(q)
}

/// Records two-pass MGS of a copy of `src` (m ≥ n): Q m×n, R n×n.
fn record_mgs(
    gpu: &Gpu,
    rec: &mut QrRec,
    src: &GpuMatrix,
    op: &'static str,
) -> Result<(GpuMatrix, GpuMatrix)> {
    let (m, n) = src.shape();
    let q = GpuMatrix::alloc(&src.ctx, op, m, n, 1)?;
    let r = GpuMatrix::alloc(&src.ctx, op, n, n, 1)?;
    rec.keep_matrix(src);
    rec.keep_matrix(&q);
    rec.keep_matrix(&r);
    rec.rec
        .copy_buffer_to_buffer(src.buffer(), 0, q.buffer(), 0, (m * n * 4) as u64);
    rec.rec.clear_buffer(r.buffer(), 0, None);
    if m == 0 || n == 0 {
        return Ok((q, r));
    }
    let c = rec.keep(gpu.storage(op, (n * 4) as u64, "mgs coefficients")?);
    let mut u = MgsUniform {
        m: u32_of(op, m)?,
        n: u32_of(op, n)?,
        ldq: u32_of(op, m)?,
        ldr: u32_of(op, n)?,
        ..Default::default()
    };
    let rows_grid = grid(gpu, m.div_ceil(256));
    for k in 0..n {
        u.k = k as u32;
        if k > 0 {
            for pass in 0..2u32 {
                u.pass = pass;
                let pb = params_bytes(&u);
                gpu.launch(
                    &mut rec.rec,
                    &format!("mgs proj {m}x{k}"),
                    Kernel::QrMgs,
                    "mgs_proj",
                    &[],
                    &pb,
                    &[(1, q.buffer()), (2, r.buffer()), (3, &c)],
                    grid(gpu, k),
                );
                gpu.launch(
                    &mut rec.rec,
                    &format!("mgs update {m}x{k}"),
                    Kernel::QrMgs,
                    "mgs_update",
                    &[],
                    &pb,
                    &[(1, q.buffer()), (3, &c)],
                    rows_grid,
                );
            }
        }
        gpu.launch(
            &mut rec.rec,
            &format!("mgs normalize {m}"),
            Kernel::QrMgs,
            "mgs_normalize",
            &[],
            &params_bytes(&u),
            &[(1, q.buffer()), (2, r.buffer())],
            [1, 1, 1],
        );
    }
    Ok((q, r))
}

/// Records `[q | orthonormal complement]` (m×m) for q m×r on the GPU.
fn record_complete(
    gpu: &Gpu,
    rec: &mut QrRec,
    q: &GpuMatrix,
    op: &'static str,
) -> Result<GpuMatrix> {
    let (m, r) = q.shape();
    let out = GpuMatrix::alloc(&q.ctx, op, m, m, 1)?;
    rec.keep_matrix(q);
    rec.keep_matrix(&out);
    rec.rec
        .copy_buffer_to_buffer(q.buffer(), 0, out.buffer(), 0, (m * r * 4) as u64);
    if r < m {
        let f = record_geqrf(gpu, rec, q, op)?;
        let rest = record_orgqr(gpu, rec, &f, r, m, op)?;
        rec.rec.copy_buffer_to_buffer(
            rest.buffer(),
            0,
            out.buffer(),
            (m * r * 4) as u64,
            (m * (m - r) * 4) as u64,
        );
    }
    Ok(out)
}

impl GpuMatrix {
    /// One f32 matrix (not a batch, not f16), or `Error::Shape`.
    pub(crate) fn need_single(&self, op: &'static str) -> Result<()> {
        self.need_f32(op)?;
        if self.batch != 1 {
            return Err(Error::shape(
                op,
                "one matrix (use the _batched form for batches)",
                format!("a batch of {}", self.batch),
            ));
        }
        Ok(())
    }

    /// Householder QR in LAPACK `geqrf` form: the factored m×n matrix (R on
    /// and above the diagonal, reflector vectors below, unit diagonal
    /// implied) and tau (min(m, n)×1), H = I − tau·v·vᵀ.
    pub fn geqrf(&self) -> Result<(GpuMatrix, GpuMatrix)> {
        let op = "geqrf";
        self.need_single(op)?;
        let gpu = self.gpu();
        gpu.scoped(|| {
            let mut rec = QrRec::new(gpu, op);
            let f = record_geqrf(gpu, &mut rec, self, op)?;
            rec.submit(gpu);
            Ok((f.h, f.tau))
        })
    }

    /// Reduced QR by blocked Householder: Q m×k, R k×n (k = min(m, n)).
    pub fn qr(&self) -> Result<(GpuMatrix, GpuMatrix)> {
        let res = self.qr_with(QrMode::Reduced, QrAlgo::Householder)?;
        let q = res.q.ok_or_else(|| Error::Gpu("qr: Q missing".into()))?;
        Ok((q, res.r))
    }

    /// QR in the given mode by the given algorithm (see [`Context::qr_with`]).
    pub fn qr_with(&self, mode: QrMode, algo: QrAlgo) -> Result<GpuQr> {
        let op = "qr";
        self.need_single(op)?;
        let (m, n) = self.shape();
        let k = m.min(n);
        if algo == QrAlgo::Mgs && m < n {
            return Err(mgs_shape(m, n));
        }
        let gpu = self.gpu();
        gpu.scoped(|| {
            let mut rec = QrRec::new(gpu, op);
            let out = match algo {
                QrAlgo::Householder => {
                    let f = record_geqrf(gpu, &mut rec, self, op)?;
                    let rows = if mode == QrMode::Complete { m } else { k };
                    let r = record_extract_r(gpu, &mut rec, &f, rows, op)?;
                    let q = match mode {
                        QrMode::R => None,
                        QrMode::Reduced => Some(record_orgqr(gpu, &mut rec, &f, 0, k, op)?),
                        QrMode::Complete => Some(record_orgqr(gpu, &mut rec, &f, 0, m, op)?),
                    };
                    GpuQr { q, r }
                }
                QrAlgo::Mgs => {
                    let pre = match cholqr_applies(gpu, m, n) {
                        true => cholqr(self, op)?,
                        false => None,
                    };
                    let (q, r) = match pre {
                        Some(qr) => qr,
                        None => record_mgs(gpu, &mut rec, self, op)?,
                    };
                    match mode {
                        QrMode::Complete if m > n => {
                            let full = record_complete(gpu, &mut rec, &q, op)?;
                            let rf = GpuMatrix::alloc(&self.ctx, op, m, n, 1)?;
                            rec.keep_matrix(&rf);
                            rec.rec.clear_buffer(rf.buffer(), 0, None);
                            encode_copy(
                                gpu,
                                &mut rec.rec,
                                r.buffer(),
                                0,
                                n,
                                rf.buffer(),
                                0,
                                m,
                                n,
                                n,
                                1.0,
                            )?;
                            GpuQr {
                                q: Some(full),
                                r: rf,
                            }
                        }
                        QrMode::R => GpuQr { q: None, r },
                        _ => GpuQr { q: Some(q), r },
                    }
                }
            };
            rec.submit(gpu);
            Ok(out)
        })
    }
}

thread_local! {
    static CHOLQR_ALLOWED: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with every `QrAlgo::Mgs` QR on this thread allowed (`true`) or
/// not allowed (`false`) to take shifted CholeskyQR3 for tall, skinny
/// inputs, whatever the environment says (`WGPU_LINALG_TALL_QR=mgs` turns
/// it off, `=cholqr` on, also on a CPU adapter). For tests and
/// comparisons of both.
#[doc(hidden)]
pub fn with_cholqr<R>(allowed: bool, f: impl FnOnce() -> R) -> R {
    with_override(&CHOLQR_ALLOWED, allowed, f)
}

/// Whether a `QrAlgo::Mgs` QR of m×n goes to shifted CholeskyQR3 first:
/// at most 64 columns and at least 16 rows per column, on a GPU adapter
/// (on lavapipe the three passes were slower than the MGS kernels,
/// benches/RESULTS.md).
fn cholqr_applies(gpu: &Gpu, m: usize, n: usize) -> bool {
    let allowed = CHOLQR_ALLOWED.with(|v| v.get()).unwrap_or_else(|| {
        match std::env::var("WGPU_LINALG_TALL_QR").as_deref() {
            Ok("mgs") => false,
            Ok("cholqr") => true,
            _ => gpu.info.device_type != wgpu::DeviceType::Cpu,
        }
    });
    allowed && (1..=64).contains(&n) && m >= 16 * n
}

/// Q (m×n) and R (n×n) of a tall, skinny A by shifted CholeskyQR3
/// (`svd_block::record_cholqr3_r`: three Gram passes, each factorized by
/// Cholesky, the first shifted so that it cannot break down), with
/// R = R₃·R₂·R₁; widths off a multiple of four are padded with zero
/// columns, which stay zero. Q's orthogonality is measured (QᵀQ as a
/// GEMM, read back): `None` when ‖QᵀQ − I‖_F exceeds 4·n·ε, as for a
/// rank-deficient or very ill-conditioned A (about cond(A)·ε ≳ 1), and
/// the caller runs two-pass MGS instead. Submitted and synchronized here.
fn cholqr(a: &GpuMatrix, op: &'static str) -> Result<Option<(GpuMatrix, GpuMatrix)>> {
    let gpu = a.gpu();
    let (m, n) = a.shape();
    let l = n.next_multiple_of(4);
    let mut rec = gpu.encoder(op);
    let b = if l == n {
        a.clone()
    } else {
        let b = GpuMatrix::alloc(&a.ctx, op, m, l, 1)?;
        rec.clear_buffer(b.buffer(), 0, None);
        rec.copy_buffer_to_buffer(a.buffer(), 0, b.buffer(), 0, (m * n * 4) as u64);
        b
    };
    let rs = [
        GpuMatrix::alloc(&a.ctx, op, l, l, 1)?,
        GpuMatrix::alloc(&a.ctx, op, l, l, 1)?,
        GpuMatrix::alloc(&a.ctx, op, l, l, 1)?,
    ];
    let qb = record_cholqr3_r(gpu, &mut rec, op, &b, Some(&rs))?;
    gpu.submit(rec);
    let rb = rs[2].matmul(&rs[1].matmul(&rs[0])?)?;
    let (q, r) = if l == n {
        (qb, rb)
    } else {
        let q = GpuMatrix::alloc(&a.ctx, op, m, n, 1)?;
        let r = GpuMatrix::alloc(&a.ctx, op, n, n, 1)?;
        let mut rec = gpu.encoder(op);
        rec.copy_buffer_to_buffer(qb.buffer(), 0, q.buffer(), 0, (m * n * 4) as u64);
        encode_copy(
            gpu,
            &mut rec,
            rb.buffer(),
            0,
            l,
            r.buffer(),
            0,
            n,
            n,
            n,
            1.0,
        )?;
        gpu.submit(rec);
        (q, r)
    };
    let defect = orth_defect(&q)?;
    let bound = 4.0 * n as f64 * f64::from(f32::EPSILON);
    log::debug!(target: "wgpu_linalg::qr", "{op} {m}x{n}: CholeskyQR3 defect {defect:.3e} (bound {bound:.3e})");
    // (a NaN defect fails too)
    Ok((defect <= bound).then_some((q, r)))
}

/// ‖QᵀQ − I‖_F of q's columns, with QᵀQ formed as an f32 GEMM on the GPU
/// and read back (NaN where q holds one).
pub(crate) fn orth_defect(q: &GpuMatrix) -> Result<f64> {
    let n = q.cols;
    let g = q.matmul_t(true, q, false)?.download()?;
    Ok(g.iter()
        .enumerate()
        .map(|(e, &v)| {
            let d = f64::from(v) - if e % n == e / n { 1.0 } else { 0.0 };
            d * d
        })
        .sum::<f64>()
        .sqrt())
}

fn mgs_shape(m: usize, n: usize) -> Error {
    Error::shape(
        "qr",
        "m ≥ n for QrAlgo::Mgs (use Householder for wide matrices)",
        format!("{m}×{n}"),
    )
}

/// The empty-matrix answer of every mode.
fn empty_qr(m: usize, n: usize, mode: QrMode) -> Qr {
    let k = m.min(n);
    let rows = if mode == QrMode::Complete { m } else { k };
    let q = match mode {
        QrMode::R => None,
        QrMode::Reduced => Some(DMatrix::zeros(m, k)),
        QrMode::Complete => Some(DMatrix::identity(m, m)),
    };
    Qr {
        q,
        r: DMatrix::zeros(rows, n),
    }
}

impl Context {
    /// Reduced QR by blocked Householder: `A = Q·R` with Q m×k orthonormal
    /// columns and R k×n upper triangular (exact zeros below the diagonal),
    /// k = min(m, n). Any shape.
    pub fn qr(&self, a: &DMatrix<f32>) -> Result<(DMatrix<f32>, DMatrix<f32>)> {
        let res = self.qr_with(a, QrMode::Reduced, QrAlgo::Householder)?;
        let q = res.q.ok_or_else(|| Error::Gpu("qr: Q missing".into()))?;
        Ok((q, res.r))
    }

    /// QR in NumPy's modes (`Reduced`: Q m×k, R k×n; `Complete`: Q m×m,
    /// R m×n; `R`: R only, `q` is `None`) by blocked Householder or by
    /// two-pass modified Gram–Schmidt (m ≥ n; `Error::Shape` otherwise).
    /// R has exact zeros below the diagonal. The signs of R's diagonal
    /// follow the algorithm (Householder: LAPACK's β = −sign(α)·‖x‖; MGS:
    /// non-negative).
    pub fn qr_with(&self, a: &DMatrix<f32>, mode: QrMode, algo: QrAlgo) -> Result<Qr> {
        let op = match algo {
            QrAlgo::Householder => "qr",
            QrAlgo::Mgs => "qr_mgs",
        };
        self.qr_route(op, a, mode, algo)
    }

    pub(crate) fn qr_route(
        &self,
        op: &'static str,
        a: &DMatrix<f32>,
        mode: QrMode,
        algo: QrAlgo,
    ) -> Result<Qr> {
        check_finite(op, a)?;
        let (m, n) = a.shape();
        if algo == QrAlgo::Mgs && m < n {
            return Err(mgs_shape(m, n));
        }
        if m == 0 || n == 0 {
            return Ok(empty_qr(m, n, mode));
        }
        let route = decide(self, op, nominal_flops(op, m, 0, n, 1), 1)?;
        match route {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let res = self.upload(a)?.qr_with(mode, algo)?;
                    Ok(Qr {
                        q: res.q.map(|q| q.download()).transpose()?,
                        r: res.r.download()?,
                    })
                })
            }
            _ => Ok(cpu_qr(a, mode, algo)),
        }
    }

    /// Householder QR in LAPACK `geqrf` form: `(h, tau)` with R on and above
    /// the diagonal of h, the reflector vectors below it (unit diagonal
    /// implied) and `H_j = I − tau_j·v_j·v_jᵀ`, Q = H_0·…·H_{k−1}
    /// (k = min(m, n)). Both routes use LAPACK's sign convention.
    pub fn geqrf(&self, a: &DMatrix<f32>) -> Result<(DMatrix<f32>, DVector<f32>)> {
        let op = "geqrf";
        check_finite(op, a)?;
        let (m, n) = a.shape();
        if m == 0 || n == 0 {
            return Ok((a.clone(), DVector::zeros(0)));
        }
        match decide(self, op, nominal_flops(op, m, 0, n, 1), 1)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let (h, tau) = self.upload(a)?.geqrf()?;
                    Ok((
                        h.download()?,
                        DVector::from_column_slice(tau.download()?.as_slice()),
                    ))
                })
            }
            _ => Ok(cpu::geqrf(a)),
        }
    }

    /// An m×k matrix (k = min(m, n)) with orthonormal columns whose first j
    /// columns span the first j columns of A whenever those are linearly
    /// independent: the reduced Householder Q. Rank deficiency is not
    /// detected (use an SVD for an orthonormal basis of the range).
    pub fn orthonormal_columns(&self, a: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        let res = self.qr_route(
            "orthonormal_columns",
            a,
            QrMode::Reduced,
            QrAlgo::Householder,
        )?;
        res.q
            .ok_or_else(|| Error::Gpu("orthonormal_columns: Q missing".into()))
    }

    /// A k×n matrix (k = min(m, n)) with orthonormal rows spanning the row
    /// space of A when A has full row rank: the transpose of the reduced
    /// Householder Q of Aᵀ.
    pub fn orthonormal_rows(&self, a: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        let res = self.qr_route(
            "orthonormal_rows",
            &a.transpose(),
            QrMode::Reduced,
            QrAlgo::Householder,
        )?;
        res.q
            .map(|q| q.transpose())
            .ok_or_else(|| Error::Gpu("orthonormal_rows: Q missing".into()))
    }

    /// `[q | q⊥]`: the m×r matrix q with orthonormal columns (r ≤ m), kept
    /// as given, followed by m − r orthonormal columns orthogonal to
    /// span(q) (the trailing columns of the complete Householder Q of q).
    pub fn complete_basis(&self, q: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        let op = "complete_basis";
        check_finite(op, q)?;
        let (m, r) = q.shape();
        if r > m {
            return Err(Error::shape(
                op,
                "an m×r basis with r ≤ m",
                format!("{m}×{r}"),
            ));
        }
        if r == m {
            return Ok(q.clone());
        }
        let rest = match decide(self, op, nominal_flops(op, m, 0, r.max(1), 1), 1)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let gq = self.upload(q)?;
                    let mut rec = QrRec::new(gpu, op);
                    let f = record_geqrf(gpu, &mut rec, &gq, op)?;
                    let rest = record_orgqr(gpu, &mut rec, &f, r, m, op)?;
                    rec.submit(gpu);
                    rest.download()
                })?
            }
            _ => {
                let (h, tau) = cpu::geqrf(q);
                cpu::orgqr(&h, &tau, r, m)
            }
        };
        let mut out = DMatrix::<f32>::zeros(m, m);
        out.columns_mut(0, r).copy_from(q);
        out.columns_mut(r, m - r).copy_from(&rest);
        Ok(out)
    }
}

/// The CPU route of `qr_with`.
fn cpu_qr(a: &DMatrix<f32>, mode: QrMode, algo: QrAlgo) -> Qr {
    let (m, n) = a.shape();
    match (algo, mode) {
        (QrAlgo::Householder, _) => {
            // LAPACK-style Householder with f64-accumulated norms (nalgebra's
            // f32 QR under- and overflows for entries near 1e±20 and beyond)
            let (h, tau) = cpu::geqrf(a);
            let k = m.min(n);
            let (qc, rows) = match mode {
                QrMode::Complete => (m, m),
                _ => (k, k),
            };
            Qr {
                q: (mode != QrMode::R).then(|| cpu::orgqr(&h, &tau, 0, qc)),
                r: cpu::r_of(&h, rows),
            }
        }
        (QrAlgo::Mgs, _) => {
            let (q, r) = cpu::mgs(a);
            match mode {
                QrMode::R => Qr { q: None, r },
                QrMode::Complete if m > n => {
                    let (h, tau) = cpu::geqrf(&q);
                    let rest = cpu::orgqr(&h, &tau, n, m);
                    let mut full = DMatrix::<f32>::zeros(m, m);
                    full.columns_mut(0, n).copy_from(&q);
                    full.columns_mut(n, m - n).copy_from(&rest);
                    let mut rf = DMatrix::<f32>::zeros(m, n);
                    rf.rows_mut(0, n).copy_from(&r);
                    Qr {
                        q: Some(full),
                        r: rf,
                    }
                }
                _ => Qr { q: Some(q), r },
            }
        }
    }
}

#[cfg(test)]
mod cholqr_tests {
    use super::*;

    /// Which tall, skinny inputs CholeskyQR3 keeps: well-conditioned ones
    /// (widths on and off multiples of four), not a rank-deficient one
    /// (the caller then runs MGS); where kept, A = QR and Q is orthonormal.
    #[test]
    fn cholqr_keeps_well_conditioned_and_refuses_rank_deficient() {
        let Some(ctx) = crate::testing::gpu_context(wgpu::Features::empty(), "CholeskyQR3") else {
            return;
        };
        // the stream that starts from the state 0x2545_f491_4f6c_dd1d
        let mut next = crate::testing::xorshift(0x4232_db54_aa7f_b6e9);
        let eps = f64::from(f32::EPSILON);
        // (m, n, cond, kept)
        let cases = [
            (4096, 32, 1e1f64, true),
            (2000, 7, 1e3, true),
            (1100, 37, 1e4, true),
            (5000, 64, 1e2, true),
            (1500, 24, 0.0, false),
        ];
        for &(m, n, cond, kept) in &cases {
            let a64 = if cond == 0.0 {
                // rank 5
                let x = DMatrix::<f64>::from_fn(m, 5, |_, _| next());
                x * DMatrix::<f64>::from_fn(5, n, |_, _| next())
            } else {
                crate::testing::with_kappa_from(&mut next, m, n, cond)
            };
            let a = a64.map(|x| x as f32);
            let ga = ctx.upload(&a).unwrap();
            let got = cholqr(&ga, "qr").unwrap();
            assert_eq!(got.is_some(), kept, "{m}x{n} cond {cond:e}");
            let Some((q, r)) = got else { continue };
            let (q, r) = (q.download().unwrap(), r.download().unwrap());
            let (q, r) = (q.map(f64::from), r.map(f64::from));
            for j in 0..n {
                for i in j + 1..n {
                    assert_eq!(r[(i, j)], 0.0, "{m}x{n}: R below the diagonal");
                }
            }
            let res = (&a.map(f64::from) - &q * &r).norm() / a64.norm();
            let orth = (q.transpose() * &q - DMatrix::<f64>::identity(n, n)).norm();
            eprintln!("{m}x{n} cond {cond:e}: ‖A−QR‖/‖A‖ {res:.3e}, ‖QᵀQ−I‖ {orth:.3e}");
            assert!(res <= 2.0 * m as f64 * eps, "{m}x{n}: residual {res:.3e}");
            assert!(
                orth <= 4.0 * n as f64 * eps,
                "{m}x{n}: orthogonality {orth:.3e}"
            );
        }
    }
}
