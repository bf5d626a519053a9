//! Public operations: each module holds the host-level call (dispatcher,
//! CPU route, GPU route) and its GPU launch sequence.

use crate::error::{Error, Result};

/// `v` as a u32 for a kernel's uniform block, or `Error::TooLarge` (as
/// 4-byte elements against the u32 index range).
pub(crate) fn u32_of(op: &'static str, v: usize) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::TooLarge {
        op,
        bytes: (v as u64).saturating_mul(4),
        limit: u32::MAX as u64,
    })
}

pub(crate) mod batched;
pub(crate) mod blas1;
pub(crate) mod eigh_tridiag;
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
