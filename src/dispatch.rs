//! The dispatcher: picks the CPU or the GPU route per call.
//!
//! Order of authority: a forced route (`Route::Cpu`/`Route::Gpu` on the
//! context, or `WGPU_LINALG_ROUTE`) > a per-op threshold from the environment
//! (`WGPU_LINALG_THRESHOLD_<OP>=flops`, e.g. `WGPU_LINALG_THRESHOLD_MATMUL`)
//! > the tuning table (shipped `src/tuning.json`, or `WGPU_LINALG_TUNING`)
//! > a built-in heuristic by adapter type.
//!
//! A threshold is the nominal flop count of a call (batch included) from
//! which the GPU is faster; `null` in the table means the GPU never wins on
//! that adapter. Each decision is logged at debug level under the target
//! `wgpu_linalg::dispatch`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::context::{Context, Route};
use crate::error::{Error, Result};

/// The tuning table shipped in the crate.
pub const SHIPPED_TABLE: &str = include_str!("tuning.json");

/// A tuning table file: entries keyed by adapter-name pattern.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TuningFile {
    pub version: u32,
    pub entries: Vec<TuningEntry>,
}

/// The thresholds of one adapter family, with how they were produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TuningEntry {
    /// Case-insensitive pattern on the adapter name; `*` matches any run.
    pub adapter: String,
    /// The command that produced the entry (or "reasoned default").
    pub produced_by: String,
    /// When it was produced.
    pub date: String,
    /// The adapter the measurement ran on, where measured.
    #[serde(default)]
    pub measured_on: Option<String>,
    /// Per-op GPU thresholds in flops; `None` (null) means never the GPU.
    pub thresholds: BTreeMap<String, Option<f64>>,
    /// GEMM kernel choices for the adapter (`examples/tune --gemm`);
    /// absent: the built-in defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemm: Option<GemmTuning>,
}

/// GEMM kernel choices of one adapter family, measured by
/// `examples/tune --gemm` (or reasoned). The environment variables named
/// below override them for experiments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GemmTuning {
    /// The cooperative f16 GEMM's shape as `WGPU_LINALG_COOP` spells it
    /// (`SGMxSGNxW[xP]`, e.g. `2x4x2x0`); `None`: the built-in default.
    #[serde(default)]
    pub coop: Option<String>,
    /// The 8×8 f32 cooperative GEMM's shape (`wgsl/gemm/coop8.wgsl`, where
    /// the adapter offers 8×8×8 f32 cooperative matrices: Apple GPUs) for
    /// f32 products, spelled as `WGPU_LINALG_COOP_F32` spells it
    /// (`SGMxSGNxW`); `None`: never, the tiled f32 kernel.
    #[serde(default)]
    pub coop_f32: Option<String>,
    /// The smallest m, n and k from which f32 `matmul` takes the split-f16
    /// path (where the adapter has the cooperative f16 GEMM); `None`:
    /// never (`WGPU_LINALG_SPLIT_F16`).
    #[serde(default)]
    pub split_f16_min: Option<usize>,
    /// Slab depth of the tiled f32 kernel's vector-load form (8 or 16), 0
    /// or `None` for its element loads (`WGPU_LINALG_GEMM_BK`).
    #[serde(default)]
    pub tiled_depth: Option<usize>,
    /// The command that produced these choices (or "reasoned default").
    #[serde(default)]
    pub produced_by: Option<String>,
    /// When they were produced.
    #[serde(default)]
    pub date: Option<String>,
}

/// The thresholds in force for one context.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// The entry's pattern, or "heuristic".
    pub source: String,
    pub thresholds: BTreeMap<String, Option<f64>>,
    /// The entry's GEMM choices (defaults where it has none).
    pub gemm: GemmTuning,
    heuristic: Option<f64>,
}

/// Case-insensitive glob with `*` only.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let n = name.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == n;
    }
    let mut rest = n.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

impl TuningFile {
    pub fn parse(text: &str) -> Result<TuningFile> {
        serde_json::from_str(text).map_err(|e| Error::Config(format!("tuning table: {e}")))
    }

    /// The first entry whose pattern matches `adapter`.
    pub fn find(&self, adapter: &str) -> Option<&TuningEntry> {
        self.entries
            .iter()
            .find(|e| pattern_matches(&e.adapter, adapter))
    }
}

impl Tuning {
    pub(crate) fn load(
        path: Option<&Path>,
        adapter: Option<&str>,
        kind: Option<wgpu::DeviceType>,
    ) -> Result<Tuning> {
        let env_path = std::env::var_os("WGPU_LINALG_TUNING").map(std::path::PathBuf::from);
        let text = match path.map(Path::to_path_buf).or(env_path) {
            Some(p) => std::fs::read_to_string(&p)
                .map_err(|e| Error::Config(format!("tuning table {}: {e}", p.display())))?,
            None => SHIPPED_TABLE.to_string(),
        };
        let file = TuningFile::parse(&text)?;
        let heuristic = kind.and_then(heuristic_threshold);
        let entry = adapter.and_then(|a| file.find(a));
        Ok(match entry {
            Some(e) => Tuning {
                source: e.adapter.clone(),
                thresholds: e.thresholds.clone(),
                gemm: e.gemm.clone().unwrap_or_default(),
                heuristic,
            },
            None => Tuning {
                source: "heuristic".into(),
                thresholds: BTreeMap::new(),
                gemm: GemmTuning::default(),
                heuristic,
            },
        })
    }

    /// The flop count from which `op` goes to the GPU (`None`: never).
    pub fn threshold(&self, op: &str) -> Option<f64> {
        let var = format!("WGPU_LINALG_THRESHOLD_{}", op.to_ascii_uppercase());
        if let Ok(v) = std::env::var(&var) {
            match v.trim() {
                "never" | "none" => return None,
                t => match t.parse::<f64>() {
                    Ok(x) => return Some(x),
                    Err(_) => {
                        log::warn!(target: "wgpu_linalg::dispatch", "{var}={v} is not a number; ignored")
                    }
                },
            }
        }
        match self.thresholds.get(op) {
            Some(t) => *t,
            None => self.heuristic,
        }
    }
}

/// The nominal flop count the dispatcher weighs for `op` on an m×k by
/// k×n problem (matmul), an m×n matrix (factorizations; k = right-hand
/// sides for solves), times `batch`. Thresholds in tuning tables are in
/// these units.
pub fn nominal_flops(op: &str, m: usize, k: usize, n: usize, batch: usize) -> f64 {
    let (m, k, n, b) = (m as f64, k as f64, n as f64, batch as f64);
    let s = m.min(n);
    b * match op {
        "cholesky" | "cholesky_batched" => n * n * n / 3.0,
        // LAPACK getrf: 2·(m·n·s − (m + n)·s²/2 + s³/3), 2n³/3 when square
        "lu" | "lu_batched" | "slogdet" => {
            2.0 * (m * n * s - (m + n) * s * s / 2.0 + s * s * s / 3.0)
        }
        "solve" | "solve_batched" | "solve_refined" => 2.0 * n * n * n / 3.0 + 2.0 * n * n * k,
        "inv" | "inv_batched" => 2.0 * n * n * n,
        "solve_triangular" => n * n * k,
        // Householder QR (LAPACK geqrf): 4mns − 2(m+n)s² + 4s³/3, i.e.
        // 2mn² − 2n³/3 when m ≥ n; forming Q costs as much again
        "geqrf" | "geqrf_batched" => {
            4.0 * m * n * s - 2.0 * (m + n) * s * s + 4.0 * s * s * s / 3.0
        }
        "qr" | "qr_batched" | "orthonormal_columns" | "orthonormal_rows" | "complete_basis" => {
            2.0 * (4.0 * m * n * s - 2.0 * (m + n) * s * s + 4.0 * s * s * s / 3.0)
        }
        // two-pass MGS: two projections and two updates per column
        "qr_mgs" => 4.0 * m * n * n,
        // QR of A (or Aᵀ) plus Qᵀ or Q applied to the k right-hand sides
        "lstsq" | "pinv" | "matrix_rank" => {
            4.0 * m * n * s - 2.0 * (m + n) * s * s + 4.0 * s * s * s / 3.0 + 4.0 * m.max(n) * s * k
        }
        // thin SVD (Golub–Kahan or one-sided Jacobi with vectors): about
        // 4mns + 8s³; singular values alone or norms through them cost the
        // same order
        "svd" | "svd_batched" | "svd_full" | "svdvals" | "cond" | "norm" => {
            4.0 * m * n * s + 8.0 * s * s * s
        }
        // symmetric eigendecomposition with vectors: about 9n³ (LAPACK syevd)
        "eigh" | "eigh_batched" | "eigvalsh" => 9.0 * n * n * n,
        // subspace iteration with k columns: two GEMMs of 2mnk per
        // iteration, about five iterations
        "svd_topk" => 20.0 * m * n * k,
        _ => 2.0 * m * k * n,
    }
}

/// Built-in guess when the table has no entry: a software adapter never
/// beats nalgebra; discrete GPUs win from about 10 MFLOP (a 170³ GEMM),
/// integrated ones from about 20 MFLOP.
fn heuristic_threshold(kind: wgpu::DeviceType) -> Option<f64> {
    match kind {
        wgpu::DeviceType::Cpu => None,
        wgpu::DeviceType::DiscreteGpu => Some(1e7),
        wgpu::DeviceType::IntegratedGpu => Some(2e7),
        _ => Some(1e8),
    }
}

/// Decides where `op` with nominal cost `flops` (batch included) runs.
pub(crate) fn decide(ctx: &Context, op: &'static str, flops: f64, batch: usize) -> Result<Route> {
    let route = match ctx.route {
        Route::Cpu => Route::Cpu,
        Route::Gpu => {
            ctx.gpu_or_err()?;
            Route::Gpu
        }
        Route::Auto => {
            if !ctx.has_gpu() {
                Route::Cpu
            } else {
                match ctx.tuning().threshold(op) {
                    Some(t) if flops >= t => Route::Gpu,
                    _ => Route::Cpu,
                }
            }
        }
    };
    log::debug!(
        target: "wgpu_linalg::dispatch",
        "{op}: flops={flops:.3e} batch={batch} policy={:?} table={} -> {}",
        ctx.route,
        ctx.tuning().source,
        route.as_str()
    );
    Ok(route)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(pattern_matches("NVIDIA*", "NVIDIA H200"));
        assert!(pattern_matches(
            "*llvmpipe*",
            "llvmpipe (LLVM 15.0.6, 256 bits)"
        ));
        assert!(pattern_matches("apple m*", "Apple M2 Max"));
        assert!(!pattern_matches("apple m*", "AMD Radeon"));
        assert!(pattern_matches("exact", "EXACT"));
        assert!(!pattern_matches("a*b*c", "abd"));
    }

    #[test]
    fn shipped_table_parses_and_records_provenance() {
        let t = TuningFile::parse(SHIPPED_TABLE).unwrap();
        assert!(!t.entries.is_empty());
        for e in &t.entries {
            assert!(!e.produced_by.is_empty() && !e.date.is_empty(), "{e:?}");
            assert!(e.thresholds.contains_key("matmul"), "{e:?}");
        }
        assert!(t.find("llvmpipe (LLVM 15.0.6, 256 bits)").is_some());
        assert!(t.find("NVIDIA H100 80GB HBM3").is_some());
        assert!(t.find("Apple M3 Pro").is_some());
    }

    /// Every shipped adapter family has GEMM choices, each with the
    /// command (or reasoning) and date behind it; the NVIDIA one names a
    /// cooperative shape the kernel runs on 32-wide subgroups and a
    /// split-f16 threshold (measured on the H200).
    #[test]
    fn shipped_table_has_gemm_choices() {
        let t = TuningFile::parse(SHIPPED_TABLE).unwrap();
        for name in [
            "llvmpipe (LLVM 15.0.6, 256 bits)",
            "NVIDIA H200",
            "Apple M3 Pro",
        ] {
            let e = t.find(name).expect(name);
            let g = e
                .gemm
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: no gemm choices"));
            assert!(
                g.produced_by.as_deref().is_some_and(|p| !p.is_empty()) && g.date.is_some(),
                "{name}: {g:?}"
            );
            assert!(matches!(g.tiled_depth, Some(0 | 8 | 16)), "{name}: {g:?}");
        }
        // the 8×8 f32 cooperative GEMM: off until measured on a Mac
        let apple = t.find("Apple M3 Pro").unwrap().gemm.clone().unwrap();
        assert_eq!(apple.coop_f32, None, "{apple:?}");
        let nv = t.find("NVIDIA H200").unwrap().gemm.clone().unwrap();
        let cp = crate::ops::matmul::CoopParams::parse(nv.coop.as_deref().unwrap()).unwrap();
        assert!(cp.valid_for(32), "{cp:?}");
        assert!(nv.split_f16_min.is_some(), "{nv:?}");
    }
}
