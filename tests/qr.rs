//! QR (blocked Householder, two-pass MGS, batched), geqrf, least squares,
//! pseudo-inverse, rank and orthonormal bases against the float64 oracle,
//! on both routes. Residual bounds are c·max(m, n)·ε(f32) with c = 2
//! (‖A − QR‖_F/‖A‖_F and ‖QᵀQ − I‖_F); sizes straddle the 32-wide panel,
//! and the two-level blocking is forced at small sizes.

mod common;

use common::*;
use nalgebra::{DMatrix, DVector};
use wgpu_linalg::{with_cholqr, with_lstsq_gram, Context, Error, Lstsq, QrAlgo, QrMode, Route};

const C: f64 = 2.0;
const PANEL_SIZES: [usize; 6] = [1, 31, 32, 33, 65, 129];

fn bound(m: usize, n: usize) -> f64 {
    C * m.max(n).max(1) as f64 * EPS
}

fn assert_upper(r: &DMatrix<f32>, what: &str) {
    for j in 0..r.ncols() {
        for i in (j + 1)..r.nrows() {
            assert_eq!(
                r[(i, j)],
                0.0,
                "{what}: R not upper triangular at ({i},{j})"
            );
        }
    }
}

/// ‖QᵀQ − I‖_F in f64.
fn orth_err(q: &DMatrix<f32>) -> f64 {
    let q = to64(q);
    (q.transpose() * &q - DMatrix::<f64>::identity(q.ncols(), q.ncols())).norm()
}

/// Checks A = QR with Q of orthonormal columns and R upper triangular.
fn check_qr(a: &DMatrix<f32>, q: &DMatrix<f32>, r: &DMatrix<f32>, what: &str) {
    let (m, n) = a.shape();
    assert_eq!(q.nrows(), m, "{what}: Q rows");
    assert_eq!(r.ncols(), n, "{what}: R cols");
    assert_eq!(q.ncols(), r.nrows(), "{what}: inner dimension");
    assert_upper(r, what);
    let res = (to64(a) - to64(q) * to64(r)).norm() / fro32(a).max(f64::MIN_POSITIVE);
    assert!(res <= bound(m, n), "{what}: ‖A−QR‖/‖A‖ = {res:.3e}");
    let orth = orth_err(q);
    assert!(orth <= bound(m, n), "{what}: ‖QᵀQ−I‖ = {orth:.3e}");
}

#[test]
fn householder_across_panel_edges_and_conditions() {
    for (case, &n) in PANEL_SIZES.iter().enumerate() {
        for (ci, cond) in [1e1, 1e4, 1e7].into_iter().enumerate() {
            let mut r = rng("qr_householder", (case * 3 + ci) as u64);
            let a = with_condition(&mut r, n, n, cond);
            for (route, ctx) in backends() {
                let (q, rr) = ctx.qr(&a).unwrap();
                check_qr(&a, &q, &rr, &format!("{route:?} n={n} cond={cond:e}"));
            }
        }
    }
}

#[test]
fn householder_tall_wide_and_every_mode() {
    let shapes = [
        (200, 33),
        (33, 200),
        (257, 65),
        (65, 1),
        (1, 65),
        (129, 127),
        (100, 100),
    ];
    for (case, &(m, n)) in shapes.iter().enumerate() {
        let mut r = rng("qr_modes", case as u64);
        let a = with_condition(&mut r, m, n, 1e3);
        let k = m.min(n);
        for (route, ctx) in backends() {
            let what = format!("{route:?} {m}x{n}");
            let red = ctx
                .qr_with(&a, QrMode::Reduced, QrAlgo::Householder)
                .unwrap();
            let q = red.q.clone().unwrap();
            assert_eq!((q.shape(), red.r.shape()), ((m, k), (k, n)), "{what}");
            check_qr(&a, &q, &red.r, &format!("{what} reduced"));

            let full = ctx
                .qr_with(&a, QrMode::Complete, QrAlgo::Householder)
                .unwrap();
            let qf = full.q.unwrap();
            assert_eq!((qf.shape(), full.r.shape()), ((m, m), (m, n)), "{what}");
            check_qr(&a, &qf, &full.r, &format!("{what} complete"));

            let ronly = ctx.qr_with(&a, QrMode::R, QrAlgo::Householder).unwrap();
            assert!(ronly.q.is_none(), "{what}");
            assert_eq!(ronly.r.shape(), (k, n), "{what}");
            assert_upper(&ronly.r, &what);
            // R is unique up to the signs of its rows
            let d = (to64(&ronly.r).abs() - to64(&red.r).abs()).norm() / fro32(&a);
            assert!(d <= bound(m, n), "{what}: R of mode R differs by {d:.3e}");
        }
    }
}

/// Tall enough (k ≥ 512 rows below each block) that every block update
/// splits its Vᵀ·C product along k, the later ones taking the scratch the
/// earlier ones are done with, in one recording with Q's formation.
#[test]
fn householder_with_split_k_block_updates() {
    let (m, n) = (1200, 150);
    let mut r = rng("qr_split_k", 0);
    let a = with_condition(&mut r, m, n, 1e4);
    for (route, ctx) in backends() {
        let what = format!("{route:?} {m}x{n}");
        let (q, rr) = ctx.qr(&a).unwrap();
        assert_eq!((q.shape(), rr.shape()), ((m, n), (n, n)), "{what}");
        check_qr(&a, &q, &rr, &what);
    }
}

/// Panels of more than 4096 rows take eight rows per invocation and the
/// four-column kernel (common/row4.wgsl); at 4130 rows the first block
/// does, and the second (4066 rows) is back to eight columns.
#[test]
fn householder_four_column_register_panels() {
    for (case, (m, n, cond)) in [(4130, 100, 1e6), (4400, 37, 1e2)].into_iter().enumerate() {
        let mut r = rng("qr_four_columns", case as u64);
        let a = with_condition(&mut r, m, n, cond);
        for (route, ctx) in backends() {
            let what = format!("{route:?} {m}x{n} cond {cond:e}");
            let (q, rr) = ctx.qr(&a).unwrap();
            check_qr(&a, &q, &rr, &what);
        }
    }
}

#[test]
fn householder_scaling_zero_columns_and_wide_range_entries() {
    let mut r = rng("qr_scaling", 0);
    let mut cases = vec![
        ("wide range", wide_range(&mut r, 90, 70)),
        ("tiny", random(&mut r, 40, 40) * 1e-30),
        ("huge", random(&mut r, 40, 40) * 1e30),
        ("zero", DMatrix::zeros(37, 35)),
    ];
    // exactly zero columns and a column that is already reduced (tau = 0)
    let mut z = random(&mut r, 70, 40);
    for i in 0..70 {
        z[(i, 3)] = 0.0;
        z[(i, 34)] = 0.0;
    }
    for i in 1..70 {
        z[(i, 0)] = 0.0;
    }
    cases.push(("zero columns", z));
    // rank-deficient (the trailing columns become rounding noise) and
    // columns whose nonzeros sit on every other row only: a norm
    // reduction that drops a part must show up here
    cases.push(("rank 7", low_rank(&mut r, 260, 70, 7)));
    let mut sparse = random(&mut r, 1100, 40);
    for i in (0..1100).step_by(2) {
        for j in 0..40 {
            if j % 3 != 0 {
                sparse[(i, j)] = 0.0;
            }
        }
    }
    cases.push(("alternate zero rows", sparse));
    for (name, a) in &cases {
        for (route, ctx) in backends() {
            let (q, rr) = ctx.qr(a).unwrap();
            let what = format!("{route:?} {name}");
            assert!(
                q.iter().chain(rr.iter()).all(|x| x.is_finite()),
                "{what}: non-finite"
            );
            if a.iter().all(|&x| x == 0.0) {
                assert!(rr.iter().all(|&x| x == 0.0), "{what}");
                continue;
            }
            check_qr(a, &q, &rr, &what);
        }
    }
}

/// The CPU route, and the GPU route with and without shifted CholeskyQR3
/// for tall, skinny inputs (on lavapipe it is off unless allowed).
fn mgs_routes() -> Vec<(Route, Context, bool)> {
    backends()
        .into_iter()
        .flat_map(|(route, ctx)| {
            let both: &[bool] = if route == Route::Gpu {
                &[false, true]
            } else {
                &[false]
            };
            both.iter().map(move |&c| (route, ctx.clone(), c))
        })
        .collect()
}

#[test]
fn mgs_two_pass_keeps_orthogonality_up_to_cond_1e6() {
    // the last five tall and skinny (m ≥ 16·n), widths on and off
    // multiples of four
    let shapes = [
        (1, 1),
        (31, 31),
        (33, 33),
        (129, 129),
        (200, 33),
        (64, 1),
        (2000, 1),
        (2000, 7),
        (3000, 32),
        (1100, 37),
        (5000, 64),
    ];
    for (case, &(m, n)) in shapes.iter().enumerate() {
        for (ci, cond) in [1e1, 1e3, 1e6].into_iter().enumerate() {
            let mut r = rng("qr_mgs", (case * 3 + ci) as u64);
            let a = with_condition(&mut r, m, n, cond);
            for (route, ctx, cholqr) in mgs_routes() {
                let what = format!("{route:?} MGS {m}x{n} cond={cond:e} CholeskyQR {cholqr}");
                let res =
                    with_cholqr(cholqr, || ctx.qr_with(&a, QrMode::Reduced, QrAlgo::Mgs)).unwrap();
                let q = res.q.unwrap();
                assert_eq!((q.shape(), res.r.shape()), ((m, n), (n, n)), "{what}");
                for i in 0..n {
                    assert!(res.r[(i, i)] >= 0.0, "{what}: negative r_ii");
                }
                check_qr(&a, &q, &res.r, &what);
            }
        }
    }
}

/// Two-pass MGS on tall, skinny inputs (m ≥ 16·n; the condition test
/// above has such shapes too): a rank-deficient input (A = QR still
/// holds) and the other modes.
#[test]
fn mgs_tall_and_skinny() {
    // rank 5 of 24 columns: A = QR and R upper triangular
    let mut r = rng("qr_mgs_tall_rank", 0);
    let a = low_rank(&mut r, 1500, 24, 5);
    for (route, ctx, cholqr) in mgs_routes() {
        let what = format!("{route:?} tall MGS rank 5, CholeskyQR {cholqr}");
        let res = with_cholqr(cholqr, || ctx.qr_with(&a, QrMode::Reduced, QrAlgo::Mgs)).unwrap();
        let q = res.q.unwrap();
        assert!(
            q.iter().chain(res.r.iter()).all(|x| x.is_finite()),
            "{what}"
        );
        assert_upper(&res.r, &what);
        let err = (to64(&a) - to64(&q) * to64(&res.r)).norm() / fro32(&a);
        assert!(err <= bound(1500, 24), "{what}: ‖A−QR‖/‖A‖ = {err:.3e}");
    }
    let mut r = rng("qr_mgs_tall_modes", 0);
    let a = with_condition(&mut r, 800, 30, 1e2);
    for (route, ctx, cholqr) in mgs_routes() {
        let what = format!("{route:?} tall MGS modes, CholeskyQR {cholqr}");
        let qr = |mode| with_cholqr(cholqr, || ctx.qr_with(&a, mode, QrAlgo::Mgs)).unwrap();
        let red = qr(QrMode::Reduced);
        let ronly = qr(QrMode::R);
        assert!(ronly.q.is_none(), "{what}");
        assert_eq!(ronly.r, red.r, "{what}: R of mode R");
        check_qr(
            &a,
            red.q.as_ref().unwrap(),
            &red.r,
            &format!("{what} reduced"),
        );
        let full = qr(QrMode::Complete);
        let qf = full.q.unwrap();
        assert_eq!(
            (qf.shape(), full.r.shape()),
            ((800, 800), (800, 30)),
            "{what}"
        );
        check_qr(&a, &qf, &full.r, &format!("{what} complete"));
    }
}

#[test]
fn mgs_modes_and_shapes() {
    let mut r = rng("qr_mgs_modes", 0);
    let a = with_condition(&mut r, 90, 40, 1e2);
    let wide = random(&mut r, 10, 20);
    for (route, ctx) in backends() {
        let full = ctx.qr_with(&a, QrMode::Complete, QrAlgo::Mgs).unwrap();
        let qf = full.q.unwrap();
        assert_eq!(
            (qf.shape(), full.r.shape()),
            ((90, 90), (90, 40)),
            "{route:?}"
        );
        check_qr(&a, &qf, &full.r, &format!("{route:?} MGS complete"));
        let ronly = ctx.qr_with(&a, QrMode::R, QrAlgo::Mgs).unwrap();
        assert!(ronly.q.is_none());
        assert_upper(&ronly.r, "MGS R");
        assert!(
            matches!(
                ctx.qr_with(&wide, QrMode::Reduced, QrAlgo::Mgs),
                Err(Error::Shape { .. })
            ),
            "{route:?}: MGS of a wide matrix"
        );
    }
}

/// Q (m×m, f64) from LAPACK compact form.
fn q_from_compact(h: &DMatrix<f32>, tau: &DVector<f32>) -> DMatrix<f64> {
    let m = h.nrows();
    let mut q = DMatrix::<f64>::identity(m, m);
    for j in (0..tau.len()).rev() {
        let mut v = DVector::<f64>::zeros(m);
        v[j] = 1.0;
        for i in j + 1..m {
            v[i] = h[(i, j)] as f64;
        }
        let w = q.transpose() * &v * tau[j] as f64;
        q -= &v * w.transpose();
    }
    q
}

fn check_compact(a: &DMatrix<f32>, h: &DMatrix<f32>, tau: &DVector<f32>, what: &str) {
    let (m, n) = a.shape();
    assert_eq!(h.shape(), (m, n), "{what}");
    assert_eq!(tau.len(), m.min(n), "{what}");
    for &t in tau.iter() {
        assert!((0.0..=2.0).contains(&t), "{what}: tau {t} outside [0, 2]");
    }
    let q = q_from_compact(h, tau);
    let r = DMatrix::<f64>::from_fn(m, n, |i, j| if i <= j { h[(i, j)] as f64 } else { 0.0 });
    let res = (to64(a) - &q * r).norm() / fro32(a).max(f64::MIN_POSITIVE);
    assert!(res <= bound(m, n), "{what}: ‖A−QR‖/‖A‖ = {res:.3e}");
}

#[test]
fn geqrf_is_lapack_compatible_and_routes_agree() {
    let shapes = [(1, 1), (33, 33), (65, 31), (31, 65), (130, 129), (200, 40)];
    for (case, &(m, n)) in shapes.iter().enumerate() {
        let mut r = rng("geqrf", case as u64);
        let a = with_condition(&mut r, m, n, 10.0);
        let mut outs = Vec::new();
        for (route, ctx) in backends() {
            let (h, tau) = ctx.geqrf(&a).unwrap();
            check_compact(&a, &h, &tau, &format!("{route:?} geqrf {m}x{n}"));
            outs.push((h, tau));
        }
        // same sign convention (LAPACK larfg): the compact forms agree
        let dh = (to64(&outs[0].0) - to64(&outs[1].0)).norm() / fro32(&a);
        let dt = (to64(&DMatrix::from_column_slice(
            outs[0].1.len(),
            1,
            outs[0].1.as_slice(),
        )) - to64(&DMatrix::from_column_slice(
            outs[1].1.len(),
            1,
            outs[1].1.as_slice(),
        )))
        .norm();
        assert!(
            dh <= 10.0 * bound(m, n),
            "{m}x{n}: CPU and GPU h differ by {dh:.3e}"
        );
        assert!(
            dt <= 10.0 * bound(m, n) * (m.min(n) as f64).sqrt(),
            "{m}x{n}: tau differ by {dt:.3e}"
        );
    }
}

#[test]
fn batched_qr_and_geqrf() {
    let shapes = [
        (64, 64),
        (64, 17),
        (17, 64),
        (1, 1),
        (5, 3),
        (3, 5),
        (70, 10),
    ];
    for (case, &(m, n)) in shapes.iter().enumerate() {
        let mut r = rng("qr_batched", case as u64);
        let batch: Vec<DMatrix<f32>> = (0..9)
            .map(|i| with_condition(&mut r, m, n, 10f64.powi(i % 5)))
            .collect();
        for (route, ctx) in backends() {
            let out = ctx.qr_batched(&batch).unwrap();
            assert_eq!(out.len(), batch.len());
            for (i, ((q, rr), a)) in out.iter().zip(&batch).enumerate() {
                check_qr(a, q, rr, &format!("{route:?} qr_batched {m}x{n} #{i}"));
            }
            let comp = ctx.geqrf_batched(&batch).unwrap();
            for (i, ((h, tau), a)) in comp.iter().zip(&batch).enumerate() {
                check_compact(a, h, tau, &format!("{route:?} geqrf_batched {m}x{n} #{i}"));
            }
        }
    }
}

/// Every size class of the batched kernel (S = 8, 16, 32, 64 ≥ max(m, n),
/// 64 / S matrices per workgroup) at its edges, square and rectangular
/// (m > n and m < n), in batches that leave the last workgroup partly
/// empty; the GPU's compact form also matches the CPU's (same larfg
/// convention, same packed layout).
#[test]
fn batched_qr_every_size_class_and_edge() {
    let shapes = [
        (8, 8),
        (8, 5),
        (5, 8),
        (2, 1),
        (1, 2),
        (9, 9),
        (9, 4),
        (4, 9),
        (16, 16),
        (16, 11),
        (11, 16),
        (17, 17),
        (17, 3),
        (3, 17),
        (32, 32),
        (32, 20),
        (20, 32),
        (33, 33),
        (33, 9),
        (9, 33),
        (64, 64),
        (64, 40),
        (40, 64),
        (64, 1),
        (1, 64),
    ];
    let gpu = ctx().with_route(Route::Gpu);
    let cpu = ctx().with_route(Route::Cpu);
    for (case, &(m, n)) in shapes.iter().enumerate() {
        let mut r = rng("qr_batched_classes", case as u64);
        let batch: Vec<DMatrix<f32>> = (0..11)
            .map(|i| match i % 3 {
                0 => random(&mut r, m, n),
                1 => with_condition(&mut r, m, n, 1e4),
                _ => wide_range(&mut r, m, n),
            })
            .collect();
        let out = gpu.qr_batched(&batch).unwrap();
        assert_eq!(out.len(), batch.len());
        for (i, ((q, rr), a)) in out.iter().zip(&batch).enumerate() {
            check_qr(a, q, rr, &format!("qr_batched {m}x{n} #{i}"));
        }
        let comp = gpu.geqrf_batched(&batch).unwrap();
        let reference = cpu.geqrf_batched(&batch).unwrap();
        for (i, (((h, tau), (hc, _)), a)) in comp.iter().zip(&reference).zip(&batch).enumerate() {
            let what = format!("geqrf_batched {m}x{n} #{i}");
            check_compact(a, h, tau, &what);
            // a forward error, growing with the condition (up to 1e4 here;
            // ≤ 90·bound seen): loose, but a layout or sign slip gives O(1)
            let dh = (to64(h) - to64(hc)).norm() / fro32(a);
            assert!(
                dh <= 1e3 * bound(m, n),
                "{what}: CPU and GPU h differ by {dh:.3e}"
            );
        }
    }
}

#[test]
fn batched_qr_over_the_dispatch_limit() {
    let ctx = ctx().with_route(Route::Gpu);
    let mut r = rng("qr_batched_many", 0);
    // 3×2 is in the class of 8 matrices per workgroup: 8 times the limit.
    let count = 8 * ctx.limits().unwrap().max_compute_workgroups_per_dimension as usize + 3;
    let proto: Vec<DMatrix<f32>> = (0..7).map(|_| random(&mut r, 3, 2)).collect();
    let batch: Vec<DMatrix<f32>> = (0..count).map(|i| proto[i % 7].clone()).collect();
    let out = ctx.qr_batched(&batch).unwrap();
    for i in [0, 1, count / 2, count - 2, count - 1] {
        check_qr(
            &batch[i],
            &out[i].0,
            &out[i].1,
            &format!("qr_batched #{i} of {count}"),
        );
    }
}

/// NumPy lstsq in f64 by SVD: (x, residuals or empty, rank, s descending).
fn lstsq_ref(
    a: &DMatrix<f32>,
    b: &DMatrix<f32>,
    rcond: f64,
) -> (DMatrix<f64>, Vec<f64>, usize, Vec<f64>) {
    let (m, n) = a.shape();
    let (a, b) = (to64(a), to64(b));
    let svd = a.clone().svd(true, true);
    let smax = svd.singular_values.max();
    let thr = rcond * smax;
    let rank = svd.singular_values.iter().filter(|&&s| s > thr).count();
    let mut w = svd.u.as_ref().unwrap().transpose() * &b;
    for (i, &s) in svd.singular_values.iter().enumerate() {
        w.row_mut(i).scale_mut(if s > thr { 1.0 / s } else { 0.0 });
    }
    let x = svd.v_t.as_ref().unwrap().transpose() * w;
    let res = if rank == n && m > n {
        (&b - &a * &x)
            .column_iter()
            .map(|c| c.norm_squared())
            .collect()
    } else {
        Vec::new()
    };
    let mut s: Vec<f64> = svd.singular_values.iter().copied().collect();
    s.sort_by(|x, y| y.total_cmp(x));
    (x, res, rank, s)
}

#[test]
fn lstsq_matches_the_f64_svd_solution() {
    struct Case {
        m: usize,
        n: usize,
        rank: Option<usize>,
        nrhs: usize,
        rcond: Option<f32>,
    }
    let cases = [
        Case {
            m: 200,
            n: 33,
            rank: None,
            nrhs: 3,
            rcond: None,
        },
        Case {
            m: 65,
            n: 65,
            rank: None,
            nrhs: 2,
            rcond: None,
        },
        Case {
            m: 33,
            n: 100,
            rank: None,
            nrhs: 2,
            rcond: None,
        },
        Case {
            m: 120,
            n: 40,
            rank: Some(10),
            nrhs: 2,
            rcond: None,
        },
        Case {
            m: 30,
            n: 90,
            rank: Some(12),
            nrhs: 3,
            rcond: None,
        },
        Case {
            m: 70,
            n: 70,
            rank: Some(35),
            nrhs: 1,
            rcond: Some(1e-5),
        },
        Case {
            m: 150,
            n: 1,
            rank: None,
            nrhs: 1,
            rcond: None,
        },
    ];
    for (ci, c) in cases.iter().enumerate() {
        let mut r = rng("lstsq", ci as u64);
        let a = match c.rank {
            Some(k) => low_rank(&mut r, c.m, c.n, k),
            None => with_condition(&mut r, c.m, c.n, 1e3),
        };
        let b = random(&mut r, c.m, c.nrhs);
        for (route, ctx) in backends() {
            let what = format!("{route:?} lstsq {}x{} rank {:?}", c.m, c.n, c.rank);
            let out = ctx.lstsq(&a, &b, c.rcond).unwrap();
            assert_lstsq(&what, &a, &b, c.rcond, &out);
        }
    }
}

/// `out` against NumPy's lstsq in f64: the rank, the solution to
/// cond·c·max(m, n)·ε (plus cond² times that for inconsistent systems),
/// the singular values to c·max(m, n)·ε·σ₁, and the residuals.
fn assert_lstsq(what: &str, a: &DMatrix<f32>, b: &DMatrix<f32>, rcond: Option<f32>, out: &Lstsq) {
    let (m, n) = a.shape();
    let rcond64 = rcond.map(f64::from).unwrap_or(EPS * m.max(n) as f64);
    let (x_ref, res_ref, rank_ref, s_ref) = lstsq_ref(a, b, rcond64);
    let cond_eff = s_ref[0] / s_ref[rank_ref - 1];
    assert_eq!(out.rank, rank_ref, "{what}: rank");
    assert_eq!(out.solution.shape(), (n, b.ncols()), "{what}");
    let tol = C * cond_eff * bound(m, n);
    let dx = (to64(&out.solution) - &x_ref).norm() / x_ref.norm();
    // inconsistent systems add a cond²·‖r‖/(‖A‖‖x‖) term
    let extra = if m > n {
        cond_eff * cond_eff * bound(m, n)
    } else {
        0.0
    };
    assert!(
        dx <= tol + extra,
        "{what}: ‖x−x*‖/‖x*‖ = {dx:.3e} > {:.3e}",
        tol + extra
    );
    assert_eq!(out.singular_values.len(), m.min(n), "{what}");
    for (s, s0) in out.singular_values.iter().zip(&s_ref) {
        assert!(
            (*s as f64 - s0).abs() <= bound(m, n) * s_ref[0],
            "{what}: σ {s} vs {s0}"
        );
    }
    assert_eq!(
        out.residuals.len(),
        res_ref.len(),
        "{what}: residuals present"
    );
    for (j, (res, r0)) in out.residuals.iter().zip(&res_ref).enumerate() {
        let bj = b.column(j).map(f64::from).norm_squared();
        assert!(
            (*res as f64 - r0).abs() <= tol * bj,
            "{what}: residual {j}: {res} vs {r0}"
        );
    }
}

/// Well-conditioned systems beyond 64 columns (rows), which the GPU route
/// solves through the Gram matrix (κ ≤ 4), next to the same systems on
/// the Householder route; κ just under and over the limit, an rcond that
/// puts σ_min near the threshold (Householder again), tall, wide and
/// square, host-level and device-resident; tall ones with 4 < κ ≤ 300
/// (CholeskyQR2, one of them truncated by rcond) and κ = 1e4 (Householder).
#[test]
fn lstsq_through_the_gram_matrix() {
    // (m, n, κ, nrhs, rcond); tall ones with 4 < κ ≤ 300 take CholeskyQR2
    let cases: [(usize, usize, f64, usize, Option<f32>); 10] = [
        (300, 100, 2.0, 3, None),
        (1000, 65, 3.9, 1, None),
        (129, 129, 1.5, 2, None),
        (90, 200, 3.0, 2, None),
        (257, 80, 4.3, 2, None),
        (400, 96, 1.2, 1, Some(0.6)),
        (70, 300, 3.99, 4, Some(1e-3)),
        (600, 90, 100.0, 2, None),
        (500, 70, 200.0, 1, Some(0.02)),
        (300, 129, 1e4, 1, None),
    ];
    let ctx = ctx().with_route(Route::Gpu);
    for (ci, &(m, n, kappa, nrhs, rcond)) in cases.iter().enumerate() {
        let mut r = rng("lstsq_gram", ci as u64);
        let a = with_condition(&mut r, m, n, kappa);
        // inconsistent: B off the range of A
        let b = random(&mut r, m, nrhs);
        for gram in [true, false] {
            let what = format!("lstsq {m}x{n} κ {kappa} rcond {rcond:?} gram allowed {gram}");
            let (host, resident) = with_lstsq_gram(gram, || {
                let host = ctx.lstsq(&a, &b, rcond).unwrap();
                let (ga, gb) = (ctx.upload(&a).unwrap(), ctx.upload(&b).unwrap());
                (host, ga.lstsq(&gb, rcond).unwrap())
            });
            assert_lstsq(&what, &a, &b, rcond, &host);
            let resident = Lstsq {
                solution: resident.solution.download().unwrap(),
                residuals: resident.residuals,
                rank: resident.rank,
                singular_values: resident.singular_values,
            };
            assert_lstsq(&format!("{what}, resident"), &a, &b, rcond, &resident);
        }
    }
}

#[test]
fn pinv_and_matrix_rank() {
    let mut r = rng("pinv", 0);
    let mats = [
        with_condition(&mut r, 100, 40, 1e2),
        with_condition(&mut r, 40, 100, 1e2),
        low_rank(&mut r, 60, 60, 20),
    ];
    for (route, ctx) in backends() {
        for a in &mats {
            let (m, n) = a.shape();
            let what = format!("{route:?} pinv {m}x{n}");
            let p = ctx.pinv(a, None).unwrap();
            assert_eq!(p.shape(), (n, m), "{what}");
            let (a64, p64) = (to64(a), to64(&p));
            // Penrose conditions A·A⁺·A = A and A⁺·A·A⁺ = A⁺
            let e1 = (&a64 * &p64 * &a64 - &a64).norm() / a64.norm();
            let e2 = (&p64 * &a64 * &p64 - &p64).norm() / p64.norm();
            assert!(
                e1 <= 1e2 * bound(m, n) && e2 <= 1e2 * bound(m, n),
                "{what}: {e1:.3e} {e2:.3e}"
            );
        }
        let cases = [
            (low_rank(&mut r, 50, 80, 1), 1),
            (low_rank(&mut r, 90, 70, 17), 17),
            (random(&mut r, 40, 25), 25),
            (random(&mut r, 25, 40), 25),
            (DMatrix::zeros(10, 12), 0),
        ];
        for (a, k) in &cases {
            assert_eq!(
                ctx.matrix_rank(a, None).unwrap(),
                *k,
                "{route:?} rank of {:?}",
                a.shape()
            );
        }
        let d = DMatrix::from_diagonal(&DVector::from_vec(vec![1.0f32, 1e-2, 1e-4, 1e-6]));
        assert_eq!(
            ctx.matrix_rank(&d, Some(1e-3)).unwrap(),
            2,
            "{route:?}: explicit tol"
        );
    }
}

#[test]
fn orthonormal_bases_and_completion() {
    let mut r = rng("bases", 0);
    let a = with_condition(&mut r, 120, 30, 1e2);
    for (route, ctx) in backends() {
        let q = ctx.orthonormal_columns(&a).unwrap();
        assert_eq!(q.shape(), (120, 30));
        assert!(orth_err(&q) <= bound(120, 30), "{route:?} columns");
        // span: A = Q·(QᵀA)
        let (q64, a64) = (to64(&q), to64(&a));
        let proj = (&q64 * (q64.transpose() * &a64) - &a64).norm() / a64.norm();
        assert!(
            proj <= bound(120, 30),
            "{route:?}: A not in span(Q): {proj:.3e}"
        );

        let at = a.transpose();
        let w = ctx.orthonormal_rows(&at).unwrap();
        assert_eq!(w.shape(), (30, 120));
        assert!(orth_err(&w.transpose()) <= bound(120, 30), "{route:?} rows");

        let full = ctx.complete_basis(&q).unwrap();
        assert_eq!(full.shape(), (120, 120));
        assert_eq!(
            full.columns(0, 30),
            q.columns(0, 30),
            "{route:?}: q is kept as given"
        );
        assert!(
            orth_err(&full) <= bound(120, 120),
            "{route:?}: completed basis {:.3e}",
            orth_err(&full)
        );
        let e = DMatrix::<f32>::zeros(5, 0);
        assert_eq!(ctx.complete_basis(&e).unwrap().shape(), (5, 5));
        assert!(orth_err(&ctx.complete_basis(&e).unwrap()) <= bound(5, 5));
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut r = rng("qr_bad", 0);
    let mut nan = random(&mut r, 8, 6);
    nan[(3, 2)] = f32::NAN;
    let mut inf = random(&mut r, 8, 6);
    inf[(0, 5)] = f32::INFINITY;
    let good = random(&mut r, 8, 6);
    let b = random(&mut r, 8, 2);
    for (route, ctx) in backends() {
        for bad in [&nan, &inf] {
            let nf = |e: Error| matches!(e, Error::NonFinite { .. });
            assert!(nf(ctx.qr(bad).unwrap_err()), "{route:?} qr");
            assert!(
                nf(ctx.qr_with(bad, QrMode::R, QrAlgo::Mgs).unwrap_err()),
                "{route:?} mgs"
            );
            assert!(nf(ctx.geqrf(bad).unwrap_err()), "{route:?} geqrf");
            assert!(
                nf(ctx.lstsq(bad, &b, None).unwrap_err()),
                "{route:?} lstsq A"
            );
            let mut bad_b = b.clone();
            bad_b[(1, 1)] = bad[(3, 2)] + bad[(0, 5)];
            assert!(
                nf(ctx.lstsq(&good, &bad_b, None).unwrap_err()),
                "{route:?} lstsq B"
            );
            assert!(nf(ctx.pinv(bad, None).unwrap_err()), "{route:?} pinv");
            assert!(
                nf(ctx.matrix_rank(bad, None).unwrap_err()),
                "{route:?} rank"
            );
            assert!(
                nf(ctx.qr_batched(&[good.clone(), bad.clone()]).unwrap_err()),
                "{route:?} qr_batched"
            );
            assert!(
                nf(ctx.geqrf_batched(std::slice::from_ref(bad)).unwrap_err()),
                "{route:?} geqrf_batched"
            );
            assert!(
                nf(ctx.orthonormal_columns(bad).unwrap_err()),
                "{route:?} orthonormal_columns"
            );
        }
        let shape = |e: Error| matches!(e, Error::Shape { .. });
        assert!(
            shape(ctx.lstsq(&good, &random(&mut r, 7, 1), None).unwrap_err()),
            "{route:?}"
        );
        assert!(
            shape(
                ctx.qr_batched(&[good.clone(), random(&mut r, 6, 8)])
                    .unwrap_err()
            ),
            "{route:?}"
        );
        assert!(
            shape(ctx.complete_basis(&random(&mut r, 3, 5)).unwrap_err()),
            "{route:?}"
        );
        // empty matrices
        let (q, rr) = ctx.qr(&DMatrix::zeros(0, 3)).unwrap();
        assert_eq!((q.shape(), rr.shape()), ((0, 0), (0, 3)));
        let (q, rr) = ctx.qr(&DMatrix::zeros(4, 0)).unwrap();
        assert_eq!((q.shape(), rr.shape()), ((4, 0), (0, 0)));
        let l = ctx
            .lstsq(&DMatrix::zeros(4, 0), &b.rows(0, 4).into_owned(), None)
            .unwrap();
        assert_eq!(
            (l.solution.shape(), l.rank, l.residuals.len()),
            ((0, 2), 0, 2)
        );
        // the context still works
        let (q, rr) = ctx.qr(&good).unwrap();
        check_qr(&good, &q, &rr, &format!("{route:?} after errors"));
    }
}

/// The device-resident lstsq on bad and edge inputs: NaN and Inf in A or
/// B, shapes that do not fit, empty A, no right-hand sides, on both of
/// the GPU's routes (Gram and Householder), and the host-level call with
/// no right-hand sides.
#[test]
fn lstsq_resident_bad_and_edge_inputs() {
    let ctx = ctx().with_route(Route::Gpu);
    let mut r = rng("lstsq_resident_edges", 0);
    let a = with_condition(&mut r, 150, 70, 2.0);
    let b = random(&mut r, 150, 2);
    let (ga, gb) = (ctx.upload(&a).unwrap(), ctx.upload(&b).unwrap());
    let mut nan = a.clone();
    nan[(3, 4)] = f32::NAN;
    let mut inf = b.clone();
    inf[(7, 1)] = f32::NEG_INFINITY;
    let nf = |e: Error| matches!(e, Error::NonFinite { .. });
    let shape = |e: Error| matches!(e, Error::Shape { .. });
    for gram in [true, false] {
        with_lstsq_gram(gram, || {
            let what = format!("gram allowed {gram}");
            let gnan = ctx.upload(&nan).unwrap();
            assert!(nf(gnan.lstsq(&gb, None).unwrap_err()), "{what}: NaN in A");
            let ginf = ctx.upload(&inf).unwrap();
            assert!(nf(ga.lstsq(&ginf, None).unwrap_err()), "{what}: Inf in B");
            assert!(
                nf(ga.lstsq(&gb, Some(f32::NAN)).unwrap_err()),
                "{what}: NaN rcond"
            );
            let short = ctx.upload(&random(&mut r, 149, 1)).unwrap();
            assert!(shape(ga.lstsq(&short, None).unwrap_err()), "{what}: B rows");
            // no right-hand sides: rank and singular values still
            let none = DMatrix::<f32>::zeros(150, 0);
            let l = ga.lstsq(&ctx.upload(&none).unwrap(), None).unwrap();
            assert_eq!(
                (l.solution.shape(), l.rank, l.singular_values.len()),
                ((70, 0), 70, 70),
                "{what}: resident, no right-hand sides"
            );
            let l = ctx.lstsq(&a, &none, None).unwrap();
            assert_eq!(
                (l.solution.shape(), l.rank, l.residuals.len()),
                ((70, 0), 70, 0),
                "{what}: host-level, no right-hand sides"
            );
            // empty A
            let e = ctx.upload(&DMatrix::<f32>::zeros(150, 0)).unwrap();
            let l = e.lstsq(&gb, None).unwrap();
            assert_eq!(
                (l.solution.shape(), l.rank, l.residuals.len()),
                ((0, 2), 0, 2),
                "{what}: empty A"
            );
            // the context still works
            let l = ga.lstsq(&gb, None).unwrap();
            let l = Lstsq {
                solution: l.solution.download().unwrap(),
                residuals: l.residuals,
                rank: l.rank,
                singular_values: l.singular_values,
            };
            assert_lstsq(&format!("{what}: after errors"), &a, &b, None, &l);
        });
    }
}

/// `f` with the QR parameters and the panel kind forced.
fn forced<T>(in_registers: bool, params: wgpu_linalg::QrParams, f: impl FnOnce() -> T) -> T {
    wgpu_linalg::with_panels_in_registers(in_registers, || wgpu_linalg::with_qr_params(params, f))
}

#[test]
fn householder_two_level_blocking() {
    // The blocking large matrices get (narrow panels inside wider blocks
    // whose T comes from the reflectors' Gram matrix), forced at small
    // sizes: blocks whole and cut short, square, tall and wide, cond up to
    // 1e7, Q and R, and the compact form against the CPU's.
    let gpu = ctx().with_route(Route::Gpu);
    let cpu = ctx().with_route(Route::Cpu);
    // Panels of up to 8 columns are held in registers (geqr2_reg) unless
    // the test says otherwise; wider ones stream (geqr2_panel).
    let shapes = [(130, 130), (257, 200), (200, 257), (300, 64), (65, 65)];
    for (nb, inner, in_registers) in [
        (64, 16, true),
        (64, 8, true),
        (64, 8, false),
        (48, 16, true),
        (32, 8, true),
        (32, 8, false),
    ] {
        let params = wgpu_linalg::QrParams { nb, inner };
        for (case, &(m, n)) in shapes.iter().enumerate() {
            for (ci, cond) in [1e2, 1e7].into_iter().enumerate() {
                let mut r = rng(
                    "qr_two_level",
                    (nb * 1000 + inner * 10 + case * 2 + ci) as u64,
                );
                let a = with_condition(&mut r, m, n, cond);
                let what =
                    format!("nb {nb} inner {inner} registers {in_registers} {m}x{n} cond {cond:e}");
                let (q, rr) = forced(in_registers, params, || gpu.qr(&a)).unwrap();
                check_qr(&a, &q, &rr, &what);
                let (h, tau) = forced(in_registers, params, || gpu.geqrf(&a)).unwrap();
                check_compact(&a, &h, &tau, &what);
                if cond < 1e3 {
                    // (at cond 1e7 the last reflectors rest on rounding-level
                    // residuals, so the two routes' h may differ there)
                    let (h_cpu, _) = cpu.geqrf(&a).unwrap();
                    let dh = (to64(&h) - to64(&h_cpu)).norm() / fro32(&a);
                    assert!(
                        dh <= 10.0 * bound(m, n),
                        "{what}: CPU and GPU h differ by {dh:.3e}"
                    );
                }
            }
        }
    }
}

#[test]
fn householder_register_panels_of_every_row_class() {
    // The register-held panel at 1, 2, 4 and 8 rows per invocation (1024
    // invocations) at cond 1e2 and 1e7, and the streaming panel on the
    // shortest (the streaming panel is slow on a CPU adapter at these
    // heights).
    let gpu = ctx().with_route(Route::Gpu);
    let params = wgpu_linalg::QrParams { nb: 16, inner: 8 };
    for (case, &(m, n)) in [(900, 20), (2000, 17), (4000, 12), (4500, 9)]
        .iter()
        .enumerate()
    {
        for (ci, cond) in [1e2, 1e7].into_iter().enumerate() {
            let mut r = rng("qr_register_rows", (case * 2 + ci) as u64);
            let a = with_condition(&mut r, m, n, cond);
            for in_registers in [true, false] {
                if !in_registers && m > 1000 {
                    continue;
                }
                let what = format!("registers {in_registers} {m}x{n} cond {cond:e}");
                let (q, rr) = forced(in_registers, params, || gpu.qr(&a)).unwrap();
                check_qr(&a, &q, &rr, &what);
            }
        }
    }
}
