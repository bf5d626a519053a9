//! GEMM against the float64 nalgebra oracle on both routes: every transpose
//! combination, sizes straddling the 16-, 64- and 128-wide tiles,
//! alpha/beta, batches, f16 storage, split-K, the narrow (n ≤ 64) variant,
//! device-resident chains, and bad input.

mod common;

use common::*;
use half::f16;
use nalgebra::DMatrix;
use wgpu_linalg::{with_gemm_variant, Error, GemmParams, GemmVariant, Route, SplitK};

fn op(x: &DMatrix<f32>, t: bool) -> DMatrix<f32> {
    if t {
        x.transpose()
    } else {
        x.clone()
    }
}

/// Elementwise bound 2·k·ε·(|op(A)|·|op(B)|) + tiny, the classical GEMM
/// error bound with a factor of 2 to spare.
fn check_product(c: &DMatrix<f32>, a: &DMatrix<f32>, b: &DMatrix<f32>, what: &str) {
    let exact = to64(a) * to64(b);
    let absprod = to64(a).abs() * to64(b).abs();
    let k = a.ncols().max(1) as f64;
    assert_eq!(c.shape(), exact.shape(), "{what}: shape");
    for i in 0..c.nrows() {
        for j in 0..c.ncols() {
            let err = (c[(i, j)] as f64 - exact[(i, j)]).abs();
            let bound = 2.0 * k * EPS * absprod[(i, j)] + 1e-30;
            assert!(
                err <= bound,
                "{what}: C[{i},{j}] = {} vs {} (err {err:.3e} > {bound:.3e})",
                c[(i, j)],
                exact[(i, j)]
            );
        }
    }
}

#[test]
fn every_transpose_at_tile_edges() {
    let shapes = [
        (1, 1, 1),
        (7, 5, 3),
        (17, 33, 15),
        (31, 16, 129),
        (127, 129, 128),
        (129, 127, 257),
        (1, 257, 129),
        (200, 1, 77),
        (33, 300, 1),
        (130, 131, 9),
    ];
    for (case, &(m, k, n)) in shapes.iter().enumerate() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut r = rng(
                "every_transpose_at_tile_edges",
                case as u64 * 4 + ta as u64 * 2 + tb as u64,
            );
            let (a, b) = operands(&mut r, m, k, n, ta, tb);
            for (route, ctx) in backends() {
                let c = ctx.matmul_t(&a, ta, &b, tb).unwrap();
                check_product(
                    &c,
                    &op(&a, ta),
                    &op(&b, tb),
                    &format!("{route:?} {m}x{k}x{n} ta={ta} tb={tb}"),
                );
            }
        }
    }
}

#[test]
fn wide_range_entries_keep_the_elementwise_bound() {
    let mut r = rng("wide_range", 0);
    let a = wide_range(&mut r, 140, 90);
    let b = wide_range(&mut r, 90, 133);
    for (route, ctx) in backends() {
        let c = ctx.matmul(&a, &b).unwrap();
        check_product(&c, &a, &b, &format!("{route:?} wide range"));
    }
}

#[test]
fn alpha_beta_update() {
    // (132, 40, 129) and (256, 8, 64): m a multiple of 4, the vec4-C tiled
    // and narrow kernels
    for (case, &(m, k, n)) in [(33, 17, 31), (129, 64, 130), (132, 40, 129), (256, 8, 64)]
        .iter()
        .enumerate()
    {
        let mut r = rng("alpha_beta_update", case as u64);
        let a = random(&mut r, k, m);
        let b = random(&mut r, k, n);
        let c0 = random(&mut r, m, n);
        let (alpha, beta) = (0.75f32, -1.25f32);
        let exact = to64(&a).transpose() * to64(&b) * alpha as f64 + to64(&c0) * beta as f64;
        let scale = (to64(&a).abs().transpose() * to64(&b).abs()).max() + to64(&c0).abs().max();
        for (route, ctx) in backends() {
            let c = ctx.gemm(alpha, &a, true, &b, false, beta, &c0).unwrap();
            let err = max_diff(&c, &exact);
            assert!(
                err <= 2.0 * (k + 2) as f64 * EPS * scale,
                "{route:?}: err {err:.3e}"
            );
        }
    }
}

#[test]
fn batched_small_matrices_one_dispatch() {
    let mut r = rng("batched", 0);
    let a: Vec<_> = (0..37).map(|_| random(&mut r, 17, 9)).collect();
    let b: Vec<_> = (0..37).map(|_| random(&mut r, 9, 13)).collect();
    for (route, ctx) in backends() {
        let c = ctx.matmul_batched(&a, &b).unwrap();
        assert_eq!(c.len(), 37);
        for (i, ci) in c.iter().enumerate() {
            check_product(ci, &a[i], &b[i], &format!("{route:?} batch item {i}"));
        }
    }
}

#[test]
fn batched_large_tiles_and_broadcast() {
    let ctx = ctx();
    let mut r = rng("batched_large", 0);
    let a: Vec<_> = (0..3).map(|_| random(&mut r, 130, 70)).collect();
    let w = random(&mut r, 70, 129);
    let ga = ctx.upload_batch(&a).unwrap();
    let gw = ctx.upload(&w).unwrap();
    let c = ga.matmul(&gw).unwrap(); // W broadcast over the batch
    assert_eq!((c.batch(), c.rows(), c.cols()), (3, 130, 129));
    for (i, ci) in c.download_batch().unwrap().iter().enumerate() {
        check_product(ci, &a[i], &w, &format!("broadcast item {i}"));
    }
}

/// `matmul_f16` on whichever GPU path the adapter has: cooperative
/// matrices where `Context::coop_f16` (all three operand-load forms: m and
/// k multiples of 8 take runs of eight, multiples of 4 runs of four,
/// others one element at a time), else the tiled f16 kernel; sizes
/// straddle the 128×128 tiles and the 32-deep slabs.
#[test]
fn f16_storage_accumulates_in_f32() {
    let path = if ctx().coop_f16() {
        "cooperative"
    } else {
        "tiled f16"
    };
    let shapes = [
        (131, 257, 66),
        (1, 1, 1),
        (7, 9, 5),
        (128, 32, 128),
        (129, 33, 127),
        (132, 36, 260),
        (64, 100, 200),
        (257, 64, 129),
        (136, 40, 130),
    ];
    for (case, (m, k, n)) in shapes.into_iter().enumerate() {
        let mut r = rng("f16", case as u64);
        let a = random(&mut r, m, k).map(f16::from_f32);
        let b = random(&mut r, k, n).map(f16::from_f32);
        let a32 = a.map(f32::from);
        let b32 = b.map(f32::from);
        for (route, ctx) in backends() {
            let c = ctx.matmul_f16(&a, &b).unwrap();
            check_product(
                &c,
                &a32,
                &b32,
                &format!("{route:?} f16 ({path}) {m}x{k}x{n}"),
            );
        }
    }
}

/// f32 products with the split-f16 path switched on: where the adapter has
/// the cooperative f16 GEMM they run on it (A and B as scaled f16 parts);
/// elsewhere (lavapipe) on the f32 kernels. Either way the result meets
/// the f32 kernel's normwise bound ‖C − AB‖_F ≤ k·ε·‖|A||B|‖_F, on random
/// and on badly scaled inputs (rows of A and columns of B scaled by
/// 2^±20), at shapes with padding (m not a multiple of 8, k not of 16)
/// and partial tiles.
#[test]
fn split_f16_meets_the_normwise_bound() {
    let gpu = ctx().with_route(Route::Gpu);
    let path = if gpu.coop_f16() {
        "split-f16"
    } else {
        "f32 kernels"
    };
    for (case, (m, k, n)) in [(1001, 777, 515), (136, 40, 130), (64, 64, 64)]
        .into_iter()
        .enumerate()
    {
        for scaled in [false, true] {
            let mut r = rng("split_f16", case as u64 * 2 + scaled as u64);
            let mut a = random(&mut r, m, k);
            let mut b = random(&mut r, k, n);
            if scaled {
                let p = |x: usize| 2f32.powi((x * 7 % 41) as i32 - 20);
                a = DMatrix::from_fn(m, k, |i, l| a[(i, l)] * p(i));
                b = DMatrix::from_fn(k, n, |l, j| b[(l, j)] * p(j + 3));
            }
            let c = wgpu_linalg::with_split_f16(true, || gpu.matmul(&a, &b)).unwrap();
            let err = (to64(&c) - to64(&a) * to64(&b)).norm();
            let bound = k as f64 * EPS * (to64(&a).abs() * to64(&b).abs()).norm();
            assert!(
                err <= bound,
                "{path} {m}x{k}x{n} scaled {scaled}: ‖C − AB‖ {err:.3e} > {bound:.3e}"
            );
        }
    }
}

#[test]
fn device_resident_chain_reads_back_once() {
    let ctx = ctx();
    let mut r = rng("chain", 0);
    let a = random(&mut r, 65, 40);
    let b = random(&mut r, 40, 33);
    let x = random(&mut r, 33, 65);
    let ga = ctx.upload(&a).unwrap();
    let gb = ctx.upload(&b).unwrap();
    let gx = ctx.upload(&x).unwrap();
    // (A·B)ᵀ scaled by 2, plus 0.5·X, then Aᵀ-free product with A again.
    let y = ga
        .matmul(&gb)
        .unwrap()
        .transpose()
        .unwrap()
        .scale(2.0)
        .unwrap()
        .axpy(0.5, &gx)
        .unwrap();
    let z = y.matmul(&ga).unwrap();
    let yz = z.download().unwrap();
    let y64 = (to64(&a) * to64(&b)).transpose() * 2.0 + to64(&x) * 0.5;
    let z64 = &y64 * to64(&a);
    let scale = (y64.abs() * to64(&a).abs()).max();
    let err = max_diff(&yz, &z64);
    assert!(err <= 4.0 * 100.0 * EPS * scale, "chain err {err:.3e}");
}

#[test]
fn shape_errors_name_both_shapes() {
    let mut r = rng("shape_errors", 0);
    let a = random(&mut r, 3, 4);
    let b = random(&mut r, 5, 2);
    for (_, ctx) in backends() {
        match ctx.matmul(&a, &b) {
            Err(Error::Shape { op, expected, got }) => {
                assert_eq!(op, "matmul");
                assert!(
                    expected.contains("3×4") && got.contains("5×2"),
                    "{expected} / {got}"
                );
            }
            other => panic!("expected a shape error, got {other:?}"),
        }
        let c = random(&mut r, 2, 2);
        assert!(matches!(
            ctx.gemm(1.0, &a, false, &random(&mut r, 4, 3), false, 1.0, &c),
            Err(Error::Shape { .. })
        ));
        let batch_a = vec![random(&mut r, 2, 3), random(&mut r, 3, 3)];
        let batch_b = vec![random(&mut r, 3, 2), random(&mut r, 3, 2)];
        assert!(matches!(
            ctx.matmul_batched(&batch_a, &batch_b),
            Err(Error::Shape { .. })
        ));
    }
}

#[test]
fn empty_matrices_follow_nalgebra() {
    let mut r = rng("empty", 0);
    for (_, ctx) in backends() {
        let c = ctx
            .matmul(&DMatrix::<f32>::zeros(0, 3), &random(&mut r, 3, 4))
            .unwrap();
        assert_eq!(c.shape(), (0, 4));
        // k = 0: the product is an m×n zero matrix, as nalgebra gives.
        let c = ctx
            .matmul(&DMatrix::<f32>::zeros(3, 0), &DMatrix::<f32>::zeros(0, 5))
            .unwrap();
        assert_eq!(c, DMatrix::<f32>::zeros(3, 0) * DMatrix::<f32>::zeros(0, 5));
        assert!(ctx.matmul_batched(&[], &[]).unwrap().is_empty());
    }
}

#[test]
fn gpu_route_without_adapter_is_no_gpu() {
    let cpu_only = wgpu_linalg::Context::builder()
        .backends(wgpu::Backends::empty())
        .require_gpu(false)
        .route(Route::Auto)
        .build()
        .unwrap();
    assert!(cpu_only.adapter_info().is_none());
    let mut r = rng("no_gpu", 0);
    let a = random(&mut r, 4, 4);
    // Auto falls back to the CPU, a forced GPU route is an error.
    assert_eq!(cpu_only.matmul(&a, &a).unwrap().shape(), (4, 4));
    assert_eq!(
        cpu_only.with_route(Route::Gpu).matmul(&a, &a),
        Err(Error::NoGpu)
    );
    assert!(matches!(cpu_only.upload(&a), Err(Error::NoGpu)));
}

#[test]
fn too_large_is_an_error_and_the_context_survives() {
    let ctx = ctx().with_route(Route::Gpu);
    let limit = ctx
        .limits()
        .unwrap()
        .max_storage_buffer_binding_size
        .min(ctx.limits().unwrap().max_buffer_size);
    if limit > (1u64 << 30) {
        // Over 1 GiB would not fit this machine's test budget; the check is
        // exercised on adapters with smaller bindings (lavapipe: 128 MiB).
        let big = DMatrix::<f32>::zeros(1, 1);
        assert!(ctx.upload(&big).is_ok());
        return;
    }
    let cols = 1024usize;
    let rows = (limit / 4 / cols as u64) as usize + 1;
    let big = DMatrix::<f32>::from_element(rows, cols, 1.0);
    match ctx.upload(&big) {
        Err(Error::TooLarge {
            op,
            bytes,
            limit: l,
        }) => {
            assert_eq!(op, "upload");
            assert!(bytes > l);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    let mut r = rng("too_large", 0);
    let a = random(&mut r, 20, 20);
    let c = ctx.matmul(&a, &a).unwrap();
    check_product(&c, &a, &a, "after TooLarge");
}

/// The split-K plan of an f32 problem with the default thresholds (asserted
/// to exist, so that the cases below really take the split-K path).
fn split_plan(m: usize, n: usize, k: usize) -> SplitK {
    GemmParams::default()
        .split_k(m, n, k, 1)
        .unwrap_or_else(|| panic!("{m}x{k}x{n} should take the split-K path"))
}

/// The dispatch labels recorded while `f` ran (`None` where the adapter has
/// no timestamp queries to label dispatches with). Profiling is per device,
/// so profiled sections of concurrent tests take turns; dispatches of
/// unprofiled concurrent tests may still appear, so callers look for labels
/// particular to their own problem.
fn labels_of<T>(f: impl FnOnce() -> wgpu_linalg::Result<T>) -> (T, Option<Vec<String>>) {
    static PROFILING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = PROFILING.lock().unwrap_or_else(|e| e.into_inner());
    let (out, detail) = ctx().gpu_profile(f).unwrap();
    let labels = detail.map(|(_, labels)| labels.into_iter().map(|(l, _)| l).collect());
    (out, labels)
}

/// Whether a split-K reduction ran inside `f` (`None` without timestamps).
fn ran_split_k<T>(f: impl FnOnce() -> wgpu_linalg::Result<T>) -> (T, Option<bool>) {
    let (out, labels) = labels_of(f);
    let ran = labels.map(|l| l.iter().any(|l| l.starts_with("splitk")));
    (out, ran)
}

#[test]
fn split_k_plan_thresholds() {
    let p = GemmParams::default();
    // The H200 case: 64 tiles of 128×64, k = 8192 → ⌈1056/64⌉ = 17 chunks
    // of 496 (the last 256 deep), 1088 groups.
    assert_eq!(
        p.split_k(8192, 40, 8192, 1),
        Some(SplitK {
            parts: 17,
            chunk: 496
        })
    );
    assert_eq!(p.split_k(8192, 40, 8192, 2), None, "batched");
    assert_eq!(p.split_k(8192, 40, 500, 1), None, "short k");
    assert_eq!(p.split_k(4096, 4096, 8192, 1), None, "enough tiles");
    // few tiles: S capped by the least chunk depth
    let s = p.split_k(33, 7, 4100, 1).unwrap();
    assert!(s.chunk >= p.splitk_min_chunk && s.chunk % 16 == 0);
    assert!((s.parts - 1) * s.chunk < 4100 && s.parts * s.chunk >= 4100);
}

#[test]
fn split_k_every_transpose_and_remainder() {
    // (m, k, n): small kernel with and without a remainder chunk, narrow
    // (n ≤ 64) kernel with scalar (m odd) and vec4 (m a multiple of 4)
    // partials, m and n not multiples of 4 or 16.
    let shapes = [
        (300, 5000, 40),
        (300, 5168, 40),
        (33, 4100, 7),
        (517, 2500, 37),
        (520, 2400, 36),
    ];
    for (case, &(m, k, n)) in shapes.iter().enumerate() {
        let plan = split_plan(m, n, k);
        if (m, k) == (300, 5168) {
            assert_eq!(k % plan.chunk, 0, "no remainder chunk: {plan:?}");
        } else {
            assert_ne!(k % plan.chunk, 0, "a remainder chunk: {plan:?}");
        }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut r = rng(
                "split_k_every_transpose",
                case as u64 * 4 + ta as u64 * 2 + tb as u64,
            );
            let (a, b) = operands(&mut r, m, k, n, ta, tb);
            let gpu = ctx().with_route(Route::Gpu);
            let (c, ran) = ran_split_k(|| gpu.matmul_t(&a, ta, &b, tb));
            assert_ne!(ran, Some(false), "{m}x{k}x{n}: no split-K reduction ran");
            check_product(
                &c,
                &op(&a, ta),
                &op(&b, tb),
                &format!("split-K {m}x{k}x{n} ta={ta} tb={tb} {plan:?}"),
            );
        }
    }
}

#[test]
fn split_k_alpha_beta_on_device() {
    let ctx = ctx().with_route(Route::Gpu);
    for (case, &(m, k, n, ta, tb)) in [(300, 5000, 40, true, false), (131, 3000, 130, false, true)]
        .iter()
        .enumerate()
    {
        split_plan(m, n, k);
        let mut r = rng("split_k_alpha_beta", case as u64);
        let (a, b) = operands(&mut r, m, k, n, ta, tb);
        let c0 = random(&mut r, m, n);
        let (alpha, beta) = (0.75f32, -1.25f32);
        let (oa, ob) = (to64(&op(&a, ta)), to64(&op(&b, tb)));
        let scale = (oa.abs() * ob.abs()).max() + to64(&c0).abs().max();
        let ga = ctx.upload(&a).unwrap();
        let gb = ctx.upload(&b).unwrap();
        let gc = ctx.upload(&c0).unwrap();
        let (c, ran) = ran_split_k(|| ga.gemm(alpha, ta, &gb, tb, beta, &gc)?.download());
        assert_ne!(ran, Some(false), "{m}x{k}x{n}: no split-K reduction ran");
        let exact = &oa * &ob * alpha as f64 + to64(&c0) * beta as f64;
        let err = max_diff(&c, &exact);
        assert!(
            err <= 2.0 * (k + 2) as f64 * EPS * scale,
            "{m}x{k}x{n} beta: err {err:.3e}"
        );
        // C untouched on the device
        assert_eq!(gc.download().unwrap(), c0);
        // beta = 0 never reads C: NaN in C must not reach the result
        let nan = ctx.upload(&DMatrix::from_element(m, n, f32::NAN)).unwrap();
        let c = ga
            .gemm(alpha, ta, &gb, tb, 0.0, &nan)
            .unwrap()
            .download()
            .unwrap();
        let exact = &oa * &ob * alpha as f64;
        let err = max_diff(&c, &exact);
        assert!(
            err <= 2.0 * k as f64 * EPS * scale,
            "{m}x{k}x{n} beta = 0: err {err:.3e}"
        );
    }
}

/// Random op(A) (m×k) and op(B) (k×n), stored transposed where asked.
fn operands(
    r: &mut rand_chacha::ChaCha8Rng,
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
) -> (DMatrix<f32>, DMatrix<f32>) {
    let a = if ta { random(r, k, m) } else { random(r, m, k) };
    let b = if tb { random(r, n, k) } else { random(r, k, n) };
    (a, b)
}

/// Whether the narrow kernel ran an m×k×n product (any k where `None`:
/// split-K parts carry the chunk depth); `None` without timestamps. The
/// profile keys dispatches by "gemm.<variant> MxKxN".
fn ran_narrow(labels: &Option<Vec<String>>, m: usize, k: Option<usize>, n: usize) -> Option<bool> {
    let head = match k {
        Some(k) => format!("gemm.narrow {m}x{k}x"),
        None => format!("gemm.narrow {m}x"),
    };
    let tail = format!("x{n}");
    labels.as_ref().map(|ls| {
        ls.iter()
            .any(|l| l.starts_with(&head) && l.ends_with(&tail))
    })
}

#[test]
fn narrow_selection_rule() {
    let p = GemmParams::default();
    assert_eq!(p.narrow_max_n, 64, "WGPU_LINALG_GEMM_NARROW is set");
    // the H200 subspace-iteration products A·V and Aᵀ·Q
    assert_eq!(p.variant(8192, 40), GemmVariant::Narrow);
    assert_eq!(p.variant(8192, 64), GemmVariant::Narrow);
    assert_eq!(p.variant(8192, 65), GemmVariant::Tiled);
    assert_eq!(
        p.variant(300, 40),
        GemmVariant::Small,
        "below one 128×128 tile of C"
    );
    assert_eq!(p.variant(520, 40), GemmVariant::Narrow);
    // tiles of 128×64: the split-K plan of A·V is unchanged (64 tiles)
    assert_eq!(p.tiles(8192, 40), 64);
    assert_eq!(p.tiles(520, 130), 10, "128×128 tiles");
    assert_eq!(p.tiles(520, 64), 5, "128×64 tiles");
    let off = GemmParams {
        narrow_max_n: 0,
        ..p
    };
    assert_eq!(off.variant(8192, 40), GemmVariant::Tiled);
    // forcing (for the edge-tile tests below) applies to planning too
    with_gemm_variant(GemmVariant::Narrow, || {
        assert_eq!(p.variant(1, 1), GemmVariant::Narrow);
        assert_eq!(p.tiles(300, 40), 3);
    });
    assert_eq!(p.variant(1, 1), GemmVariant::Small);
}

#[test]
fn narrow_every_transpose_at_tile_edges() {
    // The narrow kernel forced at shapes straddling its 128×64 tile (the
    // rule alone sends only m·n ≥ 128² to it): m = 300 takes vec4 C, the
    // others scalar C.
    let gpu = ctx().with_route(Route::Gpu);
    let ns = [1, 7, 33, 40, 63, 64];
    let ms = [1, 127, 129, 300];
    let mut case = 0u64;
    for &n in &ns {
        for &m in &ms {
            let k = [9, 17, 40][case as usize % 3];
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let mut r = rng("narrow_every_transpose", case);
                case += 1;
                let (a, b) = operands(&mut r, m, k, n, ta, tb);
                let (c, labels) = with_gemm_variant(GemmVariant::Narrow, || {
                    labels_of(|| gpu.matmul_t(&a, ta, &b, tb))
                });
                let what = format!("narrow {m}x{k}x{n} ta={ta} tb={tb}");
                assert_ne!(
                    ran_narrow(&labels, m, Some(k), n),
                    Some(false),
                    "{what}: {labels:?}"
                );
                check_product(&c, &op(&a, ta), &op(&b, tb), &what);
            }
        }
    }
}

#[test]
fn narrow_alpha_beta_scalar_and_vec4_c() {
    let ctx = ctx().with_route(Route::Gpu);
    for (case, &(m, k, n, ta, tb)) in [(129, 33, 40, true, false), (300, 20, 63, false, true)]
        .iter()
        .enumerate()
    {
        let mut r = rng("narrow_alpha_beta", case as u64);
        let (a, b) = operands(&mut r, m, k, n, ta, tb);
        let c0 = random(&mut r, m, n);
        let (alpha, beta) = (0.75f32, -1.25f32);
        let (oa, ob) = (to64(&op(&a, ta)), to64(&op(&b, tb)));
        let scale = (oa.abs() * ob.abs()).max() + to64(&c0).abs().max();
        let (c, labels) = with_gemm_variant(GemmVariant::Narrow, || {
            labels_of(|| ctx.gemm(alpha, &a, ta, &b, tb, beta, &c0))
        });
        assert_ne!(
            ran_narrow(&labels, m, Some(k), n),
            Some(false),
            "{labels:?}"
        );
        let exact = &oa * &ob * alpha as f64 + to64(&c0) * beta as f64;
        let err = max_diff(&c, &exact);
        assert!(
            err <= 2.0 * (k + 2) as f64 * EPS * scale,
            "{m}x{k}x{n}: err {err:.3e}"
        );
    }
}

#[test]
fn narrow_split_k_every_transpose() {
    // (520, 5000, 40) takes the narrow kernel by the rule (m·n ≥ 128²,
    // n ≤ 64), (300, 5000, 40) when forced; both split k (a remainder
    // chunk), so the chunks run as a batch over z with A and B strides.
    for (case, &(m, k, n, force)) in [(520, 5000, 40, false), (300, 5000, 40, true)]
        .iter()
        .enumerate()
    {
        let run = |f: &mut dyn FnMut()| {
            if force {
                with_gemm_variant(GemmVariant::Narrow, f)
            } else {
                f()
            }
        };
        let mut plan = None;
        run(&mut || plan = Some(split_plan(m, n, k)));
        let plan = plan.unwrap();
        assert!(plan.parts >= 2 && k % plan.chunk != 0, "{plan:?}");
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut r = rng(
                "narrow_split_k",
                case as u64 * 4 + ta as u64 * 2 + tb as u64,
            );
            let (a, b) = operands(&mut r, m, k, n, ta, tb);
            let gpu = ctx().with_route(Route::Gpu);
            let mut out = None;
            run(&mut || out = Some(labels_of(|| gpu.matmul_t(&a, ta, &b, tb))));
            let (c, labels) = out.unwrap();
            let what = format!("narrow split-K {m}x{k}x{n} ta={ta} tb={tb} {plan:?}");
            assert_ne!(
                ran_narrow(&labels, m, None, n),
                Some(false),
                "{what}: {labels:?}"
            );
            assert_ne!(
                labels.map(|l| l.iter().any(|l| l.starts_with("splitk"))),
                Some(false),
                "{what}: no split-K reduction"
            );
            check_product(&c, &op(&a, ta), &op(&b, tb), &what);
        }
    }
}

#[test]
fn narrow_batched_and_broadcast() {
    // 300×63 (vec4 C) and 301×57 (scalar C) per matrix: narrow by the rule.
    let ctx = ctx().with_route(Route::Gpu);
    let mut r = rng("narrow_batched", 0);
    let a: Vec<_> = (0..3).map(|_| random(&mut r, 300, 70)).collect();
    let w = random(&mut r, 70, 63);
    let ga = ctx.upload_batch(&a).unwrap();
    let gw = ctx.upload(&w).unwrap();
    let (c, labels) = labels_of(|| ga.matmul(&gw)?.download_batch()); // W broadcast
    assert_ne!(
        ran_narrow(&labels, 300, Some(70), 63),
        Some(false),
        "{labels:?}"
    );
    for (i, ci) in c.iter().enumerate() {
        check_product(ci, &a[i], &w, &format!("narrow broadcast item {i}"));
    }
    let a: Vec<_> = (0..4).map(|_| random(&mut r, 301, 45)).collect();
    let b: Vec<_> = (0..4).map(|_| random(&mut r, 45, 57)).collect();
    let (c, labels) = labels_of(|| ctx.matmul_batched(&a, &b));
    assert_ne!(
        ran_narrow(&labels, 301, Some(45), 57),
        Some(false),
        "{labels:?}"
    );
    for (i, ci) in c.iter().enumerate() {
        check_product(ci, &a[i], &b[i], &format!("narrow batch item {i}"));
    }
}

/// The cooperative kernel's shapes: the default, the 8-subgroup 128×128
/// and 256×128 tiles run on 32-wide subgroups; tiles beyond its workgroup
/// memory, or slabs needing more than 8 loads per invocation, do not.
#[test]
fn coop_shapes_fit_the_kernel() {
    use wgpu_linalg::CoopParams;
    let shape = |sgm, sgn, wn4| CoopParams {
        sgm,
        sgn,
        wn4,
        prefetch: true,
        double_buffer: false,
    };
    assert!(CoopParams::default().valid_for(32));
    assert_eq!(CoopParams::default().tile(), (128, 128));
    assert!(shape(2, 4, false).valid_for(32));
    assert_eq!(shape(2, 4, false).tile(), (128, 128));
    assert!(shape(1, 4, false).valid_for(32));
    assert!(!shape(2, 4, true).valid_for(32), "128×256 tile");
    // 256 rows: eight subgroups of 64×64 or 64×32
    assert!(shape(4, 2, true).valid_for(32));
    assert_eq!(shape(4, 2, true).tile(), (256, 128));
    assert!(shape(4, 2, false).valid_for(32));
    assert!(!shape(4, 4, true).valid_for(32), "256×256 tile");
    assert!(!shape(8, 1, true).valid_for(32), "512 rows");
    // slabs move in runs of eight f16: one to eight per invocation
    assert!(
        shape(2, 1, true).valid_for(32),
        "8 runs of A per invocation"
    );
    assert!(!shape(2, 2, true).valid_for(8), "16 runs per invocation");
    assert!(shape(2, 2, true).valid_for(64));
    let db = |s: CoopParams| CoopParams {
        double_buffer: true,
        ..s
    };
    assert!(db(shape(2, 4, false)).valid_for(32));
    assert!(db(shape(1, 4, false)).valid_for(32));
    assert!(
        !db(shape(1, 4, false)).valid_for(64),
        "half a run of A per invocation"
    );
}

/// The 8×8 f32 cooperative kernel's shapes (Apple GPUs: 32-wide
/// subgroups): 64×64 and 128×64 tiles run; prefetch and double buffering
/// (which it lacks), more than 32 KiB of workgroup memory, or slabs needing
/// more than 8 loads per invocation do not.
#[test]
fn coop_f32_shapes_fit_the_kernel() {
    use wgpu_linalg::CoopParams;
    let shape = |sgm, sgn, wn4| CoopParams {
        sgm,
        sgn,
        wn4,
        prefetch: false,
        double_buffer: false,
    };
    assert!(shape(2, 2, true).valid_for_f32(32));
    assert_eq!(shape(2, 2, true).tile_f32(), (64, 64));
    assert!(shape(4, 2, true).valid_for_f32(32));
    assert_eq!(shape(4, 2, true).tile_f32(), (128, 64));
    assert!(shape(2, 2, false).valid_for_f32(32));
    assert_eq!(shape(2, 2, false).tile_f32(), (64, 32));
    assert!(
        !CoopParams {
            prefetch: true,
            ..shape(2, 2, true)
        }
        .valid_for_f32(32),
        "no prefetch in the kernel"
    );
    assert!(!shape(4, 4, true).valid_for_f32(32), "128×128: 35 KiB");
    assert!(shape(1, 1, true).valid_for_f32(32), "8 runs per invocation");
    assert!(
        !shape(1, 1, true).valid_for_f32(16),
        "16 runs per invocation"
    );
    // A product across partial 64×64 tiles with the shape forced: on the
    // 8×8 f32 kernel where the adapter has those matrices (Apple GPUs), on
    // the tiled kernel elsewhere (lavapipe). Small integers: every product
    // and sum is exact in f32, so both must give the exact result.
    let gpu = ctx().with_route(Route::Gpu);
    let a = DMatrix::from_fn(96, 80, |i, j| ((i * 7 + j * 3) % 11) as f32 - 5.0);
    let b = DMatrix::from_fn(80, 72, |i, j| ((i * 5 + j) % 13) as f32 - 6.0);
    let want = a.map(f64::from) * b.map(f64::from);
    for cp in [shape(2, 2, true), shape(2, 2, false), shape(4, 2, true)] {
        let got = wgpu_linalg::with_coop_f32_params(Some(cp), || gpu.matmul(&a, &b)).unwrap();
        assert_eq!(
            got.map(f64::from),
            want,
            "{cp:?}, 8×8 f32 cooperative matrices: {}",
            gpu.coop_f32()
        );
    }
}

#[test]
fn tiled_vector_loads_every_transpose_and_depth() {
    // Shapes whose runs of four are aligned for every transpose (m, k, n
    // multiples of 4), straddling the 128×128 tile and the 8- and 16-deep
    // slabs; the tiled kernel is forced, so the small ones take it too.
    // Depth 0 is the element-load form, the reference the others replace.
    let gpu = ctx().with_route(Route::Gpu);
    let shapes = [
        (4, 4, 4),
        (132, 36, 260),
        (128, 8, 128),
        (256, 20, 124),
        (260, 132, 8),
        (12, 300, 136),
    ];
    for (case, &(m, k, n)) in shapes.iter().enumerate() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut r = rng(
                "tiled_vector_loads",
                case as u64 * 4 + ta as u64 * 2 + tb as u64,
            );
            let (a, b) = operands(&mut r, m, k, n, ta, tb);
            for depth in [0, 8, 16] {
                let (c, labels) = wgpu_linalg::with_gemm_depth(depth, || {
                    with_gemm_variant(GemmVariant::Tiled, || {
                        labels_of(|| gpu.matmul_t(&a, ta, &b, tb))
                    })
                });
                let what = format!("depth {depth} {m}x{k}x{n} ta={ta} tb={tb}");
                let word = match depth {
                    0 => "gemm.tiled ".to_string(),
                    d => format!("gemm.tiled_v4_bk{d} "),
                };
                assert_ne!(
                    labels
                        .as_ref()
                        .map(|l| l.iter().any(|l| l.starts_with(&word))),
                    Some(false),
                    "{what}: {labels:?}"
                );
                check_product(&c, &op(&a, ta), &op(&b, tb), &what);
            }
        }
    }
}

#[test]
fn tiled_vector_loads_batched_alpha_beta() {
    // Batch strides and offsets of the vector loads, and beta·C, on the
    // 16-deep form.
    let ctx = ctx().with_route(Route::Gpu);
    let mut r = rng("tiled_vector_batched", 0);
    let a: Vec<_> = (0..3).map(|_| random(&mut r, 132, 44)).collect();
    let b: Vec<_> = (0..3).map(|_| random(&mut r, 44, 136)).collect();
    let c = wgpu_linalg::with_gemm_depth(16, || ctx.matmul_batched(&a, &b)).unwrap();
    for (i, ci) in c.iter().enumerate() {
        check_product(ci, &a[i], &b[i], &format!("vector loads, batch item {i}"));
    }
    let (m, k, n) = (136, 52, 132);
    let (a, b) = operands(&mut r, m, k, n, true, false);
    let c0 = random(&mut r, m, n);
    let (alpha, beta) = (0.75f32, -1.25f32);
    let c = wgpu_linalg::with_gemm_depth(16, || ctx.gemm(alpha, &a, true, &b, false, beta, &c0))
        .unwrap();
    let (oa, ob) = (to64(&a.transpose()), to64(&b));
    let exact = &oa * &ob * alpha as f64 + to64(&c0) * beta as f64;
    let scale = (oa.abs() * ob.abs()).max() + to64(&c0).abs().max();
    let err = max_diff(&c, &exact);
    assert!(err <= 2.0 * (k + 2) as f64 * EPS * scale, "err {err:.3e}");
}
