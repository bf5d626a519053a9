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

/// A numeric tuning switch from the environment (`None` when unset or not
/// a number).
pub(crate) fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
}

/// A thread-local override of a tuning rule, for the test hooks.
pub(crate) type Override<T> = std::thread::LocalKey<std::cell::Cell<Option<T>>>;

/// Runs `f` with the thread-local override `key` set to `value`, and puts
/// the previous setting back afterwards (also when `f` panics): the
/// `with_gemm_variant`, `with_gemm_depth`, `with_lu_blocking` and
/// `with_qr_params` test hooks.
pub(crate) fn with_override<T: Copy + 'static, R>(
    key: &'static Override<T>,
    value: T,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore<T: Copy + 'static> {
        key: &'static Override<T>,
        old: Option<T>,
    }
    impl<T: Copy + 'static> Drop for Restore<T> {
        fn drop(&mut self) {
            self.key.with(|v| v.set(self.old));
        }
    }
    let _restore = Restore {
        key,
        old: key.with(|v| v.replace(Some(value))),
    };
    f()
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
