//! # wgpu-linalg
//!
//! Dense linear algebra whose kernels are WGSL and run through wgpu (Metal,
//! Vulkan, DX12), with nalgebra as CPU fallback and oracle, and a dispatcher
//! that picks the CPU or the GPU per call.
//!
//! ```no_run
//! use nalgebra::DMatrix;
//! let ctx = wgpu_linalg::Context::new()?;
//! let a = DMatrix::<f32>::from_fn(300, 200, |i, j| (i as f32 - j as f32).sin());
//! let b = DMatrix::<f32>::from_fn(200, 100, |i, j| (i * j) as f32 / 1e4);
//! let c = ctx.matmul(&a, &b)?;                     // routed by the dispatcher
//! let g = ctx.upload(&a)?;                          // device-resident chain:
//! let gram = g.matmul_t(true, &g, false)?;          // AᵀA stays on the GPU
//! let n = gram.norm_fro()?;                         // one scalar read back
//! # Ok::<(), wgpu_linalg::Error>(())
//! ```

pub mod context;
pub(crate) mod cpu;
pub mod dispatch;
pub mod error;
pub mod gpu;
pub(crate) mod ops;
#[cfg(test)]
pub(crate) mod testing;

pub use context::{Context, ContextBuilder, Route};
pub use error::{Error, Result};
pub use gpu::kernels::Kernel;
pub use gpu::matrix::GpuMatrix;
#[doc(hidden)]
pub use ops::factor::with_lu_blocking;
pub use ops::factor::{FactorParams, TriFlags};
pub use ops::linsolve::GpuLu;
pub use ops::lstsq_gram::with_lstsq_gram;
pub use ops::lu::Lu;
#[doc(hidden)]
pub use ops::matmul::{
    with_coop_f32_params, with_coop_params, with_gemm_depth, with_gemm_variant, with_split_f16,
};
pub use ops::matmul::{CoopParams, GemmParams, GemmVariant, SplitK};
#[doc(hidden)]
pub use ops::qr::{with_cholqr, with_qr_params};
pub use ops::qr::{GpuQr, Qr, QrAlgo, QrMode, QrParams};
pub use ops::qr_lstsq::{GpuLstsq, Lstsq};
#[doc(hidden)]
pub use ops::with_panels_in_registers;

pub use ops::norm::Norm;
pub use ops::svd::{GpuSvd, Svd, TopkOpts};

/// The assembled WGSL source of every kernel with the files it is made of,
/// for validation tools (`tests/wgsl_targets.rs`).
pub fn kernel_sources() -> Vec<(Kernel, Vec<&'static str>, String)> {
    Kernel::ALL
        .iter()
        .map(|k| (*k, k.parts().iter().map(|(f, _)| *f).collect(), k.source()))
        .collect()
}
