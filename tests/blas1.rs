//! Support kernels against the float64 oracle: transpose, scale, axpy,
//! row swaps, and compensated reductions (dot, Frobenius norm, max |x|).

mod common;

use common::*;
use nalgebra::DMatrix;
use rand::Rng;

#[test]
fn transpose_batched_at_tile_edges() {
    let ctx = ctx();
    for (case, &(m, n)) in [(1, 1), (7, 33), (16, 16), (17, 129), (129, 31)]
        .iter()
        .enumerate()
    {
        let mut r = rng("transpose", case as u64);
        let mats: Vec<_> = (0..3).map(|_| random(&mut r, m, n)).collect();
        let t = ctx.upload_batch(&mats).unwrap().transpose().unwrap();
        assert_eq!((t.batch(), t.rows(), t.cols()), (3, n, m));
        for (x, y) in mats.iter().zip(t.download_batch().unwrap()) {
            assert_eq!(x.transpose(), y, "{m}x{n}");
        }
    }
}

#[test]
fn scale_and_axpy() {
    let ctx = ctx();
    let mut r = rng("scale_axpy", 0);
    let x = random(&mut r, 300, 7);
    let y = random(&mut r, 300, 7);
    let gx = ctx.upload(&x).unwrap();
    let gy = ctx.upload(&y).unwrap();
    let s = gx.scale(-3.5).unwrap().download().unwrap();
    assert_eq!(s, x.map(|v| -3.5 * v));
    let z = gy.axpy(0.25, &gx).unwrap().download().unwrap();
    let exact = to64(&y) + to64(&x) * 0.25;
    assert!(max_diff(&z, &exact) <= 2.0 * EPS, "axpy");
    // the inputs are unchanged
    assert_eq!(gy.download().unwrap(), y);
}

/// `swap_rows` of a random m×n matrix against nalgebra's row swaps in
/// order.
fn check_swaps(
    ctx: &wgpu_linalg::Context,
    r: &mut rand_chacha::ChaCha8Rng,
    (m, n): (usize, usize),
    ipiv: &[u32],
) {
    let a = random(r, m, n);
    let got = ctx
        .upload(&a)
        .unwrap()
        .swap_rows(ipiv)
        .unwrap()
        .download()
        .unwrap();
    let mut want = a.clone();
    for (i, &p) in ipiv.iter().enumerate() {
        want.swap_rows(i, p as usize);
    }
    assert_eq!(got, want, "{m}x{n}, {} swaps", ipiv.len());
}

#[test]
fn swap_rows_like_laswp() {
    let ctx = ctx();
    let mut r = rng("laswp", 0);
    let (m, n) = (37, 70);
    let ipiv: Vec<u32> = (0..20).map(|i| r.random_range(i..m as u32)).collect();
    check_swaps(ctx, &mut r, (m, n), &ipiv);
    // more swaps than one chunk of the kernel (64), pivots above and below
    // their row, repeated pivot rows, more columns than one dispatch pass
    for (m, n, swaps) in [(150, 9, 100), (70, 300, 70), (33, 5, 33)] {
        let ipiv: Vec<u32> = (0..swaps)
            .map(|i| match i % 3 {
                0 => r.random_range(0..m as u32),
                1 => (i as u32 + 7) % m as u32,
                _ => r.random_range(i as u32..m as u32),
            })
            .collect();
        check_swaps(ctx, &mut r, (m, n), &ipiv);
    }
    let a = random(&mut r, m, n);
    // a pivot outside the matrix is a shape error, not a panic
    assert!(ctx.upload(&a).unwrap().swap_rows(&[m as u32]).is_err());
}

#[test]
fn compensated_dot_beats_n_epsilon() {
    let ctx = ctx();
    let mut r = rng("dot", 0);
    let n = 200_003;
    // Terms of both signs and wide magnitude: naive f32 summation loses
    // digits here; the double-float accumulator must not.
    let x = DMatrix::<f32>::from_fn(n, 1, |_, _| {
        r.random_range(-1.0f32..1.0) * 2f32.powi(r.random_range(-8..8))
    });
    let y = DMatrix::<f32>::from_fn(n, 1, |_, _| r.random_range(-1.0f32..1.0));
    let exact: f64 = x
        .iter()
        .zip(y.iter())
        .map(|(a, b)| *a as f64 * *b as f64)
        .sum();
    let abs: f64 = x
        .iter()
        .zip(y.iter())
        .map(|(a, b)| (*a as f64 * *b as f64).abs())
        .sum();
    let got = ctx
        .upload(&x)
        .unwrap()
        .dot(&ctx.upload(&y).unwrap())
        .unwrap() as f64;
    // Compensated: rounding of the result plus an n·ε² term, where plain
    // f32 accumulation is bounded only by n·ε·Σ|xᵢyᵢ|.
    let bound = 2.0 * EPS * exact.abs() + 2.0 * n as f64 * EPS * EPS * abs;
    assert!(
        (got - exact).abs() <= bound,
        "dot {got} vs {exact} (bound {bound:.3e})"
    );
}

#[test]
fn frobenius_norm_is_scaled_and_accurate() {
    let ctx = ctx();
    let mut r = rng("norm", 0);
    for (case, scale) in [1.0f32, 1e30, 1e-30].iter().enumerate() {
        let a = random(&mut r, 257, 129).map(|v| v * scale);
        let exact = to64(&a).norm();
        let got = ctx.upload(&a).unwrap().norm_fro().unwrap() as f64;
        assert!(got.is_finite(), "case {case}: overflow");
        assert!(
            (got - exact).abs() <= 4.0 * EPS * exact,
            "case {case}: {got} vs {exact}"
        );
    }
}

#[test]
fn max_abs_returns_first_index_of_largest() {
    let ctx = ctx();
    let mut r = rng("maxabs", 0);
    let mut a = random(&mut r, 513, 77);
    a[(100, 40)] = -7.0;
    a[(3, 60)] = 7.0; // same magnitude, later in column-major order
    let (v, i) = ctx.upload(&a).unwrap().max_abs().unwrap().unwrap();
    assert_eq!(v, 7.0);
    assert_eq!(i, 100 + 40 * 513);
    assert!(ctx
        .upload(&DMatrix::<f32>::zeros(0, 3))
        .unwrap()
        .max_abs()
        .unwrap()
        .is_none());
}
