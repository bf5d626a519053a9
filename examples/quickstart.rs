//! The README's first command: a GEMM and a linear solve on the GPU route,
//! the CPU route and the dispatcher's choice, each checked against float64
//! nalgebra, with the route taken and the time.
//!
//! `cargo run --release --example quickstart`

use std::time::Instant;

use nalgebra::DMatrix;
use wgpu_linalg::{Context, Route};

fn lcg(seed: &mut u64) -> f32 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = Context::new()?;
    match ctx.adapter_info() {
        Some(info) => println!(
            "adapter: {} ({:?}, {:?})",
            info.name, info.backend, info.device_type
        ),
        None => println!("adapter: none (CPU-only context)"),
    }
    let mut seed = 42u64;
    let (m, k, n) = (513, 300, 257);
    let a = DMatrix::<f32>::from_fn(m, k, |_, _| lcg(&mut seed));
    let b = DMatrix::<f32>::from_fn(k, n, |_, _| lcg(&mut seed));
    let exact = a.map(f64::from) * b.map(f64::from);
    let bound = k as f64
        * f32::EPSILON as f64
        * (a.map(|x| x.abs() as f64) * b.map(|x| x.abs() as f64)).max();
    let mut routes = vec![Route::Cpu, Route::Auto];
    if ctx.has_gpu() {
        routes.insert(0, Route::Gpu);
    }
    let mut ok = true;
    for route in routes {
        let c = ctx.with_route(route);
        let _ = c.matmul(&a, &b)?; // warm-up (pipeline creation)
        let t = Instant::now();
        let prod = c.matmul(&a, &b)?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let err = (prod.map(f64::from) - &exact).abs().max();
        let pass = err <= bound;
        ok &= pass;
        println!(
            "matmul {m}x{k}x{n} route={:<4} {ms:8.2} ms  max|C-C64| = {err:.2e} (bound {bound:.2e}) {}",
            route.as_str(),
            if pass { "ok" } else { "FAIL" }
        );
    }
    // A linear solve (LU with partial pivoting), checked by its backward error.
    let n = 300;
    let mut a = DMatrix::<f32>::from_fn(n, n, |_, _| lcg(&mut seed));
    for i in 0..n {
        a[(i, i)] += 4.0;
    }
    let b = DMatrix::<f32>::from_fn(n, 2, |_, _| lcg(&mut seed));
    let mut routes = vec![Route::Cpu, Route::Auto];
    if ctx.has_gpu() {
        routes.insert(0, Route::Gpu);
    }
    for route in routes {
        let c = ctx.with_route(route);
        let _ = c.solve(&a, &b)?;
        let t = Instant::now();
        let x = c.solve(&a, &b)?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let (a64, x64, b64) = (a.map(f64::from), x.map(f64::from), b.map(f64::from));
        let backward = (&a64 * &x64 - &b64).norm() / (a64.norm() * x64.norm() + b64.norm());
        let bound = 4.0 * n as f64 * f32::EPSILON as f64;
        let pass = backward <= bound;
        ok &= pass;
        println!(
            "solve  {n}x{n}, 2 rhs   route={:<4} {ms:8.2} ms  backward error {backward:.2e} (bound {bound:.2e}) {}",
            route.as_str(),
            if pass { "ok" } else { "FAIL" }
        );
    }
    if !ok {
        return Err("a result missed its bound".into());
    }
    Ok(())
}
