//! Public operations: each module holds the host-level call (dispatcher,
//! CPU route, GPU route) and its GPU launch sequence.

pub(crate) mod batched;
pub(crate) mod blas1;
pub mod factor;
pub(crate) mod jacobi;
pub mod linsolve;
pub mod lu;
pub(crate) mod matmul;
pub mod norm;
pub mod qr;
pub(crate) mod qr_batched;
pub(crate) mod qr_cpu;
pub mod qr_lstsq;
pub mod svd;
pub(crate) mod svd_block;
pub(crate) mod svd_cpu;
pub(crate) mod svd_route;
pub(crate) mod svd_topk;
