//! The dispatcher's order of authority: forced route > per-op environment
//! threshold > tuning table > heuristic. One test function, because it sets
//! process-wide environment variables.

use wgpu_linalg::dispatch::{pattern_matches, TuningFile, SHIPPED_TABLE};
use wgpu_linalg::{Context, Error, Route};

#[test]
fn routing_follows_its_order_of_authority() {
    let ctx = Context::new().unwrap();
    assert!(ctx.has_gpu(), "a GPU adapter is required");
    let name = ctx.adapter_info().unwrap().name;

    // forced routes
    assert_eq!(
        ctx.with_route(Route::Cpu)
            .plan_route("matmul", 1e15, 1)
            .unwrap(),
        Route::Cpu
    );
    assert_eq!(
        ctx.with_route(Route::Gpu)
            .plan_route("matmul", 1.0, 1)
            .unwrap(),
        Route::Gpu
    );

    // the table: the entry matching this adapter decides Auto
    let table = TuningFile::parse(SHIPPED_TABLE).unwrap();
    let auto = ctx.with_route(Route::Auto);
    if let Some(entry) = table.find(&name) {
        match entry.thresholds.get("matmul").copied().flatten() {
            Some(t) => {
                assert_eq!(auto.plan_route("matmul", t * 2.0, 1).unwrap(), Route::Gpu);
                assert_eq!(auto.plan_route("matmul", t / 2.0, 1).unwrap(), Route::Cpu);
            }
            None => assert_eq!(auto.plan_route("matmul", 1e18, 1).unwrap(), Route::Cpu),
        }
    }

    // a per-op environment threshold beats the table
    std::env::set_var("WGPU_LINALG_THRESHOLD_MATMUL", "1000");
    assert_eq!(auto.plan_route("matmul", 999.0, 1).unwrap(), Route::Cpu);
    assert_eq!(auto.plan_route("matmul", 1000.0, 1).unwrap(), Route::Gpu);
    std::env::set_var("WGPU_LINALG_THRESHOLD_MATMUL", "never");
    assert_eq!(auto.plan_route("matmul", 1e18, 1).unwrap(), Route::Cpu);
    std::env::remove_var("WGPU_LINALG_THRESHOLD_MATMUL");

    // WGPU_LINALG_ROUTE applies when the builder names no route
    std::env::set_var("WGPU_LINALG_ROUTE", "cpu");
    assert_eq!(Context::new().unwrap().route(), Route::Cpu);
    assert_eq!(
        Context::builder()
            .route(Route::Gpu)
            .build()
            .unwrap()
            .route(),
        Route::Gpu
    );
    std::env::remove_var("WGPU_LINALG_ROUTE");

    // a tuning file from the environment replaces the shipped table
    let dir = std::env::temp_dir().join(format!("wgpu_linalg_tuning_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.json");
    std::fs::write(
        &path,
        r#"{"version":1,"entries":[{"adapter":"*","produced_by":"test","date":"2026-11-21","thresholds":{"matmul":5.0}}]}"#,
    )
    .unwrap();
    std::env::set_var("WGPU_LINALG_TUNING", &path);
    let tuned = Context::builder().route(Route::Auto).build().unwrap();
    std::env::remove_var("WGPU_LINALG_TUNING");
    assert_eq!(tuned.tuning().source, "*");
    assert_eq!(tuned.plan_route("matmul", 6.0, 1).unwrap(), Route::Gpu);
    assert_eq!(tuned.plan_route("matmul", 4.0, 1).unwrap(), Route::Cpu);

    // a broken tuning file is a clear error, not a panic
    std::fs::write(&path, "{ not json").unwrap();
    let bad = Context::builder().tuning_file(&path).build();
    assert!(matches!(bad, Err(Error::Config(_))), "{bad:?}");
    std::fs::remove_dir_all(&dir).ok();

    assert!(pattern_matches("NVIDIA*", "NVIDIA H100 80GB HBM3"));
}
