//! Device-resident matrices.

use std::sync::Arc;

use nalgebra::DMatrix;

use super::pool::PooledBuffer;
use super::Gpu;
use crate::context::Context;
use crate::error::{Error, Result};

/// A matrix, or a batch of equally shaped matrices, in one GPU buffer:
/// column-major, `batch × rows × cols` f32 values, matrix `b` starting at
/// element `b·rows·cols`.
///
/// Ops on a `GpuMatrix` enqueue work and return new handles without reading
/// back, so a chain of ops costs one readback (`download`). Cloning a handle
/// shares the buffer; ops never write into their inputs.
#[derive(Clone)]
pub struct GpuMatrix {
    pub(crate) ctx: Context,
    pub(crate) buf: Arc<PooledBuffer>,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) batch: usize,
    /// Elements stored as f16 (from `upload_f16`); only `matmul`/`matmul_t`
    /// and `download` accept such a matrix.
    pub(crate) half: bool,
    /// A GPU-side status word of the factorization that produced this
    /// matrix (e.g. a non-positive Cholesky pivot), read at download.
    pub(crate) check: Option<Arc<Check>>,
}

/// What a status word means when it is not zero: column + 1 of a failure
/// (for `NoConvergence`, any nonzero word: the iteration limit was hit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CheckKind {
    NotPositiveDefinite,
    Singular,
    NoConvergence { op: &'static str, iterations: usize },
}

/// u32 status words on the GPU, one per matrix of a batch (0 = fine,
/// c + 1 = failed at column c).
pub(crate) struct Check {
    pub(crate) word: PooledBuffer,
    pub(crate) kind: CheckKind,
    /// Words (matrices) covered; a batch reports its first failing matrix.
    pub(crate) count: usize,
}

impl Check {
    /// Reads the word and turns it into the error it stands for.
    pub(crate) fn result(&self, gpu: &Gpu) -> Result<()> {
        let b = gpu.read_bytes(self.word.buffer(), 0, (self.count.max(1) * 4) as u64)?;
        let words: Vec<u32> = bytemuck::pod_collect_to_vec(&b);
        let Some((index, &v)) = words.iter().enumerate().find(|(_, &v)| v != 0) else {
            return Ok(());
        };
        let column = v as usize - 1;
        let err = match self.kind {
            CheckKind::NotPositiveDefinite => Error::NotPositiveDefinite { column },
            CheckKind::Singular => Error::Singular { column },
            CheckKind::NoConvergence { op, iterations } => Error::NoConvergence { op, iterations },
        };
        Err(if self.count > 1 {
            Error::InBatch {
                index,
                source: Box::new(err),
            }
        } else {
            err
        })
    }
}

impl std::fmt::Debug for GpuMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ty = if self.half { "f16" } else { "f32" };
        write!(
            f,
            "GpuMatrix<{ty}>({}×{}×{})",
            self.batch, self.rows, self.cols
        )
    }
}

impl GpuMatrix {
    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn cols(&self) -> usize {
        self.cols
    }
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// `(rows, cols)` of each matrix.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
    /// Elements of one matrix.
    pub(crate) fn len1(&self) -> usize {
        self.rows * self.cols
    }
    pub(crate) fn gpu(&self) -> &Gpu {
        self.ctx
            .gpu()
            .expect("a GpuMatrix exists only on a GPU context")
    }
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        self.buf.buffer()
    }

    /// Fails with the error a GPU-side status word of this matrix records
    /// (reads 4 bytes back; `Ok` when the matrix carries none).
    pub fn check(&self) -> Result<()> {
        match &self.check {
            Some(c) => c.result(self.gpu()),
            None => Ok(()),
        }
    }

    /// Copies the first (or only) matrix back to the host (after checking
    /// the status of the factorization that produced it, if any).
    pub fn download(&self) -> Result<DMatrix<f32>> {
        self.check()?;
        let data = self.read_values(self.len1())?;
        Ok(DMatrix::from_vec(self.rows, self.cols, data))
    }

    /// The first `count` elements as f32 (f16 storage widened exactly).
    fn read_values(&self, count: usize) -> Result<Vec<f32>> {
        if !self.half {
            return self.gpu().read_f32(self.buffer(), 0, count as u64);
        }
        let bytes =
            self.gpu()
                .read_bytes(self.buffer(), 0, (count as u64 * 2).next_multiple_of(4))?;
        let bits: Vec<u16> = bytemuck::pod_collect_to_vec(&bytes);
        Ok(bits[..count]
            .iter()
            .map(|b| half::f16::from_bits(*b).to_f32())
            .collect())
    }

    /// Copies every matrix of the batch back to the host.
    pub fn download_batch(&self) -> Result<Vec<DMatrix<f32>>> {
        self.check()?;
        let n = self.len1();
        let data = self.read_values(n * self.batch)?;
        Ok((0..self.batch)
            .map(|b| DMatrix::from_column_slice(self.rows, self.cols, &data[b * n..(b + 1) * n]))
            .collect())
    }

    /// A new, unwritten matrix on the same context.
    pub(crate) fn alloc(
        ctx: &Context,
        op: &'static str,
        rows: usize,
        cols: usize,
        batch: usize,
    ) -> Result<GpuMatrix> {
        let gpu = ctx.gpu().ok_or(Error::NoGpu)?;
        let bytes = (rows as u64) * (cols as u64) * (batch as u64) * 4;
        let label = format!("{op} {batch}x{rows}x{cols}");
        let buf = gpu.storage(op, bytes, &label)?;
        Ok(GpuMatrix {
            ctx: ctx.clone(),
            buf: Arc::new(buf),
            rows,
            cols,
            batch,
            half: false,
            check: None,
        })
    }

    /// Fails unless `self` holds f32 elements (every op but GEMM needs it).
    pub(crate) fn need_f32(&self, op: &'static str) -> Result<()> {
        if self.half {
            Err(Error::shape(op, "an f32 matrix", "an f16 matrix"))
        } else {
            Ok(())
        }
    }

    /// Fails unless `other` lives on the same device as `self`.
    pub(crate) fn same_device(&self, op: &'static str, other: &GpuMatrix) -> Result<()> {
        if self.ctx.same_gpu(&other.ctx) {
            Ok(())
        } else {
            Err(Error::shape(
                op,
                "operands on one context",
                "operands on two contexts",
            ))
        }
    }
}

impl Context {
    /// Uploads one matrix.
    pub fn upload(&self, a: &DMatrix<f32>) -> Result<GpuMatrix> {
        self.upload_batch(std::slice::from_ref(a))
    }

    /// Uploads a batch of equally shaped matrices into one buffer.
    pub fn upload_batch(&self, mats: &[DMatrix<f32>]) -> Result<GpuMatrix> {
        let gpu = self.gpu().ok_or(Error::NoGpu)?;
        let (rows, cols) = mats.first().map(|m| m.shape()).unwrap_or((0, 0));
        if let Some(bad) = mats.iter().find(|m| m.shape() != (rows, cols)) {
            return Err(Error::shape(
                "upload_batch",
                format!("every matrix {rows}×{cols}"),
                format!("{}×{}", bad.nrows(), bad.ncols()),
            ));
        }
        let label = format!("upload {}x{rows}x{cols}", mats.len());
        let one = rows * cols * 4;
        let buf = gpu.scoped(|| {
            let buf = gpu.storage("upload", (one * mats.len()) as u64, &label)?;
            // straight into the staging memory: no host copy in between
            if let Some(size) = wgpu::BufferSize::new((one * mats.len()) as u64) {
                let mut view = gpu
                    .queue
                    .write_buffer_with(buf.buffer(), 0, size)
                    .ok_or_else(|| Error::Gpu("upload: no staging memory".into()))?;
                for (i, m) in mats.iter().enumerate() {
                    view.slice(i * one..(i + 1) * one)
                        .copy_from_slice(bytemuck::cast_slice(m.as_slice()));
                }
            }
            Ok(buf)
        })?;
        Ok(GpuMatrix {
            ctx: self.clone(),
            buf: Arc::new(buf),
            rows,
            cols,
            batch: mats.len(),
            half: false,
            check: None,
        })
    }

    /// Uploads an f16 matrix, kept in f16 on the device (needs the
    /// adapter's `SHADER_F16`); `GpuMatrix::matmul` of two such matrices
    /// runs the f16-storage kernel with f32 accumulation and returns f32.
    pub fn upload_f16(&self, a: &DMatrix<half::f16>) -> Result<GpuMatrix> {
        let gpu = self.gpu().ok_or(Error::NoGpu)?;
        if !gpu.features.contains(wgpu::Features::SHADER_F16) {
            return Err(Error::Gpu("the adapter has no SHADER_F16 feature".into()));
        }
        let mut bits: Vec<u16> = a.as_slice().iter().map(|v| v.to_bits()).collect();
        if bits.len() % 2 == 1 {
            bits.push(0);
        }
        let label = format!("upload f16 {}x{}", a.nrows(), a.ncols());
        let buf =
            gpu.scoped(|| gpu.storage_from("upload_f16", bytemuck::cast_slice(&bits), &label))?;
        Ok(GpuMatrix {
            ctx: self.clone(),
            buf: Arc::new(buf),
            rows: a.nrows(),
            cols: a.ncols(),
            batch: 1,
            half: true,
            check: None,
        })
    }
}
