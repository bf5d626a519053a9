//! Prints the adapter, its limits and features as the library requested
//! them, and the routing thresholds in force.
//!
//! `cargo run --release --example device_info`

use wgpu_linalg::{Context, GemmParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = Context::new()?;
    let Some(info) = ctx.adapter_info() else {
        println!("no GPU adapter: CPU-only context (every call runs on nalgebra)");
        return Ok(());
    };
    println!("adapter:      {}", info.name);
    println!("backend:      {:?}", info.backend);
    println!("device type:  {:?}", info.device_type);
    println!("driver:       {} {}", info.driver, info.driver_info);
    println!(
        "subgroups:    {}..{}",
        info.subgroup_min_size, info.subgroup_max_size
    );
    let l = ctx.limits().expect("GPU context has limits");
    println!("limits:");
    println!(
        "  max_storage_buffer_binding_size     {}",
        l.max_storage_buffer_binding_size
    );
    println!(
        "  max_buffer_size                     {}",
        l.max_buffer_size
    );
    println!(
        "  max_compute_workgroup_storage_size  {}",
        l.max_compute_workgroup_storage_size
    );
    println!(
        "  max_compute_invocations_per_workgroup {}",
        l.max_compute_invocations_per_workgroup
    );
    println!(
        "  max_compute_workgroups_per_dimension {}",
        l.max_compute_workgroups_per_dimension
    );
    println!(
        "  max_storage_buffers_per_shader_stage {}",
        l.max_storage_buffers_per_shader_stage
    );
    let f = ctx.features();
    println!("features:");
    for (name, flag) in [
        ("SUBGROUP", wgpu::Features::SUBGROUP),
        ("SHADER_F16", wgpu::Features::SHADER_F16),
        ("TIMESTAMP_QUERY", wgpu::Features::TIMESTAMP_QUERY),
        (
            "EXPERIMENTAL_COOPERATIVE_MATRIX",
            wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX,
        ),
    ] {
        println!(
            "  {name:<32} {}",
            if f.contains(flag) { "yes" } else { "no" }
        );
    }
    let t = ctx.tuning();
    println!(
        "routing: policy {:?}, table entry '{}'",
        ctx.route(),
        t.source
    );
    for op in ["matmul", "matmul_batched", "matmul_f16"] {
        match t.threshold(op) {
            Some(x) => println!("  {op:<16} GPU from {x:.3e} flops"),
            None => println!("  {op:<16} CPU always"),
        }
    }
    println!("gemm: {:?}", GemmParams::default());
    Ok(())
}
