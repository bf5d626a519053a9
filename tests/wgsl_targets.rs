//! Every WGSL kernel parses, validates and translates through naga to MSL
//! (Metal, our first target, which cannot run here), SPIR-V and HLSL (HLSL
//! except for the cooperative-matrix kernels: DX12 has no cooperative
//! matrices and naga 30's HLSL writer has no translation for them), for
//! every entry point and every combination of its boolean `override`
//! constants and every size class of its integer `LOGS` override. Also
//! enforces the Apple limits: at most 1024 invocations and 32 KiB of
//! workgroup memory per workgroup (counted per entry point once the
//! overrides, which may size workgroup arrays, have values), and no f64
//! anywhere.

use std::collections::BTreeSet;

use naga::back::{hlsl, msl, spv};
use naga::valid::{Capabilities, ValidationFlags, Validator};

const MAX_INVOCATIONS: u32 = 1024;
const MAX_WORKGROUP_BYTES: u32 = 32 * 1024;

fn validate(module: &naga::Module) -> naga::valid::ModuleInfo {
    // Everything but FLOAT64: Metal has no f64, so no kernel may use it.
    let caps = Capabilities::all() - Capabilities::FLOAT64;
    Validator::new(ValidationFlags::all(), caps)
        .validate(module)
        .unwrap_or_else(|e| panic!("validation: {e:?}"))
}

/// Values the crate gives its integer overrides (the size class `LOGS` of
/// the Jacobi and batched QR kernels: matrices of up to 2^LOGS rows; the
/// slab depth `BK` of the vector-load GEMM; the workgroup size `PW` and
/// the rows per invocation `RPI` of the register-held LU and QR panels).
const INTEGER_OVERRIDES: [(&str, &[f64]); 5] = [
    ("LOGS", &[3.0, 4.0, 5.0, 6.0]),
    ("BK", &[8.0, 16.0]),
    ("PW", &[256.0, 512.0, 1024.0]),
    ("RPI", &[1.0, 2.0, 4.0, 8.0, 16.0]),
    // the cooperative GEMM's tile rows (128 and 256)
    ("SGM", &[2.0, 4.0]),
];

/// All assignments of true/false to the module's boolean overrides, times
/// every value the crate uses for its integer overrides.
fn override_sets(module: &naga::Module) -> Vec<naga::back::PipelineConstants> {
    let names: Vec<String> = module
        .overrides
        .iter()
        .filter(|(_, o)| matches!(module.types[o.ty].inner, naga::TypeInner::Scalar(s) if s.kind == naga::ScalarKind::Bool))
        .filter_map(|(_, o)| o.name.clone())
        .collect();
    let mut sets: Vec<naga::back::PipelineConstants> = (0..1u32 << names.len())
        .map(|bits| {
            let mut c = naga::back::PipelineConstants::default();
            for (i, n) in names.iter().enumerate() {
                c.insert(n.clone(), ((bits >> i) & 1) as f64);
            }
            c
        })
        .collect();
    for (name, values) in INTEGER_OVERRIDES {
        if module
            .overrides
            .iter()
            .any(|(_, o)| o.name.as_deref() == Some(name))
        {
            sets = sets
                .into_iter()
                .flat_map(|c| {
                    values.iter().map(move |&v| {
                        let mut c = c.clone();
                        c.insert(name.to_string(), v);
                        c
                    })
                })
                .collect();
        }
    }
    sets
}

#[test]
fn every_kernel_translates_to_msl_spirv_and_hlsl() {
    let mut checked = 0;
    let mut coop = 0;
    let mut per_kernel = std::collections::BTreeMap::<String, usize>::new();
    for (kernel, files, source) in wgpu_linalg::kernel_sources() {
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{kernel:?} ({files:?}): {}", e.emit_to_string(&source)));
        let info = validate(&module);
        assert!(
            !module.entry_points.is_empty(),
            "{kernel:?} has no entry point"
        );

        // Apple limits, per entry point (workgroup memory per override set
        // below: arrays may be sized by overrides).
        for ep in &module.entry_points {
            let inv: u32 = ep.workgroup_size.iter().product();
            assert!(
                inv <= MAX_INVOCATIONS,
                "{kernel:?}::{}: {inv} invocations",
                ep.name
            );
        }
        // No f64 type anywhere.
        for (_, ty) in module.types.iter() {
            if let naga::TypeInner::Scalar(s) | naga::TypeInner::Vector { scalar: s, .. } = ty.inner
            {
                assert!(
                    !(s.kind == naga::ScalarKind::Float && s.width == 8),
                    "{kernel:?} uses f64"
                );
            }
        }

        for constants in override_sets(&module) {
            for ep in &module.entry_points {
                let stage_ep = Some((naga::ShaderStage::Compute, ep.name.as_str()));
                let (m, i) = naga::back::pipeline_constants::process_overrides(
                    &module, &info, stage_ep, &constants,
                )
                .unwrap_or_else(|e| {
                    panic!("{kernel:?}::{} overrides {constants:?}: {e:?}", ep.name)
                });
                // workgroup sizes may be override expressions: count them resolved
                let mep = m
                    .entry_points
                    .iter()
                    .find(|e| e.name == ep.name)
                    .expect("entry point kept");
                let inv: u32 = mep.workgroup_size.iter().product();
                assert!(
                    (1..=MAX_INVOCATIONS).contains(&inv),
                    "{kernel:?}::{} overrides {constants:?}: {inv} invocations",
                    ep.name
                );
                let wg_bytes = workgroup_bytes(&m);
                assert!(
                    wg_bytes <= MAX_WORKGROUP_BYTES,
                    "{kernel:?}::{} overrides {constants:?}: {wg_bytes} bytes of workgroup memory",
                    ep.name
                );
                *per_kernel.entry(format!("{kernel:?}")).or_default() += 1;

                let msl_opts = msl::Options {
                    lang_version: (2, 4),
                    ..Default::default()
                };
                let msl_pipe = msl::PipelineOptions {
                    entry_point: Some((naga::ShaderStage::Compute, ep.name.clone())),
                    ..Default::default()
                };
                let (msl_src, _) = msl::write_string(&m, &i, &msl_opts, &msl_pipe)
                    .unwrap_or_else(|e| panic!("{kernel:?}::{} → MSL: {e:?}", ep.name));
                assert!(
                    msl_src.contains("kernel"),
                    "{kernel:?}::{}: MSL has no kernel",
                    ep.name
                );

                let spv_pipe = spv::PipelineOptions {
                    shader_stage: naga::ShaderStage::Compute,
                    entry_point: ep.name.clone(),
                };
                let words = spv::write_vec(&m, &i, &spv::Options::default(), Some(&spv_pipe))
                    .unwrap_or_else(|e| panic!("{kernel:?}::{} → SPIR-V: {e:?}", ep.name));
                assert_eq!(words.first(), Some(&0x0723_0203), "SPIR-V magic");

                // Cooperative matrices: Vulkan (SPIR-V) and Metal only; DX12
                // has no such matrices, so HLSL is not a target of these.
                if kernel
                    .required_features()
                    .contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX)
                {
                    assert!(
                        words.len() > 5 && msl_src.contains("simdgroup"),
                        "{kernel:?}::{}: no cooperative matrix in the MSL",
                        ep.name
                    );
                    coop += 1;
                    checked += 1;
                    continue;
                }
                let hlsl_opts = hlsl::Options {
                    shader_model: hlsl::ShaderModel::V6_2, // 16-bit types need 6.2
                    ..Default::default()
                };
                let hlsl_pipe = hlsl::PipelineOptions {
                    entry_point: Some((naga::ShaderStage::Compute, ep.name.clone())),
                };
                let mut hlsl_src = String::new();
                hlsl::Writer::new(&mut hlsl_src, &hlsl_opts, &hlsl_pipe)
                    .write(&m, &i, None)
                    .unwrap_or_else(|e| panic!("{kernel:?}::{} → HLSL: {e:?}", ep.name));
                assert!(
                    hlsl_src.contains("numthreads"),
                    "{kernel:?}::{}: HLSL has no compute entry",
                    ep.name
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 12, "only {checked} translations checked");
    // the four f16 cooperative GEMM kernels (loads by runs of eight, four
    // and one; the split-f16 products), each with WN4, PF and DB on and
    // off, 128 and 256 rows per tile; the 8×8 f32 one with WN4 on and off,
    // 64 and 128 rows
    assert_eq!(coop, 68, "cooperative-matrix translations");
    // Every size class of the batched kernels (LOGS = 3 … 6), every entry.
    assert_eq!(per_kernel.get("Jacobi"), Some(&8), "{per_kernel:?}");
    assert_eq!(per_kernel.get("QrBatched"), Some(&8), "{per_kernel:?}");
}

/// Bytes of workgroup memory a module (overrides processed, compacted to
/// one entry point) declares.
fn workgroup_bytes(module: &naga::Module) -> u32 {
    let ctx = module.to_ctx();
    module
        .global_variables
        .iter()
        .filter(|(_, v)| v.space == naga::AddressSpace::WorkGroup)
        .map(|(_, v)| {
            let ty = &module.types[v.ty].inner;
            if let naga::TypeInner::Array { size, .. } = ty {
                // override-sized arrays resolve once the overrides have values
                size.resolve(ctx)
                    .unwrap_or_else(|e| panic!("workgroup array size: {e:?}"));
            }
            ty.size(ctx)
        })
        .sum()
}

#[test]
fn every_wgsl_file_belongs_to_a_kernel() {
    let used: BTreeSet<String> = wgpu_linalg::kernel_sources()
        .into_iter()
        .flat_map(|(_, files, _)| files.into_iter().map(String::from))
        .collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wgsl");
    let mut found = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "wgsl") {
                found.push(
                    p.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    assert!(!found.is_empty());
    for f in found {
        assert!(
            used.contains(&f),
            "wgsl/{f} is not part of any kernel, so nothing validates it"
        );
    }
}
