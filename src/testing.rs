//! Helpers of the crate's unit tests (the integration tests have their
//! own in `tests/common`).

use nalgebra::DMatrix;

use crate::Context;

/// A context whose GPU has `features`, or `None` where there is none
/// (after saying that `what` is not exercised); with
/// `WGPU_LINALG_REQUIRE_GPU=1` a missing adapter fails the test instead.
pub(crate) fn gpu_context(features: wgpu::Features, what: &str) -> Option<Context> {
    match Context::new() {
        Ok(c) if c.gpu().is_some_and(|g| g.features.contains(features)) => Some(c),
        _ => {
            assert!(
                std::env::var("WGPU_LINALG_REQUIRE_GPU").as_deref() != Ok("1"),
                "no GPU adapter with {features:?}"
            );
            eprintln!("no GPU adapter with {features:?}: {what} is not exercised here");
            None
        }
    }
}

/// A seeded xorshift generator of values in [-0.5, 0.5).
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// m×n (f64) with singular values spaced geometrically from 1 down to
/// 1/κ: U·diag·Vᵀ with orthonormal U, V from the QR of random matrices
/// drawn from `xorshift(seed)`.
pub(crate) fn with_kappa(seed: u64, m: usize, n: usize, kappa: f64) -> DMatrix<f64> {
    with_kappa_from(&mut xorshift(seed), m, n, kappa)
}

/// [`with_kappa`] with its entries drawn from `next`.
pub(crate) fn with_kappa_from(
    next: &mut impl FnMut() -> f64,
    m: usize,
    n: usize,
    kappa: f64,
) -> DMatrix<f64> {
    let k = m.min(n);
    let u = DMatrix::<f64>::from_fn(m, k, |_, _| next()).qr().q();
    let v = DMatrix::<f64>::from_fn(n, k, |_, _| next()).qr().q();
    let d = DMatrix::from_fn(k, k, |i, j| {
        if i == j {
            kappa.powf(-(i as f64) / (k.max(2) - 1) as f64)
        } else {
            0.0
        }
    });
    u * d * v.transpose()
}
