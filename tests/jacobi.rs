//! Batched SVD and symmetric eigensolver of small matrices (m, n ≤ 64),
//! on both routes, against the float64 nalgebra oracle: orders around the
//! kernel's size classes (8, 16, 32, 64), tall and wide shapes, batches of
//! 1, 3, 100 (and 2000 on the GPU), and inputs that are random, clustered,
//! rank deficient (zero singular values, the zero matrix inside a batch),
//! ill-conditioned (cond 1e6), symmetric indefinite, diagonal, identity.
//!
//! Every bound is `C·n·ε(f32)` with `C = 16` and n = max(m, n):
//! - SVD: |σ_i − σ64_i| ≤ C·n·ε·σ_max, ‖A − U·Σ·Vᵀ‖_F / ‖A‖_F ≤ C·n·ε,
//!   ‖UᵀU − I‖_F ≤ C·n·ε and ‖Vᵀ·V − I‖_F ≤ C·n·ε (also when rank deficient);
//! - eigh: |λ_i − λ64_i| ≤ C·n·ε·‖A‖_F, ‖A·V − V·Λ‖_F / ‖A‖_F ≤ C·n·ε,
//!   ‖VᵀV − I‖_F ≤ C·n·ε, eigenvalues ascending.

mod common;

use common::*;
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use wgpu_linalg::{Error, Route, Svd};

/// The constant of every `C·n·ε` bound of this file.
const C: f64 = 16.0;

/// Orders around the size classes of the kernel (8, 16, 32, 64).
const SIZES: [usize; 11] = [1, 2, 3, 7, 16, 17, 31, 32, 33, 63, 64];

fn bound(n: usize) -> f64 {
    C * n.max(1) as f64 * EPS
}

/// Q·diag(s)·Wᵀ (m×n, f64 orthogonal factors) with the given singular
/// values (padded with zeros).
fn with_singular_values(r: &mut ChaCha8Rng, m: usize, n: usize, s: &[f64]) -> DMatrix<f32> {
    let q = orthogonal(r, m);
    let w = orthogonal(r, n);
    let mut d = DMatrix::<f64>::zeros(m, n);
    for (i, &v) in s.iter().enumerate().take(m.min(n)) {
        d[(i, i)] = v;
    }
    (q * d * w.transpose()).map(|x| x as f32)
}

/// A batch of test matrices of one shape: random, clustered singular
/// values, rank deficient, cond 1e6, diagonal, identity-like, zero.
fn svd_inputs(test: &str, m: usize, n: usize) -> Vec<(String, DMatrix<f32>)> {
    let r = &mut rng(test, (m * 100 + n) as u64);
    let k = m.min(n);
    let clustered: Vec<f64> = (0..k)
        .map(|i| {
            if i < 4 {
                1.0
            } else {
                1e-3 * (1.0 + i as f64 * 1e-3)
            }
        })
        .collect();
    let mut diag = DMatrix::<f32>::zeros(m, n);
    for i in 0..k {
        diag[(i, i)] = r.random_range(-2.0f32..2.0);
    }
    vec![
        ("random".into(), random(r, m, n)),
        (
            "clustered".into(),
            with_singular_values(r, m, n, &clustered),
        ),
        ("rank k/2".into(), low_rank(r, m, n, k / 2)),
        ("cond 1e6".into(), with_condition(r, m, n, 1e6)),
        ("diagonal".into(), diag),
        ("identity".into(), DMatrix::identity(m, n)),
        ("zero".into(), DMatrix::zeros(m, n)),
        ("wide range".into(), wide_range(r, m, n)),
    ]
}

fn sorted_desc(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| b.total_cmp(a));
    v
}

fn check_svd(a: &DMatrix<f32>, f: &Svd, what: &str) {
    let (m, n) = a.shape();
    let k = m.min(n);
    let b = bound(m.max(n));
    assert_eq!(f.u.shape(), (m, k), "{what}: U shape");
    assert_eq!(f.s.len(), k, "{what}: s length");
    assert_eq!(f.vt.shape(), (k, n), "{what}: Vᵀ shape");
    let a64 = to64(a);
    let s64 = sorted_desc(a64.clone().singular_values().iter().copied().collect());
    let smax = s64.first().copied().unwrap_or(0.0);
    for (i, &want) in s64.iter().enumerate().take(k) {
        let s = f.s[i] as f64;
        assert!(s >= 0.0, "{what}: σ_{i} = {s} < 0");
        if i > 0 {
            assert!(f.s[i - 1] >= f.s[i], "{what}: σ not descending at {i}");
        }
        assert!(
            (s - want).abs() <= b * smax,
            "{what}: σ_{i} = {s:e}, oracle {want:e} (bound {:e})",
            b * smax
        );
    }
    let anorm = fro(&a64);
    let res = fro(&(&a64 - f.reconstruct()));
    assert!(
        res <= b * anorm,
        "{what}: ‖A − UΣVᵀ‖/‖A‖ = {:e} > {b:e}",
        res / anorm
    );
    let u = to64(&f.u);
    let v = to64(&f.vt);
    let eu = fro(&(u.transpose() * &u - DMatrix::identity(k, k)));
    let ev = fro(&(&v * v.transpose() - DMatrix::identity(k, k)));
    assert!(eu <= b, "{what}: ‖UᵀU − I‖ = {eu:e} > {b:e}");
    assert!(ev <= b, "{what}: ‖VᵀV − I‖ = {ev:e} > {b:e}");
}

/// The symmetric matrix of the lower triangle of `a`, in f64.
fn sym_lower(a: &DMatrix<f32>) -> DMatrix<f64> {
    let n = a.nrows();
    DMatrix::from_fn(n, n, |i, j| a[(i.max(j), i.min(j))] as f64)
}

fn check_eigh(a: &DMatrix<f32>, (w, v): &(DVector<f32>, DMatrix<f32>), what: &str) {
    let n = a.nrows();
    let b = bound(n);
    assert_eq!(w.len(), n, "{what}: w length");
    assert_eq!(v.shape(), (n, n), "{what}: V shape");
    let s = sym_lower(a);
    let mut w64: Vec<f64> = s.clone().symmetric_eigenvalues().iter().copied().collect();
    w64.sort_by(|x, y| x.total_cmp(y));
    let anorm = fro(&s);
    for i in 0..n {
        if i > 0 {
            assert!(w[i - 1] <= w[i], "{what}: λ not ascending at {i}");
        }
        assert!(
            (w[i] as f64 - w64[i]).abs() <= b * anorm,
            "{what}: λ_{i} = {:e}, oracle {:e}",
            w[i],
            w64[i]
        );
    }
    let v64 = to64(v);
    let lam = DMatrix::from_diagonal(&w.map(f64::from));
    let res = fro(&(&s * &v64 - &v64 * lam));
    assert!(
        res <= b * anorm,
        "{what}: ‖AV − VΛ‖/‖A‖ = {:e} > {b:e}",
        res / anorm
    );
    let e = fro(&(v64.transpose() * &v64 - DMatrix::identity(n, n)));
    assert!(e <= b, "{what}: ‖VᵀV − I‖ = {e:e} > {b:e}");
}

/// Symmetric test matrices of order n, each with garbage above the
/// diagonal (only the lower triangle may be read).
fn eigh_inputs(test: &str, n: usize) -> Vec<(String, DMatrix<f32>)> {
    let r = &mut rng(test, n as u64);
    let q = orthogonal(r, n);
    let sym = |d: &[f64]| {
        let dm = DMatrix::from_diagonal(&DVector::from_column_slice(d));
        (&q * dm * q.transpose()).map(|x| x as f32)
    };
    let clustered: Vec<f64> = (0..n)
        .map(|i| if i < 3 { 1.0 } else { -1e-3 * (1.0 + i as f64) })
        .collect();
    let indefinite: Vec<f64> = (0..n)
        .map(|i| {
            if i % 3 == 0 {
                0.0
            } else {
                (i as f64 - n as f64 / 2.0) / n as f64
            }
        })
        .collect();
    let graded: Vec<f64> = (0..n)
        .map(|i| 1e-6f64.powf(i as f64 / (n.max(2) - 1) as f64))
        .collect();
    let mut diag = DMatrix::<f32>::zeros(n, n);
    for i in 0..n {
        diag[(i, i)] = r.random_range(-3.0f32..3.0);
    }
    let x = random(r, n, (n / 2).max(1)).map(f64::from);
    let psd_low_rank = (&x * x.transpose()).map(|v| v as f32);
    let mut out: Vec<(String, DMatrix<f32>)> = vec![
        ("random".into(), random(r, n, n)),
        ("clustered".into(), sym(&clustered)),
        ("indefinite singular".into(), sym(&indefinite)),
        ("spd cond 1e6".into(), sym(&graded)),
        ("psd rank n/2".into(), psd_low_rank),
        ("diagonal".into(), diag),
        ("identity".into(), DMatrix::identity(n, n)),
        ("zero".into(), DMatrix::zeros(n, n)),
    ];
    for (_, m) in &mut out {
        for j in 1..n {
            for i in 0..j {
                m[(i, j)] = r.random_range(-5.0f32..5.0);
            }
        }
    }
    out
}

#[test]
fn svd_square_sizes_and_input_kinds() {
    for (route, c) in backends() {
        for n in SIZES {
            let inputs = svd_inputs("svd_square", n, n);
            let mats: Vec<_> = inputs.iter().map(|(_, m)| m.clone()).collect();
            let out = c.svd_batched(&mats).unwrap();
            assert_eq!(out.len(), mats.len());
            for ((name, a), f) in inputs.iter().zip(&out) {
                check_svd(a, f, &format!("{route:?} {n}×{n} {name}"));
            }
        }
    }
}

#[test]
fn svd_tall_and_wide() {
    for (route, c) in backends() {
        for (m, n) in [
            (64, 17),
            (17, 64),
            (5, 40),
            (40, 5),
            (33, 8),
            (2, 64),
            (64, 1),
            (1, 7),
        ] {
            let inputs = svd_inputs("svd_rect", m, n);
            let mats: Vec<_> = inputs.iter().map(|(_, x)| x.clone()).collect();
            let out = c.svd_batched(&mats).unwrap();
            for ((name, a), f) in inputs.iter().zip(&out) {
                check_svd(a, f, &format!("{route:?} {m}×{n} {name}"));
            }
        }
    }
}

#[test]
fn svd_batches_of_1_3_100() {
    for (route, c) in backends() {
        for (batch, n) in [(1, 33), (3, 7), (100, 16), (100, 5)] {
            let r = &mut rng("svd_batches", (batch * 100 + n) as u64);
            let mats: Vec<_> = (0..batch).map(|_| random(r, n + 3, n)).collect();
            let out = c.svd_batched(&mats).unwrap();
            assert_eq!(out.len(), batch);
            for (i, (a, f)) in mats.iter().zip(&out).enumerate() {
                check_svd(a, f, &format!("{route:?} batch {batch} #{i} {}×{n}", n + 3));
            }
        }
    }
}

#[test]
fn eigh_sizes_and_input_kinds() {
    for (route, c) in backends() {
        for n in SIZES {
            let inputs = eigh_inputs("eigh_sizes", n);
            let mats: Vec<_> = inputs.iter().map(|(_, m)| m.clone()).collect();
            let out = c.eigh_batched(&mats).unwrap();
            assert_eq!(out.len(), mats.len());
            for ((name, a), f) in inputs.iter().zip(&out) {
                check_eigh(a, f, &format!("{route:?} n={n} {name}"));
            }
        }
    }
}

#[test]
fn eigh_batches_of_1_3_100() {
    for (route, c) in backends() {
        for (batch, n) in [(1, 64), (3, 9), (100, 8), (100, 20)] {
            let r = &mut rng("eigh_batches", (batch * 100 + n) as u64);
            let mats: Vec<_> = (0..batch).map(|_| random(r, n, n)).collect();
            let out = c.eigh_batched(&mats).unwrap();
            assert_eq!(out.len(), batch);
            for (i, (a, f)) in mats.iter().zip(&out).enumerate() {
                check_eigh(a, f, &format!("{route:?} batch {batch} #{i} n={n}"));
            }
        }
    }
}

/// 2000 matrices of 16×16 on the GPU route (8 per workgroup); every 25th
/// is checked against the oracle.
#[test]
fn big_batches_on_the_gpu() {
    let c = ctx().with_route(Route::Gpu);
    let r = &mut rng("big_batch", 0);
    let mats: Vec<_> = (0..2000).map(|_| random(r, 16, 16)).collect();
    let svd = c.svd_batched(&mats).unwrap();
    let eig = c.eigh_batched(&mats).unwrap();
    assert_eq!((svd.len(), eig.len()), (2000, 2000));
    for i in (0..2000).step_by(25).chain([1999]) {
        check_svd(&mats[i], &svd[i], &format!("big batch svd #{i}"));
        check_eigh(&mats[i], &eig[i], &format!("big batch eigh #{i}"));
    }
}

/// The device-resident forms agree with the host calls.
#[test]
fn device_resident_forms() {
    let c = ctx().with_route(Route::Gpu);
    let r = &mut rng("resident", 0);
    let mats: Vec<_> = (0..5).map(|_| random(r, 12, 9)).collect();
    let g = c.upload_batch(&mats).unwrap();
    let f = g.svd_batched().unwrap();
    let (u, s, vt) = (
        f.u.download_batch().unwrap(),
        f.s.download_batch().unwrap(),
        f.vt.download_batch().unwrap(),
    );
    for i in 0..5 {
        let svd = Svd {
            u: u[i].clone(),
            s: s[i].column(0).into_owned(),
            vt: vt[i].clone(),
        };
        check_svd(&mats[i], &svd, &format!("resident svd #{i}"));
    }
    let sq: Vec<_> = (0..4).map(|_| random(r, 11, 11)).collect();
    let (w, v) = c.upload_batch(&sq).unwrap().eigh_batched().unwrap();
    let (w, v) = (w.download_batch().unwrap(), v.download_batch().unwrap());
    for i in 0..4 {
        let pair = (w[i].column(0).into_owned(), v[i].clone());
        check_eigh(&sq[i], &pair, &format!("resident eigh #{i}"));
    }
}

#[test]
fn bad_input_is_an_error_on_both_routes() {
    for (route, c) in backends() {
        assert!(c.svd_batched(&[]).unwrap().is_empty());
        assert!(c.eigh_batched(&[]).unwrap().is_empty());
        let mut nan = DMatrix::<f32>::identity(4, 4);
        nan[(2, 1)] = f32::NAN;
        let mut inf = DMatrix::<f32>::identity(4, 4);
        inf[(3, 3)] = f32::INFINITY;
        let ok = DMatrix::<f32>::identity(4, 4);
        for bad in [&nan, &inf] {
            let batch = [ok.clone(), bad.clone()];
            assert!(
                matches!(c.svd_batched(&batch), Err(Error::NonFinite { .. })),
                "{route:?}"
            );
            assert!(
                matches!(c.eigh_batched(&batch), Err(Error::NonFinite { .. })),
                "{route:?}"
            );
        }
        let big = DMatrix::<f32>::identity(65, 65);
        assert!(matches!(
            c.svd_batched(std::slice::from_ref(&big)),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(c.eigh_batched(&[big]), Err(Error::Shape { .. })));
        let tall = DMatrix::<f32>::zeros(65, 3);
        assert!(matches!(c.svd_batched(&[tall]), Err(Error::Shape { .. })));
        let mixed = [
            DMatrix::<f32>::identity(4, 4),
            DMatrix::<f32>::identity(5, 5),
        ];
        assert!(matches!(c.svd_batched(&mixed), Err(Error::Shape { .. })));
        assert!(matches!(c.eigh_batched(&mixed), Err(Error::Shape { .. })));
        let rect = DMatrix::<f32>::zeros(4, 3);
        assert!(matches!(c.eigh_batched(&[rect]), Err(Error::Shape { .. })));
        // The context stays usable.
        let out = c.eigh_batched(std::slice::from_ref(&ok)).unwrap();
        check_eigh(&ok, &out[0], &format!("{route:?} after errors"));
    }
}
