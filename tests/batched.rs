//! Batched small-matrix factorizations (n ≤ 64) against the float64
//! nalgebra oracle on both routes: Cholesky, LU with partial pivoting,
//! solve and inverse, sizes around the 32-wide subgroup and the 64 limit,
//! failures reported for the right matrix and column, and bad input.
//!
//! Every residual bound is `C·n·ε(f32)` with `C = 8` (backward errors of
//! unblocked f32 factorizations, measured in the Frobenius norm).

mod common;

use common::*;
use nalgebra::DMatrix;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use wgpu_linalg::{Error, Lu};

/// The constant of every `C·n·ε` bound of this file.
const C: f64 = 8.0;

/// Orders around the subgroup width (32) and the batched limit (64).
const SIZES: [usize; 10] = [1, 2, 3, 7, 16, 31, 32, 33, 63, 64];

/// Matrices per batch: a few dozen, modest for a software adapter.
const BATCH: usize = 24;

fn bound(n: usize) -> f64 {
    C * n.max(1) as f64 * EPS
}

/// A symmetric positive definite matrix Q·Λ·Qᵀ with eigenvalues spaced
/// geometrically from 1 down to 1/cond (exactly symmetric in f32).
fn spd(r: &mut ChaCha8Rng, n: usize, cond: f64) -> DMatrix<f32> {
    let q = orthogonal(r, n);
    let lam = DMatrix::<f64>::from_fn(n, n, |i, j| {
        if i != j {
            0.0
        } else if n == 1 {
            1.0
        } else {
            cond.powf(-(i as f64) / (n - 1) as f64)
        }
    });
    let a = &q * lam * q.transpose();
    DMatrix::from_fn(n, n, |i, j| {
        let (i, j) = if i >= j { (i, j) } else { (j, i) };
        a[(i, j)] as f32
    })
}

/// A random nonsingular matrix: every other one with a prescribed
/// condition number, the others uniform in [-1, 1).
fn general(r: &mut ChaCha8Rng, n: usize, k: usize) -> DMatrix<f32> {
    match k % 4 {
        0 => random(r, n, n),
        1 => with_condition(r, n, n, 1e2),
        2 => random(r, n, n),
        _ => with_condition(r, n, n, 1e4),
    }
}

fn check_cholesky(a: &DMatrix<f32>, l: &DMatrix<f32>, what: &str) {
    let n = a.nrows();
    assert_eq!(l.shape(), (n, n), "{what}: shape");
    for j in 0..n {
        for i in 0..j {
            assert_eq!(l[(i, j)], 0.0, "{what}: L[{i},{j}] above the diagonal");
        }
        assert!(l[(j, j)] > 0.0, "{what}: L[{j},{j}] = {}", l[(j, j)]);
    }
    let l64 = to64(l);
    let res = fro(&(to64(a) - &l64 * l64.transpose())) / fro(&to64(a));
    assert!(
        res <= bound(n),
        "{what}: ‖A − LLᵀ‖/‖A‖ = {res:.3e} > {:.3e}",
        bound(n)
    );
}

fn check_lu(a: &DMatrix<f32>, f: &Lu, what: &str) {
    let n = a.nrows();
    assert_eq!(f.packed().shape(), (n, n), "{what}: shape");
    assert_eq!(f.ipiv().len(), n, "{what}: ipiv length");
    for (k, &p) in f.ipiv().iter().enumerate() {
        assert!(
            (p as usize) >= k && (p as usize) < n,
            "{what}: ipiv[{k}] = {p}"
        );
    }
    let perm = f.perm();
    let pa = DMatrix::<f64>::from_fn(n, n, |i, j| a[(perm[i], j)] as f64);
    let l = f.l();
    let u = f.u();
    for j in 0..n {
        for i in j + 1..n {
            assert!(
                l[(i, j)].abs() <= 1.0,
                "{what}: |L[{i},{j}]| = {} > 1 (no partial pivoting?)",
                l[(i, j)].abs()
            );
        }
    }
    // (A = 0 has exact factors: a zero residual over a tiny norm.)
    let res = fro(&(&pa - to64(&l) * to64(&u))) / fro(&to64(a)).max(f64::MIN_POSITIVE);
    assert!(
        res <= bound(n),
        "{what}: ‖PA − LU‖/‖A‖ = {res:.3e} > {:.3e}",
        bound(n)
    );
}

/// Normwise backward error ‖AX − B‖/(‖A‖‖X‖ + ‖B‖), in f64.
fn backward_error(a: &DMatrix<f32>, x: &DMatrix<f32>, b: &DMatrix<f64>) -> f64 {
    let (a, x) = (to64(a), to64(x));
    fro(&(&a * &x - b)) / (fro(&a) * fro(&x) + fro(b))
}

fn expect_in_batch(r: wgpu_linalg::Result<impl std::fmt::Debug>, index: usize, inner: Error) {
    match r {
        Err(Error::InBatch { index: i, source }) => {
            assert_eq!((i, *source), (index, inner));
        }
        other => panic!("expected InBatch {{ {index}, {inner:?} }}, got {other:?}"),
    }
}

#[test]
fn cholesky_batched_residuals_across_sizes_and_conditions() {
    let conds = [1e1, 1e2, 1e4, 1e6];
    for (case, &n) in SIZES.iter().enumerate() {
        let mut r = rng("cholesky_batched", case as u64);
        let a: Vec<_> = (0..BATCH)
            .map(|k| spd(&mut r, n, conds[k % conds.len()]))
            .collect();
        for (route, ctx) in backends() {
            let l = ctx.cholesky_batched(&a).unwrap();
            assert_eq!(l.len(), BATCH);
            for (k, (ak, lk)) in a.iter().zip(&l).enumerate() {
                check_cholesky(ak, lk, &format!("{route:?} n={n} item {k}"));
            }
        }
    }
}

#[test]
fn cholesky_batched_reports_the_first_indefinite_matrix_and_column() {
    for (case, &(n, column)) in [(1, 0), (7, 4), (33, 32), (64, 40)].iter().enumerate() {
        let mut r = rng("cholesky_indefinite", case as u64);
        // A = L·Lᵀ with a well-conditioned L, then the pivot of `column`
        // pushed to about −0.5 (leading minors before it are unchanged).
        let make = |r: &mut ChaCha8Rng, bad: bool| {
            let l = DMatrix::<f64>::from_fn(n, n, |i, j| {
                if i == j {
                    r.random_range(1.0..2.0)
                } else if i > j {
                    r.random_range(-1.0..1.0) / (n as f64).sqrt()
                } else {
                    0.0
                }
            });
            let mut a = &l * l.transpose();
            if bad {
                a[(column, column)] -= l[(column, column)].powi(2) + 0.5;
            }
            a.map(|v| v as f32)
        };
        let mut a: Vec<_> = (0..12).map(|_| make(&mut r, false)).collect();
        a[5] = make(&mut r, true);
        a[9] = make(&mut r, true);
        for (route, ctx) in backends() {
            expect_in_batch(
                ctx.cholesky_batched(&a),
                5,
                Error::NotPositiveDefinite { column },
            );
            // Without the failing matrices the batch factorizes.
            let ok: Vec<_> = a
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != 5 && *k != 9)
                .map(|(_, m)| m.clone())
                .collect();
            let l = ctx.cholesky_batched(&ok).unwrap();
            for (k, (ak, lk)) in ok.iter().zip(&l).enumerate() {
                check_cholesky(ak, lk, &format!("{route:?} n={n} item {k}"));
            }
        }
    }
}

#[test]
fn lu_batched_residuals_and_bounded_multipliers() {
    for (case, &n) in SIZES.iter().enumerate() {
        let mut r = rng("lu_batched", case as u64);
        let a: Vec<_> = (0..BATCH).map(|k| general(&mut r, n, k)).collect();
        for (route, ctx) in backends() {
            let f = ctx.lu_batched(&a).unwrap();
            assert_eq!(f.len(), BATCH);
            for (k, (ak, fk)) in a.iter().zip(&f).enumerate() {
                check_lu(ak, fk, &format!("{route:?} n={n} item {k}"));
            }
        }
    }
}

#[test]
fn lu_batched_pivots_past_a_zero_leading_entry() {
    let swap = DMatrix::from_row_slice(2, 2, &[0.0f32, 1.0, 1.0, 0.0]);
    let mut r = rng("lu_zero_leading", 0);
    let mut a = vec![swap.clone()];
    for n in [2, 7, 33] {
        let mut m = random(&mut r, n, n);
        m[(0, 0)] = 0.0;
        a.push(m);
    }
    for (route, ctx) in backends() {
        // Grouped by order: a batch holds one order.
        let f = ctx.lu_batched(std::slice::from_ref(&a[0])).unwrap();
        assert_eq!(f[0].ipiv(), &[1, 1], "{route:?}: swap matrix");
        assert_eq!(f[0].perm(), vec![1, 0]);
        assert_eq!(f[0].l(), DMatrix::identity(2, 2));
        assert_eq!(f[0].u(), DMatrix::identity(2, 2));
        for m in &a[1..] {
            let batch = vec![m.clone(); 3];
            for (k, fk) in ctx.lu_batched(&batch).unwrap().iter().enumerate() {
                assert_ne!(fk.ipiv()[0], 0, "{route:?}: no pivot at step 0");
                check_lu(m, fk, &format!("{route:?} n={} copy {k}", m.nrows()));
            }
        }
    }
}

#[test]
fn lu_batched_returns_factors_of_singular_matrices() {
    for (case, &n) in [1usize, 7, 32, 64].iter().enumerate() {
        let mut r = rng("lu_singular", case as u64);
        let zero_col = n / 2;
        let mut a: Vec<_> = (0..8).map(|_| random(&mut r, n, n)).collect();
        a[3].column_mut(zero_col).fill(0.0);
        if n > 1 {
            // Two equal rows: exactly singular too.
            let row = a[6].row(0).into_owned();
            a[6].set_row(n - 1, &row);
        }
        for (route, ctx) in backends() {
            let f = ctx.lu_batched(&a).unwrap();
            for (k, (ak, fk)) in a.iter().zip(&f).enumerate() {
                check_lu(ak, fk, &format!("{route:?} n={n} item {k}"));
            }
            assert_eq!(
                f[3].u()[(zero_col, zero_col)],
                0.0,
                "{route:?} n={n}: zero pivot"
            );
        }
    }
}

#[test]
fn solve_batched_backward_error_with_several_right_hand_sides() {
    for (case, &n) in SIZES.iter().enumerate() {
        for nrhs in [1usize, 3, 40] {
            let mut r = rng("solve_batched", case as u64 * 8 + nrhs as u64);
            let batch = if nrhs == 40 { 6 } else { BATCH };
            let a: Vec<_> = (0..batch).map(|k| general(&mut r, n, k)).collect();
            let b: Vec<_> = (0..batch).map(|_| random(&mut r, n, nrhs)).collect();
            for (route, ctx) in backends() {
                let x = ctx.solve_batched(&a, &b).unwrap();
                assert_eq!(x.len(), batch);
                for (k, xk) in x.iter().enumerate() {
                    assert_eq!(xk.shape(), (n, nrhs));
                    let e = backward_error(&a[k], xk, &to64(&b[k]));
                    assert!(
                        e <= bound(n),
                        "{route:?} n={n} r={nrhs} item {k}: backward error {e:.3e} > {:.3e}",
                        bound(n)
                    );
                }
            }
        }
    }
}

#[test]
fn solve_batched_matches_the_f64_oracle_on_a_well_conditioned_system() {
    let n = 20;
    let mut r = rng("solve_oracle", 0);
    let a: Vec<_> = (0..10)
        .map(|_| with_condition(&mut r, n, n, 10.0))
        .collect();
    let b: Vec<_> = (0..10).map(|_| random(&mut r, n, 2)).collect();
    for (route, ctx) in backends() {
        let x = ctx.solve_batched(&a, &b).unwrap();
        for k in 0..10 {
            let exact = to64(&a[k]).lu().solve(&to64(&b[k])).unwrap();
            // Forward error ≤ cond · backward error.
            let err = fro(&(to64(&x[k]) - &exact)) / fro(&exact);
            assert!(err <= 10.0 * bound(n), "{route:?} item {k}: {err:.3e}");
        }
    }
}

#[test]
fn solve_and_inv_batched_report_the_singular_matrix() {
    for (case, &n) in [1usize, 7, 33, 64].iter().enumerate() {
        let mut r = rng("solve_singular", case as u64);
        let column = n / 3;
        let mut a: Vec<_> = (0..10).map(|_| random(&mut r, n, n)).collect();
        a[4].column_mut(column).fill(0.0);
        a[7].column_mut(0).fill(0.0);
        let b: Vec<_> = (0..10).map(|_| random(&mut r, n, 2)).collect();
        for (_, ctx) in backends() {
            expect_in_batch(ctx.solve_batched(&a, &b), 4, Error::Singular { column });
            expect_in_batch(ctx.inv_batched(&a), 4, Error::Singular { column });
            // No right-hand sides: the factorization still fails.
            let b0: Vec<_> = (0..10).map(|_| DMatrix::<f32>::zeros(n, 0)).collect();
            expect_in_batch(ctx.solve_batched(&a, &b0), 4, Error::Singular { column });
        }
    }
}

#[test]
fn inv_batched_residuals() {
    for (case, &n) in SIZES.iter().enumerate() {
        let mut r = rng("inv_batched", case as u64);
        let batch = if n > 32 { 8 } else { BATCH };
        let a: Vec<_> = (0..batch).map(|k| general(&mut r, n, k)).collect();
        for (route, ctx) in backends() {
            let x = ctx.inv_batched(&a).unwrap();
            assert_eq!(x.len(), batch);
            for (k, (ak, xk)) in a.iter().zip(&x).enumerate() {
                assert_eq!(xk.shape(), (n, n));
                let (a64, x64) = (to64(ak), to64(xk));
                let res =
                    fro(&(&a64 * &x64 - DMatrix::<f64>::identity(n, n))) / (fro(&a64) * fro(&x64));
                assert!(
                    res <= bound(n),
                    "{route:?} n={n} item {k}: ‖AX − I‖/(‖A‖‖X‖) = {res:.3e} > {:.3e}",
                    bound(n)
                );
            }
        }
    }
}

#[test]
fn batches_over_the_dispatch_limit_are_chunked() {
    // More matrices than one dispatch dimension holds (65535 on most
    // adapters): every chunk must see its own matrices.
    let ctx = ctx().with_route(wgpu_linalg::Route::Gpu);
    let max = ctx.limits().unwrap().max_compute_workgroups_per_dimension as usize;
    let count = max + 3;
    let a: Vec<_> = (0..count)
        .map(|k| {
            let d = 1.0 + (k % 1000) as f32;
            DMatrix::from_row_slice(2, 2, &[4.0 * d, 2.0, 2.0, 3.0])
        })
        .collect();
    let l = ctx.cholesky_batched(&a).unwrap();
    assert_eq!(l.len(), count);
    for (k, (ak, lk)) in a
        .iter()
        .zip(&l)
        .enumerate()
        .step_by(997)
        .chain([(count - 1, (&a[count - 1], &l[count - 1]))])
    {
        check_cholesky(ak, lk, &format!("item {k}"));
    }
    let mut bad = a.clone();
    bad[count - 2][(1, 1)] = -1.0;
    expect_in_batch(
        ctx.cholesky_batched(&bad),
        count - 2,
        Error::NotPositiveDefinite { column: 1 },
    );
    let x = ctx.inv_batched(&a[max - 2..]).unwrap();
    assert_eq!(x.len(), 5);
}

#[test]
fn routes_agree_on_pivots_and_failures() {
    // Well separated pivots: both routes choose the same interchanges.
    let mut r = rng("routes_agree", 0);
    let a: Vec<_> = (0..16).map(|_| random(&mut r, 12, 12)).collect();
    let [(_, cpu), (_, gpu)] = backends();
    let fc = cpu.lu_batched(&a).unwrap();
    let fg = gpu.lu_batched(&a).unwrap();
    for (k, (c, g)) in fc.iter().zip(&fg).enumerate() {
        assert_eq!(c.ipiv(), g.ipiv(), "item {k}");
        let d = max_diff(g.packed(), &to64(c.packed()));
        assert!(d <= 1e-4, "item {k}: packed factors differ by {d:.3e}");
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut r = rng("bad_input", 0);
    let good: Vec<_> = (0..4).map(|_| spd(&mut r, 5, 10.0)).collect();
    let rhs: Vec<_> = (0..4).map(|_| random(&mut r, 5, 2)).collect();
    for (route, ctx) in backends() {
        // NaN / Inf anywhere.
        let mut nan = good.clone();
        nan[2][(3, 1)] = f32::NAN;
        assert_eq!(
            ctx.cholesky_batched(&nan).unwrap_err(),
            Error::NonFinite {
                op: "cholesky_batched"
            }
        );
        assert_eq!(
            ctx.lu_batched(&nan).unwrap_err(),
            Error::NonFinite { op: "lu_batched" }
        );
        assert_eq!(
            ctx.inv_batched(&nan).unwrap_err(),
            Error::NonFinite { op: "inv_batched" }
        );
        assert_eq!(
            ctx.solve_batched(&nan, &rhs).unwrap_err(),
            Error::NonFinite {
                op: "solve_batched"
            }
        );
        let mut inf_rhs = rhs.clone();
        inf_rhs[1][(0, 0)] = f32::INFINITY;
        assert_eq!(
            ctx.solve_batched(&good, &inf_rhs).unwrap_err(),
            Error::NonFinite {
                op: "solve_batched"
            }
        );

        // Mismatched shapes name both shapes.
        let mut mixed = good.clone();
        mixed[1] = spd(&mut r, 6, 10.0);
        match ctx.cholesky_batched(&mixed) {
            Err(Error::Shape { op, expected, got }) => {
                assert_eq!(op, "cholesky_batched");
                assert!(
                    expected.contains("5×5") && got.contains("6×6"),
                    "{expected} / {got}"
                );
            }
            other => panic!("{route:?}: expected a shape error, got {other:?}"),
        }
        assert!(matches!(
            ctx.lu_batched(&[random(&mut r, 3, 4)]),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(ctx.inv_batched(&mixed), Err(Error::Shape { .. })));
        assert!(matches!(
            ctx.solve_batched(&good, &rhs[..3]),
            Err(Error::Shape { .. })
        ));
        let wrong_rows: Vec<_> = (0..4).map(|_| random(&mut r, 4, 2)).collect();
        assert!(matches!(
            ctx.solve_batched(&good, &wrong_rows),
            Err(Error::Shape { .. })
        ));
        let mut ragged = rhs.clone();
        ragged[3] = random(&mut r, 5, 3);
        assert!(matches!(
            ctx.solve_batched(&good, &ragged),
            Err(Error::Shape { .. })
        ));

        // n = 65 is over the batched limit.
        let big = vec![DMatrix::<f32>::identity(65, 65); 2];
        for res in [
            ctx.cholesky_batched(&big).map(|_| ()),
            ctx.lu_batched(&big).map(|_| ()),
            ctx.inv_batched(&big).map(|_| ()),
            ctx.solve_batched(&big, &[random(&mut r, 65, 1), random(&mut r, 65, 1)])
                .map(|_| ()),
        ] {
            match res {
                Err(Error::Shape { expected, got, .. }) => {
                    assert!(
                        expected.contains("64") && got.contains("65×65"),
                        "{expected} / {got}"
                    );
                }
                other => panic!("{route:?}: expected a shape error for n = 65, got {other:?}"),
            }
        }

        // Empty slices and empty matrices.
        assert!(ctx.cholesky_batched(&[]).unwrap().is_empty());
        assert!(ctx.lu_batched(&[]).unwrap().is_empty());
        assert!(ctx.inv_batched(&[]).unwrap().is_empty());
        assert!(ctx.solve_batched(&[], &[]).unwrap().is_empty());
        let e = vec![DMatrix::<f32>::zeros(0, 0); 3];
        let l = ctx.cholesky_batched(&e).unwrap();
        assert_eq!(l.len(), 3);
        assert!(l.iter().all(|m| m.shape() == (0, 0)));
        let f = ctx.lu_batched(&e).unwrap();
        assert!(f.len() == 3 && f.iter().all(|x| x.ipiv().is_empty()));
        assert_eq!(ctx.inv_batched(&e).unwrap().len(), 3);
        let x = ctx
            .solve_batched(&e, &vec![DMatrix::<f32>::zeros(0, 4); 3])
            .unwrap();
        assert!(x.len() == 3 && x.iter().all(|m| m.shape() == (0, 4)));

        // The context still works after every error.
        let l = ctx.cholesky_batched(&good).unwrap();
        check_cholesky(&good[0], &l[0], &format!("{route:?} after errors"));
    }
}

/// Orders at the edges of the packed kernel shapes (32 matrices of n ≤ 8,
/// 16 of n ≤ 16, 4 of n ≤ 32, 1 of n ≤ 64 per workgroup) and batch sizes
/// that leave the last workgroup partly empty.
const PACKED: [(usize, usize); 7] = [
    (5, 32),
    (8, 32),
    (9, 16),
    (16, 16),
    (17, 4),
    (32, 4),
    (33, 1),
];

#[test]
fn packed_workgroups_match_the_cpu_route_for_every_batch_size() {
    let [(_, cpu), (_, gpu)] = backends();
    for (case, &(n, mats)) in PACKED.iter().enumerate() {
        for batch in [1, mats + 1, 2 * mats + 3] {
            let mut r = rng("packed_batches", (case * 100 + batch) as u64);
            let a: Vec<_> = (0..batch).map(|_| random(&mut r, n, n)).collect();
            let what = |k: usize| format!("n={n} batch={batch} item {k}");
            // LU: the same interchanges (well separated pivots) and factors.
            let fc = cpu.lu_batched(&a).unwrap();
            let fg = gpu.lu_batched(&a).unwrap();
            for (k, (c, g)) in fc.iter().zip(&fg).enumerate() {
                assert_eq!(c.ipiv(), g.ipiv(), "{}", what(k));
                check_lu(&a[k], g, &what(k));
            }
            // Cholesky.
            let s: Vec<_> = (0..batch).map(|_| spd(&mut r, n, 1e3)).collect();
            for (k, (sk, lk)) in s
                .iter()
                .zip(gpu.cholesky_batched(&s).unwrap().iter())
                .enumerate()
            {
                check_cholesky(sk, lk, &what(k));
            }
            // Solves: one column (eliminated with the matrix) and more
            // columns than one chunk of workgroup memory holds.
            for nrhs in [1, 9, 19] {
                let b: Vec<_> = (0..batch).map(|_| random(&mut r, n, nrhs)).collect();
                let x = gpu.solve_batched(&a, &b).unwrap();
                for k in 0..batch {
                    let e = backward_error(&a[k], &x[k], &to64(&b[k]));
                    assert!(
                        e <= bound(n),
                        "{} r={nrhs}: backward error {e:.3e}",
                        what(k)
                    );
                }
            }
            let inv = gpu.inv_batched(&a).unwrap();
            for (k, (ak, xk)) in a.iter().zip(&inv).enumerate() {
                let (a64, x64) = (to64(ak), to64(xk));
                let res =
                    fro(&(&a64 * &x64 - DMatrix::<f64>::identity(n, n))) / (fro(&a64) * fro(&x64));
                assert!(res <= bound(n), "{} inverse: {res:.3e}", what(k));
            }
            // A failure in the last (partly empty) workgroup is named.
            let mut bad = s.clone();
            bad[batch - 1][(n - 1, n - 1)] = -1.0;
            expect_in_batch(
                gpu.cholesky_batched(&bad),
                batch - 1,
                Error::NotPositiveDefinite { column: n - 1 },
            );
            let mut sing = a.clone();
            sing[batch - 1].column_mut(n / 2).fill(0.0);
            let b: Vec<_> = (0..batch).map(|_| random(&mut r, n, 1)).collect();
            expect_in_batch(
                gpu.solve_batched(&sing, &b),
                batch - 1,
                Error::Singular { column: n / 2 },
            );
        }
    }
}

#[test]
fn lu_batched_breaks_ties_at_the_first_position() {
    // Exact ties: LAPACK takes the first largest |a| in row order.
    for &(n, _) in &PACKED {
        let mut r = rng("lu_ties", n as u64);
        // Column 0 has |a| = 2 at positions 1, 2 (signs differ), and 1
        // everywhere else; column `z` is zero, so step z has only ties.
        let z = n / 2;
        let mut m = random(&mut r, n, n);
        for i in 0..n {
            m[(i, 0)] = match i {
                1 => -2.0,
                2 => 2.0,
                _ => 1.0,
            };
            m[(i, z)] = 0.0;
        }
        let zero = DMatrix::<f32>::zeros(n, n);
        for (route, ctx) in backends() {
            let f = ctx
                .lu_batched(&[m.clone(), zero.clone(), m.clone()])
                .unwrap();
            if n > 1 {
                assert_eq!(
                    f[0].ipiv()[0],
                    1,
                    "{route:?} n={n}: first of the tied maxima"
                );
                assert_eq!(f[2].ipiv()[0], 1, "{route:?} n={n}: copy");
            }
            assert_eq!(
                f[0].ipiv()[z] as usize,
                z,
                "{route:?} n={n}: all-zero column"
            );
            let ident: Vec<u32> = (0..n as u32).collect();
            assert_eq!(f[1].ipiv(), &ident[..], "{route:?} n={n}: zero matrix");
            assert_eq!(f[1].packed(), &zero, "{route:?} n={n}: zero matrix");
        }
    }
}

#[test]
fn packed_batches_over_the_dispatch_limit_are_chunked() {
    // 1×1 matrices go 32 to a workgroup: more than 32 × the dispatch limit
    // needs two dispatches, each with its own first matrix.
    let ctx = ctx().with_route(wgpu_linalg::Route::Gpu);
    let max = ctx.limits().unwrap().max_compute_workgroups_per_dimension as usize;
    let count = 32 * max + 40;
    let a: Vec<_> = (0..count)
        .map(|k| DMatrix::from_element(1, 1, (1 + k % 4096) as f32))
        .collect();
    let l = ctx.cholesky_batched(&a).unwrap();
    assert_eq!(l.len(), count);
    for (k, lk) in l.iter().enumerate() {
        assert_eq!(lk[(0, 0)], ((1 + k % 4096) as f32).sqrt(), "item {k}");
    }
    let mut bad = a;
    bad[count - 3][(0, 0)] = -1.0;
    expect_in_batch(
        ctx.cholesky_batched(&bad),
        count - 3,
        Error::NotPositiveDefinite { column: 0 },
    );
}
