//! Recording of an op's GPU work: dispatches and copies are queued, then
//! `Gpu::submit` writes every dispatch's parameters into one uniform buffer
//! and records consecutive dispatches into one compute pass (wgpu orders
//! dispatches that touch the same buffers). While profiling, each dispatch
//! gets a pass of its own with timestamp queries.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Arc;

use super::kernels::Pipeline;
use super::pool::PooledBuffer;
use super::Gpu;

pub(crate) enum Step {
    Launch {
        pipeline: Arc<Pipeline>,
        label: String,
        params: Vec<u8>,
        binds: Vec<(u32, wgpu::Buffer)>,
        groups: [u32; 3],
    },
    Copy {
        src: wgpu::Buffer,
        src_off: u64,
        dst: wgpu::Buffer,
        dst_off: u64,
        size: u64,
    },
    Clear {
        buf: wgpu::Buffer,
        offset: u64,
        size: Option<u64>,
    },
    Resolve {
        set: wgpu::QuerySet,
        range: std::ops::Range<u32>,
        dst: wgpu::Buffer,
    },
}

/// What makes two launches identical: pipeline, parameter bytes, buffers.
type LaunchKey = (usize, Vec<u8>, Vec<(u32, wgpu::Buffer)>);

/// Queued GPU work of one op (see the module docs).
pub(crate) struct Recorder {
    pub(crate) label: String,
    pub(crate) steps: Vec<Step>,
    /// Pooled buffers the recording uses that nothing else keeps alive
    /// (scratch): released only after submission.
    kept: Vec<PooledBuffer>,
    /// Parts submitted early by [`Gpu::flush_after`].
    parts: usize,
    /// Scratch that earlier steps of this recording are done with: a later
    /// step of the same recording may take it again (it runs after them,
    /// on the one queue), which no other recording may before this one is
    /// submitted.
    spare: Vec<PooledBuffer>,
}

impl Recorder {
    pub(crate) fn new(label: &str) -> Recorder {
        Recorder {
            label: label.to_string(),
            steps: Vec::new(),
            kept: Vec::new(),
            parts: 0,
            spare: Vec::new(),
        }
    }

    /// Keeps a scratch buffer alive until this recording is submitted.
    pub(crate) fn keep(&mut self, buf: PooledBuffer) {
        self.kept.push(buf);
    }

    /// A spare scratch buffer of at least `bytes` that earlier steps of
    /// this recording are done with (see [`Recorder::done_with`]), or
    /// `None`.
    pub(crate) fn take_spare(&mut self, bytes: u64) -> Option<PooledBuffer> {
        let k = self
            .spare
            .iter()
            .enumerate()
            .filter(|(_, b)| b.buffer().size() >= bytes)
            .min_by_key(|(_, b)| b.buffer().size())
            .map(|(k, _)| k)?;
        Some(self.spare.swap_remove(k))
    }

    /// Scratch the steps recorded so far are done with: later steps of
    /// this recording may take it again ([`Recorder::take_spare`]); it
    /// goes back to the pool once the recording is submitted. A blocked
    /// loop whose every step took fresh scratch (QR's split-K block
    /// updates) held hundreds of buffers, each created and cleared anew.
    pub(crate) fn done_with(&mut self, buf: PooledBuffer) {
        self.spare.push(buf);
    }

    pub(crate) fn copy_buffer_to_buffer(
        &mut self,
        src: &wgpu::Buffer,
        src_off: u64,
        dst: &wgpu::Buffer,
        dst_off: u64,
        size: u64,
    ) {
        if size > 0 {
            self.steps.push(Step::Copy {
                src: src.clone(),
                src_off,
                dst: dst.clone(),
                dst_off,
                size,
            });
        }
    }

    pub(crate) fn clear_buffer(&mut self, buf: &wgpu::Buffer, offset: u64, size: Option<u64>) {
        self.steps.push(Step::Clear {
            buf: buf.clone(),
            offset,
            size,
        });
    }

    pub(crate) fn resolve_query_set(
        &mut self,
        set: &wgpu::QuerySet,
        range: std::ops::Range<u32>,
        dst: &wgpu::Buffer,
    ) {
        self.steps.push(Step::Resolve {
            set: set.clone(),
            range,
            dst: dst.clone(),
        });
    }
}

/// Steps after which a long recording submits its first part: 8, or
/// `WGPU_LINALG_FLUSH_FIRST`.
fn first_flush_steps() -> usize {
    static FIRST: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *FIRST.get_or_init(|| crate::ops::env_usize("WGPU_LINALG_FLUSH_FIRST").unwrap_or(8))
}

impl Gpu {
    /// Submits what `rec` has queued once it holds `steps` steps or more,
    /// so that the GPU starts on a long recording (a blocked factorization
    /// loop, the tridiagonal reduction) while the host records the rest;
    /// the buffers the recording keeps stay kept until its final
    /// submission. The first part goes after [`first_flush_steps`]
    /// already (until it is submitted the GPU idles), and each part may be
    /// twice as long as the one before, up to `steps`.
    pub(crate) fn flush_after(&self, rec: &mut Recorder, steps: usize) {
        // parts of first, 2·first, 4·first … steps, up to `steps`: the
        // GPU runs each part while the host records the next, twice as
        // long. On an H200 (benches/RESULTS.md, 2026-12-01) Cholesky 4096²
        // took 3.26 / 3.21 ms against 3.67 / 3.50 ms with parts of 8 and
        // then 96 steps, and 3.90 ms with 96 throughout.
        let steps = steps.min(first_flush_steps() << rec.parts.min(16));
        if rec.steps.len() >= steps {
            rec.parts += 1;
            let part = Recorder {
                label: rec.label.clone(),
                steps: std::mem::take(&mut rec.steps),
                kept: Vec::new(),
                parts: 0,
                spare: Vec::new(),
            };
            self.submit(part);
        }
    }

    /// Turns a recording into one command buffer and submits it.
    pub(crate) fn submit(&self, rec: Recorder) -> wgpu::SubmissionIndex {
        let align = self.limits.min_uniform_buffer_offset_alignment.max(16) as usize;
        // every dispatch's parameters in one uniform buffer
        // (identical launches — same pipeline, parameters and buffers, as
        // in a loop whose step index lives on the GPU — share one slot and
        // one bind group: recording thousands of them stays cheap)
        let mut blob: Vec<u8> = Vec::new();
        let mut offsets = Vec::new();
        let mut slot_of_launch = Vec::new();
        // wgpu::Buffer hashes and compares by its id, which never changes
        #[allow(clippy::mutable_key_type)]
        let mut slots: HashMap<LaunchKey, usize> = HashMap::new();
        for s in &rec.steps {
            if let Step::Launch {
                pipeline,
                params,
                binds,
                ..
            } = s
            {
                let key = (
                    Arc::as_ptr(pipeline) as usize,
                    params.clone(),
                    binds.clone(),
                );
                let slot = *slots.entry(key).or_insert_with(|| {
                    let off = blob.len().next_multiple_of(align);
                    blob.resize(off, 0);
                    offsets.push(off as u64);
                    blob.extend_from_slice(params);
                    offsets.len() - 1
                });
                slot_of_launch.push(slot);
            }
        }
        let mut groups_of_slot: HashMap<usize, wgpu::BindGroup> = HashMap::new();
        let uniform = (!blob.is_empty()).then(|| {
            blob.resize(blob.len().next_multiple_of(16), 0);
            wgpu::util::DeviceExt::create_buffer_init(
                &self.device,
                &wgpu::util::BufferInitDescriptor {
                    label: Some(&rec.label),
                    contents: &blob,
                    usage: wgpu::BufferUsages::UNIFORM,
                },
            )
        });
        let mut enc = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some(&rec.label),
            });
        let mut profiler = self.profiler.lock().unwrap_or_else(|p| p.into_inner());
        let profiling = profiler.is_some();
        let mut launch_index = 0;
        let mut i = 0;
        while i < rec.steps.len() {
            match &rec.steps[i] {
                Step::Launch { .. } => {
                    // a run of consecutive launches shares one pass (or, while
                    // profiling, each launch has its own timed pass)
                    let mut j = i;
                    while j < rec.steps.len()
                        && matches!(rec.steps[j], Step::Launch { .. })
                        && (j == i || !profiling)
                    {
                        j += 1;
                    }
                    let label = match &rec.steps[i] {
                        Step::Launch { label, .. } => label.clone(),
                        _ => String::new(),
                    };
                    let timestamp_writes = profiler
                        .as_mut()
                        .and_then(|p| p.writes(&self.device, label));
                    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some(&rec.label),
                        timestamp_writes,
                    });
                    for step in &rec.steps[i..j] {
                        let Step::Launch {
                            pipeline,
                            label,
                            params,
                            binds,
                            groups,
                        } = step
                        else {
                            unreachable!("a run holds launches only")
                        };
                        let uni = uniform.as_ref().expect("launches have parameters");
                        let slot = slot_of_launch[launch_index];
                        launch_index += 1;
                        let bind_group = groups_of_slot.entry(slot).or_insert_with(|| {
                            let mut entries = vec![wgpu::BindGroupEntry {
                                binding: 0,
                                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                                    buffer: uni,
                                    offset: offsets[slot],
                                    size: NonZeroU64::new(params.len() as u64),
                                }),
                            }];
                            for (binding, buf) in binds {
                                entries.push(wgpu::BindGroupEntry {
                                    binding: *binding,
                                    resource: buf.as_entire_binding(),
                                });
                            }
                            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                                label: Some(label),
                                layout: &pipeline.layout,
                                entries: &entries,
                            })
                        });
                        pass.set_pipeline(&pipeline.pipeline);
                        pass.set_bind_group(0, &*bind_group, &[]);
                        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                    }
                    i = j;
                }
                Step::Copy {
                    src,
                    src_off,
                    dst,
                    dst_off,
                    size,
                } => {
                    enc.copy_buffer_to_buffer(src, *src_off, dst, *dst_off, *size);
                    i += 1;
                }
                Step::Clear { buf, offset, size } => {
                    enc.clear_buffer(buf, *offset, *size);
                    i += 1;
                }
                Step::Resolve { set, range, dst } => {
                    enc.resolve_query_set(set, range.clone(), dst, 0);
                    i += 1;
                }
            }
        }
        drop(profiler);
        let index = self.queue.submit(Some(enc.finish()));
        drop(rec.kept); // back to the pool, for later submissions
        drop(rec.spare);
        index
    }
}
