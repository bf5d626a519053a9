//! Support kernels the factorizations build on: transpose and strided copy,
//! scale, axpy, LAPACK-style row swaps (`laswp`) and reductions (dot,
//! Frobenius norm, max |x| with index).
//!
//! Reductions accumulate in double-float (TwoSum/TwoProd) pairs, so a dot
//! product of length n carries an error of about ε·Σ|xᵢyᵢ| (plus ε of the
//! final rounding) instead of n·ε·Σ|xᵢyᵢ|; the Frobenius norm is scaled by
//! max |x| first, so it neither overflows nor underflows. Results stay in a
//! GPU buffer for later kernels; the host methods read back one scalar.

use crate::error::{Error, Result};
use crate::gpu::pool::PooledBuffer;
use crate::gpu::Recorder;
use crate::gpu::{params_bytes, Gpu, GpuMatrix, Kernel};
use crate::ops::u32_of;

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct EwUniform {
    rows: u32,
    cols: u32,
    batch_base: u32,
    n: u32,
    ld_in: u32,
    ld_out: u32,
    off_in: u32,
    off_out: u32,
    stride_in: u32,
    stride_out: u32,
    k0: u32,
    k1: u32,
    alpha: f32,
    skip0: u32,
    skip1: u32,
    pad: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct RedUniform {
    n: u32,
    off_x: u32,
    off_y: u32,
    parts: u32,
    mode: u32,
    pad: [u32; 3],
}

const WG: usize = 256;
/// Most partials a first reduction stage writes.
const MAX_PARTS: usize = 256;

/// Workgroups for `n` elements at 256 per group, as a 2-D grid within the
/// per-dimension limit.
fn grid_1d(gpu: &Gpu, n: usize) -> [u32; 3] {
    let groups = n.div_ceil(WG).max(1);
    let max = gpu.max_groups() as usize;
    if groups <= max {
        [groups as u32, 1, 1]
    } else {
        [max as u32, groups.div_ceil(max) as u32, 1]
    }
}

/// Scratch and result buffers of one reduction.
pub(crate) struct Reduction {
    part: PooledBuffer,
    part_idx: PooledBuffer,
    /// res[0] = max |x|, res[1] = sum/dot/norm.
    pub(crate) res: PooledBuffer,
    pub(crate) res_idx: PooledBuffer,
}

impl Reduction {
    pub(crate) fn new(gpu: &Gpu, op: &'static str) -> Result<Reduction> {
        Ok(Reduction {
            part: gpu.storage(op, (2 * MAX_PARTS * 4) as u64, "reduce partials")?,
            part_idx: gpu.storage(op, (MAX_PARTS * 4) as u64, "reduce partial indices")?,
            res: gpu.storage(op, 16, "reduce result")?,
            res_idx: gpu.storage(op, 4, "reduce result index")?,
        })
    }
}

fn parts_for(n: usize) -> usize {
    n.div_ceil(WG * 4).clamp(1, MAX_PARTS)
}

/// Records max |x[off..off+n]| and its first index into `r.res[0]`,
/// `r.res_idx[0]`.
pub(crate) fn encode_maxabs(
    gpu: &Gpu,
    enc: &mut Recorder,
    x: &wgpu::Buffer,
    off: usize,
    n: usize,
    r: &Reduction,
) -> Result<()> {
    let parts = parts_for(n);
    let u = RedUniform {
        n: u32_of("max_abs", n)?,
        off_x: u32_of("max_abs", off)?,
        parts: parts as u32,
        ..Default::default()
    };
    let pb = params_bytes(&u);
    gpu.launch(
        enc,
        "maxabs partial",
        Kernel::Reduce,
        "maxabs_partial",
        &[],
        &pb,
        &[(1, x), (3, r.part.buffer()), (4, r.part_idx.buffer())],
        [parts as u32, 1, 1],
    );
    gpu.launch(
        enc,
        "maxabs finish",
        Kernel::Reduce,
        "maxabs_finish",
        &[],
        &pb,
        &[
            (3, r.part.buffer()),
            (4, r.part_idx.buffer()),
            (5, r.res.buffer()),
            (6, r.res_idx.buffer()),
        ],
        [1, 1, 1],
    );
    Ok(())
}

/// Records ‖x[off..off+n]‖₂ into `r.res[1]` (and max |x| into `r.res[0]`).
pub(crate) fn encode_norm(
    gpu: &Gpu,
    enc: &mut Recorder,
    x: &wgpu::Buffer,
    off: usize,
    n: usize,
    r: &Reduction,
) -> Result<()> {
    encode_maxabs(gpu, enc, x, off, n, r)?;
    let parts = parts_for(n);
    let u = RedUniform {
        n: u32_of("norm", n)?,
        off_x: u32_of("norm", off)?,
        parts: parts as u32,
        mode: 1,
        ..Default::default()
    };
    let pb = params_bytes(&u);
    gpu.launch(
        enc,
        "sumsq partial",
        Kernel::Reduce,
        "sumsq_partial",
        &[],
        &pb,
        &[(1, x), (3, r.part.buffer()), (5, r.res.buffer())],
        [parts as u32, 1, 1],
    );
    encode_sum_finish(gpu, enc, "norm finish", &pb, r);
    Ok(())
}

/// Second stage of the compensated sums: the partials of `r` into
/// `r.res[1]` (plain sum, or `res[0]·sqrt(sum)` for a norm, by `pb`'s mode).
fn encode_sum_finish(gpu: &Gpu, enc: &mut Recorder, label: &str, pb: &[u8], r: &Reduction) {
    gpu.launch(
        enc,
        label,
        Kernel::Reduce,
        "sum_finish",
        &[],
        pb,
        &[(3, r.part.buffer()), (5, r.res.buffer())],
        [1, 1, 1],
    );
}

/// Records x[offx..]·y[offy..] over n elements into `r.res[1]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_dot(
    gpu: &Gpu,
    enc: &mut Recorder,
    x: &wgpu::Buffer,
    offx: usize,
    y: &wgpu::Buffer,
    offy: usize,
    n: usize,
    r: &Reduction,
) -> Result<()> {
    let parts = parts_for(n);
    let u = RedUniform {
        n: u32_of("dot", n)?,
        off_x: u32_of("dot", offx)?,
        off_y: u32_of("dot", offy)?,
        parts: parts as u32,
        mode: 0,
        ..Default::default()
    };
    let pb = params_bytes(&u);
    gpu.launch(
        enc,
        "dot partial",
        Kernel::Reduce,
        "dot_partial",
        &[],
        &pb,
        &[(1, x), (2, y), (3, r.part.buffer())],
        [parts as u32, 1, 1],
    );
    encode_sum_finish(gpu, enc, "dot finish", &pb, r);
    Ok(())
}

/// Records `dst[i + j·ld_dst] = alpha·src[i + j·ld_src]` for a rows × cols
/// block (offsets in elements).
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_copy(
    gpu: &Gpu,
    enc: &mut Recorder,
    src: &wgpu::Buffer,
    src_off: usize,
    ld_src: usize,
    dst: &wgpu::Buffer,
    dst_off: usize,
    ld_dst: usize,
    rows: usize,
    cols: usize,
    alpha: f32,
) -> Result<()> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let op = "copy";
    let u = EwUniform {
        rows: u32_of(op, rows)?,
        cols: u32_of(op, cols)?,
        ld_in: u32_of(op, ld_src)?,
        ld_out: u32_of(op, ld_dst)?,
        off_in: u32_of(op, src_off)?,
        off_out: u32_of(op, dst_off)?,
        alpha,
        ..Default::default()
    };
    gpu.launch(
        enc,
        "copy block",
        Kernel::Elementwise,
        "copy",
        &[],
        &params_bytes(&u),
        &[(1, src), (2, dst)],
        [rows.div_ceil(16) as u32, cols.div_ceil(16) as u32, 1],
    );
    Ok(())
}

/// Workgroups of a `laswp` dispatch: sixteen columns each (2·LCOLS in
/// `elementwise.wgsl`), looping over the rest past the dispatch limit.
fn laswp_groups(gpu: &Gpu, cols: usize) -> u32 {
    cols.div_ceil(16).clamp(1, gpu.max_groups() as usize) as u32
}

/// Records LAPACK `laswp` on `cols` columns from `c0` of an m-row matrix,
/// passing over the columns `skip.0 .. skip.1` (relative to c0): for r in
/// k0..k1, rows r and ipiv[r] are swapped.
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_laswp(
    gpu: &Gpu,
    enc: &mut Recorder,
    a: &wgpu::Buffer,
    m: usize,
    lda: usize,
    c0: usize,
    cols: usize,
    ipiv: &wgpu::Buffer,
    k0: usize,
    k1: usize,
    skip: (usize, usize),
) -> Result<()> {
    if cols == 0 || k1 <= k0 {
        return Ok(());
    }
    let op = "laswp";
    let u = EwUniform {
        rows: u32_of(op, m)?,
        cols: u32_of(op, cols)?,
        ld_out: u32_of(op, lda)?,
        off_out: u32_of(op, c0 * lda)?,
        k0: k0 as u32,
        k1: k1 as u32,
        skip0: u32_of(op, skip.0)?,
        skip1: u32_of(op, skip.1)?,
        ..Default::default()
    };
    gpu.launch(
        enc,
        "laswp",
        Kernel::Elementwise,
        "laswp",
        &[],
        &params_bytes(&u),
        &[(2, a), (3, ipiv)],
        [laswp_groups(gpu, cols), 1, 1],
    );
    Ok(())
}

impl GpuMatrix {
    fn total(&self) -> usize {
        self.len1() * self.batch
    }

    fn ew(&self, op: &'static str, n: usize) -> Result<EwUniform> {
        Ok(EwUniform {
            rows: u32_of(op, self.rows)?,
            cols: u32_of(op, self.cols)?,
            n: u32_of(op, n)?,
            ld_in: u32_of(op, self.rows.max(1))?,
            stride_in: u32_of(op, self.len1())?,
            alpha: 1.0,
            ..Default::default()
        })
    }

    /// The transpose of every matrix of the batch.
    pub fn transpose(&self) -> Result<GpuMatrix> {
        self.need_f32("transpose")?;
        let gpu = self.gpu();
        gpu.scoped(|| {
            let out = GpuMatrix::alloc(&self.ctx, "transpose", self.cols, self.rows, self.batch)?;
            let mut u = self.ew("transpose", 0)?;
            u.ld_out = self.cols.max(1) as u32;
            u.stride_out = self.len1() as u32;
            let mut enc = gpu.encoder("transpose");
            self.batched(gpu, |base, chunk| {
                u.batch_base = base;
                gpu.launch(
                    &mut enc,
                    "transpose",
                    Kernel::Elementwise,
                    "transpose",
                    &[],
                    &params_bytes(&u),
                    &[(1, self.buffer()), (2, out.buffer())],
                    [
                        self.rows.div_ceil(16) as u32,
                        self.cols.div_ceil(16) as u32,
                        chunk,
                    ],
                );
            });
            gpu.submit(enc);
            Ok(out)
        })
    }

    /// Runs `f(batch_base, chunk)` over the batch in chunks the dispatch
    /// limit allows.
    fn batched(&self, gpu: &Gpu, mut f: impl FnMut(u32, u32)) {
        let max = gpu.max_groups() as usize;
        let mut base = 0;
        while base < self.batch {
            let chunk = (self.batch - base).min(max);
            f(base as u32, chunk as u32);
            base += chunk;
        }
    }

    /// `alpha·self`.
    pub fn scale(&self, alpha: f32) -> Result<GpuMatrix> {
        self.need_f32("scale")?;
        let gpu = self.gpu();
        gpu.scoped(|| {
            let n = self.total();
            let out = GpuMatrix::alloc(&self.ctx, "scale", self.rows, self.cols, self.batch)?;
            let mut enc = gpu.encoder("scale");
            if n > 0 {
                enc.copy_buffer_to_buffer(self.buffer(), 0, out.buffer(), 0, (n * 4) as u64);
            }
            let mut u = self.ew("scale", n)?;
            u.alpha = alpha;
            gpu.launch(
                &mut enc,
                "scale",
                Kernel::Elementwise,
                "scale",
                &[],
                &params_bytes(&u),
                &[(2, out.buffer())],
                grid_1d(gpu, n),
            );
            gpu.submit(enc);
            Ok(out)
        })
    }

    /// `alpha·x + self` (`x` of the same shape and batch).
    pub fn axpy(&self, alpha: f32, x: &GpuMatrix) -> Result<GpuMatrix> {
        self.same_device("axpy", x)?;
        self.need_f32("axpy")?;
        x.need_f32("axpy")?;
        if x.shape() != self.shape() || x.batch != self.batch {
            return Err(Error::shape(
                "axpy",
                format!("{}×{}×{}", self.batch, self.rows, self.cols),
                format!("{}×{}×{}", x.batch, x.rows, x.cols),
            ));
        }
        let gpu = self.gpu();
        gpu.scoped(|| {
            let n = self.total();
            let out = GpuMatrix::alloc(&self.ctx, "axpy", self.rows, self.cols, self.batch)?;
            let mut enc = gpu.encoder("axpy");
            if n > 0 {
                enc.copy_buffer_to_buffer(self.buffer(), 0, out.buffer(), 0, (n * 4) as u64);
            }
            let mut u = self.ew("axpy", n)?;
            u.alpha = alpha;
            gpu.launch(
                &mut enc,
                "axpy",
                Kernel::Elementwise,
                "axpy",
                &[],
                &params_bytes(&u),
                &[(1, x.buffer()), (2, out.buffer())],
                grid_1d(gpu, n),
            );
            gpu.submit(enc);
            Ok(out)
        })
    }

    /// Applies row interchanges like LAPACK `laswp`: for r = 0, 1, … in
    /// order, rows r and `ipiv[r]` are swapped (0-based, `ipiv.len() ≤ rows`).
    /// For a batch, `ipiv` holds one pivot vector per matrix, back to back.
    pub fn swap_rows(&self, ipiv: &[u32]) -> Result<GpuMatrix> {
        self.need_f32("swap_rows")?;
        let per = ipiv.len().checked_div(self.batch).unwrap_or(0);
        if per * self.batch != ipiv.len() || per > self.rows {
            return Err(Error::shape(
                "swap_rows",
                format!("{} pivots per matrix, at most {}", per, self.rows),
                format!("{} pivots for a batch of {}", ipiv.len(), self.batch),
            ));
        }
        if let Some(bad) = ipiv.iter().find(|&&q| q as usize >= self.rows) {
            return Err(Error::shape(
                "swap_rows",
                format!("pivots < {}", self.rows),
                format!("pivot {bad}"),
            ));
        }
        let gpu = self.gpu();
        gpu.scoped(|| {
            let n = self.total();
            let out = GpuMatrix::alloc(&self.ctx, "swap_rows", self.rows, self.cols, self.batch)?;
            let piv = gpu.storage_from("swap_rows", bytemuck::cast_slice(ipiv), "pivots")?;
            let mut enc = gpu.encoder("swap_rows");
            if n > 0 {
                enc.copy_buffer_to_buffer(self.buffer(), 0, out.buffer(), 0, (n * 4) as u64);
            }
            let mut u = self.ew("swap_rows", per)?;
            u.ld_out = self.rows.max(1) as u32;
            u.stride_out = self.len1() as u32;
            u.k0 = 0;
            u.k1 = per as u32;
            self.batched(gpu, |base, chunk| {
                u.batch_base = base;
                gpu.launch(
                    &mut enc,
                    "laswp",
                    Kernel::Elementwise,
                    "laswp",
                    &[],
                    &params_bytes(&u),
                    &[(2, out.buffer()), (3, piv.buffer())],
                    [laswp_groups(gpu, self.cols), 1, chunk],
                );
            });
            gpu.submit(enc);
            Ok(out)
        })
    }

    /// Σ selfᵢ·otherᵢ over all elements (column-major, whole batch), with
    /// compensated accumulation.
    pub fn dot(&self, other: &GpuMatrix) -> Result<f32> {
        self.same_device("dot", other)?;
        self.need_f32("dot")?;
        other.need_f32("dot")?;
        if other.total() != self.total() {
            return Err(Error::shape(
                "dot",
                format!("{} elements", self.total()),
                format!("{} elements", other.total()),
            ));
        }
        let gpu = self.gpu();
        gpu.scoped(|| {
            let r = Reduction::new(gpu, "dot")?;
            let mut enc = gpu.encoder("dot");
            encode_dot(
                gpu,
                &mut enc,
                self.buffer(),
                0,
                other.buffer(),
                0,
                self.total(),
                &r,
            )?;
            gpu.submit(enc);
            Ok(gpu.read_f32(r.res.buffer(), 1, 1)?[0])
        })
    }

    /// Frobenius norm over all elements (whole batch), scaled and
    /// compensated.
    pub fn norm_fro(&self) -> Result<f32> {
        self.need_f32("norm")?;
        let gpu = self.gpu();
        gpu.scoped(|| {
            let r = Reduction::new(gpu, "norm")?;
            let mut enc = gpu.encoder("norm");
            encode_norm(gpu, &mut enc, self.buffer(), 0, self.total(), &r)?;
            gpu.submit(enc);
            Ok(gpu.read_f32(r.res.buffer(), 1, 1)?[0])
        })
    }

    /// Largest |element| and its first column-major index (whole batch);
    /// `None` for an empty matrix.
    pub fn max_abs(&self) -> Result<Option<(f32, usize)>> {
        self.need_f32("max_abs")?;
        let n = self.total();
        if n == 0 {
            return Ok(None);
        }
        let gpu = self.gpu();
        gpu.scoped(|| {
            let r = Reduction::new(gpu, "max_abs")?;
            let mut enc = gpu.encoder("max_abs");
            encode_maxabs(gpu, &mut enc, self.buffer(), 0, n, &r)?;
            gpu.submit(enc);
            let v = gpu.read_f32(r.res.buffer(), 0, 1)?[0];
            let i = gpu.read_bytes(r.res_idx.buffer(), 0, 4)?;
            Ok(Some((
                v,
                u32::from_le_bytes([i[0], i[1], i[2], i[3]]) as usize,
            )))
        })
    }
}
