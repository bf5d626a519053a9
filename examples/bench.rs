//! Benchmarks the library's ops on the routes it has and prints a markdown
//! table; writes JSON (op, shape, batch, route, median time, GFLOP/s, GPU
//! timestamp time) for `benches/compare.py`.
//!
//! ```text
//! cargo run --release --example bench -- [--out bench.json] [--ops matmul,matmul_f16,...]
//!     [--routes gpu,gpu-host,cpu,auto] [--min-dim N] [--max-dim N] [--host-max-gflop G] [--quick]
//!     [--split-check]
//! ```
//! Routes: `gpu` times device-resident ops (inputs already uploaded, one
//! synchronisation per sample: the figure to set beside PyTorch's);
//! `gpu-host`, `cpu` and `auto` time host-level calls (nalgebra in and out,
//! transfers included: the figures the dispatcher chooses between).
//! Shape strings: matmul "MxKxN"; batched ops give one matrix's shape.
//! `lstsq`'s `gpu` row is `GpuMatrix::lstsq` (A and B resident, the
//! solution left on the GPU, rank and singular values read back).

#[path = "common/mod.rs"]
mod common;

use common::*;
use half::f16;
use nalgebra::DMatrix;
use serde_json::json;
use wgpu_linalg::{Context, GpuMatrix, QrAlgo, QrMode, Route, TopkOpts, TriFlags};

#[derive(Clone)]
struct Case {
    op: &'static str,
    m: usize,
    k: usize,
    n: usize,
    batch: usize,
}

impl Case {
    fn shape(&self) -> String {
        if self.op.starts_with("matmul") {
            format!("{}x{}x{}", self.m, self.k, self.n)
        } else {
            format!("{}x{}", self.m, self.n)
        }
    }
    fn flops(&self) -> f64 {
        let (m, k, n, b) = (
            self.m as f64,
            self.k as f64,
            self.n as f64,
            self.batch as f64,
        );
        b * match self.op {
            "cholesky" | "cholesky_batched" => n * n * n / 3.0,
            "lu" => 2.0 * n * n * n / 3.0,
            "solve" | "solve_batched" => 2.0 * n * n * n / 3.0 + 2.0 * n * n,
            "solve_triangular" => n * n * k,
            "qr_mgs" => 4.0 * m * n * n,
            "qr" | "qr_batched" => {
                2.0 * (4.0 * m * n * n - 2.0 * (m + n) * n * n + 4.0 * n * n * n / 3.0)
            }
            "geqrf_batched" | "lstsq" | "lstsq_cond100" => {
                4.0 * m * n * n - 2.0 * (m + n) * n * n + 4.0 * n * n * n / 3.0
            }
            // nominal: Golub–Kahan with vectors, LAPACK syevd, 4 iterations
            // of two GEMMs with k columns (as torch.svd_lowrank(niter=4))
            "svd" | "svd_batched" => 4.0 * m * n * n + 8.0 * n * n * n,
            "eigh" | "eigh_batched" => 9.0 * n * n * n,
            "svd_topk" => 8.0 * 2.0 * m * n * k,
            _ => 2.0 * m * k * n,
        }
    }
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let sq = |op, n| Case {
        op,
        m: n,
        k: n,
        n,
        batch: 1,
    };
    for n in [64, 128, 256, 512, 1024, 2048, 4096, 8192] {
        v.push(sq("matmul", n));
    }
    for k in [32, 64] {
        v.push(Case {
            op: "matmul",
            m: 8192,
            k,
            n: 8192,
            batch: 1,
        });
    }
    for n in [256, 1024, 4096, 8192] {
        v.push(sq("matmul_f16", n));
    }
    v.push(Case {
        op: "matmul_batched",
        m: 16,
        k: 16,
        n: 16,
        batch: 10000,
    });
    v.push(Case {
        op: "matmul_batched",
        m: 64,
        k: 64,
        n: 64,
        batch: 1000,
    });
    for n in [256, 1024, 4096, 8192] {
        v.push(sq("cholesky", n));
        v.push(Case {
            op: "solve",
            m: n,
            k: 1,
            n,
            batch: 1,
        });
    }
    v.push(Case {
        op: "cholesky_batched",
        m: 16,
        k: 16,
        n: 16,
        batch: 100_000,
    });
    v.push(Case {
        op: "solve_batched",
        m: 16,
        k: 1,
        n: 16,
        batch: 100_000,
    });
    for n in [1024, 4096, 8192] {
        v.push(sq("qr", n));
    }
    // tall and skinny, QrAlgo::Mgs (two-pass MGS)
    for (m, n) in [(4096, 32), (32768, 64), (131072, 16)] {
        v.push(Case {
            op: "qr_mgs",
            m,
            k: n,
            n,
            batch: 1,
        });
    }
    v.push(Case {
        op: "qr_batched",
        m: 16,
        k: 16,
        n: 16,
        batch: 10_000,
    });
    v.push(Case {
        op: "geqrf_batched",
        m: 16,
        k: 16,
        n: 16,
        batch: 100_000,
    });
    v.push(Case {
        op: "lstsq",
        m: 32768,
        k: 1,
        n: 2048,
        batch: 1,
    });
    // the same system with its columns scaled from 1 down to 1/100
    // (κ about 100 · 1.7): past the Gram route's κ ≤ 4
    v.push(Case {
        op: "lstsq_cond100",
        m: 32768,
        k: 1,
        n: 2048,
        batch: 1,
    });
    v.push(Case {
        op: "svd_topk",
        m: 8192,
        k: 32,
        n: 8192,
        batch: 1,
    });
    for n in [1024, 4096] {
        v.push(sq("svd", n));
        v.push(sq("eigh", n));
    }
    // tall: Householder QR first, then the SVD of the 1024×1024 R
    v.push(Case {
        op: "svd",
        m: 8192,
        k: 1024,
        n: 1024,
        batch: 1,
    });
    for (n, batch) in [(16, 10_000), (64, 1000)] {
        v.push(Case {
            op: "svd_batched",
            m: n,
            k: n,
            n,
            batch,
        });
        v.push(Case {
            op: "eigh_batched",
            m: n,
            k: n,
            n,
            batch,
        });
    }
    for n in [1024, 4096] {
        v.push(sq("lu", n));
        v.push(Case {
            op: "solve_triangular",
            m: n,
            k: n,
            n,
            batch: 1,
        });
    }
    v
}

struct Inputs {
    a: Vec<DMatrix<f32>>,
    b: Vec<DMatrix<f32>>,
}

fn inputs(c: &Case, rng: &mut Lcg) -> Inputs {
    match c.op {
        // SPD: X·Xᵀ/n + I (built with the CPU product; fine at bench sizes)
        "cholesky" | "cholesky_batched" => {
            let a = (0..c.batch)
                .map(|_| {
                    let x = rng.matrix(c.n, c.n);
                    let mut s = &x * x.transpose() / c.n as f32;
                    for i in 0..c.n {
                        s[(i, i)] += 1.0;
                    }
                    s
                })
                .collect();
            Inputs { a, b: Vec::new() }
        }
        "svd_topk" => Inputs {
            a: vec![known_spectrum(c.n)],
            b: Vec::new(),
        },
        "svd" | "svd_batched" => Inputs {
            a: (0..c.batch).map(|_| rng.matrix(c.m, c.n)).collect(),
            b: Vec::new(),
        },
        "eigh" | "eigh_batched" => Inputs {
            a: (0..c.batch)
                .map(|_| {
                    let x = rng.matrix(c.n, c.n);
                    &x + x.transpose()
                })
                .collect(),
            b: Vec::new(),
        },
        // diagonally weighted so that solves are well conditioned
        "lstsq" => Inputs {
            a: vec![rng.matrix(c.m, c.n)],
            b: vec![rng.matrix(c.m, c.k)],
        },
        "lstsq_cond100" => {
            let mut a = rng.matrix(c.m, c.n);
            for (j, mut col) in a.column_iter_mut().enumerate() {
                col *= 100f32.powf(-(j as f32) / (c.n - 1).max(1) as f32);
            }
            Inputs {
                a: vec![a],
                b: vec![rng.matrix(c.m, c.k)],
            }
        }
        "solve" | "solve_batched" | "lu" | "solve_triangular" => {
            let a = (0..c.batch)
                .map(|_| {
                    let mut a = rng.matrix(c.n, c.n);
                    for i in 0..c.n {
                        a[(i, i)] += if c.op == "solve_triangular" {
                            c.n as f32
                        } else {
                            2.0
                        };
                    }
                    a
                })
                .collect();
            let b = (0..c.batch).map(|_| rng.matrix(c.n, c.k)).collect();
            Inputs { a, b }
        }
        _ => Inputs {
            a: (0..c.batch).map(|_| rng.matrix(c.m, c.k)).collect(),
            b: (0..c.batch).map(|_| rng.matrix(c.k, c.n)).collect(),
        },
    }
}

/// The n×n matrix A = (I − 2uuᵀ)·diag(s)·(I − 2vvᵀ) with s_k = 1/(1 + k/8),
/// u_i ∝ sin(0.37·i + 0.1), v_i ∝ cos(0.11·i) + 1/2 (unit vectors): its
/// singular values are exactly s and its right singular vectors
/// (I − 2vvᵀ)·e_k. `benches/peers/torch_peers.py` builds the same matrix,
/// so both sides' `svd_topk` accuracy is measured on one problem.
fn known_spectrum(n: usize) -> DMatrix<f32> {
    let (u, s, v) = spectrum_factors(n);
    let c: f64 = (0..n).map(|k| u[k] * s[k] * v[k]).sum();
    DMatrix::from_fn(n, n, |i, j| {
        let d = if i == j { s[i] } else { 0.0 };
        (d - 2.0 * u[i] * u[j] * s[j] - 2.0 * s[i] * v[i] * v[j] + 4.0 * c * u[i] * v[j]) as f32
    })
}

/// The unit vectors u, v and the singular values s of [`known_spectrum`].
fn spectrum_factors(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let unit = |f: &dyn Fn(f64) -> f64| {
        let x: Vec<f64> = (0..n).map(|i| f(i as f64)).collect();
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        x.into_iter().map(|v| v / norm).collect::<Vec<f64>>()
    };
    let u = unit(&|i| (0.37 * i + 0.1).sin());
    let v = unit(&|i| (0.11 * i).cos() + 0.5);
    let s: Vec<f64> = (0..n).map(|k| 1.0 / (1.0 + k as f64 / 8.0)).collect();
    (u, s, v)
}

/// Accuracy of top-k singular values `sv` and right vectors `vt` (k×n)
/// on [`known_spectrum`]: the largest error of a singular value relative
/// to σ₁, and the largest sine of the angle between a computed right
/// vector and the exact top-k right subspace.
/// Residual ‖AV − VΛ‖_F/‖A‖_F and ‖VᵀV − I‖_F of `eigh` of the symmetric
/// matrix `a` (lower triangle), the products as f32 GEMMs on the GPU and
/// the norms in f64 (so a few n·ε of the figures is the check's own
/// rounding).
fn eigh_accuracy(
    ctx: &Context,
    a: &DMatrix<f32>,
    ga: &wgpu_linalg::GpuMatrix,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let n = a.nrows();
    let sym = DMatrix::from_fn(n, n, |i, j| if i >= j { a[(i, j)] } else { a[(j, i)] });
    let (w, v) = ga.eigh()?;
    let (w, v) = (w.download()?, v.download()?);
    let gpu = ctx.with_route(Route::Gpu);
    let av = gpu.matmul(&sym, &v)?;
    let vtv = gpu.matmul_t(&v, true, &v, false)?;
    let mut r2 = 0.0f64;
    let mut o2 = 0.0f64;
    for j in 0..n {
        for i in 0..n {
            let r = f64::from(av[(i, j)]) - f64::from(v[(i, j)]) * f64::from(w[j]);
            r2 += r * r;
            let o = f64::from(vtv[(i, j)]) - if i == j { 1.0 } else { 0.0 };
            o2 += o * o;
        }
    }
    let an = sym
        .iter()
        .map(|&x| f64::from(x).powi(2))
        .sum::<f64>()
        .sqrt();
    Ok((r2.sqrt() / an, o2.sqrt()))
}

fn topk_accuracy(sv: &[f32], vt: &DMatrix<f32>, n: usize) -> (f64, f64) {
    let (_, s, v) = spectrum_factors(n);
    let k = sv.len();
    let sv_err = (0..k)
        .map(|i| (sv[i] as f64 - s[i]).abs() / s[0])
        .fold(0.0, f64::max);
    let mut sin_max: f64 = 0.0;
    for i in 0..k {
        let x: Vec<f64> = (0..n).map(|j| vt[(i, j)] as f64).collect();
        let dot: f64 = x.iter().zip(&v).map(|(a, b)| a * b).sum();
        // (I − 2vvᵀ)·x: coordinates in the exact singular basis
        let w: Vec<f64> = x.iter().zip(&v).map(|(a, b)| a - 2.0 * dot * b).collect();
        let all = w.iter().map(|a| a * a).sum::<f64>().sqrt();
        let tail = w[k..].iter().map(|a| a * a).sum::<f64>().sqrt();
        sin_max = sin_max.max(tail / all);
    }
    (sv_err, sin_max)
}

/// Checks an f16 product `c` ≈ A·B (f32 accumulation) against float64, as
/// [`check_product`] does.
fn check_f16_product(
    a: &DMatrix<f16>,
    b: &DMatrix<f16>,
    c: &DMatrix<f32>,
    cols: &[usize],
) -> Result<(f64, f64), String> {
    check_product(&a.map(f32::from), &b.map(f32::from), c, cols)
}

/// Columns to check of an n-column product: all of them up to 1024,
/// otherwise the tile edges at both ends, the middle and 16 more.
fn check_columns(n: usize, rng: &mut Lcg) -> Vec<usize> {
    if n <= 1024 {
        return (0..n).collect();
    }
    let mut cols = vec![0, 1, 15, 16, 17, 63, 64, 127, 128, 129, n / 2];
    cols.extend([n - 129, n - 128, n - 17, n - 16, n - 1]);
    for _ in 0..16 {
        cols.push(((rng.next() as f64 * 0.5 + 0.5) * (n - 1) as f64) as usize);
    }
    cols
}

/// The f16 product on the device at shapes with partial tiles (the
/// cooperative kernel's operand loads by runs of eight, of four and one
/// at a time, where the adapter has it), each checked in full by
/// [`check_f16_product`].
fn check_f16_edges(ctx: &Context, rng: &mut Lcg) -> Result<(), Box<dyn std::error::Error>> {
    for (m, k, n) in [
        (1000, 777, 513),
        (1000, 776, 520),
        (1004, 780, 516),
        (1, 1, 1),
        (7, 9, 5),
        (129, 36, 200),
    ] {
        let a = rng.matrix(m, k).map(f16::from_f32);
        let b = rng.matrix(k, n).map(f16::from_f32);
        let c = ctx
            .upload_f16(&a)?
            .matmul(&ctx.upload_f16(&b)?)?
            .download()?;
        let cols: Vec<usize> = (0..n).collect();
        match check_f16_product(&a, &b, &c, &cols) {
            Ok((worst, normwise)) => eprintln!(
                "  matmul_f16 {m}x{k}x{n} check: max err/bound {worst:.3e}, normwise {normwise:.3e} ok"
            ),
            Err(e) => {
                eprintln!("MATMUL_F16 ACCURACY FAILURE at {m}x{k}x{n}: {e}");
                return Err(format!("matmul_f16 {m}x{k}x{n}: {e}").into());
            }
        }
    }
    Ok(())
}

/// Frobenius norms over the columns `cols` of C − AB (for each C of `cs`)
/// and of |A||B|, with AB and |A||B| in float64.
fn column_errors(
    a: &DMatrix<f32>,
    b: &DMatrix<f32>,
    cs: &[&DMatrix<f32>],
    cols: &[usize],
) -> (Vec<f64>, f64) {
    let (m, k) = a.shape();
    let mut err2 = vec![0.0f64; cs.len()];
    let mut ref2 = 0.0f64;
    for &j in cols {
        let mut exact = vec![0.0f64; m];
        let mut abs = vec![0.0f64; m];
        for l in 0..k {
            let blj = f64::from(b[(l, j)]);
            for (i, &x) in a.column(l).iter().enumerate() {
                exact[i] += f64::from(x) * blj;
                abs[i] += (f64::from(x) * blj).abs();
            }
        }
        for (e2, c) in err2.iter_mut().zip(cs) {
            for i in 0..m {
                let d = f64::from(c[(i, j)]) - exact[i];
                *e2 += d * d;
            }
        }
        ref2 += abs.iter().map(|v| v * v).sum::<f64>();
    }
    (err2.into_iter().map(f64::sqrt).collect(), ref2.sqrt())
}

/// `--split-check`: the split-f16 path of f32 products against the plain
/// f32 kernel on random, badly scaled (rows of A and columns of B scaled
/// by 2^±30) and wide-range (every entry scaled by 2^±12) inputs, both
/// against the normwise bound ‖C − AB‖_F ≤ k·ε(f32)·‖|A||B|‖_F. Prints one
/// line per case; false where the split path misses the bound.
fn split_check(ctx: &Context, rng: &mut Lcg) -> Result<bool, Box<dyn std::error::Error>> {
    let mut pass = true;
    // the last: m not a multiple of 8 (A's parts carry padding rows)
    for (m, k, n) in [
        (1000, 777, 513),
        (2048, 2048, 2048),
        (4096, 4096, 4096),
        (1001, 777, 515),
    ] {
        for kind in ["random", "badly scaled", "wide range"] {
            let mut pow2 = |range: f32| 2f32.powi((rng.next() * range).round() as i32);
            let (a, b) = match kind {
                "random" => (rng.matrix(m, k), rng.matrix(k, n)),
                "badly scaled" => {
                    let rs: Vec<f32> = (0..m).map(|_| pow2(30.0)).collect();
                    let cs: Vec<f32> = (0..n).map(|_| pow2(30.0)).collect();
                    let a = rng.matrix(m, k);
                    let b = rng.matrix(k, n);
                    (
                        DMatrix::from_fn(m, k, |i, l| a[(i, l)] * rs[i]),
                        DMatrix::from_fn(k, n, |l, j| b[(l, j)] * cs[j]),
                    )
                }
                _ => {
                    let a = rng.matrix(m, k);
                    let b = rng.matrix(k, n);
                    let a = a.map(|x| x * 2f32.powi((rng.next() * 12.0).round() as i32));
                    let b = b.map(|x| x * 2f32.powi((rng.next() * 12.0).round() as i32));
                    (a, b)
                }
            };
            let ga = ctx.upload(&a)?;
            let gb = ctx.upload(&b)?;
            let plain = wgpu_linalg::with_split_f16(false, || ga.matmul(&gb))?.download()?;
            let split = wgpu_linalg::with_split_f16(true, || ga.matmul(&gb))?.download()?;
            let cols = check_columns(n, rng);
            let (errs, reference) = column_errors(&a, &b, &[&plain, &split], &cols);
            let bound = k as f64 * f32::EPSILON as f64 * reference;
            let ok = errs[1] <= bound;
            pass &= ok;
            eprintln!(
                "  split-f16 {m}x{k}x{n} {kind:<12}: ‖C−AB‖/‖|A||B|‖ plain {:.3e}, split {:.3e} (bound k·ε = {:.3e}) {}",
                errs[0] / reference,
                errs[1] / reference,
                bound / reference,
                if ok { "ok" } else { "FAIL" }
            );
        }
    }
    Ok(pass)
}

/// As `torch.svd_lowrank(q = 32, niter = 4)`: four iterations, a fixed
/// count (no early stop), 8 extra columns.
fn topk_opts() -> TopkOpts {
    TopkOpts {
        iters: 4,
        oversample: 8,
        tol: 0.0,
    }
}

/// The device-resident form of the case's op.
fn resident_call(
    c: &Case,
    ga: &GpuMatrix,
    gb: Option<&GpuMatrix>,
) -> wgpu_linalg::Result<GpuMatrix> {
    let lower = TriFlags {
        upper: false,
        trans: false,
        unit: false,
    };
    match c.op {
        "cholesky" | "cholesky_batched" => ga.cholesky(),
        "lu" => ga.lu().map(|f| f.packed),
        "solve" | "solve_batched" => ga.solve(gb.expect("rhs")),
        "qr" => ga.qr().map(|(q, _)| q),
        "qr_mgs" => ga
            .qr_with(QrMode::Reduced, QrAlgo::Mgs)
            .map(|r| r.q.expect("reduced mode has Q")),
        "qr_batched" => ga.qr_batched().map(|(q, _)| q),
        "geqrf_batched" => ga.geqrf_batched().map(|(h, _)| h),
        "solve_triangular" => ga.solve_triangular(gb.expect("rhs"), lower),
        "svd" | "svd_batched" => ga.svd().map(|f| f.u),
        "eigh" | "eigh_batched" => ga.eigh().map(|(_, v)| v),
        "svd_topk" => ga.svd_topk(c.k, topk_opts()).map(|f| f.u),
        "lstsq" | "lstsq_cond100" => ga.lstsq(gb.expect("rhs"), None).map(|l| l.solution),
        _ => ga.matmul(gb.expect("second operand")),
    }
}

/// Host-level call of the case's op on `ctx`.
fn host_call(
    ctx: &Context,
    c: &Case,
    x: &Inputs,
    a16: &DMatrix<f16>,
    b16: &DMatrix<f16>,
) -> wgpu_linalg::Result<()> {
    match c.op {
        "matmul" => ctx.matmul(&x.a[0], &x.b[0]).map(|_| ()),
        "matmul_f16" => ctx.matmul_f16(a16, b16).map(|_| ()),
        "matmul_batched" => ctx.matmul_batched(&x.a, &x.b).map(|_| ()),
        "cholesky" => ctx.cholesky(&x.a[0]).map(|_| ()),
        "cholesky_batched" => ctx.cholesky_batched(&x.a).map(|_| ()),
        "solve_batched" => ctx.solve_batched(&x.a, &x.b).map(|_| ()),
        "qr" => ctx.qr(&x.a[0]).map(|_| ()),
        "qr_mgs" => ctx
            .qr_with(&x.a[0], QrMode::Reduced, QrAlgo::Mgs)
            .map(|_| ()),
        "qr_batched" => ctx.qr_batched(&x.a).map(|_| ()),
        "geqrf_batched" => ctx.geqrf_batched(&x.a).map(|_| ()),
        "lstsq" | "lstsq_cond100" => ctx.lstsq(&x.a[0], &x.b[0], None).map(|_| ()),
        "lu" => ctx.lu(&x.a[0]).map(|_| ()),
        "solve" => ctx.solve(&x.a[0], &x.b[0]).map(|_| ()),
        "solve_triangular" => ctx.solve_triangular(&x.a[0], &x.b[0], false).map(|_| ()),
        "svd" => ctx.svd(&x.a[0]).map(|_| ()),
        "svd_batched" => ctx.svd_batched(&x.a).map(|_| ()),
        "eigh" => ctx.eigh(&x.a[0]).map(|_| ()),
        "eigh_batched" => ctx.eigh_batched(&x.a).map(|_| ()),
        "svd_topk" => ctx.svd_topk_with(&x.a[0], c.k, topk_opts()).map(|_| ()),
        other => panic!("unknown op {other}"),
    }
}

/// The larger of two values, NaN if either is (f64::max drops a NaN, and
/// a NaN residual or solution entry must fail a check, not vanish).
fn nan_max(m: f64, v: f64) -> f64 {
    if v.is_nan() || m.is_nan() {
        f64::NAN
    } else {
        m.max(v)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=wgpu_linalg::svd=debug (for example) shows phase timings
    let _ = env_logger::builder().format_timestamp_millis().try_init();
    let ctx = Context::new()?;
    let adapter = ctx
        .adapter_info()
        .map(|i| i.name)
        .unwrap_or_else(|| "none (CPU only)".into());
    let quick = flag("--quick");
    let ops: Option<Vec<String>> = arg("--ops").map(|s| s.split(',').map(String::from).collect());
    let routes: Vec<String> = arg("--routes")
        .unwrap_or_else(|| "gpu,gpu-host,cpu,auto".into())
        .split(',')
        .map(String::from)
        .collect();
    let max_dim: usize = arg("--max-dim")
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    let min_dim: usize = arg("--min-dim").and_then(|s| s.parse().ok()).unwrap_or(0);
    let host_max_flops = arg("--host-max-gflop")
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(4.0)
        * 1e9;
    let out = arg("--out").unwrap_or_else(|| "bench.json".into());
    eprintln!("adapter: {adapter}");

    let mut rows = Vec::new();
    let mut rng = Lcg(2026);
    let mut f16_edges_checked = false;
    if flag("--split-check") {
        if !ctx.coop_f16() {
            eprintln!("split-f16 check: the adapter has no cooperative f16 GEMM");
            return Err("no cooperative f16 GEMM".into());
        }
        if !split_check(&ctx, &mut rng)? {
            eprintln!("SPLIT-F16 ACCURACY FAILURE (see the lines above)");
            return Err("split-f16 misses the normwise bound".into());
        }
        return Ok(());
    }
    for c in cases() {
        if ops.as_ref().is_some_and(|o| !o.iter().any(|x| x == c.op))
            || c.m.max(c.n).max(c.k) > max_dim
            || c.m.max(c.n).max(c.k) < min_dim
        {
            continue;
        }
        let x = inputs(&c, &mut rng);
        let a16 = x.a[0].map(f16::from_f32);
        let b16 =
            x.b.first()
                .map(|b| b.map(f16::from_f32))
                .unwrap_or_else(|| a16.clone());
        for route in &routes {
            let host = route != "gpu";
            if host && c.flops() > host_max_flops {
                continue;
            }
            if route != "cpu" && !ctx.has_gpu() {
                continue;
            }
            let sync = || ctx.synchronize().expect("synchronize");
            let mut accuracy = None;
            let (ms, gpu_ms) = if host {
                let r = match route.as_str() {
                    "cpu" => Route::Cpu,
                    "auto" => Route::Auto,
                    _ => Route::Gpu,
                };
                let rc = ctx.with_route(r);
                let ms = median_ms(
                    quick,
                    || host_call(&rc, &c, &x, &a16, &b16).expect("op"),
                    || {},
                );
                (ms, None)
            } else {
                // device resident
                let (ga, gb) = match c.op {
                    "matmul_f16" => (ctx.upload_f16(&a16)?, Some(ctx.upload_f16(&b16)?)),
                    _ if x.b.is_empty() => (ctx.upload_batch(&x.a)?, None),
                    _ => (ctx.upload_batch(&x.a)?, Some(ctx.upload_batch(&x.b)?)),
                };
                let ms = median_ms(
                    quick,
                    || drop(resident_call(&c, &ga, gb.as_ref()).expect("op")),
                    sync,
                );
                if experiment() {
                    // host time of the call (recording and submitting) against
                    // the time to its end on the GPU
                    let t0 = std::time::Instant::now();
                    let r = resident_call(&c, &ga, gb.as_ref())?;
                    let host = t0.elapsed().as_secs_f64() * 1e3;
                    ctx.synchronize()?;
                    let all = t0.elapsed().as_secs_f64() * 1e3;
                    drop(r);
                    eprintln!("  host {host:.3} ms of {all:.3} ms");
                }
                let (r, detail) = ctx.gpu_profile(|| {
                    let r = resident_call(&c, &ga, gb.as_ref())?;
                    ctx.synchronize()?;
                    Ok(r)
                })?;
                let gpu_ms = detail.as_ref().map(|d| d.0);
                if let Some((_, parts)) = &detail {
                    // by kernel: the label's words before the first that
                    // starts with a digit (the shape)
                    let mut by_kernel: Vec<(String, f64)> = Vec::new();
                    for (label, t) in parts.iter().filter(|(k, _)| !k.starts_with("untimed")) {
                        let key = label
                            .split_whitespace()
                            .take_while(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
                            .collect::<Vec<_>>()
                            .join(" ");
                        match by_kernel.iter_mut().find(|(k, _)| *k == key) {
                            Some((_, s)) => *s += t,
                            None => by_kernel.push((key, *t)),
                        }
                    }
                    by_kernel.sort_by(|a, b| b.1.total_cmp(&a.1));
                    let top: Vec<String> = by_kernel
                        .iter()
                        .take(if experiment() { usize::MAX } else { 6 })
                        .map(|(k, t)| format!("{k} {t:.3}"))
                        .collect();
                    eprintln!("  GPU time by kernel (ms): {}", top.join(", "));
                    if let Some((k, _)) = parts.iter().find(|(k, _)| k.starts_with("untimed")) {
                        eprintln!("  (profile incomplete: {k})");
                    }
                }
                r.check()?; // a failed factorization would make the timing meaningless
                if c.op == "matmul_f16" {
                    // the f16 product is checked wherever it is timed: a wrong
                    // result fails the run (non-zero exit)
                    let path = if ctx.coop_f16() {
                        "cooperative matrices"
                    } else {
                        "tiled f16 kernel"
                    };
                    eprintln!("  matmul_f16 path: {path}");
                    if !f16_edges_checked {
                        check_f16_edges(&ctx, &mut rng)?;
                        f16_edges_checked = true;
                    }
                    let cols = check_columns(c.n, &mut rng);
                    let prod = r.download()?;
                    match check_f16_product(&a16, &b16, &prod, &cols) {
                        Ok((worst, normwise)) => {
                            eprintln!(
                                "  matmul_f16 {} check ({} columns): max err/bound {worst:.3e}, normwise {normwise:.3e} ok",
                                c.shape(),
                                cols.len()
                            );
                            accuracy = Some(
                                json!({"path": path, "max_err_over_bound": worst, "normwise": normwise}),
                            );
                        }
                        Err(e) => {
                            eprintln!("MATMUL_F16 ACCURACY FAILURE at {}: {e}", c.shape());
                            return Err(format!("matmul_f16 {}: {e}", c.shape()).into());
                        }
                    }
                }
                if c.op == "matmul" && c.batch == 1 {
                    // the f32 product too, on sampled columns at large n
                    let cols = check_columns(c.n, &mut rng);
                    let prod = r.download()?;
                    match check_product(&x.a[0], &x.b[0], &prod, &cols) {
                        Ok((worst, normwise)) => {
                            eprintln!(
                                "  matmul {} check ({} columns): max err/bound {worst:.3e}, normwise {normwise:.3e} ok",
                                c.shape(),
                                cols.len()
                            );
                            accuracy =
                                Some(json!({"max_err_over_bound": worst, "normwise": normwise}));
                        }
                        Err(e) => {
                            eprintln!("MATMUL ACCURACY FAILURE at {}: {e}", c.shape());
                            return Err(format!("matmul {}: {e}", c.shape()).into());
                        }
                    }
                }
                if c.op == "solve" && c.batch == 1 {
                    // backward error ‖Ax − b‖_∞ / (‖A‖_∞‖x‖_∞ + ‖b‖_∞) in f64
                    let xs = r.download()?;
                    let (a, b) = (&x.a[0], &x.b[0]);
                    let mut res = vec![0.0f64; a.nrows()];
                    for (l, col) in a.column_iter().enumerate() {
                        let xl = f64::from(xs[(l, 0)]);
                        for (ri, &v) in res.iter_mut().zip(col.iter()) {
                            *ri += f64::from(v) * xl;
                        }
                    }
                    let mut rmax = 0.0f64;
                    for (i, ri) in res.iter().enumerate() {
                        rmax = nan_max(rmax, (ri - f64::from(b[(i, 0)])).abs());
                    }
                    let anorm = a
                        .row_iter()
                        .map(|row| row.iter().map(|v| f64::from(v.abs())).sum::<f64>())
                        .fold(0.0, f64::max);
                    let xn = xs.iter().map(|v| f64::from(v.abs())).fold(0.0, nan_max);
                    let bn = b.iter().map(|v| f64::from(v.abs())).fold(0.0, f64::max);
                    let berr = rmax / (anorm * xn + bn);
                    eprintln!("  solve {} backward error {berr:.3e}", c.shape());
                    // a NaN fails too
                    if berr.is_nan() || berr > c.n as f64 * f64::from(f32::EPSILON) {
                        if experiment() {
                            eprintln!("  EXPERIMENT: solve {} FAILED its check", c.shape());
                        } else {
                            return Err(
                                format!("solve {}: backward error {berr:.3e}", c.shape()).into()
                            );
                        }
                    }
                    accuracy = Some(json!({"backward_error": berr}));
                }
                if c.op.starts_with("lstsq") {
                    // optimality of the first column in f64: r = b − A·x is
                    // orthogonal to the columns of A, ‖Aᵀr‖ / (‖A‖_F·‖r‖)
                    // (NaN fails)
                    let xs = r.download()?;
                    let (a, b) = (&x.a[0], &x.b[0]);
                    let mut res: Vec<f64> = b.column(0).iter().map(|&v| f64::from(v)).collect();
                    for (l, col) in a.column_iter().enumerate() {
                        let xl = f64::from(xs[(l, 0)]);
                        for (ri, &v) in res.iter_mut().zip(col.iter()) {
                            *ri -= f64::from(v) * xl;
                        }
                    }
                    let rn = res.iter().map(|v| v * v).sum::<f64>().sqrt();
                    let an = a
                        .iter()
                        .map(|&v| f64::from(v) * f64::from(v))
                        .sum::<f64>()
                        .sqrt();
                    let atr = a
                        .column_iter()
                        .map(|col| {
                            col.iter()
                                .zip(&res)
                                .map(|(&v, r)| f64::from(v) * r)
                                .sum::<f64>()
                        })
                        .map(|g| g * g)
                        .sum::<f64>()
                        .sqrt();
                    let opt = atr / (an * rn);
                    eprintln!("  lstsq {} optimality ‖Aᵀr‖/(‖A‖‖r‖) {opt:.3e}", c.shape());
                    if opt.is_nan() || opt > c.m as f64 * f64::from(f32::EPSILON) {
                        return Err(format!("lstsq {}: optimality {opt:.3e}", c.shape()).into());
                    }
                    accuracy = Some(json!({"optimality": opt}));
                }
                if (c.op == "qr" || c.op == "qr_mgs") && c.batch == 1 {
                    // Q's orthogonality on sampled columns in f64,
                    // max |q_iᵀq_j − δ_ij| over all i and eight sampled j
                    // (NaN fails)
                    let q = r.download()?.map(f64::from);
                    let k = q.ncols();
                    let mut worst = 0.0f64;
                    for s in 0..8.min(k) {
                        let j = (s * 7919) % k;
                        let g = q.transpose() * q.column(j);
                        for (i, v) in g.iter().enumerate() {
                            let e = (v - if i == j { 1.0 } else { 0.0 }).abs();
                            worst = nan_max(worst, e);
                        }
                    }
                    eprintln!("  qr {} orthogonality (8 columns) {worst:.3e}", c.shape());
                    if worst.is_nan() || worst > c.n as f64 * f64::from(f32::EPSILON) {
                        return Err(format!("qr {}: orthogonality {worst:.3e}", c.shape()).into());
                    }
                    accuracy = Some(json!({"orthogonality": worst}));
                }
                if c.op == "svd_topk" {
                    let f = ga.svd_topk(c.k, topk_opts())?;
                    let sv = f.s.download()?;
                    let (sv_err, sin) = topk_accuracy(sv.as_slice(), &f.vt.download()?, c.n);
                    eprintln!(
                        "  svd_topk accuracy: max |σ̂ − σ|/σ₁ {sv_err:.3e}, max sin θ {sin:.3e}"
                    );
                    accuracy = Some(json!({"sv_err": sv_err, "sin_theta": sin}));
                }
                if c.op == "eigh" && c.batch == 1 {
                    let (res, orth) = eigh_accuracy(&ctx, &x.a[0], &ga)?;
                    eprintln!(
                        "  eigh accuracy: ‖AV − VΛ‖_F/‖A‖_F {res:.3e}, ‖VᵀV − I‖_F {orth:.3e}"
                    );
                    accuracy = Some(json!({"residual": res, "orthogonality": orth}));
                }
                (ms, gpu_ms)
            };
            let gflops = c.flops() / (ms * 1e6);
            eprintln!(
                "{:<15} {:>16} batch {:>6} {:<8} {:>10.3} ms {:>9.1} GFLOP/s",
                c.op,
                c.shape(),
                c.batch,
                route,
                ms,
                gflops
            );
            rows.push(json!({
                "op": c.op, "shape": c.shape(), "batch": c.batch, "route": route,
                "median_ms": ms, "gflops": gflops, "gpu_ms": gpu_ms, "accuracy": accuracy,
            }));
        }
    }
    // launch overhead: a 64×64 GEMM round trip and a resident one, vs the CPU
    if ctx.has_gpu()
        && ops
            .as_ref()
            .is_none_or(|o| o.iter().any(|x| x == "overhead"))
    {
        let a = rng.matrix(64, 64);
        let b = rng.matrix(64, 64);
        let gpu = ctx.with_route(Route::Gpu);
        let cpu = ctx.with_route(Route::Cpu);
        let rt = median_ms(quick, || drop(gpu.matmul(&a, &b).expect("op")), || {});
        let (ga, gb) = (ctx.upload(&a)?, ctx.upload(&b)?);
        let res = median_ms(
            quick,
            || drop(ga.matmul(&gb).expect("op")),
            || ctx.synchronize().expect("sync"),
        );
        let cp = median_ms(quick, || drop(cpu.matmul(&a, &b).expect("op")), || {});
        for (route, ms) in [("gpu-roundtrip", rt), ("gpu-resident", res), ("cpu", cp)] {
            eprintln!("overhead 64x64x64 {route:<14} {ms:.4} ms");
            rows.push(
                json!({"op": "matmul_overhead", "shape": "64x64x64", "batch": 1, "route": route,
                "median_ms": ms, "gflops": 2.0 * 64f64.powi(3) / (ms * 1e6), "gpu_ms": null}),
            );
        }
    }

    println!("Adapter: {adapter}, date {}\n", today());
    println!("| op | shape | batch | route | median (ms) | GFLOP/s | GPU timestamps (ms) |");
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {:.3} | {:.1} | {} |",
            r["op"].as_str().unwrap_or(""),
            r["shape"].as_str().unwrap_or(""),
            r["batch"],
            r["route"].as_str().unwrap_or(""),
            r["median_ms"].as_f64().unwrap_or(f64::NAN),
            r["gflops"].as_f64().unwrap_or(f64::NAN),
            r["gpu_ms"]
                .as_f64()
                .map(|v| format!("{v:.3}"))
                .unwrap_or_else(|| "—".into()),
        );
    }
    // Route::Auto against the faster of the two host-level routes
    let mut auto_rows = Vec::new();
    for r in rows.iter().filter(|r| r["route"] == "auto") {
        let same = |route: &str| {
            rows.iter()
                .find(|x| {
                    x["route"] == route
                        && x["op"] == r["op"]
                        && x["shape"] == r["shape"]
                        && x["batch"] == r["batch"]
                })
                .and_then(|x| x["median_ms"].as_f64())
        };
        if let (Some(cpu), Some(gpu), Some(auto)) =
            (same("cpu"), same("gpu-host"), r["median_ms"].as_f64())
        {
            auto_rows.push(format!(
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.2} |",
                r["op"].as_str().unwrap_or(""),
                r["shape"].as_str().unwrap_or(""),
                r["batch"],
                cpu,
                gpu,
                auto,
                auto / cpu.min(gpu)
            ));
        }
    }
    if !auto_rows.is_empty() {
        println!("\nRoute::Auto against the faster host-level route (ratio ≤ 1.10 is the goal):\n");
        println!("| op | shape | batch | cpu (ms) | gpu-host (ms) | auto (ms) | auto ÷ faster |");
        println!("|---|---|---|---|---|---|---|");
        for line in auto_rows {
            println!("{line}");
        }
    }
    let doc = json!({"device": adapter, "adapter": adapter, "date": today(), "results": rows});
    std::fs::write(&out, serde_json::to_string_pretty(&doc)?)?;
    eprintln!("wrote {out}");
    Ok(())
}

/// `BENCH_EXPERIMENT=1` (kernel variants under `WGPU_LINALG_WGSL_DIR`): the
/// profile lists every kernel, and a failed solve check is printed as
/// FAILED instead of ending the run, so that a variant that leaves out a
/// step can still be timed. Never set for recorded results.
fn experiment() -> bool {
    std::env::var_os("BENCH_EXPERIMENT").is_some_and(|v| v == "1")
}
