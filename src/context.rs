//! `Context`: the opened adapter (or none), the routing policy and the
//! tuning table. Cheap to clone; shared state lives behind an `Arc`.

use std::sync::Arc;

use crate::dispatch::Tuning;
use crate::error::{Error, Result};
use crate::gpu::Gpu;

/// Where a call runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// The dispatcher decides per call from op, shape, batch and adapter.
    Auto,
    /// nalgebra on the host.
    Cpu,
    /// WGSL kernels through wgpu.
    Gpu,
}

impl Route {
    pub(crate) fn from_env() -> Option<Route> {
        match std::env::var("WGPU_LINALG_ROUTE")
            .ok()?
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "cpu" => Some(Route::Cpu),
            "gpu" => Some(Route::Gpu),
            "auto" => Some(Route::Auto),
            other => {
                log::warn!(target: "wgpu_linalg", "WGPU_LINALG_ROUTE={other} is not cpu|gpu|auto; ignored");
                None
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Route::Auto => "auto",
            Route::Cpu => "cpu",
            Route::Gpu => "gpu",
        }
    }
}

pub(crate) struct Shared {
    pub(crate) gpu: Option<Gpu>,
    pub(crate) tuning: Tuning,
}

/// The entry point of the library: an opened adapter (or a CPU-only
/// fallback), a routing policy and the tuning table for the adapter.
#[derive(Clone)]
pub struct Context {
    pub(crate) shared: Arc<Shared>,
    pub(crate) route: Route,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("adapter", &self.adapter_info().map(|i| i.name))
            .field("route", &self.route)
            .finish()
    }
}

/// Options for [`Context::builder`].
#[derive(Debug, Clone)]
pub struct ContextBuilder {
    backends: wgpu::Backends,
    route: Option<Route>,
    require_gpu: Option<bool>,
    tuning_path: Option<std::path::PathBuf>,
    without: wgpu::Features,
}

impl Default for ContextBuilder {
    fn default() -> Self {
        ContextBuilder {
            backends: wgpu::Backends::all(),
            route: None,
            require_gpu: None,
            tuning_path: None,
            without: wgpu::Features::empty(),
        }
    }
}

impl ContextBuilder {
    /// Backends to consider (default: all compiled in).
    pub fn backends(mut self, b: wgpu::Backends) -> Self {
        self.backends = b;
        self
    }
    /// Routing policy; without it, `WGPU_LINALG_ROUTE` or `Auto`.
    pub fn route(mut self, r: Route) -> Self {
        self.route = Some(r);
        self
    }
    /// Fail with `Error::NoGpu` instead of becoming CPU-only; without it,
    /// `WGPU_LINALG_REQUIRE_GPU=1` decides.
    pub fn require_gpu(mut self, yes: bool) -> Self {
        self.require_gpu = Some(yes);
        self
    }
    /// A tuning table to use instead of the shipped one (as
    /// `WGPU_LINALG_TUNING` does).
    pub fn tuning_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.tuning_path = Some(path.into());
        self
    }

    /// Leaves optional features off even where the adapter has them (to
    /// run and test the fallback kernels, e.g. without `SUBGROUP`).
    pub fn without_features(mut self, f: wgpu::Features) -> Self {
        self.without = f;
        self
    }

    pub fn build(self) -> Result<Context> {
        let route = self.route.or_else(Route::from_env).unwrap_or(Route::Auto);
        let require = self.require_gpu.unwrap_or_else(|| {
            std::env::var("WGPU_LINALG_REQUIRE_GPU").is_ok_and(|v| v.trim() == "1")
        });
        let gpu = match open_gpu(self.backends, self.without) {
            Ok(g) => Some(g),
            Err(e) => {
                if require || route == Route::Gpu {
                    log::error!(target: "wgpu_linalg", "no GPU: {e}");
                    return Err(Error::NoGpu);
                }
                log::info!(target: "wgpu_linalg", "no GPU ({e}); CPU-only context");
                None
            }
        };
        let name = gpu.as_ref().map(|g| g.info.name.clone());
        let tuning = Tuning::load(
            self.tuning_path.as_deref(),
            name.as_deref(),
            gpu.as_ref().map(|g| g.info.device_type),
        )?;
        let mut gpu = gpu;
        if let Some(g) = gpu.as_mut() {
            g.gemm = tuning.gemm.clone();
        }
        Ok(Context {
            shared: Arc::new(Shared { gpu, tuning }),
            route,
        })
    }
}

/// Features the library uses where the adapter offers them.
fn wanted_features() -> wgpu::Features {
    wgpu::Features::SUBGROUP
        | wgpu::Features::SHADER_F16
        | wgpu::Features::TIMESTAMP_QUERY
        | wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX
}

fn open_gpu(backends: wgpu::Backends, without: wgpu::Features) -> std::result::Result<Gpu, String> {
    if backends.is_empty() {
        return Err("no backend selected".into());
    }
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends;
    let instance = wgpu::Instance::new(desc);
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        force_fallback_adapter: false,
        compatible_surface: None,
        apply_limit_buckets: false,
    }))
    .map_err(|e| e.to_string())?;
    let info = adapter.get_info();
    let features = adapter.features() & (wanted_features() - without);
    let experimental = if features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
        // SAFETY: cooperative-matrix kernels are used only through the
        // validated entry points of this crate, with tiles staged in
        // workgroup memory and literal strides.
        unsafe { wgpu::ExperimentalFeatures::enabled() }
    } else {
        wgpu::ExperimentalFeatures::disabled()
    };
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("wgpu-linalg"),
        required_features: features,
        required_limits: adapter.limits(),
        experimental_features: experimental,
        memory_hints: wgpu::MemoryHints::Performance,
        trace: wgpu::Trace::Off,
    }))
    .map_err(|e| e.to_string())?;
    log::info!(target: "wgpu_linalg", "opened {} ({:?}, {:?})", info.name, info.backend, info.device_type);
    // The cooperative GEMM (wgsl/gemm/coop.wgsl) needs 16×16×16 matrices
    // with f16 multiplicands and an f32 accumulator, and one fixed subgroup
    // size (it maps invocation t to subgroup t / size).
    // The 8×8 f32 one (wgsl/gemm/coop8.wgsl) needs 8×8×8 f32 matrices.
    let coop = features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX)
        && info.subgroup_min_size == info.subgroup_max_size
        && (8..=128).contains(&info.subgroup_min_size);
    let offers = |size: u32, ab: wgpu::CooperativeScalarType| {
        coop && adapter.cooperative_matrix_properties().iter().any(|p| {
            (p.m_size, p.n_size, p.k_size) == (size, size, size)
                && p.ab_type == ab
                && p.cr_type == wgpu::CooperativeScalarType::F32
        })
    };
    let coop_f16 = features.contains(wgpu::Features::SHADER_F16)
        && offers(16, wgpu::CooperativeScalarType::F16);
    let coop_f32 = offers(8, wgpu::CooperativeScalarType::F32);
    let subgroup = info.subgroup_min_size;
    let mut gpu = Gpu::new(device, queue, info);
    gpu.coop_f16_subgroup = coop_f16.then_some(subgroup);
    gpu.coop_f32_subgroup = coop_f32.then_some(subgroup);
    Ok(gpu)
}

impl Context {
    /// The best adapter, or a CPU-only context if none opens (unless
    /// `WGPU_LINALG_REQUIRE_GPU=1`, then `Error::NoGpu`).
    pub fn new() -> Result<Context> {
        ContextBuilder::default().build()
    }

    pub fn builder() -> ContextBuilder {
        ContextBuilder::default()
    }

    /// The opened adapter; `None` for a CPU-only context.
    pub fn adapter_info(&self) -> Option<wgpu::AdapterInfo> {
        self.gpu().map(|g| g.info.clone())
    }

    /// Device limits as granted (the adapter's real limits).
    pub fn limits(&self) -> Option<wgpu::Limits> {
        self.gpu().map(|g| g.limits.clone())
    }

    /// Optional features enabled on the device.
    pub fn features(&self) -> wgpu::Features {
        self.gpu()
            .map(|g| g.features)
            .unwrap_or(wgpu::Features::empty())
    }

    /// Whether f16 products (`matmul_f16`, `GpuMatrix::matmul` of f16
    /// matrices) run on cooperative matrices (16×16×16, f16 multiplicands,
    /// f32 accumulation): the adapter offers them, `SHADER_F16` and one
    /// fixed subgroup size, and `WGPU_LINALG_COOP` neither turns them off
    /// nor names a shape the kernel cannot run ([`crate::CoopParams`]).
    pub fn coop_f16(&self) -> bool {
        let Some(gpu) = self.gpu() else {
            return false;
        };
        match (
            gpu.coop_f16_subgroup,
            crate::ops::matmul::CoopParams::for_gpu(gpu),
        ) {
            (Some(sg), Some(cp)) => cp.valid_for(sg),
            _ => false,
        }
    }

    /// Whether the adapter has 8×8×8 f32 cooperative matrices (Apple GPUs
    /// through Metal) for the f32 cooperative GEMM (`wgsl/gemm/coop8.wgsl`)
    /// and one fixed subgroup size. f32 products use it where the tuning
    /// table's `gemm.coop_f32` (or `WGPU_LINALG_COOP_F32`) names a shape.
    pub fn coop_f32(&self) -> bool {
        self.gpu().is_some_and(|g| g.coop_f32_subgroup.is_some())
    }

    /// A clone that forces `route`.
    pub fn with_route(&self, route: Route) -> Context {
        Context {
            shared: self.shared.clone(),
            route,
        }
    }

    pub fn route(&self) -> Route {
        self.route
    }

    pub fn has_gpu(&self) -> bool {
        self.shared.gpu.is_some()
    }

    pub(crate) fn gpu(&self) -> Option<&Gpu> {
        self.shared.gpu.as_ref()
    }

    pub(crate) fn gpu_or_err(&self) -> Result<&Gpu> {
        self.gpu().ok_or(Error::NoGpu)
    }

    pub(crate) fn same_gpu(&self, other: &Context) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until all submitted GPU work has finished (for timing).
    pub fn synchronize(&self) -> Result<()> {
        if let Some(g) = self.gpu() {
            g.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| Error::Gpu(format!("poll: {e}")))?;
            g.check_health()?;
        }
        Ok(())
    }

    /// Runs `f` and returns the GPU time (ms) of the compute passes it
    /// recorded, measured with timestamp queries, after waiting for them;
    /// `None` for a CPU-only context or an adapter without timestamps.
    pub fn gpu_timed<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<(T, Option<f64>)> {
        match self.gpu() {
            Some(g) => g.timed(f),
            None => Ok((f()?, None)),
        }
    }

    /// As [`Context::gpu_timed`], with the GPU time of each kind of
    /// dispatch (by label), largest first: where an op spends its time.
    #[allow(clippy::type_complexity)]
    pub fn gpu_profile<T>(
        &self,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<(T, Option<(f64, Vec<(String, f64)>)>)> {
        match self.gpu() {
            Some(g) => g.timed_detail(f),
            None => Ok((f()?, None)),
        }
    }

    /// The route the dispatcher would take for `op` (a tuning-table key
    /// such as `"matmul"`) at a nominal cost of `flops` (batch included).
    pub fn plan_route(&self, op: &'static str, flops: f64, batch: usize) -> Result<Route> {
        crate::dispatch::decide(self, op, flops, batch)
    }

    /// The tuning table in force for this context's adapter.
    pub fn tuning(&self) -> &Tuning {
        &self.shared.tuning
    }
}
