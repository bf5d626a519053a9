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
}

impl std::fmt::Debug for GpuMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuMatrix({}×{}×{})", self.batch, self.rows, self.cols)
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
        self.ctx.gpu().expect("a GpuMatrix exists only on a GPU context")
    }
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        self.buf.buffer()
    }

    /// Copies the first (or only) matrix back to the host.
    pub fn download(&self) -> Result<DMatrix<f32>> {
        let data = self.gpu().read_f32(self.buffer(), 0, self.len1() as u64)?;
        Ok(DMatrix::from_vec(self.rows, self.cols, data))
    }

    /// Copies every matrix of the batch back to the host.
    pub fn download_batch(&self) -> Result<Vec<DMatrix<f32>>> {
        let n = self.len1();
        let data = self.gpu().read_f32(self.buffer(), 0, (n * self.batch) as u64)?;
        Ok((0..self.batch)
            .map(|b| DMatrix::from_column_slice(self.rows, self.cols, &data[b * n..(b + 1) * n]))
            .collect())
    }

    /// A new, unwritten matrix on the same context.
    pub(crate) fn alloc(ctx: &Context, op: &'static str, rows: usize, cols: usize, batch: usize) -> Result<GpuMatrix> {
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
        })
    }

    /// Fails unless `other` lives on the same device as `self`.
    pub(crate) fn same_device(&self, op: &'static str, other: &GpuMatrix) -> Result<()> {
        if self.ctx.same_gpu(&other.ctx) {
            Ok(())
        } else {
            Err(Error::shape(op, "operands on one context", "operands on two contexts"))
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
        let mut data: Vec<f32> = Vec::with_capacity(rows * cols * mats.len());
        for m in mats {
            data.extend_from_slice(m.as_slice());
        }
        let label = format!("upload {}x{rows}x{cols}", mats.len());
        let buf = gpu.scoped(|| gpu.storage_from("upload", bytemuck::cast_slice(&data), &label))?;
        Ok(GpuMatrix {
            ctx: self.clone(),
            buf: Arc::new(buf),
            rows,
            cols,
            batch: mats.len(),
        })
    }
}
