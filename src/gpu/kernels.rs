//! Every WGSL kernel of the crate, and the one place that creates pipelines.
//!
//! A kernel is a WGSL module assembled from files under `wgsl/` (an I/O
//! prelude that declares bindings and load helpers, then the algorithm body).
//! Variants are chosen with `override` constants; pipelines are cached by
//! (kernel, entry point, override constants).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The WGSL modules of the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// 128×128-tile register-blocked f32 GEMM.
    GemmTiled,
    /// The tiled GEMM with C stored as aligned vec4 (m, ldc, offset and
    /// batch stride of C multiples of 4).
    GemmTiledC4,
    /// The tiled GEMM (C as vec4) with op(A) and op(B) read as aligned
    /// 16-byte runs and 8- or 16-deep slabs (override `BK`); for operands
    /// whose runs of four along the stored columns are aligned
    /// (`wgsl/gemm/slab4.wgsl`).
    GemmTiledV4,
    /// 128×64-tile register-blocked f32 GEMM for skinny outputs (n ≤ 64).
    GemmNarrow,
    /// The narrow GEMM with C stored as aligned vec4 (as `GemmTiledC4`).
    GemmNarrowC4,
    /// The narrow GEMM with C's column blocks scattered through a map
    /// (`wgsl/gemm/c_map.wgsl`): the block Jacobi SVD's rotations.
    GemmNarrowMap,
    /// 16×16-tile f32 GEMM for small and batched problems.
    GemmSmall,
    /// 128×128-tile GEMM with f16 storage and f32 accumulation.
    GemmTiledF16,
    /// Cooperative-matrix GEMM (16×16×16, f16 multiplicands, f32
    /// accumulation) with f16 operands read eight at a time (operands
    /// aligned to 8, see `wgsl/gemm/coop_io_v8.wgsl`). Needs
    /// `EXPERIMENTAL_COOPERATIVE_MATRIX` and `SHADER_F16`.
    GemmCoopV8,
    /// Cooperative-matrix GEMM of f32 operands on 8×8×8 f32 matrices (Apple
    /// GPUs' simdgroup matrices, `wgsl/gemm/coop8.wgsl`). Needs
    /// `EXPERIMENTAL_COOPERATIVE_MATRIX`.
    GemmCoop8,
    /// The cooperative-matrix GEMM with f16 operands read four at a time
    /// (operands aligned to 4, see `wgsl/gemm/coop_io_vec.wgsl`).
    GemmCoop,
    /// The cooperative-matrix GEMM with every f16 operand element read and
    /// guarded on its own (any shape, leading dimension and offset).
    GemmCoopScalar,
    /// Split of f32 operands into scaled f16 high and low parts for the
    /// split-f16 GEMM: per-row / per-column power-of-two scales, then the
    /// parts (`wgsl/gemm/split.wgsl`).
    GemmSplitPrep,
    /// Split-f16 GEMM: the f32 product from the three significant products
    /// of the interleaved f16 parts, on the cooperative-matrix GEMM
    /// (`wgsl/gemm/coop.wgsl`) with the parts' scales undone on the way out
    /// (`wgsl/gemm/coop_out_split.wgsl`).
    GemmCoopSplit,
    /// Split-K reduction: sums the partial products of a GEMM whose k was
    /// cut into chunks, plus beta·C (`wgsl/gemm/splitk.wgsl`).
    GemmSplitK,
    /// Copy/transpose, scale, axpy, row swaps.
    Elementwise,
    /// Compensated reductions: dot, norm, max-abs with index.
    Reduce,
    /// Blocked factorizations: diagonal-block Cholesky, triangular solves,
    /// LU panels (one workgroup each, `workgroupBarrier()` between columns).
    Factor,
    /// The blocked-factorization kernels with `trsm_diag_sg`, the diagonal
    /// triangular solve with subgroup broadcasts
    /// (`wgsl/factor/trsm_subgroup.wgsl`; adapters with `SUBGROUP`).
    FactorSubgroup,
    /// LU panel with a workgroup tree reduction for the pivot search.
    Getf2,
    /// LU panel with subgroup reductions for the pivot search (adapters with
    /// `SUBGROUP`).
    Getf2Subgroup,
    /// LU panel held in registers, with its outer block's interchanges and
    /// U12 in the same dispatch (`wgsl/factor/getf2_reg.wgsl`; overrides
    /// `PW` workgroup size and `RPI` rows per invocation), tree pivot
    /// reduction.
    Getf2Reg,
    /// The register-held LU panel with subgroup pivot reductions.
    Getf2RegSubgroup,
    /// The register-held LU panel four columns wide (`wgsl/common/row4.wgsl`),
    /// for panels at more than four rows per invocation.
    Getf2Reg4,
    /// The four-column register-held LU panel with subgroup pivot reductions.
    Getf2Reg4Subgroup,
    /// Small matrices in batches (n ≤ 64): each matrix factorized whole in
    /// workgroup memory, up to 32 matrices per workgroup for small n.
    Batched,
    /// Blocked Householder QR: one-workgroup panel (geqr2 + larft), V
    /// packing, R extraction, identity (`wgsl/qr/householder.wgsl`).
    QrBlocked,
    /// The Householder kernels with `geqr2_reg`: the panel held in
    /// registers, subgroup reductions (`wgsl/qr/geqr2_reg.wgsl`; overrides
    /// `PW`, `RPI`), and its block reflector (`wgsl/qr/larfb_reg.wgsl`).
    QrRegSubgroup,
    /// The same panel four columns wide (`common/row4.wgsl`), for panels
    /// of more than four rows per invocation.
    QrReg4Subgroup,
    /// Two-pass modified Gram–Schmidt kernels (`wgsl/qr/mgs.wgsl`).
    QrMgs,
    /// Batched small Householder QR (m, n ≤ 64), size classes by the `LOGS`
    /// override, 64 / S matrices per workgroup (`wgsl/qr/small.wgsl`).
    QrBatched,
    /// Block permutation and identity of the block Jacobi SVD
    /// (`wgsl/svd/block.wgsl`).
    SvdBlock,
    /// Batched Jacobi eigensolver and SVD of small matrices (order ≤ 64),
    /// several matrices per workgroup (`wgsl/eig/jacobi.wgsl`).
    Jacobi,
    /// Large symmetric eigenproblem: reduction to tridiagonal form, then
    /// bisection and twisted-factorization eigenvectors
    /// (`wgsl/eig/tridiag.wgsl`).
    Tridiag,
    /// Jacobi sweeps in rotation order on symmetric matrices of order
    /// 33 … 64, A (packed) and V both in workgroup memory
    /// (`wgsl/eig/rot64.wgsl`): the block Jacobi SVD's pair Gram matrices.
    JacobiRot64,
}

const GEMM_IO_F32: &str = include_str!("../../wgsl/gemm/io_f32.wgsl");
const GEMM_IO_F16: &str = include_str!("../../wgsl/gemm/io_f16.wgsl");
const GEMM_C_SCALAR: &str = include_str!("../../wgsl/gemm/c_scalar.wgsl");
const GEMM_C_VEC4: &str = include_str!("../../wgsl/gemm/c_vec4.wgsl");
const GEMM_C_MAP: &str = include_str!("../../wgsl/gemm/c_map.wgsl");
const GEMM_PARAMS: &str = include_str!("../../wgsl/gemm/params.wgsl");
const GEMM_IO_F32V4: &str = include_str!("../../wgsl/gemm/io_f32v4.wgsl");
const GEMM_SLAB_A: &str = include_str!("../../wgsl/gemm/slab_a.wgsl");
const GEMM_SLAB_B: &str = include_str!("../../wgsl/gemm/slab_b.wgsl");
const GEMM_SLAB4: &str = include_str!("../../wgsl/gemm/slab4.wgsl");
const GEMM_TILED: &str = include_str!("../../wgsl/gemm/tiled.wgsl");
const GEMM_NARROW: &str = include_str!("../../wgsl/gemm/narrow.wgsl");
const GEMM_SMALL: &str = include_str!("../../wgsl/gemm/small.wgsl");
const GEMM_COOP_IO_V8: &str = include_str!("../../wgsl/gemm/coop_io_v8.wgsl");
const GEMM_COOP_IO_VEC: &str = include_str!("../../wgsl/gemm/coop_io_vec.wgsl");
const GEMM_COOP_IO_F16: &str = include_str!("../../wgsl/gemm/coop_io_f16.wgsl");
const GEMM_COOP: &str = include_str!("../../wgsl/gemm/coop.wgsl");
const GEMM_SPLIT_PREP: &str = include_str!("../../wgsl/gemm/split.wgsl");
const GEMM_COOP8: &str = include_str!("../../wgsl/gemm/coop8.wgsl");
const GEMM_COOP8_IO: &str = include_str!("../../wgsl/gemm/coop8_io.wgsl");
const GEMM_COOP_STORE: &str = include_str!("../../wgsl/gemm/coop_store.wgsl");
const GEMM_COOP_OUT: &str = include_str!("../../wgsl/gemm/coop_out.wgsl");
const GEMM_COOP_OUT_SPLIT: &str = include_str!("../../wgsl/gemm/coop_out_split.wgsl");
const GEMM_SPLITK: &str = include_str!("../../wgsl/gemm/splitk.wgsl");
const ELEMENTWISE: &str = include_str!("../../wgsl/common/elementwise.wgsl");
const TWOSUM: &str = include_str!("../../wgsl/common/twosum.wgsl");
const REDUCE: &str = include_str!("../../wgsl/common/reduce.wgsl");
const FACTOR_COMMON: &str = include_str!("../../wgsl/factor/common.wgsl");
const FACTOR: &str = include_str!("../../wgsl/factor/blocked.wgsl");
const FACTOR_PANEL: &str = include_str!("../../wgsl/factor/panel.wgsl");
const TRSM_SUBGROUP: &str = include_str!("../../wgsl/factor/trsm_subgroup.wgsl");
const LANES: &str = include_str!("../../wgsl/common/lanes.wgsl");
const GETF2: &str = include_str!("../../wgsl/factor/getf2.wgsl");
const GETF2_REG: &str = include_str!("../../wgsl/factor/getf2_reg.wgsl");
const PIVOT_TREE: &str = include_str!("../../wgsl/factor/pivot_tree.wgsl");
const PIVOT_SUBGROUP: &str = include_str!("../../wgsl/factor/pivot_subgroup.wgsl");
const BATCHED: &str = include_str!("../../wgsl/batched/small.wgsl");
const QR_BLOCKED: &str = include_str!("../../wgsl/qr/householder.wgsl");
const ROW8: &str = include_str!("../../wgsl/common/row8.wgsl");
const ROW4: &str = include_str!("../../wgsl/common/row4.wgsl");
const QR_REG: &str = include_str!("../../wgsl/qr/geqr2_reg.wgsl");
const QR_LARFB_REG: &str = include_str!("../../wgsl/qr/larfb_reg.wgsl");
const QR_TREE: &str = include_str!("../../wgsl/qr/tree.wgsl");
const QR_MGS: &str = include_str!("../../wgsl/qr/mgs.wgsl");
const QR_BATCHED: &str = include_str!("../../wgsl/qr/small.wgsl");
const SVD_BLOCK: &str = include_str!("../../wgsl/svd/block.wgsl");
const EIG_IO: &str = include_str!("../../wgsl/eig/io.wgsl");
const JACOBI: &str = include_str!("../../wgsl/eig/jacobi.wgsl");
const TRIDIAG: &str = include_str!("../../wgsl/eig/tridiag.wgsl");
const JACOBI_ROT64: &str = include_str!("../../wgsl/eig/rot64.wgsl");

impl Kernel {
    /// Every kernel, for validation and pre-compilation.
    pub const ALL: [Kernel; 35] = [
        Kernel::GemmTiled,
        Kernel::GemmTiledC4,
        Kernel::GemmTiledV4,
        Kernel::GemmNarrow,
        Kernel::GemmNarrowC4,
        Kernel::GemmNarrowMap,
        Kernel::GemmSmall,
        Kernel::GemmTiledF16,
        Kernel::GemmCoopV8,
        Kernel::GemmCoop8,
        Kernel::GemmCoop,
        Kernel::GemmCoopScalar,
        Kernel::GemmSplitPrep,
        Kernel::GemmCoopSplit,
        Kernel::GemmSplitK,
        Kernel::Elementwise,
        Kernel::Reduce,
        Kernel::Factor,
        Kernel::FactorSubgroup,
        Kernel::Getf2,
        Kernel::Getf2Subgroup,
        Kernel::Getf2Reg,
        Kernel::Getf2RegSubgroup,
        Kernel::Getf2Reg4,
        Kernel::Getf2Reg4Subgroup,
        Kernel::Batched,
        Kernel::QrBlocked,
        Kernel::QrRegSubgroup,
        Kernel::QrReg4Subgroup,
        Kernel::QrMgs,
        Kernel::QrBatched,
        Kernel::SvdBlock,
        Kernel::Jacobi,
        Kernel::Tridiag,
        Kernel::JacobiRot64,
    ];

    /// The files under `wgsl/` that make up this kernel, in order.
    pub fn parts(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kernel::GemmTiled => &[
                ("gemm/io_f32.wgsl", GEMM_IO_F32),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/c_scalar.wgsl", GEMM_C_SCALAR),
                ("gemm/slab_a.wgsl", GEMM_SLAB_A),
                ("gemm/slab_b.wgsl", GEMM_SLAB_B),
                ("gemm/tiled.wgsl", GEMM_TILED),
            ],
            Kernel::GemmTiledC4 => &[
                ("gemm/io_f32.wgsl", GEMM_IO_F32),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/c_vec4.wgsl", GEMM_C_VEC4),
                ("gemm/slab_a.wgsl", GEMM_SLAB_A),
                ("gemm/slab_b.wgsl", GEMM_SLAB_B),
                ("gemm/tiled.wgsl", GEMM_TILED),
            ],
            Kernel::GemmTiledV4 => &[
                ("gemm/io_f32v4.wgsl", GEMM_IO_F32V4),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/c_vec4.wgsl", GEMM_C_VEC4),
                ("gemm/slab4.wgsl", GEMM_SLAB4),
                ("gemm/tiled.wgsl", GEMM_TILED),
            ],
            Kernel::GemmNarrow => &[
                ("gemm/io_f32.wgsl", GEMM_IO_F32),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/c_scalar.wgsl", GEMM_C_SCALAR),
                ("gemm/slab_a.wgsl", GEMM_SLAB_A),
                ("gemm/narrow.wgsl", GEMM_NARROW),
            ],
            Kernel::GemmNarrowC4 => &[
                ("gemm/io_f32.wgsl", GEMM_IO_F32),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/c_vec4.wgsl", GEMM_C_VEC4),
                ("gemm/slab_a.wgsl", GEMM_SLAB_A),
                ("gemm/narrow.wgsl", GEMM_NARROW),
            ],
            Kernel::GemmNarrowMap => &[
                ("gemm/io_f32.wgsl", GEMM_IO_F32),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/c_map.wgsl", GEMM_C_MAP),
                ("gemm/slab_a.wgsl", GEMM_SLAB_A),
                ("gemm/narrow.wgsl", GEMM_NARROW),
            ],
            Kernel::GemmSmall => &[
                ("gemm/io_f32.wgsl", GEMM_IO_F32),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/c_scalar.wgsl", GEMM_C_SCALAR),
                ("gemm/small.wgsl", GEMM_SMALL),
            ],
            Kernel::GemmTiledF16 => &[
                ("gemm/io_f16.wgsl", GEMM_IO_F16),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/c_scalar.wgsl", GEMM_C_SCALAR),
                ("gemm/slab_a.wgsl", GEMM_SLAB_A),
                ("gemm/slab_b.wgsl", GEMM_SLAB_B),
                ("gemm/tiled.wgsl", GEMM_TILED),
            ],
            Kernel::GemmCoopV8 => &[
                ("gemm/coop_io_v8.wgsl", GEMM_COOP_IO_V8),
                ("gemm/coop_out.wgsl", GEMM_COOP_OUT),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/coop.wgsl", GEMM_COOP),
                ("gemm/coop_store.wgsl", GEMM_COOP_STORE),
            ],
            Kernel::GemmCoop8 => &[
                ("gemm/coop8_io.wgsl", GEMM_COOP8_IO),
                ("gemm/coop_out.wgsl", GEMM_COOP_OUT),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/coop8.wgsl", GEMM_COOP8),
                ("gemm/coop_store.wgsl", GEMM_COOP_STORE),
            ],
            Kernel::GemmCoop => &[
                ("gemm/coop_io_vec.wgsl", GEMM_COOP_IO_VEC),
                ("gemm/coop_out.wgsl", GEMM_COOP_OUT),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/coop.wgsl", GEMM_COOP),
                ("gemm/coop_store.wgsl", GEMM_COOP_STORE),
            ],
            Kernel::GemmCoopScalar => &[
                ("gemm/coop_io_f16.wgsl", GEMM_COOP_IO_F16),
                ("gemm/coop_out.wgsl", GEMM_COOP_OUT),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/coop.wgsl", GEMM_COOP),
                ("gemm/coop_store.wgsl", GEMM_COOP_STORE),
            ],
            Kernel::GemmSplitPrep => &[("gemm/split.wgsl", GEMM_SPLIT_PREP)],
            Kernel::GemmCoopSplit => &[
                ("gemm/coop_io_v8.wgsl", GEMM_COOP_IO_V8),
                ("gemm/coop_out_split.wgsl", GEMM_COOP_OUT_SPLIT),
                ("gemm/params.wgsl", GEMM_PARAMS),
                ("gemm/coop.wgsl", GEMM_COOP),
                ("gemm/coop_store.wgsl", GEMM_COOP_STORE),
            ],
            Kernel::GemmSplitK => &[("gemm/splitk.wgsl", GEMM_SPLITK)],
            Kernel::Elementwise => &[("common/elementwise.wgsl", ELEMENTWISE)],
            Kernel::Reduce => &[
                ("common/twosum.wgsl", TWOSUM),
                ("common/reduce.wgsl", REDUCE),
            ],
            Kernel::Factor => &[
                ("factor/common.wgsl", FACTOR_COMMON),
                ("factor/blocked.wgsl", FACTOR),
                ("factor/panel.wgsl", FACTOR_PANEL),
            ],
            Kernel::FactorSubgroup => &[
                ("factor/common.wgsl", FACTOR_COMMON),
                ("factor/blocked.wgsl", FACTOR),
                ("factor/panel.wgsl", FACTOR_PANEL),
                ("factor/trsm_subgroup.wgsl", TRSM_SUBGROUP),
            ],
            Kernel::Getf2 => &[
                ("factor/common.wgsl", FACTOR_COMMON),
                ("factor/pivot_tree.wgsl", PIVOT_TREE),
                ("factor/getf2.wgsl", GETF2),
            ],
            Kernel::Getf2Subgroup => &[
                ("factor/common.wgsl", FACTOR_COMMON),
                ("factor/pivot_subgroup.wgsl", PIVOT_SUBGROUP),
                ("factor/getf2.wgsl", GETF2),
            ],
            Kernel::Getf2Reg => &[
                ("factor/common.wgsl", FACTOR_COMMON),
                ("factor/pivot_tree.wgsl", PIVOT_TREE),
                ("common/row8.wgsl", ROW8),
                ("factor/getf2_reg.wgsl", GETF2_REG),
            ],
            Kernel::Getf2RegSubgroup => &[
                ("factor/common.wgsl", FACTOR_COMMON),
                ("factor/pivot_subgroup.wgsl", PIVOT_SUBGROUP),
                ("common/row8.wgsl", ROW8),
                ("factor/getf2_reg.wgsl", GETF2_REG),
            ],
            Kernel::Getf2Reg4 => &[
                ("factor/common.wgsl", FACTOR_COMMON),
                ("factor/pivot_tree.wgsl", PIVOT_TREE),
                ("common/row4.wgsl", ROW4),
                ("factor/getf2_reg.wgsl", GETF2_REG),
            ],
            Kernel::Getf2Reg4Subgroup => &[
                ("factor/common.wgsl", FACTOR_COMMON),
                ("factor/pivot_subgroup.wgsl", PIVOT_SUBGROUP),
                ("common/row4.wgsl", ROW4),
                ("factor/getf2_reg.wgsl", GETF2_REG),
            ],
            Kernel::Batched => &[("batched/small.wgsl", BATCHED)],
            Kernel::QrBlocked => &[
                ("common/twosum.wgsl", TWOSUM),
                ("qr/tree.wgsl", QR_TREE),
                ("qr/householder.wgsl", QR_BLOCKED),
            ],
            Kernel::QrRegSubgroup => &[
                ("common/twosum.wgsl", TWOSUM),
                ("qr/tree.wgsl", QR_TREE),
                ("qr/householder.wgsl", QR_BLOCKED),
                ("common/row8.wgsl", ROW8),
                ("qr/geqr2_reg.wgsl", QR_REG),
                ("qr/larfb_reg.wgsl", QR_LARFB_REG),
            ],
            Kernel::QrReg4Subgroup => &[
                ("common/twosum.wgsl", TWOSUM),
                ("qr/tree.wgsl", QR_TREE),
                ("qr/householder.wgsl", QR_BLOCKED),
                ("common/row4.wgsl", ROW4),
                ("qr/geqr2_reg.wgsl", QR_REG),
            ],
            Kernel::QrMgs => &[
                ("common/twosum.wgsl", TWOSUM),
                ("qr/tree.wgsl", QR_TREE),
                ("qr/mgs.wgsl", QR_MGS),
            ],
            Kernel::QrBatched => &[
                ("common/twosum.wgsl", TWOSUM),
                ("qr/small.wgsl", QR_BATCHED),
            ],
            Kernel::SvdBlock => &[
                ("common/twosum.wgsl", TWOSUM),
                ("svd/block.wgsl", SVD_BLOCK),
                ("common/lanes.wgsl", LANES),
            ],
            Kernel::Jacobi => &[("eig/io.wgsl", EIG_IO), ("eig/jacobi.wgsl", JACOBI)],
            Kernel::Tridiag => &[("eig/tridiag.wgsl", TRIDIAG)],
            Kernel::JacobiRot64 => &[("eig/io.wgsl", EIG_IO), ("eig/rot64.wgsl", JACOBI_ROT64)],
        }
    }

    /// The assembled WGSL source.
    pub fn source(self) -> String {
        self.parts()
            .iter()
            .map(|(_, s)| *s)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The source the pipelines are built from: [`Kernel::source`], except
    /// that with `WGPU_LINALG_WGSL_DIR` set a part found as a file under
    /// that folder (by its path under `wgsl/`) replaces the built-in one.
    /// A development switch: kernel variants measured on one binary.
    fn runtime_source(self) -> String {
        let Some(dir) = std::env::var_os("WGPU_LINALG_WGSL_DIR") else {
            return self.source();
        };
        let dir = std::path::PathBuf::from(dir);
        self.parts()
            .iter()
            .map(|(path, s)| {
                std::fs::read_to_string(dir.join(path)).unwrap_or_else(|_| s.to_string())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Device features the kernel needs.
    pub fn required_features(self) -> wgpu::Features {
        match self {
            Kernel::GemmTiledF16 | Kernel::GemmSplitPrep => wgpu::Features::SHADER_F16,
            Kernel::GemmCoop8 => wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX,
            Kernel::GemmCoopV8
            | Kernel::GemmCoop
            | Kernel::GemmCoopScalar
            | Kernel::GemmCoopSplit => {
                wgpu::Features::SHADER_F16 | wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX
            }
            Kernel::FactorSubgroup
            | Kernel::Getf2Subgroup
            | Kernel::Getf2RegSubgroup
            | Kernel::Getf2Reg4Subgroup
            | Kernel::QrRegSubgroup
            | Kernel::QrReg4Subgroup => wgpu::Features::SUBGROUP,
            _ => wgpu::Features::empty(),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kernel::GemmTiled => "gemm_tiled",
            Kernel::GemmTiledC4 => "gemm_tiled_c4",
            Kernel::GemmTiledV4 => "gemm_tiled_v4",
            Kernel::GemmNarrow => "gemm_narrow",
            Kernel::GemmNarrowC4 => "gemm_narrow_c4",
            Kernel::GemmNarrowMap => "gemm_narrow_map",
            Kernel::GemmSmall => "gemm_small",
            Kernel::GemmTiledF16 => "gemm_tiled_f16",
            Kernel::GemmCoopV8 => "gemm_coop_v8",
            Kernel::GemmCoop8 => "gemm_coop8",
            Kernel::GemmCoop => "gemm_coop",
            Kernel::GemmCoopScalar => "gemm_coop_scalar",
            Kernel::GemmSplitPrep => "gemm_split_prep",
            Kernel::GemmCoopSplit => "gemm_coop_split",
            Kernel::GemmSplitK => "gemm_splitk",
            Kernel::Elementwise => "elementwise",
            Kernel::Reduce => "reduce",
            Kernel::Factor => "factor",
            Kernel::FactorSubgroup => "factor_subgroup",
            Kernel::Getf2 => "getf2",
            Kernel::Getf2Subgroup => "getf2_subgroup",
            Kernel::Getf2Reg => "getf2_reg",
            Kernel::Getf2RegSubgroup => "getf2_reg_subgroup",
            Kernel::Getf2Reg4 => "getf2_reg4",
            Kernel::Getf2Reg4Subgroup => "getf2_reg4_subgroup",
            Kernel::Batched => "batched",
            Kernel::QrBlocked => "qr_blocked",
            Kernel::QrRegSubgroup => "qr_reg_subgroup",
            Kernel::QrReg4Subgroup => "qr_reg4_subgroup",
            Kernel::QrMgs => "qr_mgs",
            Kernel::QrBatched => "qr_batched",
            Kernel::SvdBlock => "svd_block",
            Kernel::Jacobi => "jacobi",
            Kernel::Tridiag => "tridiag",
            Kernel::JacobiRot64 => "jacobi_rot64",
        }
    }
}

type PipelineKey = (Kernel, &'static str, Vec<(&'static str, u64)>);

/// A compute pipeline with the layout of its bind group 0.
pub(crate) struct Pipeline {
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
}

/// Shader modules and compute pipelines, created once each.
#[derive(Default)]
pub(crate) struct PipelineCache {
    modules: Mutex<HashMap<Kernel, Arc<wgpu::ShaderModule>>>,
    pipelines: Mutex<HashMap<PipelineKey, Arc<Pipeline>>>,
}

impl PipelineCache {
    fn module(&self, device: &wgpu::Device, kernel: Kernel) -> Arc<wgpu::ShaderModule> {
        let mut modules = self.modules.lock().unwrap_or_else(|e| e.into_inner());
        modules
            .entry(kernel)
            .or_insert_with(|| {
                let source = kernel.runtime_source();
                let desc = wgpu::ShaderModuleDescriptor {
                    label: Some(kernel.label()),
                    source: wgpu::ShaderSource::Wgsl(source.into()),
                };
                // SAFETY: every kernel guards each global-memory access against
                // the matrix bounds it is given, and indexes private and
                // workgroup arrays only with loop counters of constant bounds;
                // the edge-tile tests (sizes 1, 7, 127, 129, …) cover the
                // guards. Runtime checks would clamp private-array indices and
                // keep register tiles out of registers (a 41× loss on NVIDIA).
                Arc::new(unsafe {
                    device
                        .create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked())
                })
            })
            .clone()
    }

    /// The pipeline for (kernel, entry, override constants).
    pub(crate) fn get(
        &self,
        device: &wgpu::Device,
        kernel: Kernel,
        entry: &'static str,
        constants: &[(&'static str, f64)],
    ) -> Arc<Pipeline> {
        let key: PipelineKey = (
            kernel,
            entry,
            constants.iter().map(|(n, v)| (*n, v.to_bits())).collect(),
        );
        if let Some(p) = self
            .pipelines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return p.clone();
        }
        let module = self.module(device, kernel);
        let label = format!("{}::{entry}{constants:?}", kernel.label());
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&label),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                // Every kernel writes its workgroup memory before reading it.
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        });
        // the layout once per pipeline: fetching it registers a new handle
        // each time, and every launch's bind group needs it
        let layout = pipeline.get_bind_group_layout(0);
        let pipeline = Arc::new(Pipeline { pipeline, layout });
        self.pipelines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, pipeline.clone());
        pipeline
    }
}
