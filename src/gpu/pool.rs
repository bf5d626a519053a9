//! Buffer pool: storage buffers are reused by size bucket and usage, so a
//! chain of ops does not allocate device memory on every call. Staging
//! (map-read) buffers are pooled separately because their usage differs.
//!
//! A dropped buffer is handed out again at once: reuse is safe because all
//! GPU work goes through one queue in submission order (wgpu orders the
//! accesses of later submissions, and `write_buffer` data, after earlier
//! submissions). What is not safe is dropping a buffer that a recording
//! uses before that recording is submitted: code that records work keeps
//! its scratch buffers alive until submission (`Recorder::keep`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Idle bytes kept for reuse; beyond this, returned buffers are dropped.
/// 4 GiB: an f32 `matmul` at n = 8192 on the split-f16 path takes two
/// 384 MiB buffers of parts and a 256 MiB result per call. Under a 1 GiB
/// cap, each call evicted and created one of them again, and the call took
/// 36.4 ms on an H200 against 17.9 ms of GPU time (benches/RESULTS.md,
/// 2026-12-01, the section on 16-byte loads in the cooperative GEMM).
const MAX_IDLE_BYTES: u64 = 4 << 30;

/// Rounds a request up to a bucket: powers of two and 1.5× powers of two, at
/// least 256 bytes, so at most a third of a buffer is slack.
pub(crate) fn bucket(bytes: u64) -> u64 {
    let b = bytes.max(256);
    let p = b.next_power_of_two();
    let three_quarters = p / 4 * 3;
    if b <= three_quarters {
        three_quarters
    } else {
        p
    }
}

/// Idle buffers by (size, usage), each list oldest first with the count
/// of returns when it came back.
#[derive(Default)]
struct Idle {
    free: HashMap<(u64, wgpu::BufferUsages), Vec<(u64, wgpu::Buffer)>>,
    bytes: u64,
    returns: u64,
}

/// The pool itself; shared by every [`PooledBuffer`] it hands out.
#[derive(Clone, Default)]
pub(crate) struct Pool {
    idle: Arc<Mutex<Idle>>,
}

/// A buffer on loan from the pool; it goes back when dropped.
pub(crate) struct PooledBuffer {
    buffer: Option<wgpu::Buffer>,
    pool: Pool,
}

impl PooledBuffer {
    pub(crate) fn buffer(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("buffer present until drop")
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        if let Some(buf) = self.buffer.take() {
            self.pool.give_back(buf);
        }
    }
}

impl Pool {
    pub(crate) fn take(
        &self,
        device: &wgpu::Device,
        bytes: u64,
        usage: wgpu::BufferUsages,
        label: &str,
    ) -> PooledBuffer {
        let size = bucket(bytes);
        let reused = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let hit = idle.free.get_mut(&(size, usage)).and_then(Vec::pop);
            if hit.is_some() {
                idle.bytes -= size;
            }
            hit.map(|(_, b)| b)
        };
        let buffer = reused.unwrap_or_else(|| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        });
        PooledBuffer {
            buffer: Some(buffer),
            pool: self.clone(),
        }
    }

    /// Keeps a returned buffer for reuse. Past [`MAX_IDLE_BYTES`] the
    /// buffers idle longest are dropped (wgpu frees them once the GPU is
    /// done with them), not the one coming back: the scratch of the op
    /// that runs again stays, where keeping the first-come buffers had
    /// made a QR after a large solve create and clear its scratch anew on
    /// every call.
    fn give_back(&self, buf: wgpu::Buffer) {
        let size = buf.size();
        if size > MAX_IDLE_BYTES {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while idle.bytes + size > MAX_IDLE_BYTES {
            let Some(key) = idle
                .free
                .iter()
                .filter_map(|(k, v)| v.first().map(|(n, _)| (*n, *k)))
                .min_by_key(|(n, _)| *n)
                .map(|(_, k)| k)
            else {
                break;
            };
            if let Some(list) = idle.free.get_mut(&key) {
                let (_, old) = list.remove(0);
                idle.bytes -= old.size();
            }
        }
        idle.returns += 1;
        let n = idle.returns;
        idle.bytes += size;
        idle.free
            .entry((size, buf.usage()))
            .or_default()
            .push((n, buf));
    }

    /// Drops every idle buffer (used after an out-of-memory error).
    pub(crate) fn trim(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.free.clear();
        idle.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::bucket;

    #[test]
    fn buckets_cover_requests_with_bounded_slack() {
        for bytes in [
            1u64,
            255,
            256,
            257,
            1000,
            4096,
            4097,
            6144,
            6145,
            1 << 20,
            (1 << 20) + 1,
        ] {
            let b = bucket(bytes);
            assert!(b >= bytes, "{bytes} -> {b}");
            assert!(
                b < 256 || (b as f64) <= (bytes.max(256) as f64) * 1.5 + 1.0,
                "{bytes} -> {b}"
            );
        }
        assert_eq!(bucket(6144), 6144);
        assert_eq!(bucket(6145), 8192);
    }
}
