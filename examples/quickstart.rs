//! The README's first command: a GEMM on the GPU route and the CPU route,
//! each checked against a float64 nalgebra product, with the route taken and
//! the time.
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
    if !ok {
        return Err("a result missed its bound".into());
    }
    Ok(())
}
