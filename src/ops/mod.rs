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

thread_local! {
    static FORCED_PANEL_REG: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with every LU and QR recorded on this thread taking (`true`)
/// or not taking (`false`) the register-held panels (`getf2_block`,
/// `geqr2_reg`) where a panel fits, whatever the environment says. For
/// tests of both kinds of panel.
#[doc(hidden)]
pub fn with_panels_in_registers<T>(on: bool, f: impl FnOnce() -> T) -> T {
    with_override(&FORCED_PANEL_REG, on, f)
}

/// Whether the LU and QR panels are held in registers where they fit:
/// yes, unless `WGPU_LINALG_PANEL_REG=0` or a test hook says otherwise.
pub(crate) fn panels_in_registers() -> bool {
    static FROM_ENV: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    FORCED_PANEL_REG
        .with(|f| f.get())
        .unwrap_or_else(|| *FROM_ENV.get_or_init(|| env_usize("WGPU_LINALG_PANEL_REG") != Some(0)))
}

/// (workgroup size, rows per invocation) of a register-held panel (eight
/// columns at most) of `rows` rows: 1024 invocations (or 256 / 512 with
/// `WGPU_LINALG_PANEL_PW`, wider where the panel does not fit) and the
/// fewest rows per invocation that hold the panel, with at most 64 values
/// per invocation in a workgroup of 1024 (the registers NVIDIA GPUs give
/// each of its invocations) and 128 in narrower ones; `None` above 8192
/// rows. On an H200 (benches/RESULTS.md, 2026-12-01) 1024 was the
/// fastest for QR at n = 4096 and 8192 and for solve at 8192, and level
/// with 512 for solve at 1024 and 4096; 256 was the slowest.
pub(crate) fn reg_panel(rows: usize) -> Option<(usize, usize)> {
    static PW: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let pref = *PW.get_or_init(|| {
        env_usize("WGPU_LINALG_PANEL_PW")
            .filter(|v| [256, 512, 1024].contains(v))
            .unwrap_or(1024)
    });
    [256usize, 512, 1024]
        .into_iter()
        .filter(|&pw| pw >= pref)
        .flat_map(|pw| {
            let cap = if pw == 1024 { 8 } else { 16 };
            [1usize, 2, 4, 8, 16]
                .into_iter()
                .filter(move |&r| r <= cap)
                .map(move |r| (pw, r))
        })
        .find(|&(pw, r)| rows <= pw * r)
}

/// Columns a register-held panel (LU or Householder) takes at `rpi` rows
/// per invocation: eight, or four past four rows per invocation, where
/// eight rows of eight columns would be all the registers a
/// 1024-invocation workgroup gives each invocation (wgsl/common/row4.wgsl).
/// On an H200 (benches/RESULTS.md, 2026-12-01) the four-column form took
/// solve 8192² from 86.7 to 79.2 / 79.6 ms and QR 8192² from 187.8 /
/// 189.7 to 172.0 / 171.3 ms.
pub(crate) fn reg_panel_cols(rpi: usize) -> usize {
    if rpi > 4 {
        4
    } else {
        8
    }
}

pub(crate) mod batched;
pub(crate) mod blas1;
pub(crate) mod eigh_tridiag;
pub mod factor;
pub(crate) mod jacobi;
pub mod linsolve;
pub mod lstsq_gram;
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
