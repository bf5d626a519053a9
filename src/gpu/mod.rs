//! The GPU runtime: device and queue, the pipeline cache, the buffer pool,
//! error capture, and the launch helper every op uses.

pub mod kernels;
pub mod matrix;
pub(crate) mod pool;
pub(crate) mod readback;
pub(crate) mod recorder;

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
pub use kernels::Kernel;
use kernels::PipelineCache;
pub use matrix::GpuMatrix;
use pool::{Pool, PooledBuffer};
pub(crate) use recorder::Recorder;

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
    /// The subgroup size, where the adapter runs the cooperative f16 GEMM
    /// (16×16×16 f16×f16→f32 cooperative matrices and one fixed subgroup
    /// size); `None` otherwise.
    pub(crate) coop_f16_subgroup: Option<u32>,
    /// The subgroup size, where the adapter runs the 8×8 f32 cooperative
    /// GEMM (8×8×8 f32 cooperative matrices and one fixed subgroup size).
    pub(crate) coop_f32_subgroup: Option<u32>,
    /// The tuning table's GEMM choices for this adapter.
    pub(crate) gemm: crate::dispatch::GemmTuning,
    pipelines: PipelineCache,
    pool: Pool,
    /// Errors no scope caught (raised on another thread, or asynchronously).
    uncaptured: Arc<Mutex<Vec<String>>>,
    /// Set by the device-lost callback.
    lost: Arc<Mutex<Option<String>>>,
    /// Timestamp queries around every compute pass, while profiling.
    pub(crate) profiler: Mutex<Option<Profiler>>,
}

/// Timestamp query slots handed to compute passes while profiling: query
/// sets of `cap` slots, one more whenever the last is full, up to
/// `MAX_SETS`.
pub(crate) struct Profiler {
    pub(crate) sets: Vec<wgpu::QuerySet>,
    /// Next free slot of the last set.
    pub(crate) next: u32,
    pub(crate) cap: u32,
    /// The label of each timed pass, in order.
    pub(crate) labels: Vec<String>,
    /// Dispatches recorded after the last set was full (not timed).
    pub(crate) untimed: u32,
}

impl Profiler {
    const MAX_SETS: usize = 32;

    fn new_set(device: &wgpu::Device, cap: u32) -> wgpu::QuerySet {
        device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("profiler"),
            ty: wgpu::QueryType::Timestamp,
            count: cap,
        })
    }

    /// Timestamp writes around the pass of the launch `label`, or `None`
    /// (counted as untimed) once every set is full.
    pub(crate) fn writes(
        &mut self,
        device: &wgpu::Device,
        label: String,
    ) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
        if self.next + 2 > self.cap {
            if self.sets.len() >= Self::MAX_SETS {
                self.untimed += 1;
                return None;
            }
            self.sets.push(Self::new_set(device, self.cap));
            self.next = 0;
        }
        self.next += 2;
        self.labels.push(label);
        Some(wgpu::ComputePassTimestampWrites {
            query_set: self.sets.last().expect("a set"),
            beginning_of_pass_write_index: Some(self.next - 2),
            end_of_pass_write_index: Some(self.next - 1),
        })
    }
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
            coop_f16_subgroup: None,
            coop_f32_subgroup: None,
            gemm: Default::default(),
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

    pub(crate) fn encoder(&self, label: &str) -> Recorder {
        Recorder::new(label)
    }

    /// Queues one dispatch: the kernel's `entry` with override `constants`,
    /// a uniform `params` block at binding 0 and `binds` as (binding, buffer).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn launch(
        &self,
        rec: &mut Recorder,
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
        rec.steps.push(recorder::Step::Launch {
            pipeline,
            label: label.to_string(),
            params: params.to_vec(),
            binds: binds.iter().map(|(b, buf)| (*b, (*buf).clone())).collect(),
            groups,
        });
    }

    /// Runs `f` with a timestamp query around every compute pass it records
    /// and returns the summed GPU time of those passes in milliseconds
    /// (`None` where the adapter has no timestamp queries).
    pub(crate) fn timed<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<(T, Option<f64>)> {
        let (out, detail) = self.timed_detail(f)?;
        Ok((out, detail.map(|(total, _)| total)))
    }

    /// As [`Gpu::timed`], with the time of each dispatch label (summed over
    /// dispatches of the same label), largest first.
    #[allow(clippy::type_complexity)]
    pub(crate) fn timed_detail<T>(
        &self,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<(T, Option<(f64, Vec<(String, f64)>)>)> {
        if !self.features.contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Ok((f()?, None));
        }
        let cap = 4096u32;
        *self.profiler.lock().unwrap_or_else(|p| p.into_inner()) = Some(Profiler {
            sets: vec![Profiler::new_set(&self.device, cap)],
            next: 0,
            cap,
            labels: Vec::new(),
            untimed: 0,
        });
        let out = f();
        let prof = self
            .profiler
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let out = out?;
        let Some(prof) = prof.filter(|p| !p.labels.is_empty()) else {
            return Ok((out, Some((0.0, Vec::new()))));
        };
        let mut raw: Vec<u64> = Vec::new();
        for (k, set) in prof.sets.iter().enumerate() {
            let used = if k + 1 == prof.sets.len() {
                prof.next
            } else {
                cap
            };
            if used == 0 {
                continue;
            }
            let bytes = used as u64 * 8;
            let resolved = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("profiler resolve"),
                size: bytes,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            let mut enc = self.encoder("profiler resolve");
            enc.resolve_query_set(set, 0..used, &resolved);
            self.submit(enc);
            raw.extend(bytemuck::pod_collect_to_vec::<u8, u64>(
                &self.read_bytes(&resolved, 0, bytes)?,
            ));
        }
        let period = self.queue.get_timestamp_period() as f64;
        let mut by_label: Vec<(String, f64)> = Vec::new();
        let mut total = 0.0;
        for (pair, label) in raw.chunks(2).zip(&prof.labels) {
            let ms = pair[1].saturating_sub(pair[0]) as f64 * period / 1e6;
            total += ms;
            // group "gemm.tiled 4096x64x4096 ..." style labels by their first word pair
            let key: String = label
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            match by_label.iter_mut().find(|(k, _)| *k == key) {
                Some((_, t)) => *t += ms,
                None => by_label.push((key, ms)),
            }
        }
        by_label.sort_by(|a, b| b.1.total_cmp(&a.1));
        if prof.untimed > 0 {
            // the totals cover only the timed dispatches: say so
            by_label.push((
                format!(
                    "untimed: {} dispatches after the first {}",
                    prof.untimed,
                    prof.labels.len()
                ),
                0.0,
            ));
        }
        Ok((out, Some((total, by_label))))
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
