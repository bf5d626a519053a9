//! The one readback path: copy into a staging buffer, map, poll, unmap, and
//! surface any GPU error raised by the work that produced the data.

use std::sync::mpsc;

use super::Gpu;
use crate::error::{Error, Result};

impl Gpu {
    /// Reads `len` bytes at `offset` of `src` back to the host, after all
    /// work submitted so far. `offset` and `len` are multiples of 4.
    pub(crate) fn read_bytes(&self, src: &wgpu::Buffer, offset: u64, len: u64) -> Result<Vec<u8>> {
        self.read_with(src, offset, len, |view| view.to_vec())
    }

    /// Reads `len` bytes at `offset` of `src` and hands the mapped bytes
    /// to `take` (which copies what it needs out of them).
    fn read_with<T: Default>(
        &self,
        src: &wgpu::Buffer,
        offset: u64,
        len: u64,
        take: impl FnOnce(&[u8]) -> T,
    ) -> Result<T> {
        if len == 0 {
            self.check_health()?;
            return Ok(T::default());
        }
        self.scoped(|| {
            let staging = self.staging(len);
            let mut enc = self.encoder("readback");
            enc.copy_buffer_to_buffer(src, offset, staging.buffer(), 0, len);
            let index = self.submit(enc);
            let (tx, rx) = mpsc::channel();
            staging
                .buffer()
                .map_async(wgpu::MapMode::Read, 0..len, move |r| {
                    let _ = tx.send(r);
                });
            self.device
                .poll(wgpu::PollType::Wait {
                    submission_index: Some(index),
                    timeout: None,
                })
                .map_err(|e| Error::Gpu(format!("poll: {e}")))?;
            let mapped = rx
                .recv()
                .map_err(|_| Error::Gpu("readback: map callback never ran".into()))?;
            mapped.map_err(|e| Error::Gpu(format!("readback: {e}")))?;
            let out = {
                let view = staging
                    .buffer()
                    .get_mapped_range(0..len)
                    .map_err(|e| Error::Gpu(format!("readback: {e}")))?;
                take(&view)
            };
            staging.buffer().unmap();
            Ok(out)
        })
    }

    /// Reads `count` f32 values starting at element `first` (one copy, out
    /// of the mapped staging memory).
    pub(crate) fn read_f32(&self, src: &wgpu::Buffer, first: u64, count: u64) -> Result<Vec<f32>> {
        self.read_with(src, first * 4, count * 4, |view| {
            let mut out = vec![0.0f32; view.len() / 4];
            bytemuck::cast_slice_mut::<f32, u8>(&mut out).copy_from_slice(view);
            out
        })
    }
}
