//! Criterion: f32 GEMM on the CPU route (nalgebra) and the GPU route
//! (host-level, transfers included; and device-resident) at n = 64..2048.
//!
//! `cargo bench --bench gemm` (set `GEMM_BENCH_MAX_N` to stop earlier on a
//! software adapter).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nalgebra::DMatrix;
use wgpu_linalg::{Context, Route};

fn matrix(n: usize, seed: u64) -> DMatrix<f32> {
    let mut s = seed;
    DMatrix::from_fn(n, n, |_, _| {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    })
}

fn gemm(c: &mut Criterion) {
    let ctx = Context::new().expect("context");
    let max_n: usize = std::env::var("GEMM_BENCH_MAX_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2048);
    let mut group = c.benchmark_group("gemm");
    group.sample_size(10);
    for n in [64usize, 128, 256, 512, 1024, 2048]
        .into_iter()
        .filter(|&n| n <= max_n)
    {
        let a = matrix(n, 1);
        let b = matrix(n, 2);
        group.throughput(Throughput::Elements((2 * n * n * n) as u64));
        let cpu = ctx.with_route(Route::Cpu);
        group.bench_with_input(BenchmarkId::new("cpu", n), &n, |bch, _| {
            bch.iter(|| cpu.matmul(&a, &b).unwrap())
        });
        if ctx.has_gpu() {
            let gpu = ctx.with_route(Route::Gpu);
            group.bench_with_input(BenchmarkId::new("gpu-host", n), &n, |bch, _| {
                bch.iter(|| gpu.matmul(&a, &b).unwrap())
            });
            let (ga, gb) = (ctx.upload(&a).unwrap(), ctx.upload(&b).unwrap());
            group.bench_with_input(BenchmarkId::new("gpu-resident", n), &n, |bch, _| {
                bch.iter(|| {
                    let c = ga.matmul(&gb).unwrap();
                    ctx.synchronize().unwrap();
                    c
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, gemm);
criterion_main!(benches);
