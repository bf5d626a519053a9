//! The one readback path: copy into a staging buffer, map, poll, unmap, and
//! surface any GPU error raised by the work that produced the data.

use std::sync::mpsc;

use super::Gpu;
use crate::error::{Error, Result};

impl Gpu {
    /// Reads `len` bytes at `offset` of `src` back to the host, after all
    /// work submitted so far. `offset` and `len` are multiples of 4.
    pub(crate) fn read_bytes(&self, src: &wgpu::Buffer, offset: u64, len: u64) -> Result<Vec<u8>> {
        if len == 0 {
            self.check_health()?;
            return Ok(Vec::new());
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
            let bytes = {
                let view = staging
                    .buffer()
                    .get_mapped_range(0..len)
                    .map_err(|e| Error::Gpu(format!("readback: {e}")))?;
                view.to_vec()
            };
            staging.buffer().unmap();
            Ok(bytes)
        })
    }

    /// Reads `count` f32 values starting at element `first`.
    pub(crate) fn read_f32(&self, src: &wgpu::Buffer, first: u64, count: u64) -> Result<Vec<f32>> {
        let bytes = self.read_bytes(src, first * 4, count * 4)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }
}
