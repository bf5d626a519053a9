//! Measures the CPU/GPU crossover of each routed op on the adapter at hand
//! and writes it into a tuning table (the format `src/tuning.json` ships).
//!
//! ```text
//! cargo run --release --example tune -- [--table src/tuning.json] [--out PATH]
//!     [--pattern 'nvidia*'] [--max-dim 1024] [--quick]
//! ```
//! For each op it times host-level calls (nalgebra in and out, as `Auto`
//! routes them) on both routes over a ladder of sizes, and sets the
//! threshold to the flop count of the smallest size from which the GPU wins
//! at every larger size measured (`null`: the GPU never won). The entry for
//! `--pattern` (default: derived from the adapter name) is replaced or
//! added (with `--ops a,b`, only those ops' thresholds are replaced),
//! stamped with the date and this command, and the table is written to
//! `--out` (default: `--table`).
//!
//! With `--gemm [--gemm-max N]` it measures the GEMM kernel choices
//! instead (the entry's `gemm`, its thresholds kept): the tiled f32
//! kernel's slab depth (0, 8, 16) on an N³ product and an N×64×N panel
//! update (another depth than 0 only where it saves 2% over both); where
//! the adapter has 8×8 f32 cooperative matrices (Apple GPUs), the shape of
//! the f32 cooperative GEMM (the fastest checked one on the N³ product,
//! kept only where it beats the tiled kernel); and where the adapter has
//! the cooperative f16 GEMM, its shape (the fastest checked one on an N³
//! f16 product) and the size from which f32 `matmul` takes the split-f16
//! path (the smallest n of 256, 512, … N from which it beats the f32
//! kernel at every larger n, its result checked). N defaults to 4096.

#[path = "common/mod.rs"]
mod common;

use common::*;
use half::f16;
use nalgebra::DMatrix;
use wgpu_linalg::dispatch::{nominal_flops, GemmTuning, TuningEntry, TuningFile, SHIPPED_TABLE};
use wgpu_linalg::{Context, CoopParams, GpuMatrix, Norm, Route};

/// Triplets `svd_topk` is tuned with.
const TOPK_K: usize = 8;

fn default_pattern(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    for (key, pat) in [
        ("llvmpipe", "llvmpipe*"),
        ("nvidia", "nvidia*"),
        ("apple", "apple m*"),
        ("amd", "amd*"),
        ("radeon", "*radeon*"),
        ("intel", "intel*"),
    ] {
        if lower.contains(key) {
            return pat.to_string();
        }
    }
    name.to_string()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = Context::builder().route(Route::Auto).build()?;
    let Some(info) = ctx.adapter_info() else {
        return Err("no GPU adapter: nothing to tune".into());
    };
    let quick = flag("--quick");
    let max_dim: usize = arg("--max-dim")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let table_path = arg("--table")
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/src/tuning.json").into());
    let out = arg("--out").unwrap_or_else(|| table_path.clone());
    let pattern = arg("--pattern").unwrap_or_else(|| default_pattern(&info.name));
    let command = format!(
        "cargo run --release --example tune -- {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    );
    eprintln!(
        "tuning on {} ({:?}); entry '{pattern}'",
        info.name, info.backend
    );

    let mut rng = Lcg(7);
    if flag("--gemm") {
        let n = arg("--gemm-max")
            .and_then(|s| s.parse().ok())
            .unwrap_or(4096usize);
        let mut gemm = tune_gemm(&ctx, quick, n, &mut rng)?;
        gemm.produced_by = Some(command);
        gemm.date = Some(today());
        eprintln!("gemm: {gemm:?}");
        let text =
            std::fs::read_to_string(&table_path).unwrap_or_else(|_| SHIPPED_TABLE.to_string());
        let mut file = TuningFile::parse(&text)?;
        match file.entries.iter_mut().find(|e| e.adapter == pattern) {
            Some(e) => e.gemm = Some(gemm),
            None => file.entries.push(TuningEntry {
                adapter: pattern.clone(),
                produced_by: "tune --gemm (no thresholds measured)".into(),
                date: today(),
                measured_on: Some(format!(
                    "{} ({:?}, {})",
                    info.name, info.backend, info.driver
                )),
                thresholds: Default::default(),
                gemm: Some(gemm),
            }),
        }
        std::fs::write(&out, serde_json::to_string_pretty(&file)? + "\n")?;
        eprintln!("wrote {out}");
        return Ok(());
    }
    let cpu = ctx.with_route(Route::Cpu);
    let gpu = ctx.with_route(Route::Gpu);
    let mut thresholds = std::collections::BTreeMap::new();
    let ladder: Vec<usize> = [
        8usize, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048,
    ]
    .into_iter()
    .filter(|&n| n <= max_dim)
    .collect();

    let only: Option<Vec<String>> = arg("--ops").map(|s| s.split(',').map(String::from).collect());
    for op in [
        "matmul",
        "matmul_f16",
        "matmul_batched",
        "cholesky",
        "lu",
        "solve",
        "solve_triangular",
        "solve_refined",
        "cholesky_batched",
        "lu_batched",
        "solve_batched",
        "inv_batched",
        "qr",
        "geqrf",
        "lstsq",
        "qr_batched",
        "geqrf_batched",
        "svd",
        "svdvals",
        "svd_topk",
        "eigh",
        "eigvalsh",
        "svd_batched",
        "eigh_batched",
        "norm",
    ] {
        if only.as_ref().is_some_and(|o| !o.iter().any(|x| x == op)) {
            continue;
        }
        eprintln!("[{op}]");
        // (flops, gpu wins)
        let mut results: Vec<(f64, bool)> = Vec::new();
        for &n in &ladder {
            let batched = op.ends_with("_batched");
            // batched factorizations take n ≤ 64, batched GEMM goes to 128
            let max_batched = if op == "matmul_batched" { 128 } else { 64 };
            if batched && n > max_batched {
                break;
            }
            let batch = if batched { 1000 } else { 1 };
            let rhs = if op == "solve_triangular" { n } else { 1 };
            let mut a: Vec<_> = (0..batch).map(|_| rng.matrix(n, n)).collect();
            for m in a.iter_mut() {
                for i in 0..n {
                    m[(i, i)] += n as f32; // SPD-ish and well conditioned
                }
                if op.starts_with("cholesky") {
                    *m = (&*m + m.transpose()) * 0.5;
                }
            }
            let b: Vec<_> = (0..batch)
                .map(|_| rng.matrix(n, if op.starts_with("matmul") { n } else { rhs }))
                .collect();
            let a16 = a[0].map(f16::from_f32);
            let b16 = b[0].map(f16::from_f32);
            let a64 = a[0].map(f64::from);
            let b64 = b[0].map(f64::from);
            let call = |c: &Context| -> wgpu_linalg::Result<()> {
                match op {
                    "matmul" => c.matmul(&a[0], &b[0]).map(drop),
                    "matmul_f16" => c.matmul_f16(&a16, &b16).map(drop),
                    "matmul_batched" => c.matmul_batched(&a, &b).map(drop),
                    "cholesky" => c.cholesky(&a[0]).map(drop),
                    "lu" => c.lu(&a[0]).map(drop),
                    "solve" => c.solve(&a[0], &b[0]).map(drop),
                    "solve_triangular" => c.solve_triangular(&a[0], &b[0], false).map(drop),
                    "solve_refined" => c.solve_refined(&a64, &b64).map(drop),
                    "cholesky_batched" => c.cholesky_batched(&a).map(drop),
                    "lu_batched" => c.lu_batched(&a).map(drop),
                    "solve_batched" => c.solve_batched(&a, &b).map(drop),
                    "inv_batched" => c.inv_batched(&a).map(drop),
                    "qr" => c.qr(&a[0]).map(drop),
                    "geqrf" => c.geqrf(&a[0]).map(drop),
                    "lstsq" => c.lstsq(&a[0], &b[0], None).map(drop),
                    "qr_batched" => c.qr_batched(&a).map(drop),
                    "geqrf_batched" => c.geqrf_batched(&a).map(drop),
                    "svd" => c.svd(&a[0]).map(drop),
                    "svdvals" => c.svdvals(&a[0]).map(drop),
                    "svd_topk" => c.svd_topk(&a[0], TOPK_K.min(n)).map(drop),
                    "eigh" => c.eigh(&a[0]).map(drop),
                    "eigvalsh" => c.eigvalsh(&a[0]).map(drop),
                    "svd_batched" => c.svd_batched(&a).map(drop),
                    "eigh_batched" => c.eigh_batched(&a).map(drop),
                    // the elementwise orders route as "norm" (2mn flops)
                    "norm" => c.norm(&a[0], Norm::One).map(drop),
                    other => unreachable!("{other}"),
                }
            };
            let t_cpu = median_ms(quick, || call(&cpu).expect("cpu"), || {});
            let t_gpu = median_ms(quick, || call(&gpu).expect("gpu"), || {});
            let k = if op.starts_with("matmul") { n } else { rhs };
            let flops = match op {
                // as the calls weigh themselves: l = k + 8 columns, 2mn
                "svd_topk" => nominal_flops(op, n, (TOPK_K + 8).min(n), n, 1),
                "norm" => 2.0 * (n * n) as f64,
                _ => nominal_flops(op, n, k, n, batch),
            };
            let wins = t_gpu < t_cpu;
            eprintln!(
                "  n={n:<5} batch={batch:<5} cpu {t_cpu:>10.4} ms  gpu {t_gpu:>10.4} ms  -> {}",
                if wins { "gpu" } else { "cpu" }
            );
            results.push((flops, wins));
        }
        // smallest size from which the GPU wins at every larger size
        let mut threshold = None;
        for i in (0..results.len()).rev() {
            if results[i].1 {
                threshold = Some(results[i].0);
            } else {
                break;
            }
        }
        match threshold {
            Some(t) => eprintln!("  threshold {t:.3e} flops"),
            None => eprintln!("  GPU never faster: CPU always"),
        }
        thresholds.insert(op.to_string(), threshold);
    }

    let text = std::fs::read_to_string(&table_path).unwrap_or_else(|_| SHIPPED_TABLE.to_string());
    let mut file = TuningFile::parse(&text)?;
    let entry = TuningEntry {
        adapter: pattern.clone(),
        produced_by: command,
        date: today(),
        measured_on: Some(format!(
            "{} ({:?}, {})",
            info.name, info.backend, info.driver
        )),
        thresholds,
        gemm: None,
    };
    match file.entries.iter_mut().find(|e| e.adapter == pattern) {
        // with --ops, the other ops keep their earlier measurements
        Some(e) if only.is_some() => {
            let mut merged = e.thresholds.clone();
            merged.extend(entry.thresholds);
            *e = TuningEntry {
                thresholds: merged,
                produced_by: format!("{} (earlier: {})", entry.produced_by, e.produced_by),
                gemm: e.gemm.take(),
                ..entry
            };
        }
        // the GEMM choices are measured apart (--gemm) and kept
        Some(e) => {
            *e = TuningEntry {
                gemm: e.gemm.take(),
                ..entry
            }
        }
        None => file.entries.push(entry),
    }
    std::fs::write(&out, serde_json::to_string_pretty(&file)? + "\n")?;
    eprintln!("wrote {out}");
    Ok(())
}

/// Median time of `f` on the GPU (each sample synchronized).
fn gpu_ms(ctx: &Context, quick: bool, mut f: impl FnMut() -> GpuMatrix) -> f64 {
    median_ms(
        quick,
        || drop(f()),
        || ctx.synchronize().expect("synchronize"),
    )
}

/// The device product ga·gb timed, and whether its result matches a·b
/// (the operands' values in f32) on the first, middle and last columns.
fn timed_checked(
    ctx: &Context,
    quick: bool,
    (ga, gb): (&GpuMatrix, &GpuMatrix),
    (a, b): (&DMatrix<f32>, &DMatrix<f32>),
) -> (f64, bool) {
    let ms = gpu_ms(ctx, quick, || ga.matmul(gb).expect("matmul"));
    let c = ga.matmul(gb).expect("matmul").download().expect("download");
    let n = c.ncols();
    (ms, check_product(a, b, &c, &[0, n / 2, n - 1]).is_ok())
}

/// The fastest of the cooperative `shapes` the kernel runs (`valid`),
/// each measured by `run` (time in ms, whether its result checked out);
/// a shape whose result is wrong is left out.
fn fastest_checked<'s>(
    what: &str,
    shapes: &[&'s str],
    valid: impl Fn(&CoopParams) -> bool,
    run: impl Fn(CoopParams) -> (f64, bool),
) -> Option<(f64, &'s str)> {
    let mut best: Option<(f64, &str)> = None;
    for &shape in shapes {
        let Some(cp) = CoopParams::parse(shape).filter(|cp| valid(cp)) else {
            continue;
        };
        let (ms, ok) = run(cp);
        eprintln!(
            "  {what} shape {shape}: {ms:.3} ms{}",
            if ok { "" } else { " WRONG, left out" }
        );
        if ok && best.is_none_or(|(b, _)| ms < b) {
            best = Some((ms, shape));
        }
    }
    best
}

/// Runs `f` with f32 products on the tiled kernel: neither the split-f16
/// path nor the 8×8 f32 cooperative GEMM.
fn tiled_only<T>(f: impl FnOnce() -> T) -> T {
    wgpu_linalg::with_split_f16(false, || wgpu_linalg::with_coop_f32_params(None, f))
}

/// `--gemm`: the GEMM kernel choices on this adapter (module docs).
fn tune_gemm(
    ctx: &Context,
    quick: bool,
    n: usize,
    rng: &mut Lcg,
) -> Result<GemmTuning, Box<dyn std::error::Error>> {
    let mut t = GemmTuning::default();
    let (a, b) = (rng.matrix(n, n), rng.matrix(n, n));
    let (ga, gb) = (ctx.upload(&a)?, ctx.upload(&b)?);
    // the f32 kernel's slab depth (never the split path here), on the
    // square product and a panel update (k = 64) alike: each depth's
    // times relative to depth 0, summed; another depth only where that
    // sum is at least 2% lower
    let (p, q) = (rng.matrix(n, 64), rng.matrix(64, n));
    let (gp, gq) = (ctx.upload(&p)?, ctx.upload(&q)?);
    let mut base = (0.0, 0.0);
    let mut best = (2.0 * 0.98, 0usize);
    for d in [0usize, 8, 16] {
        let (sq, panel) = tiled_only(|| {
            wgpu_linalg::with_gemm_depth(d, || {
                (
                    gpu_ms(ctx, quick, || ga.matmul(&gb).expect("matmul")),
                    gpu_ms(ctx, quick, || gp.matmul(&gq).expect("matmul")),
                )
            })
        });
        if d == 0 {
            base = (sq, panel);
        }
        let score = sq / base.0 + panel / base.1;
        eprintln!(
            "  f32 slab depth {d}: {n}³ {sq:.3} ms, {n}×64×{n} {panel:.3} ms (score {score:.3})"
        );
        if score < best.0 {
            best = (score, d);
        }
    }
    t.tiled_depth = Some(best.1);
    let sg = ctx.adapter_info().map_or(32, |i| i.subgroup_min_size);
    // the 8×8 f32 cooperative GEMM (Apple GPUs), each shape checked, kept
    // where the fastest beats the tiled kernel at its depth
    if ctx.coop_f32() {
        let depth = best.1;
        let tiled = tiled_only(|| {
            wgpu_linalg::with_gemm_depth(depth, || {
                gpu_ms(ctx, quick, || ga.matmul(&gb).expect("matmul"))
            })
        });
        eprintln!("  f32 {n}³ tiled kernel: {tiled:.3} ms");
        let shapes = [
            "2x2x4x0", "2x2x2x0", "4x2x4x0", "2x4x4x0", "4x1x4x0", "1x4x4x0",
        ];
        let fastest = fastest_checked(
            &format!("f32 {n}³ 8×8 cooperative"),
            &shapes,
            |cp| cp.valid_for_f32(sg),
            |cp| {
                wgpu_linalg::with_split_f16(false, || {
                    wgpu_linalg::with_coop_f32_params(Some(cp), || {
                        timed_checked(ctx, quick, (&ga, &gb), (&a, &b))
                    })
                })
            },
        );
        t.coop_f32 = fastest
            .filter(|&(ms, _)| ms < tiled)
            .map(|(_, s)| s.to_string());
    }
    if !ctx.coop_f16() {
        eprintln!("  no cooperative f16 GEMM: no shape, no split-f16 path");
        return Ok(t);
    }
    // the cooperative shape, each checked
    let (a16, b16) = (a.map(half::f16::from_f32), b.map(half::f16::from_f32));
    let (ga16, gb16) = (ctx.upload_f16(&a16)?, ctx.upload_f16(&b16)?);
    let (aw, bw) = (a16.map(|x| x.to_f32()), b16.map(|x| x.to_f32()));
    let shapes = [
        "2x4x2x0", "2x4x2x1", "4x2x4x0", "4x2x4x1", "2x2x4x0", "2x2x4x1", "4x2x2x0",
    ];
    let best = fastest_checked(
        &format!("f16 {n}³"),
        &shapes,
        |cp| cp.valid_for(sg),
        |cp| {
            wgpu_linalg::with_coop_params(Some(cp), || {
                timed_checked(ctx, quick, (&ga16, &gb16), (&aw, &bw))
            })
        },
    );
    t.coop = best.map(|(_, s)| s.to_string());
    // the split-f16 path against the f32 kernel (its best depth)
    let mut wins: Vec<(usize, bool)> = Vec::new();
    let mut size = 256;
    while size <= n {
        let (a, b) = (rng.matrix(size, size), rng.matrix(size, size));
        let (ga, gb) = (ctx.upload(&a)?, ctx.upload(&b)?);
        let depth = t.tiled_depth.unwrap_or(0);
        let f32_ms = tiled_only(|| {
            wgpu_linalg::with_gemm_depth(depth, || {
                gpu_ms(ctx, quick, || ga.matmul(&gb).expect("matmul"))
            })
        });
        let (split_ms, ok) = wgpu_linalg::with_split_f16(true, || {
            let ms = gpu_ms(ctx, quick, || ga.matmul(&gb).expect("matmul"));
            let c = ga
                .matmul(&gb)
                .expect("matmul")
                .download()
                .expect("download");
            (
                ms,
                check_product(&a, &b, &c, &[0, size / 2, size - 1]).is_ok(),
            )
        });
        eprintln!(
            "  f32 {size}³: f32 kernel {f32_ms:.3} ms, split-f16 {split_ms:.3} ms{}",
            if ok { "" } else { " WRONG" }
        );
        wins.push((size, ok && split_ms < f32_ms));
        size *= 2;
    }
    // the smallest size from which the split path wins at every larger one
    t.split_f16_min = None;
    for &(size, win) in wins.iter().rev() {
        if !win {
            break;
        }
        t.split_f16_min = Some(size);
    }
    Ok(t)
}
