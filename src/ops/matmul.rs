//! GEMM: `C = alpha·op(A)·op(B) + beta·C`, single and batched, f32 and
//! f16-storage.
//!
//! Algorithm: large problems use a 128×128-tile kernel in which each
//! invocation accumulates an 8×8 register block over 8-deep k slabs staged
//! in workgroup memory (2mnk flops, about 2mnk/64 + mn·k/16 bytes of
//! workgroup traffic per tile); small and batched problems use a 16×16-tile
//! kernel with one output per invocation, one dispatch for the whole batch.
//! Accuracy: ordinary f32 dot products with fused multiply-adds, so
//! |C − Ĉ| ≤ k·ε·|A|·|B| elementwise (f16 inputs are widened exactly; the
//! accumulation is f32).

use half::f16;
use nalgebra::DMatrix;

use crate::context::{Context, Route};
use crate::cpu;
use crate::dispatch::decide;
use crate::error::{Error, Result};
use crate::gpu::Recorder;
use crate::gpu::{params_bytes, Gpu, GpuMatrix, Kernel};

/// Uniform block of the GEMM kernels (`GemmParams` in `wgsl/gemm/io_*.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct GemmUniform {
    m: u32,
    n: u32,
    k: u32,
    batch_base: u32,
    lda: u32,
    ldb: u32,
    ldc: u32,
    pad0: u32,
    a_off: u32,
    b_off: u32,
    c_off: u32,
    pad1: u32,
    stride_a: u32,
    stride_b: u32,
    stride_c: u32,
    pad2: u32,
    alpha: f32,
    beta: f32,
    pad3: f32,
    pad4: f32,
}

/// Which GEMM kernel runs a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmVariant {
    /// 128×128 tiles, 8×8 register blocks.
    Tiled,
    /// 16×16 tiles, one output per invocation.
    Small,
}

/// Tuning parameters of GEMM, with automatic defaults.
#[derive(Clone, Copy, Debug)]
pub struct GemmParams {
    /// Use the tiled kernel from this many elements of C per matrix.
    pub tiled_min_elems: usize,
}

impl Default for GemmParams {
    fn default() -> Self {
        // One 128×128 tile's worth of output: below that most of a tiled
        // workgroup would idle.
        GemmParams {
            tiled_min_elems: 128 * 128,
        }
    }
}

impl GemmParams {
    pub fn variant(&self, m: usize, n: usize) -> GemmVariant {
        if m * n >= self.tiled_min_elems {
            GemmVariant::Tiled
        } else {
            GemmVariant::Small
        }
    }
}

/// One operand of a GEMM on the GPU: buffer, element offset, leading
/// dimension and batch stride (0 broadcasts one matrix over the batch).
#[derive(Clone, Copy)]
pub(crate) struct Operand<'a> {
    pub buf: &'a wgpu::Buffer,
    pub off: usize,
    pub ld: usize,
    pub stride: usize,
}

/// A GEMM problem for [`encode_gemm`]; dimensions are of op(A) (m×k),
/// op(B) (k×n) and C (m×n).
pub(crate) struct Gemm<'a> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub batch: usize,
    pub a: Operand<'a>,
    pub ta: bool,
    pub b: Operand<'a>,
    pub tb: bool,
    pub c: Operand<'a>,
    pub alpha: f32,
    pub beta: f32,
    /// f16 storage for A and B.
    pub half: bool,
    /// Only C's lower triangle (i ≥ j) is needed: tiles wholly above the
    /// diagonal are skipped (tiled kernel; the small one computes them).
    pub lower_only: bool,
}

fn u32_of(op: &'static str, v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::TooLarge {
        op,
        bytes: (v as u64).saturating_mul(4),
        limit: u32::MAX as u64,
    })
}

/// Whether C can be written as aligned vec4 (every four-row group of a
/// column one 16-byte store).
fn c_vec4_ok(g: &Gemm<'_>) -> bool {
    g.m.is_multiple_of(4)
        && g.c.ld.is_multiple_of(4)
        && g.c.off.is_multiple_of(4)
        && g.c.stride.is_multiple_of(4)
}

/// Records a GEMM (batched over z, in chunks the dispatch limit allows).
pub(crate) fn encode_gemm(gpu: &Gpu, enc: &mut Recorder, g: &Gemm<'_>) -> Result<()> {
    if g.m == 0 || g.n == 0 || g.batch == 0 {
        return Ok(());
    }
    let variant = GemmParams::default().variant(g.m, g.n);
    let (kernel, tile) = match (variant, g.half) {
        (_, true) => (Kernel::GemmTiledF16, 128),
        (GemmVariant::Tiled, false) if c_vec4_ok(g) => (Kernel::GemmTiledC4, 128),
        (GemmVariant::Tiled, false) => (Kernel::GemmTiled, 128),
        (GemmVariant::Small, false) => (Kernel::GemmSmall, 16),
    };
    let op = "matmul";
    let mut u = GemmUniform {
        m: u32_of(op, g.m)?,
        n: u32_of(op, g.n)?,
        k: u32_of(op, g.k)?,
        batch_base: 0,
        lda: u32_of(op, g.a.ld.max(1))?,
        ldb: u32_of(op, g.b.ld.max(1))?,
        ldc: u32_of(op, g.c.ld.max(1))?,
        a_off: u32_of(op, g.a.off)?,
        b_off: u32_of(op, g.b.off)?,
        c_off: u32_of(op, g.c.off)?,
        stride_a: u32_of(op, g.a.stride)?,
        stride_b: u32_of(op, g.b.stride)?,
        stride_c: u32_of(op, g.c.stride)?,
        alpha: g.alpha,
        beta: g.beta,
        ..Default::default()
    };
    let gx = g.m.div_ceil(tile) as u32;
    let gy = g.n.div_ceil(tile) as u32;
    let max = gpu.max_groups() as usize;
    if gx as usize > max || gy as usize > max {
        return Err(Error::TooLarge {
            op,
            bytes: (g.m * g.n * 4) as u64,
            limit: (max * tile * max * tile * 4) as u64,
        });
    }
    let mut constants = vec![("TA", g.ta as u32 as f64), ("TB", g.tb as u32 as f64)];
    if g.lower_only && tile == 128 {
        constants.push(("LOWER", 1.0));
    }
    let label = format!(
        "gemm {}x{}x{} batch {} ta={} tb={} {:?}",
        g.m, g.k, g.n, g.batch, g.ta, g.tb, variant
    );
    let mut base = 0usize;
    while base < g.batch {
        let chunk = (g.batch - base).min(max);
        u.batch_base = base as u32;
        gpu.launch(
            enc,
            &label,
            kernel,
            "main",
            &constants,
            &params_bytes(&u),
            &[(1, g.a.buf), (2, g.b.buf), (3, g.c.buf)],
            [gx, gy, chunk as u32],
        );
        base += chunk;
    }
    Ok(())
}

/// Shape of op(X) for X of `shape`.
fn op_shape(shape: (usize, usize), t: bool) -> (usize, usize) {
    if t {
        (shape.1, shape.0)
    } else {
        shape
    }
}

fn check_inner(op: &'static str, a: (usize, usize), b: (usize, usize)) -> Result<()> {
    if a.1 != b.0 {
        return Err(Error::shape(
            op,
            format!(
                "op(A) m×k and op(B) k×n with equal k (op(A) is {}×{})",
                a.0, a.1
            ),
            format!("op(B) {}×{}", b.0, b.1),
        ));
    }
    Ok(())
}

fn gemm_flops(m: usize, n: usize, k: usize, batch: usize) -> f64 {
    crate::dispatch::nominal_flops("matmul", m, k, n, batch)
}

impl Context {
    /// `A·B`.
    pub fn matmul(&self, a: &DMatrix<f32>, b: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        self.matmul_t(a, false, b, false)
    }

    /// `op(A)·op(B)` where `op(X)` is `Xᵀ` when the flag is set.
    pub fn matmul_t(
        &self,
        a: &DMatrix<f32>,
        ta: bool,
        b: &DMatrix<f32>,
        tb: bool,
    ) -> Result<DMatrix<f32>> {
        self.gemm_host(1.0, a, ta, b, tb, 0.0, None)
    }

    /// `alpha·op(A)·op(B) + beta·C` (C is not read when `beta == 0`).
    #[allow(clippy::too_many_arguments)]
    pub fn gemm(
        &self,
        alpha: f32,
        a: &DMatrix<f32>,
        ta: bool,
        b: &DMatrix<f32>,
        tb: bool,
        beta: f32,
        c: &DMatrix<f32>,
    ) -> Result<DMatrix<f32>> {
        self.gemm_host(alpha, a, ta, b, tb, beta, Some(c))
    }

    #[allow(clippy::too_many_arguments)]
    fn gemm_host(
        &self,
        alpha: f32,
        a: &DMatrix<f32>,
        ta: bool,
        b: &DMatrix<f32>,
        tb: bool,
        beta: f32,
        c: Option<&DMatrix<f32>>,
    ) -> Result<DMatrix<f32>> {
        let sa = op_shape(a.shape(), ta);
        let sb = op_shape(b.shape(), tb);
        check_inner("matmul", sa, sb)?;
        let (m, k, n) = (sa.0, sa.1, sb.1);
        if let Some(c) = c {
            if c.shape() != (m, n) {
                return Err(Error::shape(
                    "matmul",
                    format!("C {m}×{n}"),
                    format!("C {}×{}", c.nrows(), c.ncols()),
                ));
            }
        }
        let c = c.filter(|_| beta != 0.0);
        if m == 0 || n == 0 {
            return Ok(DMatrix::zeros(m, n));
        }
        match decide(self, "matmul", gemm_flops(m, n, k, 1), 1)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let ga = self.upload(a)?;
                    let gb = self.upload(b)?;
                    let gc = c.map(|c| self.upload(c)).transpose()?;
                    ga.gemm_into(alpha, ta, &gb, tb, beta, gc.as_ref())?
                        .download()
                })
            }
            _ => Ok(cpu::gemm(alpha, a, ta, b, tb, beta, c)),
        }
    }

    /// `A·B` for f16 matrices, accumulated in f32. Uses f16 storage on the
    /// GPU where the adapter has `SHADER_F16`; otherwise the operands are
    /// widened to f32 (exactly) and multiplied by the f32 path.
    pub fn matmul_f16(&self, a: &DMatrix<f16>, b: &DMatrix<f16>) -> Result<DMatrix<f32>> {
        check_inner("matmul_f16", a.shape(), b.shape())?;
        let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
        if m == 0 || n == 0 {
            return Ok(DMatrix::zeros(m, n));
        }
        let route = decide(self, "matmul_f16", gemm_flops(m, n, k, 1), 1)?;
        let gpu = self.gpu();
        match (route, gpu) {
            (Route::Gpu, Some(gpu)) if gpu.features.contains(wgpu::Features::SHADER_F16) => gpu
                .scoped(|| {
                    let ga = self.upload_f16(a)?;
                    let gb = self.upload_f16(b)?;
                    ga.matmul(&gb)?.download()
                }),
            _ => {
                let a32 = a.map(f32::from);
                let b32 = b.map(f32::from);
                match route {
                    Route::Gpu => self.matmul(&a32, &b32),
                    _ => Ok(cpu::gemm(1.0, &a32, false, &b32, false, 0.0, None)),
                }
            }
        }
    }

    /// `A_i·B_i` for each pair, one dispatch for the batch on the GPU.
    pub fn matmul_batched(
        &self,
        a: &[DMatrix<f32>],
        b: &[DMatrix<f32>],
    ) -> Result<Vec<DMatrix<f32>>> {
        if a.len() != b.len() {
            return Err(Error::shape(
                "matmul_batched",
                format!("{} right-hand matrices", a.len()),
                format!("{}", b.len()),
            ));
        }
        let Some((a0, b0)) = a.first().zip(b.first()) else {
            return Ok(Vec::new());
        };
        check_inner("matmul_batched", a0.shape(), b0.shape())?;
        for (x, y) in a.iter().zip(b) {
            if x.shape() != a0.shape() || y.shape() != b0.shape() {
                return Err(Error::shape(
                    "matmul_batched",
                    format!(
                        "all A {}×{}, all B {}×{}",
                        a0.nrows(),
                        a0.ncols(),
                        b0.nrows(),
                        b0.ncols()
                    ),
                    format!(
                        "A {}×{}, B {}×{}",
                        x.nrows(),
                        x.ncols(),
                        y.nrows(),
                        y.ncols()
                    ),
                ));
            }
        }
        let (m, k, n) = (a0.nrows(), a0.ncols(), b0.ncols());
        match decide(
            self,
            "matmul_batched",
            gemm_flops(m, n, k, a.len()),
            a.len(),
        )? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let ga = self.upload_batch(a)?;
                    let gb = self.upload_batch(b)?;
                    ga.matmul(&gb)?.download_batch()
                })
            }
            _ => Ok(a.iter().zip(b).map(|(x, y)| x * y).collect()),
        }
    }
}

impl GpuMatrix {
    /// `self·b` (batched when either operand is a batch; a single matrix is
    /// broadcast over the other's batch).
    pub fn matmul(&self, b: &GpuMatrix) -> Result<GpuMatrix> {
        self.gemm_into(1.0, false, b, false, 0.0, None)
    }

    /// `op(self)·op(b)`.
    pub fn matmul_t(&self, ta: bool, b: &GpuMatrix, tb: bool) -> Result<GpuMatrix> {
        self.gemm_into(1.0, ta, b, tb, 0.0, None)
    }

    /// `alpha·op(self)·op(b) + beta·c` into a new matrix (`c` is not changed).
    pub fn gemm(
        &self,
        alpha: f32,
        ta: bool,
        b: &GpuMatrix,
        tb: bool,
        beta: f32,
        c: &GpuMatrix,
    ) -> Result<GpuMatrix> {
        self.gemm_into(alpha, ta, b, tb, beta, Some(c))
    }

    pub(crate) fn gemm_into(
        &self,
        alpha: f32,
        ta: bool,
        b: &GpuMatrix,
        tb: bool,
        beta: f32,
        c: Option<&GpuMatrix>,
    ) -> Result<GpuMatrix> {
        let op = "matmul";
        self.same_device(op, b)?;
        if self.half != b.half {
            return Err(Error::shape(
                op,
                "operands of one element type",
                "an f16 and an f32 operand",
            ));
        }
        let sa = op_shape(self.shape(), ta);
        let sb = op_shape(b.shape(), tb);
        check_inner(op, sa, sb)?;
        let (m, k, n) = (sa.0, sa.1, sb.1);
        let batch = match (self.batch, b.batch) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => {
                return Err(Error::shape(
                    op,
                    format!("batch {x} (or 1)"),
                    format!("batch {y}"),
                ))
            }
        };
        if let Some(c) = c {
            self.same_device(op, c)?;
            c.need_f32(op)?;
            if c.shape() != (m, n) || (c.batch != batch && c.batch != 1) {
                return Err(Error::shape(
                    op,
                    format!("C {batch}×{m}×{n}"),
                    format!("C {}×{}×{}", c.batch, c.rows, c.cols),
                ));
            }
        }
        let gpu = self.gpu();
        gpu.scoped(|| {
            let out = GpuMatrix::alloc(&self.ctx, op, m, n, batch)?;
            let mut enc = gpu.encoder("gemm");
            let c_src = match c.filter(|_| beta != 0.0) {
                Some(c) => {
                    // out = c first (broadcast when c is one matrix), then beta·out.
                    let bytes = (m * n * 4) as u64;
                    if c.batch == batch {
                        enc.copy_buffer_to_buffer(
                            c.buffer(),
                            0,
                            out.buffer(),
                            0,
                            bytes * batch as u64,
                        );
                    } else {
                        for z in 0..batch as u64 {
                            enc.copy_buffer_to_buffer(
                                c.buffer(),
                                0,
                                out.buffer(),
                                z * bytes,
                                bytes,
                            );
                        }
                    }
                    beta
                }
                None => 0.0,
            };
            let stride = |x: &GpuMatrix| if x.batch == 1 { 0 } else { x.len1() };
            encode_gemm(
                gpu,
                &mut enc,
                &Gemm {
                    m,
                    n,
                    k,
                    batch,
                    a: Operand {
                        buf: self.buffer(),
                        off: 0,
                        ld: self.rows,
                        stride: stride(self),
                    },
                    ta,
                    b: Operand {
                        buf: b.buffer(),
                        off: 0,
                        ld: b.rows,
                        stride: stride(b),
                    },
                    tb,
                    c: Operand {
                        buf: out.buffer(),
                        off: 0,
                        ld: m,
                        stride: m * n,
                    },
                    alpha,
                    beta: c_src,
                    half: self.half,
                    lower_only: false,
                },
            )?;
            gpu.submit(enc);
            Ok(out)
        })
    }
}
