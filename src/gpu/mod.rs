//! The GPU runtime: device and queue, the pipeline cache, the buffer pool,
//! error capture, and the launch helper every op uses.

pub mod kernels;
pub mod matrix;
pub(crate) mod pool;
pub(crate) mod readback;

use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
pub use kernels::Kernel;
use kernels::PipelineCache;
pub use matrix::GpuMatrix;
use pool::{Pool, PooledBuffer};

/// Storage usage of every matrix buffer.
pub(crate) const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Everything that belongs to one opened adapter.
pub(crate) struct Gpu {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) info: wgpu::AdapterInfo,
    pub(crate) limits: wgpu::Limits,
    pub(crate) features: wgpu::Features,
    pipelines: PipelineCache,
    pool: Pool,
    /// Errors no scope caught (raised on another thread, or asynchronously).
    uncaptured: Arc<Mutex<Vec<String>>>,
    /// Set by the device-lost callback.
    lost: Arc<Mutex<Option<String>>>,
    /// Timestamp queries around every compute pass, while profiling.
    profiler: Mutex<Option<Profiler>>,
}

/// Timestamp query slots handed to compute passes while profiling.
struct Profiler {
    set: wgpu::QuerySet,
    next: u32,
    cap: u32,
}

impl Gpu {
    pub(crate) fn new(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo) -> Self {
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        let lost = Arc::new(Mutex::new(None));
        {
            let sink = uncaptured.clone();
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                log::error!(target: "wgpu_linalg", "uncaptured wgpu error: {e}");
                sink.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(e.to_string());
            }));
            let flag = lost.clone();
            device.set_device_lost_callback(move |reason, msg| {
                *flag.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(format!("device lost ({reason:?}): {msg}"));
            });
        }
        Gpu {
            limits: device.limits(),
            features: device.features(),
            device,
            queue,
            info,
            pipelines: PipelineCache::default(),
            pool: Pool::default(),
            uncaptured,
            lost,
            profiler: Mutex::new(None),
        }
    }

    /// Fails with the first GPU error that escaped a scope, or device loss.
    pub(crate) fn check_health(&self) -> Result<()> {
        if let Some(msg) = self.lost.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Err(Error::Gpu(msg));
        }
        let mut errs = self.uncaptured.lock().unwrap_or_else(|p| p.into_inner());
        if !errs.is_empty() {
            let msg = errs.join("; ");
            errs.clear();
            return Err(Error::Gpu(msg));
        }
        Ok(())
    }

    /// Runs `f` inside validation, out-of-memory and internal error scopes;
    /// any error the scopes caught becomes `Error::Gpu`.
    pub(crate) fn scoped<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.check_health()?;
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let internal = self.device.push_error_scope(wgpu::ErrorFilter::Internal);
        let result = f();
        let e_internal = pollster::block_on(internal.pop());
        let e_validation = pollster::block_on(validation.pop());
        let e_oom = pollster::block_on(oom.pop());
        if e_oom.is_some() {
            self.pool.trim();
        }
        if let Some(e) = e_internal.or(e_validation).or(e_oom) {
            return Err(Error::Gpu(e.to_string()));
        }
        self.check_health()?;
        result
    }

    /// Largest storage binding, in bytes.
    pub(crate) fn max_binding(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// A storage buffer of at least `bytes`, from the pool.
    pub(crate) fn storage(
        &self,
        op: &'static str,
        bytes: u64,
        label: &str,
    ) -> Result<PooledBuffer> {
        let limit = self.max_binding();
        if bytes > limit {
            return Err(Error::TooLarge { op, bytes, limit });
        }
        Ok(self.pool.take(&self.device, bytes.max(4), STORAGE, label))
    }

    /// A storage buffer holding `data`.
    pub(crate) fn storage_from(
        &self,
        op: &'static str,
        data: &[u8],
        label: &str,
    ) -> Result<PooledBuffer> {
        let buf = self.storage(op, data.len() as u64, label)?;
        if !data.is_empty() {
            self.queue.write_buffer(buf.buffer(), 0, data);
        }
        Ok(buf)
    }

    pub(crate) fn staging(&self, bytes: u64) -> PooledBuffer {
        self.pool.take(
            &self.device,
            bytes,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            "staging",
        )
    }

    pub(crate) fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    pub(crate) fn submit(&self, encoder: wgpu::CommandEncoder) -> wgpu::SubmissionIndex {
        self.queue.submit(Some(encoder.finish()))
    }

    /// Records one dispatch: the kernel's `entry` with override `constants`,
    /// a uniform `params` block at binding 0 and `binds` as (binding, buffer).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn launch(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        label: &str,
        kernel: Kernel,
        entry: &'static str,
        constants: &[(&'static str, f64)],
        params: &[u8],
        binds: &[(u32, &wgpu::Buffer)],
        groups: [u32; 3],
    ) {
        if groups.contains(&0) {
            return;
        }
        let pipeline = self.pipelines.get(&self.device, kernel, entry, constants);
        let uniform = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: params,
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        for (binding, buf) in binds {
            entries.push(wgpu::BindGroupEntry {
                binding: *binding,
                resource: buf.as_entire_binding(),
            });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let mut profiler = self.profiler.lock().unwrap_or_else(|p| p.into_inner());
        let timestamp_writes = profiler.as_mut().filter(|p| p.next + 2 <= p.cap).map(|p| {
            p.next += 2;
            wgpu::ComputePassTimestampWrites {
                query_set: &p.set,
                beginning_of_pass_write_index: Some(p.next - 2),
                end_of_pass_write_index: Some(p.next - 1),
            }
        });
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(label),
            timestamp_writes,
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
    }

    /// Runs `f` with a timestamp query around every compute pass it records
    /// and returns the summed GPU time of those passes in milliseconds
    /// (`None` where the adapter has no timestamp queries).
    pub(crate) fn timed<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<(T, Option<f64>)> {
        if !self.features.contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Ok((f()?, None));
        }
        let cap = 4096u32;
        let set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("profiler"),
            ty: wgpu::QueryType::Timestamp,
            count: cap,
        });
        *self.profiler.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Profiler { set, next: 0, cap });
        let out = f();
        let prof = self
            .profiler
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let out = out?;
        let Some(prof) = prof.filter(|p| p.next > 0) else {
            return Ok((out, Some(0.0)));
        };
        let bytes = prof.next as u64 * 8;
        let resolved = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("profiler resolve"),
            size: bytes,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let mut enc = self.encoder("profiler resolve");
        enc.resolve_query_set(&prof.set, 0..prof.next, &resolved, 0);
        self.submit(enc);
        let raw: Vec<u64> = bytemuck::pod_collect_to_vec(&self.read_bytes(&resolved, 0, bytes)?);
        let period = self.queue.get_timestamp_period() as f64;
        let ns: f64 = raw
            .chunks(2)
            .map(|p| p[1].saturating_sub(p[0]) as f64 * period)
            .sum();
        Ok((out, Some(ns / 1e6)))
    }

    /// Most workgroups one dispatch dimension may have.
    pub(crate) fn max_groups(&self) -> u32 {
        self.limits.max_compute_workgroups_per_dimension
    }
}

/// Pads a byte vector of uniform parameters to 16 bytes.
pub(crate) fn params_bytes<T: bytemuck::Pod>(p: &T) -> Vec<u8> {
    let mut v = bytemuck::bytes_of(p).to_vec();
    while !v.len().is_multiple_of(16) {
        v.push(0);
    }
    v
}
