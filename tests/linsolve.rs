//! Cholesky, LU, triangular solves, solve, inverses, determinants and
//! refinement against the float64 oracle, on both routes. Residual bounds
//! are c·n·ε(f32) with c = 4 unless a test says otherwise; sizes straddle
//! the 32- and 64-wide blocks.

mod common;

use common::*;
use nalgebra::DMatrix;
use wgpu_linalg::{Error, Route, TriFlags};

const C: f64 = 4.0;
const SIZES: [usize; 11] = [1, 2, 31, 32, 33, 63, 64, 65, 127, 129, 257];

fn bound(n: usize) -> f64 {
    C * n.max(1) as f64 * EPS
}

#[test]
fn cholesky_residual_across_block_edges_and_conditions() {
    for (case, &n) in SIZES.iter().enumerate() {
        for (ci, cond) in [1e1, 1e3, 1e6].into_iter().enumerate() {
            let mut r = rng("cholesky", (case * 3 + ci) as u64);
            let a = spd(&mut r, n, cond);
            for (route, ctx) in backends() {
                let l = ctx.cholesky(&a).unwrap();
                for j in 0..n {
                    for i in 0..j {
                        assert_eq!(l[(i, j)], 0.0, "{route:?} n={n}: L not lower at ({i},{j})");
                    }
                }
                let res = (to64(&a) - to64(&l) * to64(&l).transpose()).norm() / fro32(&a);
                assert!(
                    res <= bound(n),
                    "{route:?} n={n} cond={cond:e}: ‖A−LLᵀ‖/‖A‖ = {res:.3e}"
                );
            }
        }
    }
}

#[test]
fn cholesky_reports_the_failing_column_and_the_context_survives() {
    let mut r = rng("cholesky_fail", 0);
    let n = 100;
    let mut a = spd(&mut r, n, 10.0);
    a[(70, 70)] = -1.0; // indefinite; columns before 70 factor fine
    for (route, ctx) in backends() {
        assert_eq!(
            ctx.cholesky(&a),
            Err(Error::NotPositiveDefinite { column: 70 }),
            "{route:?}"
        );
        let good = spd(&mut r, 40, 100.0);
        assert!(
            ctx.cholesky(&good).is_ok(),
            "{route:?}: context unusable after an error"
        );
    }
}

fn check_lu(a: &DMatrix<f32>, lu: &wgpu_linalg::Lu, what: &str) {
    let (m, n) = a.shape();
    let l = lu.l();
    let u = lu.u();
    assert_eq!(l.shape(), (m, m.min(n)));
    assert_eq!(u.shape(), (m.min(n), n));
    for x in l.iter() {
        assert!(x.abs() <= 1.0, "{what}: |L| > 1 ({x})");
    }
    let perm = lu.perm();
    let pa = DMatrix::from_fn(m, n, |i, j| a[(perm[i], j)] as f64);
    let res = (pa - to64(&l) * to64(&u)).norm() / fro32(a).max(f64::MIN_POSITIVE);
    assert!(res <= bound(m.max(n)), "{what}: ‖PA−LU‖/‖A‖ = {res:.3e}");
}

#[test]
fn lu_square_and_rectangular() {
    let shapes = [
        (1, 1),
        (2, 2),
        (33, 33),
        (65, 65),
        (129, 129),
        (257, 257),
        (130, 70),
        (70, 130),
        (40, 1),
        (1, 40),
        // a panel taller than the 1024·8 rows one pass of the panel
        // kernel's update holds, and than the register-held panel holds
        (8300, 40),
        // register-held panels of 4 and of 2 rows per invocation, and a
        // panel too tall for them
        (5000, 24),
        (3000, 30),
        (1500, 20),
    ];
    for (case, &(m, n)) in shapes.iter().enumerate() {
        let mut r = rng("lu", case as u64);
        let a = random(&mut r, m, n);
        for (route, ctx) in backends() {
            let lu = ctx.lu(&a).unwrap();
            check_lu(&a, &lu, &format!("{route:?} {m}x{n}"));
        }
    }
}

#[test]
fn lu_pivots_past_a_zero_leading_entry_and_returns_singular_factors() {
    let mut r = rng("lu_pivot", 0);
    let mut a = random(&mut r, 50, 50);
    a[(0, 0)] = 0.0;
    let sing = low_rank(&mut r, 40, 40, 20);
    let mut exact_sing = random(&mut r, 36, 36);
    for i in 0..36 {
        exact_sing[(i, 5)] = 0.0; // an exactly zero column: zero pivot at 5
    }
    for (route, ctx) in backends() {
        check_lu(
            &a,
            &ctx.lu(&a).unwrap(),
            &format!("{route:?} zero leading entry"),
        );
        check_lu(
            &sing,
            &ctx.lu(&sing).unwrap(),
            &format!("{route:?} rank-deficient"),
        );
        let lu = ctx.lu(&exact_sing).unwrap(); // getrf semantics: factors, no error
        check_lu(&exact_sing, &lu, &format!("{route:?} exactly singular"));
        let b = random(&mut r, 36, 2);
        assert_eq!(
            ctx.solve(&exact_sing, &b),
            Err(Error::Singular { column: 5 }),
            "{route:?}"
        );
        assert_eq!(
            ctx.inv(&exact_sing),
            Err(Error::Singular { column: 5 }),
            "{route:?}"
        );
    }
}

#[test]
fn solve_backward_error() {
    for (case, &n) in [1usize, 33, 64, 65, 129, 257].iter().enumerate() {
        for (ci, cond) in [1e1, 1e6].into_iter().enumerate() {
            let mut r = rng("solve", (case * 2 + ci) as u64);
            let a = with_condition(&mut r, n, n, cond);
            let b = random(&mut r, n, if ci == 0 { 1 } else { 5 });
            for (route, ctx) in backends() {
                let x = ctx.solve(&a, &b).unwrap();
                let res =
                    (to64(&a) * to64(&x) - to64(&b)).norm() / (fro32(&a) * fro32(&x) + fro32(&b));
                assert!(
                    res <= bound(n),
                    "{route:?} n={n} cond={cond:e}: backward error {res:.3e}"
                );
            }
        }
    }
}

/// A GPU-route context whose device was opened without SUBGROUP, so the
/// kernels' fallbacks run.
fn without_subgroups() -> wgpu_linalg::Context {
    let plain = wgpu_linalg::Context::builder()
        .route(Route::Gpu)
        .without_features(wgpu::Features::SUBGROUP)
        .build()
        .unwrap();
    assert!(!plain.features().contains(wgpu::Features::SUBGROUP));
    plain
}

#[test]
fn triangular_solves_every_variant() {
    // the GPU with and without subgroups: trsm_diag_sg (its subgroup
    // groups, and its fallback for backward blocks not a multiple of the
    // group) and trsm_diag_pack
    let plain = without_subgroups();
    let [cpu, gpu] = backends();
    let contexts = [cpu, gpu, (Route::Gpu, plain)];
    for (case, &n) in [1usize, 31, 63, 64, 65, 129].iter().enumerate() {
        let mut r = rng("trsm", case as u64);
        // well-conditioned triangles: unit-ish diagonal
        let mut t = random(&mut r, n, n) * (1.0 / n as f32);
        for i in 0..n {
            t[(i, i)] = 1.0 + 0.5 * (i % 3) as f32;
        }
        let b7 = random(&mut r, n, 7);
        let b3 = random(&mut r, n, 3);
        for (b, upper) in [(&b7, false), (&b7, true), (&b3, false), (&b3, true)] {
            for trans in [false, true] {
                for unit in [false, true] {
                    let f = TriFlags { upper, trans, unit };
                    let tri = DMatrix::from_fn(n, n, |i, j| {
                        if i == j && unit {
                            1.0
                        } else if (upper && i <= j) || (!upper && i >= j) {
                            t[(i, j)] as f64
                        } else {
                            0.0
                        }
                    });
                    let op = if trans { tri.transpose() } else { tri.clone() };
                    for (route, ctx) in &contexts {
                        let x = ctx.solve_triangular_with(&t, b, f).unwrap();
                        let res =
                            (&op * to64(&x) - to64(b)).norm() / (op.norm() * fro32(&x) + fro32(b));
                        let sg = ctx.features().contains(wgpu::Features::SUBGROUP);
                        let k = b.ncols();
                        assert!(
                            res <= bound(n),
                            "{route:?} subgroups={sg} n={n} nrhs={k} {f:?}: backward error {res:.3e}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn inverses() {
    let mut r = rng("inverses", 0);
    for &n in &[1usize, 33, 65, 129] {
        let a = with_condition(&mut r, n, n, 1e3);
        let l = spd(&mut r, n, 1e3);
        for (route, ctx) in backends() {
            let x = ctx.inv(&a).unwrap();
            let res = (to64(&a) * to64(&x) - DMatrix::<f64>::identity(n, n)).norm()
                / (fro32(&a) * fro32(&x));
            assert!(res <= bound(n), "{route:?} inv n={n}: {res:.3e}");

            let lo = ctx.cholesky(&l).unwrap();
            let ti = ctx.tri_inv(&lo, false).unwrap();
            for j in 0..n {
                for i in 0..j {
                    assert_eq!(ti[(i, j)], 0.0);
                }
            }
            let res = (to64(&lo) * to64(&ti) - DMatrix::<f64>::identity(n, n)).norm()
                / (fro32(&lo) * fro32(&ti));
            assert!(res <= bound(n), "{route:?} tri_inv n={n}: {res:.3e}");

            let ci = ctx.cholesky_inv(&lo).unwrap();
            let res = (to64(&l) * to64(&ci) - DMatrix::<f64>::identity(n, n)).norm()
                / (fro32(&l) * fro32(&ci));
            assert!(
                res <= 4.0 * bound(n),
                "{route:?} cholesky_inv n={n}: {res:.3e}"
            );
        }
    }
}

#[test]
fn determinants_without_overflow() {
    let mut r = rng("det", 0);
    let a = random(&mut r, 7, 7);
    let exact = to64(&a).determinant();
    // large: |det| = 1e10^300 overflows f32 and f64, slogdet does not
    let big = random(&mut r, 300, 300) * 1e10;
    let lu64 = to64(&big).lu();
    let (exact_logabs, exact_sign) = {
        let u = lu64.u();
        let mut s = 1.0f64;
        let mut la = 0.0;
        for i in 0..300 {
            la += u[(i, i)].abs().ln();
            s *= u[(i, i)].signum();
        }
        // nalgebra's permutation sign
        (la, s * lu64.p().determinant::<f64>())
    };
    for (route, ctx) in backends() {
        let d = ctx.det(&a).unwrap() as f64;
        assert!(
            (d - exact).abs() <= 1e-5 * exact.abs(),
            "{route:?}: det {d} vs {exact}"
        );
        let (sign, logabs) = ctx.slogdet(&big).unwrap();
        assert!(logabs.is_finite(), "{route:?}");
        assert_eq!(sign as f64, exact_sign, "{route:?}");
        assert!(
            (logabs as f64 - exact_logabs).abs() <= 1e-4 * exact_logabs.abs(),
            "{route:?}: {logabs} vs {exact_logabs}"
        );
        let mut sing = random(&mut r, 5, 5);
        sing.set_column(2, &sing.column(1).clone_owned());
        sing[(0, 2)] = sing[(0, 1)];
        let rowsing = DMatrix::<f32>::from_fn(4, 4, |i, j| {
            if i == 3 {
                0.0
            } else {
                (i * 4 + j) as f32 + 1.0
            }
        });
        assert_eq!(
            ctx.slogdet(&rowsing).unwrap(),
            (0.0, f32::NEG_INFINITY),
            "{route:?}"
        );
        assert_eq!(ctx.det(&rowsing).unwrap(), 0.0);
        assert_eq!(ctx.det(&DMatrix::<f32>::zeros(0, 0)).unwrap(), 1.0);
    }
}

fn hilbert(n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(n, n, |i, j| 1.0 / (i + j + 1) as f64)
}

#[test]
fn solve_refined_reaches_f64_accuracy() {
    let mut r = rng("refined", 0);
    let cases: Vec<(String, DMatrix<f64>)> = vec![
        ("hilbert 5".into(), hilbert(5)),
        (
            "cond 1e6, n 100".into(),
            to64(&with_condition(&mut r, 100, 100, 1e6)),
        ),
        (
            "cond 1e2, n 129".into(),
            to64(&with_condition(&mut r, 129, 129, 1e2)),
        ),
    ];
    for (name, a) in cases {
        let n = a.nrows();
        let x_true = to64(&random(&mut r, n, 2));
        let b = &a * &x_true;
        let x64 = a.clone().lu().solve(&b).unwrap();
        let err64 = (&x64 - &x_true).norm() / x_true.norm();
        for (route, ctx) in backends() {
            let x = ctx.solve_refined(&a, &b).unwrap();
            let err = (&x - &x_true).norm() / x_true.norm();
            assert!(
                err <= 10.0 * err64.max(f64::EPSILON),
                "{route:?} {name}: forward error {err:.3e} vs f64 LU {err64:.3e}"
            );
            let back = (&a * &x - &b).norm() / (a.norm() * x.norm() + b.norm());
            assert!(
                back <= 4.0 * n as f64 * f64::EPSILON,
                "{route:?} {name}: backward error {back:.3e}"
            );
        }
    }
    // far beyond f32: refinement cannot converge
    let a = hilbert(12);
    let b = &a * DMatrix::<f64>::from_element(12, 1, 1.0);
    for (route, ctx) in backends() {
        match ctx.solve_refined(&a, &b) {
            Err(Error::NoConvergence { op, .. }) => assert_eq!(op, "solve_refined"),
            Err(Error::Singular { .. }) => {}
            other => panic!("{route:?}: expected NoConvergence, got {other:?}"),
        }
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut r = rng("bad_input", 0);
    let mut a = spd(&mut r, 10, 10.0);
    a[(3, 4)] = f32::NAN;
    let b = random(&mut r, 10, 1);
    for (route, ctx) in backends() {
        assert_eq!(
            ctx.cholesky(&a),
            Err(Error::NonFinite { op: "cholesky" }),
            "{route:?}"
        );
        assert!(matches!(ctx.lu(&a), Err(Error::NonFinite { .. })));
        assert!(matches!(ctx.solve(&a, &b), Err(Error::NonFinite { .. })));
        let rect = random(&mut r, 4, 5);
        assert!(matches!(ctx.cholesky(&rect), Err(Error::Shape { .. })));
        assert!(matches!(ctx.solve(&rect, &b), Err(Error::Shape { .. })));
        let sq = random(&mut r, 4, 4);
        assert!(
            matches!(ctx.solve(&sq, &b), Err(Error::Shape { .. })),
            "B rows mismatch"
        );
        let mut t = random(&mut r, 4, 4);
        t[(2, 2)] = 0.0;
        assert_eq!(
            ctx.solve_triangular(&t, &random(&mut r, 4, 1), true),
            Err(Error::Singular { column: 2 })
        );
        // empty matrices follow nalgebra
        assert_eq!(
            ctx.cholesky(&DMatrix::<f32>::zeros(0, 0)).unwrap().shape(),
            (0, 0)
        );
        assert_eq!(
            ctx.solve(&DMatrix::<f32>::zeros(0, 0), &DMatrix::<f32>::zeros(0, 3))
                .unwrap()
                .shape(),
            (0, 3)
        );
        let _ = route;
    }
    let gpu = ctx().with_route(Route::Gpu);
    let g = gpu.upload(&spd(&mut r, 70, 10.0)).unwrap();
    // device-resident chain: factor, solve with the factor, one readback
    let l = g.cholesky().unwrap();
    let rhs = gpu.upload(&random(&mut r, 70, 3)).unwrap();
    let y = l
        .solve_triangular(
            &rhs,
            TriFlags {
                upper: false,
                trans: false,
                unit: false,
            },
        )
        .unwrap();
    let x = l
        .solve_triangular(
            &y,
            TriFlags {
                upper: false,
                trans: true,
                unit: false,
            },
        )
        .unwrap();
    assert_eq!(x.download().unwrap().shape(), (70, 3));
}

#[test]
fn device_resident_batches_use_the_small_kernels() {
    let ctx = ctx().with_route(Route::Gpu);
    let mut r = rng("resident_batches", 0);
    let a: Vec<_> = (0..50).map(|_| spd(&mut r, 16, 100.0)).collect();
    let b: Vec<_> = (0..50).map(|_| random(&mut r, 16, 2)).collect();
    let ga = ctx.upload_batch(&a).unwrap();
    let ls = ga.cholesky().unwrap().download_batch().unwrap();
    let xs = ga
        .solve(&ctx.upload_batch(&b).unwrap())
        .unwrap()
        .download_batch()
        .unwrap();
    for i in 0..50 {
        let res = (to64(&a[i]) - to64(&ls[i]) * to64(&ls[i]).transpose()).norm() / fro32(&a[i]);
        assert!(res <= bound(16), "cholesky {i}: {res:.3e}");
        let back = (to64(&a[i]) * to64(&xs[i]) - to64(&b[i])).norm()
            / (fro32(&a[i]) * fro32(&xs[i]) + fro32(&b[i]));
        assert!(back <= bound(16), "solve {i}: {back:.3e}");
    }
    // a failing matrix in the middle of the batch is named at download
    let mut bad = a.clone();
    bad[17][(3, 3)] = -5.0;
    let l = ctx.upload_batch(&bad).unwrap().cholesky().unwrap();
    match l.download_batch() {
        Err(Error::InBatch { index: 17, source }) => {
            assert!(
                matches!(*source, Error::NotPositiveDefinite { .. }),
                "{source:?}"
            )
        }
        other => panic!("expected InBatch 17, got {other:?}"),
    }
}

#[test]
fn lu_panel_without_subgroups_uses_the_tree_reduction() {
    let plain = without_subgroups();
    let with = ctx().with_route(Route::Gpu);
    let mut r = rng("lu_tree", 0);
    for &(m, n) in &[(257usize, 257usize), (130, 70), (33, 100)] {
        let mut a = random(&mut r, m, n);
        a[(0, 0)] = 0.0;
        for c in [&plain, &with] {
            check_lu(
                &a,
                &c.lu(&a).unwrap(),
                &format!(
                    "{m}x{n} subgroups={}",
                    c.features().contains(wgpu::Features::SUBGROUP)
                ),
            );
        }
    }
}

#[test]
fn factorizations_whose_updates_take_the_vec4_gemm() {
    // n a multiple of 4 and over 2 blocks: trailing updates with m % 4 == 0
    let mut r = rng("vec4_updates", 0);
    let n = 200;
    let a = spd(&mut r, n, 1e3);
    let g = random(&mut r, n, n);
    for (route, ctx) in backends() {
        let l = ctx.cholesky(&a).unwrap();
        let res = (to64(&a) - to64(&l) * to64(&l).transpose()).norm() / fro32(&a);
        assert!(res <= bound(n), "{route:?} cholesky {res:.3e}");
        check_lu(&g, &ctx.lu(&g).unwrap(), &format!("{route:?} lu {n}"));
    }
}

#[test]
fn lu_two_level_blocking_matches_the_oracle() {
    // The blocking large matrices get (narrow panels inside 64-column
    // outer blocks), forced at small sizes: outer blocks whole and cut
    // short, square, tall and wide, and solve through the same factors.
    // Both panels: held in registers (getf2_block; four columns wide, as
    // for panels of more than 4096 rows, with nb 4) and in global memory
    // (getf2_panel with the per-panel GEMM update).
    let gpu = ctx().with_route(wgpu_linalg::Route::Gpu);
    let shapes = [(130, 130), (257, 257), (300, 150), (150, 300), (70, 70)];
    for in_registers in [true, false] {
        let with = |f: &mut dyn FnMut()| wgpu_linalg::with_panels_in_registers(in_registers, f);
        for (nb, outer) in [(8, 8), (16, 4), (8, 3), (4, 16), (4, 5)] {
            let blocking = format!("registers {in_registers} nb {nb} outer {outer}");
            for (case, &(m, n)) in shapes.iter().enumerate() {
                let mut r = rng("lu_two_level", (nb * 100 + outer * 10 + case) as u64);
                let a = random(&mut r, m, n);
                let mut lu = None;
                with(&mut || lu = Some(wgpu_linalg::with_lu_blocking(nb, outer, || gpu.lu(&a))));
                check_lu(&a, &lu.unwrap().unwrap(), &format!("{blocking} {m}x{n}"));
            }
            let n = 200;
            let mut r = rng("lu_two_level_solve", (nb * 10 + outer) as u64);
            let a = random(&mut r, n, n);
            let b = random(&mut r, n, 3);
            let mut x = None;
            with(&mut || {
                x = Some(wgpu_linalg::with_lu_blocking(nb, outer, || {
                    gpu.solve(&a, &b)
                }))
            });
            let x = x.unwrap().unwrap();
            let (a64, x64, b64) = (to64(&a), to64(&x), to64(&b));
            let berr = (&a64 * &x64 - &b64).norm() / (a64.norm() * x64.norm() + b64.norm());
            assert!(
                berr <= 4.0 * n as f64 * EPS,
                "{blocking}: solve backward error {berr:.3e}"
            );
        }
    }
}
