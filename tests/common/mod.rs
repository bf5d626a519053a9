//! Shared test support: seeded random, low-rank and ill-conditioned
//! matrices, the backends every test body runs on, and the f64 oracle.
#![allow(dead_code)]

use std::sync::OnceLock;

use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wgpu_linalg::{Context, Route};

pub const EPS: f64 = f32::EPSILON as f64;

/// Sizes that straddle the 16- and 128-wide tile edges.
pub const EDGE_SIZES: [usize; 9] = [1, 7, 15, 16, 17, 31, 33, 127, 129];

/// One context per test binary; a GPU is required (lavapipe in CI).
pub fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        let c = Context::new().expect("context");
        assert!(
            c.has_gpu(),
            "no GPU adapter: GPU tests cannot run (install a Vulkan driver, e.g. mesa-vulkan-drivers)"
        );
        c
    })
}

/// The contexts every test body runs on: the CPU route and the GPU route.
pub fn backends() -> [(Route, Context); 2] {
    [
        (Route::Cpu, ctx().with_route(Route::Cpu)),
        (Route::Gpu, ctx().with_route(Route::Gpu)),
    ]
}

/// A generator seeded from the test name and a case number, so each test
/// draws fresh inputs that are still reproducible.
pub fn rng(test: &str, case: u64) -> ChaCha8Rng {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in test.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    ChaCha8Rng::seed_from_u64(h ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Entries uniform in [-1, 1).
pub fn random(rng: &mut ChaCha8Rng, m: usize, n: usize) -> DMatrix<f32> {
    DMatrix::from_fn(m, n, |_, _| rng.random_range(-1.0f32..1.0))
}

/// Entries of widely varying magnitude: uniform times 2^e, e in [-20, 20].
pub fn wide_range(rng: &mut ChaCha8Rng, m: usize, n: usize) -> DMatrix<f32> {
    DMatrix::from_fn(m, n, |_, _| {
        let e: i32 = rng.random_range(-20..=20);
        rng.random_range(-1.0f32..1.0) * 2f32.powi(e)
    })
}

/// A random matrix of rank `r`.
pub fn low_rank(rng: &mut ChaCha8Rng, m: usize, n: usize, r: usize) -> DMatrix<f32> {
    let x = random(rng, m, r).map(f64::from);
    let y = random(rng, r, n).map(f64::from);
    (x * y).map(|v| v as f32)
}

/// A random orthogonal n×n matrix (f64), from the QR of a Gaussian-ish one.
pub fn orthogonal(rng: &mut ChaCha8Rng, n: usize) -> DMatrix<f64> {
    orthonormal(rng, n, n)
}

/// m×r with orthonormal columns (r ≤ m), from a random m×r matrix.
pub fn orthonormal(rng: &mut ChaCha8Rng, m: usize, r: usize) -> DMatrix<f64> {
    random(rng, m, r).map(f64::from).qr().q()
}

/// A random m×n matrix with singular values from 1 down to 1/cond,
/// geometrically spaced. Only min(m, n) orthonormal columns (rows) of the
/// larger side are drawn, so tall and wide matrices cost O(m·n²).
pub fn with_condition(rng: &mut ChaCha8Rng, m: usize, n: usize, cond: f64) -> DMatrix<f32> {
    let r = m.min(n);
    let u = orthonormal(rng, m, r);
    let v = orthonormal(rng, n, r);
    let mut s = DMatrix::<f64>::zeros(r, r);
    for i in 0..r {
        let t = if r > 1 {
            i as f64 / (r - 1) as f64
        } else {
            0.0
        };
        s[(i, i)] = cond.powf(-t);
    }
    (u * s * v.transpose()).map(|x| x as f32)
}

pub fn to64(a: &DMatrix<f32>) -> DMatrix<f64> {
    a.map(f64::from)
}

/// max |x - y| over entries, in f64.
pub fn max_diff(x: &DMatrix<f32>, y: &DMatrix<f64>) -> f64 {
    assert_eq!(x.shape(), y.shape(), "shapes differ");
    (to64(x) - y).abs().max()
}

pub fn fro(x: &DMatrix<f64>) -> f64 {
    x.norm()
}

/// A symmetric positive definite n×n matrix with condition number `cond`
/// (eigenvalues geometric between 1 and 1/cond), built in f64.
pub fn spd(rng: &mut ChaCha8Rng, n: usize, cond: f64) -> DMatrix<f32> {
    let q = orthogonal(rng, n);
    let mut d = DMatrix::<f64>::zeros(n, n);
    for i in 0..n {
        let t = if n > 1 {
            i as f64 / (n - 1) as f64
        } else {
            0.0
        };
        d[(i, i)] = cond.powf(-t);
    }
    let a = &q * d * q.transpose();
    // symmetrize exactly after rounding
    let a = (a.clone() + a.transpose()) * 0.5;
    a.map(|x| x as f32)
}

/// ‖X‖_F in f64 of an f32 matrix.
pub fn fro32(x: &DMatrix<f32>) -> f64 {
    to64(x).norm()
}
