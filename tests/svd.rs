//! SVD (thin, full, values), symmetric eigensolvers beyond the batched
//! sizes (block one-sided Jacobi on the GPU), top-k subspace iteration,
//! norms and condition numbers — every body on the CPU and the GPU route,
//! against nalgebra in f64.
//!
//! Bounds: singular values and eigenvalues within C·n·ε·σ₁ (C = 16),
//! ‖A − UΣVᵀ‖/‖A‖, ‖UᵀU − I‖, ‖VᵀV − I‖ (max entry) within C·n·ε, with
//! n = max(m, n).

// index loops over matching vectors read more plainly here
#![allow(clippy::needless_range_loop)]

mod common;

use common::*;
use nalgebra::{DMatrix, DVector};
use wgpu_linalg::{Error, Norm, Svd, TopkOpts};

const C: f64 = 16.0;

fn bound(m: usize, n: usize) -> f64 {
    C * m.max(n) as f64 * EPS
}

fn orth_err(q: &DMatrix<f32>) -> f64 {
    let q = to64(q);
    let k = q.ncols();
    (q.transpose() * &q - DMatrix::<f64>::identity(k, k))
        .abs()
        .max()
}

fn svals64(a: &DMatrix<f32>) -> Vec<f64> {
    let mut s: Vec<f64> = to64(a).singular_values().iter().copied().collect();
    s.sort_by(|x, y| y.total_cmp(x));
    s
}

fn check_svd(a: &DMatrix<f32>, f: &Svd, what: &str) {
    let (m, n) = a.shape();
    let k = m.min(n);
    assert_eq!(f.u.shape(), (m, k), "{what}: U shape");
    assert_eq!(f.s.len(), k, "{what}: s length");
    assert_eq!(f.vt.shape(), (k, n), "{what}: Vt shape");
    let tol = bound(m, n);
    let s64 = svals64(a);
    let smax = s64[0].max(f64::MIN_POSITIVE);
    for i in 0..k {
        assert!(
            (f.s[i] as f64 - s64[i]).abs() <= tol * smax,
            "{what}: s[{i}] = {} vs {} (tol {:.2e})",
            f.s[i],
            s64[i],
            tol * smax
        );
        if i > 0 {
            assert!(f.s[i] <= f.s[i - 1], "{what}: s not descending");
        }
    }
    let rec = f.reconstruct();
    let res = (to64(a) - rec).norm() / to64(a).norm().max(f64::MIN_POSITIVE);
    assert!(res <= tol, "{what}: ‖A − UΣVᵀ‖/‖A‖ = {res:.2e} > {tol:.2e}");
    let ou = orth_err(&f.u);
    let ov = orth_err(&f.vt.transpose());
    assert!(ou <= tol, "{what}: ‖UᵀU − I‖ = {ou:.2e} > {tol:.2e}");
    assert!(ov <= tol, "{what}: ‖VᵀV − I‖ = {ov:.2e} > {tol:.2e}");
}

/// U·diag(s)·Vᵀ with prescribed singular values (f64, then rounded).
fn with_values(rng: &mut rand_chacha::ChaCha8Rng, m: usize, n: usize, s: &[f64]) -> DMatrix<f32> {
    let u = orthogonal(rng, m);
    let v = orthogonal(rng, n);
    let mut d = DMatrix::<f64>::zeros(m, n);
    for (i, &x) in s.iter().enumerate() {
        d[(i, i)] = x;
    }
    (u * d * v.transpose()).map(|x| x as f32)
}

#[test]
fn thin_svd_beyond_the_one_workgroup_size() {
    for (route, ctx) in backends() {
        for (case, &(m, n)) in [(65, 65), (100, 70), (70, 130), (129, 129), (200, 97)]
            .iter()
            .enumerate()
        {
            let mut g = rng("thin_svd_large", case as u64);
            let a = random(&mut g, m, n);
            let f = ctx.svd(&a).unwrap();
            check_svd(&a, &f, &format!("{route:?} random {m}×{n}"));
        }
    }
}

#[test]
fn svd_of_ill_conditioned_rank_deficient_and_clustered_matrices() {
    for (route, ctx) in backends() {
        let mut g = rng("svd_hard", 0);
        let k = 90;
        let ill = with_condition(&mut g, 120, k, 1e6);
        let rank5 = low_rank(&mut g, 110, 80, 5);
        let clustered: Vec<f64> = (0..k)
            .map(|i| {
                if i < 30 {
                    1.0
                } else if i < 60 {
                    1e-3
                } else {
                    0.5
                }
            })
            .collect();
        let clus = with_values(&mut g, 100, k, &clustered);
        let mut zero_cols = random(&mut g, 96, 72);
        for j in [0, 17, 40, 71] {
            zero_cols.column_mut(j).fill(0.0);
        }
        // one side at least twice the other: the GPU route reduces them
        // by Householder QR first (R 40×40 goes to the one-workgroup
        // kernel, 90×90 and 70×70 to block Jacobi)
        let tall_ill = with_condition(&mut g, 300, 90, 1e6);
        let tall_skinny = random(&mut g, 301, 40);
        let tall_rank = low_rank(&mut g, 260, 70, 7);
        let wide_ill = with_condition(&mut g, 300, 140, 1e5).transpose();
        for (what, a) in [
            ("cond 1e6", ill),
            ("rank 5", rank5),
            ("clustered", clus),
            ("zero columns", zero_cols),
            ("tall cond 1e6", tall_ill),
            ("tall skinny", tall_skinny),
            ("tall rank 7", tall_rank),
            ("wide cond 1e5", wide_ill),
        ] {
            let f = ctx.svd(&a).unwrap();
            check_svd(&a, &f, &format!("{route:?} {what}"));
        }
    }
}

#[test]
fn svd_full_and_svdvals() {
    for (route, ctx) in backends() {
        let mut g = rng("svd_full", 0);
        for &(m, n) in &[(90, 70), (70, 90), (20, 9)] {
            let a = random(&mut g, m, n);
            let f = ctx.svd_full(&a).unwrap();
            assert_eq!(f.u.shape(), (m, m));
            assert_eq!(f.vt.shape(), (n, n));
            let tol = bound(m, n);
            assert!(orth_err(&f.u) <= tol, "{route:?} full U {m}×{n}");
            assert!(orth_err(&f.vt) <= tol, "{route:?} full Vt {m}×{n}");
            let k = m.min(n);
            let thin = Svd {
                u: f.u.columns(0, k).into_owned(),
                s: f.s.clone(),
                vt: f.vt.rows(0, k).into_owned(),
            };
            check_svd(&a, &thin, &format!("{route:?} full {m}×{n}"));
            let s = ctx.svdvals(&a).unwrap();
            let s64 = svals64(&a);
            for i in 0..k {
                assert!((s[i] as f64 - s64[i]).abs() <= tol * s64[0]);
            }
        }
    }
}

fn check_eigh(a: &DMatrix<f32>, w: &DVector<f32>, v: &DMatrix<f32>, what: &str) {
    let n = a.nrows();
    let a64 = to64(a);
    let sym = DMatrix::from_fn(n, n, |i, j| if i >= j { a64[(i, j)] } else { a64[(j, i)] });
    let mut w64: Vec<f64> = sym
        .clone()
        .symmetric_eigenvalues()
        .iter()
        .copied()
        .collect();
    w64.sort_by(|x, y| x.total_cmp(y));
    let norm = w64
        .iter()
        .fold(0.0f64, |m, x| m.max(x.abs()))
        .max(f64::MIN_POSITIVE);
    let tol = bound(n, n);
    for i in 0..n {
        assert!(
            (w[i] as f64 - w64[i]).abs() <= tol * norm,
            "{what}: λ[{i}] = {} vs {} (tol {:.2e})",
            w[i],
            w64[i],
            tol * norm
        );
        if i > 0 {
            assert!(w[i] >= w[i - 1], "{what}: eigenvalues not ascending");
        }
    }
    let v64 = to64(v);
    let lam = DMatrix::from_diagonal(&w.map(f64::from));
    let res = (&sym * &v64 - &v64 * lam).norm() / sym.norm();
    assert!(res <= tol, "{what}: ‖AV − VΛ‖/‖A‖ = {res:.2e} > {tol:.2e}");
    let o = orth_err(v);
    assert!(o <= tol, "{what}: ‖VᵀV − I‖ = {o:.2e} > {tol:.2e}");
}

#[test]
fn eigh_beyond_the_one_workgroup_size() {
    for (route, ctx) in backends() {
        for (case, &n) in [65usize, 100, 130].iter().enumerate() {
            let mut g = rng("eigh_large", case as u64);
            let x = random(&mut g, n, n);
            // symmetric indefinite; only the lower triangle is read
            let mut a = (&x + x.transpose()) * 0.5;
            for j in 0..n {
                for i in 0..j {
                    a[(i, j)] = 7.0; // garbage above the diagonal
                }
            }
            let (w, v) = ctx.eigh(&a).unwrap();
            check_eigh(&a, &w, &v, &format!("{route:?} indefinite {n}"));
            let wv = ctx.eigvalsh(&a).unwrap();
            assert!((&wv - &w).abs().max() as f64 <= bound(n, n) * w.abs().max() as f64);
        }
        // repeated eigenvalues and an SPD matrix with cond 1e5
        let mut g = rng("eigh_large_hard", 0);
        let q = orthogonal(&mut g, 80);
        let d = DMatrix::from_diagonal(&DVector::from_fn(80, |i, _| match i % 3 {
            0 => -2.0,
            1 => 1.0,
            _ => 1.0 + 1e-4 * i as f64,
        }));
        let rep = (&q * d * q.transpose()).map(|x| x as f32);
        let (w, v) = ctx.eigh(&rep).unwrap();
        check_eigh(&rep, &w, &v, &format!("{route:?} repeated"));
        let a = spd(&mut g, 96, 1e5);
        let (w, v) = ctx.eigh(&a).unwrap();
        check_eigh(&a, &w, &v, &format!("{route:?} spd cond 1e5"));
    }
}

#[test]
fn svd_topk_recovers_a_decaying_spectrum() {
    for (route, ctx) in backends() {
        for (case, &(m, n)) in [(300usize, 200usize), (150, 260)].iter().enumerate() {
            let mut g = rng("topk", case as u64);
            let r = m.min(n);
            let s: Vec<f64> = (0..r).map(|i| 0.7f64.powi(i as i32)).collect();
            let a = with_values(&mut g, m, n, &s);
            let k = 8;
            let f = ctx
                .svd_topk_with(
                    &a,
                    k,
                    TopkOpts {
                        iters: 12,
                        oversample: 8,
                        tol: 0.0,
                    },
                )
                .unwrap();
            assert_eq!(f.u.shape(), (m, k));
            assert_eq!(f.vt.shape(), (k, n));
            let s64 = svals64(&a);
            for i in 0..k {
                let rel = (f.s[i] as f64 - s64[i]).abs() / s64[i];
                assert!(rel <= 1e-4, "{route:?} {m}×{n}: σ[{i}] rel err {rel:.2e}");
            }
            assert!(orth_err(&f.u) <= bound(m, n), "{route:?} U orthonormal");
            assert!(orth_err(&f.vt.transpose()) <= bound(m, n), "{route:?} V");
            // the subspace: the top-k left singular vectors of the f64 SVD
            let svd = to64(&a).svd(true, false);
            let mut idx: Vec<usize> = (0..r).collect();
            idx.sort_by(|&i, &j| svd.singular_values[j].total_cmp(&svd.singular_values[i]));
            let u64 = svd.u.unwrap();
            let ut = DMatrix::from_fn(m, k, |i, c| u64[(i, idx[c])]);
            // sin of the largest principal angle
            let p = ut.transpose() * to64(&f.u);
            let cos_min = p.singular_values().min();
            let sin = (1.0 - cos_min * cos_min).max(0.0).sqrt();
            // after 12 iterations with gap σ_{l+1}/σ_k = 0.7^8 ≈ 0.06 the
            // angle is at the f32 level
            assert!(
                sin <= 1e-3,
                "{route:?} {m}×{n}: subspace angle sin {sin:.2e}"
            );
        }
    }
}

#[test]
fn svd_topk_stops_early_and_checks_its_input() {
    let ctx = ctx().with_route(wgpu_linalg::Route::Gpu);
    let mut g = rng("topk_errors", 0);
    let a = low_rank(&mut g, 120, 90, 4);
    // rank 4: the top 4 triplets after the default options
    let f = ctx.svd_topk(&a, 4).unwrap();
    let s64 = svals64(&a);
    for i in 0..4 {
        assert!((f.s[i] as f64 - s64[i]).abs() <= 1e-4 * s64[i]);
    }
    assert!(matches!(ctx.svd_topk(&a, 91), Err(Error::Shape { .. })));
    let mut bad = a.clone();
    bad[(3, 3)] = f32::NAN;
    assert!(matches!(
        ctx.svd_topk(&bad, 2),
        Err(Error::NonFinite { .. })
    ));
    let opts = TopkOpts {
        tol: -1.0,
        ..TopkOpts::default()
    };
    assert!(matches!(
        ctx.svd_topk_with(&a, 2, opts),
        Err(Error::NonFinite { .. })
    ));
    assert_eq!(ctx.svd_topk(&a, 0).unwrap().s.len(), 0);
}

fn norm64(a: &DMatrix<f32>, ord: Norm) -> f64 {
    let a = to64(a);
    let col: Vec<f64> = a.column_iter().map(|c| c.abs().sum()).collect();
    let row: Vec<f64> = a.row_iter().map(|r| r.abs().sum()).collect();
    let s = svals64(&a.map(|x| x as f32));
    let max = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
    let min = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
    match ord {
        Norm::Fro => a.norm(),
        Norm::Nuc => s.iter().sum(),
        Norm::One => max(&col),
        Norm::NegOne => min(&col),
        Norm::Inf => max(&row),
        Norm::NegInf => min(&row),
        Norm::Two => s[0],
        Norm::NegTwo => *s.last().unwrap(),
    }
}

const ORDERS: [Norm; 8] = [
    Norm::Fro,
    Norm::Nuc,
    Norm::One,
    Norm::Two,
    Norm::Inf,
    Norm::NegOne,
    Norm::NegTwo,
    Norm::NegInf,
];

#[test]
fn norms_of_every_order() {
    for (route, ctx) in backends() {
        for (case, &(m, n)) in [(7usize, 5usize), (33, 70), (130, 66)].iter().enumerate() {
            let mut g = rng("norms", case as u64);
            let a = wide_range(&mut g, m, n).map(|x| x * 1e3);
            for ord in ORDERS {
                let got = ctx.norm(&a, ord).unwrap() as f64;
                let want = norm64(&a, ord);
                // the spectral orders carry the SVD's absolute error
                let scale = match ord {
                    Norm::Nuc | Norm::Two | Norm::NegTwo => norm64(&a, Norm::Two) * m.min(n) as f64,
                    _ => want,
                };
                assert!(
                    (got - want).abs() <= bound(m, n) * scale,
                    "{route:?} {m}×{n} {ord:?}: {got} vs {want}"
                );
            }
        }
    }
    // the device-resident form
    let mut g = rng("norms_gpu", 0);
    let a = random(&mut g, 300, 200);
    let ga = ctx().upload(&a).unwrap();
    for ord in ORDERS {
        let got = ga.norm(ord).unwrap() as f64;
        let want = norm64(&a, ord);
        let scale = norm64(&a, Norm::Two) * 200.0;
        assert!(
            (got - want).abs() <= bound(300, 200) * scale,
            "GpuMatrix {ord:?}"
        );
    }
}

#[test]
fn condition_numbers() {
    for (route, ctx) in backends() {
        let mut g = rng("cond", 0);
        for &c in &[1e1, 1e4] {
            let a = with_condition(&mut g, 80, 80, c);
            let got = ctx.cond(&a).unwrap() as f64;
            let s = svals64(&a);
            let want = s[0] / s[s.len() - 1];
            assert!(
                (got - want).abs() <= 1e-2 * want,
                "{route:?} cond {c}: {got} vs {want}"
            );
            let one = ctx.cond_with(&a, Norm::One).unwrap() as f64;
            let a64 = to64(&a);
            let inv = a64.clone().try_inverse().unwrap();
            let n1 = |x: &DMatrix<f64>| x.column_iter().map(|c| c.abs().sum()).fold(0.0, f64::max);
            let want1 = n1(&a64) * n1(&inv);
            assert!(
                (one - want1).abs() <= 1e-2 * want1,
                "{route:?} cond_1 {one} vs {want1}"
            );
        }
        // singular: ∞ like NumPy
        let mut s = random(&mut g, 10, 10);
        let r0 = s.row(0).into_owned();
        s.row_mut(1).copy_from(&r0);
        s.column_mut(3).fill(0.0);
        assert_eq!(
            ctx.cond_with(&s, Norm::Inf).unwrap(),
            f32::INFINITY,
            "{route:?}"
        );
        assert!(ctx.cond(&s).unwrap() > 1e6, "{route:?}");
        assert!(matches!(
            ctx.cond_with(&random(&mut g, 4, 6), Norm::One),
            Err(Error::Shape { .. })
        ));
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    for (_, ctx) in backends() {
        let mut g = rng("svd_bad", 0);
        let mut a = random(&mut g, 70, 70);
        a[(5, 9)] = f32::INFINITY;
        assert!(matches!(ctx.svd(&a), Err(Error::NonFinite { .. })));
        assert!(matches!(ctx.eigh(&a), Err(Error::NonFinite { .. })));
        assert!(matches!(
            ctx.norm(&a, Norm::Two),
            Err(Error::NonFinite { .. })
        ));
        assert!(matches!(
            ctx.eigh(&random(&mut g, 70, 71)),
            Err(Error::Shape { .. })
        ));
        assert_eq!(ctx.svd(&DMatrix::zeros(0, 5)).unwrap().vt.shape(), (0, 5));
        assert_eq!(ctx.norm(&DMatrix::zeros(0, 5), Norm::Fro).unwrap(), 0.0);
        assert!(ctx.norm(&DMatrix::zeros(0, 5), Norm::NegTwo).is_err());
        // the context stays usable
        let b = random(&mut g, 66, 66);
        check_svd(&b, &ctx.svd(&b).unwrap(), "after errors");
    }
}

#[test]
fn device_resident_forms_beyond_the_batched_sizes() {
    let ctx = ctx();
    let mut g = rng("svd_resident", 0);
    let a = random(&mut g, 90, 70);
    let f = ctx.upload(&a).unwrap().svd().unwrap();
    let host = Svd {
        u: f.u.download().unwrap(),
        s: DVector::from_column_slice(f.s.download().unwrap().as_slice()),
        vt: f.vt.download().unwrap(),
    };
    check_svd(&a, &host, "GpuMatrix::svd 90×70");
    let x = random(&mut g, 80, 80);
    let sym = (&x + x.transpose()) * 0.5;
    // the resident form reads the lower triangle only as well
    let mut lower = sym.clone();
    for j in 0..80 {
        for i in 0..j {
            lower[(i, j)] = -3.0;
        }
    }
    let (w, v) = ctx.upload(&lower).unwrap().eigh().unwrap();
    let w = DVector::from_column_slice(w.download().unwrap().as_slice());
    check_eigh(&sym, &w, &v.download().unwrap(), "GpuMatrix::eigh 80");
    let t = ctx
        .upload(&a)
        .unwrap()
        .svd_topk(
            5,
            TopkOpts {
                iters: 30,
                ..TopkOpts::default()
            },
        )
        .unwrap();
    assert_eq!(t.u.download().unwrap().shape(), (90, 5));
    // NaN in a resident matrix is an error too
    let mut bad = a.clone();
    bad[(4, 4)] = f32::NAN;
    let gbad = ctx.upload(&bad).unwrap();
    assert!(matches!(gbad.svd(), Err(Error::NonFinite { .. })));
    assert!(matches!(gbad.norm(Norm::Two), Err(Error::NonFinite { .. })));
    // a batch of large matrices is a shape error, not a panic
    let batch = ctx.upload_batch(&[a.clone(), a.clone()]).unwrap();
    assert!(matches!(batch.svd(), Err(Error::Shape { .. })));
}
