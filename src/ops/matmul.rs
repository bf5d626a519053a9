//! GEMM: `C = alpha·op(A)·op(B) + beta·C`, single and batched, f32 and
//! f16-storage.
//!
//! Algorithm: large problems use a 128×128-tile kernel in which each
//! invocation accumulates an 8×8 register block over 8-deep k slabs staged
//! in workgroup memory (2mnk flops, about 2mnk/64 + mn·k/16 bytes of
//! workgroup traffic per tile); small and batched problems use a 16×16-tile
//! kernel with one output per invocation, one dispatch for the whole batch.
//! Skinny f32 outputs (n ≤ [`GemmParams::narrow_max_n`], 64 by default)
//! that would take the 128×128 kernel take a 128×64-tile variant instead
//! (8×4 register blocks, same slab pipeline, `wgsl/gemm/narrow.wgsl`): for
//! C = A·V with V 8192×40 the 128×128 tile computes 88 of every 128
//! columns for nothing. The rule, in [`GemmParams::variant`]: tiled when
//! m·n ≥ [`GemmParams::tiled_min_elems`], and then narrow when
//! n ≤ `narrow_max_n`; f16-storage and lower-triangle (`lower_only`)
//! problems keep the 128×128 kernel. `WGPU_LINALG_GEMM_NARROW=0` turns the
//! narrow variant off.
//! The tiled kernel also has a vector-load form (`wgsl/gemm/slab4.wgsl`:
//! op(A) and op(B) read as aligned 16-byte runs, 8- or 16-deep slabs), off
//! by default and chosen with [`GemmParams::tiled_depth`].
//! Accuracy: ordinary f32 dot products with fused multiply-adds, so
//! |C − Ĉ| ≤ k·ε·|A|·|B| elementwise (f16 inputs are widened exactly; the
//! accumulation is f32).
//!
//! Split-K: a single (batch 1) f32 product whose output has few tiles but a
//! long k — e.g. A·V with A 8192×8192 and V 8192×40, only 64 tiles of 128×64
//! for a GPU with over 100 cores, each running k = 8192 — leaves most of the
//! GPU idle. When the output has fewer than
//! [`GemmParams::splitk_max_tiles`] tiles and k ≥ [`GemmParams::splitk_min_k`],
//! k is cut into S chunks (tiles·S about [`GemmParams::splitk_target_groups`],
//! every chunk at least [`GemmParams::splitk_min_chunk`] deep and a multiple
//! of 16, see [`GemmParams::split_k`]). The full chunks run as one batched
//! GEMM over z (chunk s reads op(A)'s columns and op(B)'s rows s·chunk ..),
//! writing alpha·op(A)ₛ·op(B)ₛ into S contiguous m×n partials of a scratch
//! buffer with beta = 0; a shorter remainder chunk, if any, is a second
//! launch into the last slot. One reduction kernel then writes
//! C = Σₛ Pₛ + beta·C (C is not read when beta = 0). Cost: the same 2mnk
//! flops spread over tiles·S workgroups, plus S·m·n·4 bytes written and read
//! back (small next to the mk·4 bytes of A, since n ≤ a few tiles) and one
//! extra dispatch. Accuracy: each partial is an f32 dot product over one
//! chunk and the S partials are then added in f32, so the bound stays
//! k·ε·|A|·|B| (blocked summation is, if anything, slightly better than one
//! long running sum).
//!
//! Cooperative matrices: where the adapter offers 16×16×16 cooperative
//! matrices with f16 multiplicands and an f32 accumulator (NVIDIA through
//! Vulkan; see [`Context::coop_f16`]), f16 products without transposes
//! run on `wgsl/gemm/coop.wgsl` instead of the 128×128 register-tiled
//! kernel: the workgroup stages 32-deep slabs of A and B in workgroup
//! memory and each subgroup multiplies 64×64 (or 64×32) of the tile with
//! 16×16 fragments ([`CoopParams`]). Same 2mnk flops; the products of f16
//! values are exact in f32 and accumulate in f32, so the bound is the f32
//! one above (k·ε·|A|·|B|), whatever order the hardware sums a fragment in.
//!
//! Split-f16 path for f32 products (Ootomo and Yokota's scheme): on the
//! same adapters, `matmul` of f32 operands with m, n, k at least the
//! tuning table's `gemm.split_f16_min` (or any eligible product with
//! `WGPU_LINALG_SPLIT_F16=1`) scales each row of A and each column of B by
//! a power of two that brings its largest magnitude into [2^14, 2^15),
//! splits each scaled entry v into hi = v cut to 11 significant bits (f16,
//! exact) and lo = f16(v − hi), and sums the three significant products
//! Al·Bh + Ah·Bl + Ah·Bh as one cooperative GEMM, 3k deep, of the parts
//! interleaved by 16-deep chunks ([Al Ah Ah] times [Bh; Bl; Bh],
//! `wgsl/gemm/split.wgsl`), unscaled on the way out
//! (`wgsl/gemm/coop_out_split.wgsl`). Cost: 6mnk flops on the f16 units,
//! plus one pass over A and B and parts 1.5× the size of the f32 operands. Accuracy: hi + lo carry 22
//! to 24 bits of v, so the error is about 2^-22·|A||B| from the split plus
//! the accumulation's; the bench's `--split-check` measured 1.5e-7 to
//! 2.4e-6 of ‖|A||B|‖_F (the f32 kernel 1e-8 to 1.5e-7) on random, badly
//! scaled and wide-range inputs, within the f32 kernel's bound k·ε. Entries
//! far below their row's or column's largest (under 2^-28 of it) lose
//! bits to f16's subnormal range; they add at most that fraction.
use half::f16;
use nalgebra::DMatrix;

use crate::context::{Context, Route};
use crate::cpu;
use crate::dispatch::decide;
use crate::error::{Error, Result};
use crate::gpu::pool::PooledBuffer;
use crate::gpu::Recorder;
use crate::gpu::{params_bytes, Gpu, GpuMatrix, Kernel};
use crate::ops::{env_usize, u32_of, with_override};

/// Uniform block of the GEMM kernels (`GemmParams` in `wgsl/gemm/io_*.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct GemmUniform {
    m: u32,
    n: u32,
    k: u32,
    batch_base: u32,
    lda: u32,
    ldb: u32,
    ldc: u32,
    pad0: u32,
    a_off: u32,
    b_off: u32,
    c_off: u32,
    pad1: u32,
    stride_a: u32,
    stride_b: u32,
    stride_c: u32,
    pad2: u32,
    alpha: f32,
    beta: f32,
    pad3: f32,
    pad4: f32,
}

/// Which GEMM kernel runs a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmVariant {
    /// 128×128 tiles, 8×8 register blocks.
    Tiled,
    /// 128×64 tiles, 8×4 register blocks, for n ≤
    /// [`GemmParams::narrow_max_n`] (f32, not `lower_only`).
    Narrow,
    /// 16×16 tiles, one output per invocation.
    Small,
}

impl GemmVariant {
    /// Tile of C per workgroup, (rows, columns).
    pub fn tile(self) -> (usize, usize) {
        match self {
            GemmVariant::Tiled => (128, 128),
            GemmVariant::Narrow => (128, 64),
            GemmVariant::Small => (16, 16),
        }
    }
}

thread_local! {
    static FORCED_VARIANT: std::cell::Cell<Option<GemmVariant>> =
        const { std::cell::Cell::new(None) };
    static FORCED_DEPTH: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with every GEMM recorded on this thread planned for `variant`
/// instead of [`GemmParams::variant`]'s choice (split-K planning included;
/// f16 and `lower_only` problems still map `Narrow` to `Tiled`). For tests
/// that cover a kernel's edge tiles at shapes the rule would not send it.
#[doc(hidden)]
pub fn with_gemm_variant<T>(variant: GemmVariant, f: impl FnOnce() -> T) -> T {
    with_override(&FORCED_VARIANT, variant, f)
}

/// Runs `f` with every GEMM recorded on this thread using `depth` as
/// [`GemmParams::tiled_depth`] (0, 8 or 16), whatever the environment
/// says. For tests of the tiled kernel's two load forms.
#[doc(hidden)]
pub fn with_gemm_depth<T>(depth: usize, f: impl FnOnce() -> T) -> T {
    with_override(&FORCED_DEPTH, depth, f)
}

/// Tuning parameters of GEMM, with automatic defaults.
#[derive(Clone, Copy, Debug)]
pub struct GemmParams {
    /// Use the tiled kernel from this many elements of C per matrix.
    pub tiled_min_elems: usize,
    /// A problem that takes the tiled kernel and has n ≤ this many columns
    /// runs on the 128×64-tile narrow variant (f32 only, not `lower_only`);
    /// 0 turns it off.
    pub narrow_max_n: usize,
    /// Split-K (see the module docs) only when the output has fewer tiles
    /// than this (tiles of the kernel that runs: 128×128, 128×64 or
    /// 16×16). 256:
    /// about two workgroups per core of a 132-core GPU.
    pub splitk_max_tiles: usize,
    /// Split-K only from this depth k on.
    pub splitk_min_k: usize,
    /// Split-K chooses S so that tiles·S reaches this many workgroups
    /// (tiles·S ends up between this and twice this, unless chunks would
    /// get shallower than `splitk_min_chunk`).
    pub splitk_target_groups: usize,
    /// Least depth of a split-K chunk.
    pub splitk_min_chunk: usize,
    /// Slab depth (8 or 16) of the 128×128 kernel's vector-load form,
    /// which f32 problems with aligned operands then take
    /// ([`gemm_v4_ok`]); 0 (the default) keeps them on the element-load
    /// form (8 deep).
    pub tiled_depth: usize,
}

/// How [`GemmParams::split_k`] cuts k.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitK {
    /// Number of partial products (chunks), remainder chunk included.
    pub parts: usize,
    /// Depth of each full chunk (a multiple of 16); the last chunk holds
    /// `k − (parts − 1)·chunk` ≤ `chunk`.
    pub chunk: usize,
}

impl Default for GemmParams {
    /// Tiled from one 128×128 tile of output, narrow (128×64 tiles) for
    /// those with n ≤ 64 (`WGPU_LINALG_GEMM_NARROW=0` turns it off, any
    /// other number sets `narrow_max_n`); split-K below 256 tiles, from
    /// k = 512, towards 1056 workgroups (eight per multiprocessor of an
    /// H200) with chunks of at least 128. On an H200 (benches/RESULTS.md,
    /// 2026-12-01) QR's block updates Wᵀ = Cᵀ·V, nc×64 deep as the rows
    /// below the block, took QR 4096 / 8192 from 74.4 / 276.8 ms with
    /// k ≥ 2048 and chunks of 512 to 67.5 / 253.0 ms towards 256
    /// workgroups with chunks of 256; later, with the split-K scratch
    /// taken again within a recording, 1056 and 128 took QR 8192 from
    /// 200.3 / 200.9 to 190.4 ms (gemm.narrow 54.6 → 43.1 ms). The
    /// split-K values can be overridden with `WGPU_LINALG_SPLITK_MAX_TILES`,
    /// `WGPU_LINALG_SPLITK_MIN_K`, `WGPU_LINALG_SPLITK_TARGET_GROUPS` and
    /// `WGPU_LINALG_SPLITK_MIN_CHUNK` for tuning runs
    /// (`WGPU_LINALG_SPLITK_MAX_TILES=0` turns split-K off). The tiled
    /// kernel keeps its element loads: on an H200 the vector-load form was
    /// no faster at n = 4096 and 8192 and 9% slower at k = 32 and 64
    /// (benches/RESULTS.md, 2026-12-01); `WGPU_LINALG_GEMM_BK` = 8 or 16
    /// selects it, with that slab depth.
    /// The environment is read once per process (every GEMM of a blocked
    /// loop asks for these).
    fn default() -> Self {
        static FROM_ENV: std::sync::OnceLock<GemmParams> = std::sync::OnceLock::new();
        let p = *FROM_ENV.get_or_init(GemmParams::from_env);
        match FORCED_DEPTH.with(|d| d.get()) {
            Some(d) => GemmParams {
                tiled_depth: tiled_depth(d),
                ..p
            },
            None => p,
        }
    }
}

/// A slab depth of the vector-load tiled GEMM: 8 or 16, anything else 0
/// (the element-load form).
fn tiled_depth(d: usize) -> usize {
    if d == 8 || d == 16 {
        d
    } else {
        0
    }
}

impl GemmParams {
    /// [`GemmParams::default`] with the adapter's tuned slab depth of the
    /// vector-load form (the tuning table's `gemm.tiled_depth`) where
    /// neither `WGPU_LINALG_GEMM_BK` nor [`with_gemm_depth`] sets it.
    pub(crate) fn for_gpu(gpu: &Gpu) -> GemmParams {
        static ENV_SET: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let p = GemmParams::default();
        let chosen = FORCED_DEPTH.with(|d| d.get()).is_some()
            || *ENV_SET.get_or_init(|| env_usize("WGPU_LINALG_GEMM_BK").is_some());
        match (chosen, gpu.gemm.tiled_depth) {
            (false, Some(d)) => GemmParams {
                tiled_depth: tiled_depth(d),
                ..p
            },
            _ => p,
        }
    }

    fn from_env() -> GemmParams {
        let env = |name: &str, default: usize| env_usize(name).unwrap_or(default);
        GemmParams {
            // One 128×128 tile's worth of output: below that most of a tiled
            // workgroup would idle.
            tiled_min_elems: 128 * 128,
            narrow_max_n: env("WGPU_LINALG_GEMM_NARROW", 64),
            splitk_max_tiles: env("WGPU_LINALG_SPLITK_MAX_TILES", 256),
            splitk_min_k: env("WGPU_LINALG_SPLITK_MIN_K", 512),
            splitk_target_groups: env("WGPU_LINALG_SPLITK_TARGET_GROUPS", 1056).max(1),
            splitk_min_chunk: env("WGPU_LINALG_SPLITK_MIN_CHUNK", 128).max(16),
            tiled_depth: tiled_depth(env("WGPU_LINALG_GEMM_BK", 0)),
        }
    }

    /// The kernel of an f32 m×n product (per matrix): `Tiled` from
    /// `tiled_min_elems` elements of C on, `Narrow` instead of it when
    /// n ≤ `narrow_max_n`, else `Small`. (f16 and `lower_only` problems run
    /// `Narrow` on the tiled kernel.)
    pub fn variant(&self, m: usize, n: usize) -> GemmVariant {
        if let Some(v) = FORCED_VARIANT.with(|v| v.get()) {
            return v;
        }
        if m * n < self.tiled_min_elems {
            GemmVariant::Small
        } else if n <= self.narrow_max_n {
            GemmVariant::Narrow
        } else {
            GemmVariant::Tiled
        }
    }

    /// Output tiles of an m×n product (per matrix) for the kernel that
    /// runs it.
    pub fn tiles(&self, m: usize, n: usize) -> usize {
        let (tm, tn) = self.variant(m, n).tile();
        m.div_ceil(tm) * n.div_ceil(tn)
    }

    /// The split-K plan of an f32 product `op(A)` m×k times `op(B)` k×n
    /// over `batch` matrices, or `None` where it runs as one GEMM: batched
    /// products, `tiles ≥ splitk_max_tiles`, `k < splitk_min_k`, or fewer
    /// than two chunks of `splitk_min_chunk`. Otherwise
    /// S = ⌈target/tiles⌉ capped at k/min_chunk, and the chunk depth is
    /// ⌈k/S⌉ rounded up to a multiple of 16.
    pub fn split_k(&self, m: usize, n: usize, k: usize, batch: usize) -> Option<SplitK> {
        if batch != 1 || m == 0 || n == 0 || k < self.splitk_min_k {
            return None;
        }
        let tiles = self.tiles(m, n);
        if tiles >= self.splitk_max_tiles {
            return None;
        }
        let s = self
            .splitk_target_groups
            .div_ceil(tiles)
            .min(k / self.splitk_min_chunk.max(1));
        if s < 2 {
            return None;
        }
        let chunk = k.div_ceil(s).next_multiple_of(16);
        let parts = k.div_ceil(chunk);
        (parts >= 2).then_some(SplitK { parts, chunk })
    }
}

/// Shape of the cooperative-matrix f16 GEMM (`wgsl/gemm/coop.wgsl`): a
/// workgroup of `sgm`×`sgn` subgroups computes a (64·`sgm`)×(`sgn`·w) tile
/// of C, each subgroup a 64×w block as 4×(w/16) accumulators of 16×16,
/// with w = 64 when `wn4`, else 32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoopParams {
    /// Subgroups along the rows of the tile (1, 2 or 4).
    pub sgm: u32,
    /// Subgroups along the columns of the tile.
    pub sgn: u32,
    /// 4×4 accumulators per subgroup (64×64), else 4×2 (64×32).
    pub wn4: bool,
    /// The next slab's global loads overlap the current slab's products
    /// (held in registers in between); else each slab is read right
    /// before it is stored into workgroup memory.
    pub prefetch: bool,
    /// 16-deep slabs taking turns in the two halves of the kernel's
    /// 32-deep tiles (one barrier per slab, the stores of the next slab
    /// overlapping the products of this one); `prefetch` is then implied.
    /// Measured 2.8× slower than `prefetch` alone on an H200 at n = 8192
    /// (benches/RESULTS.md, 2026-12-01), so off by default.
    pub double_buffer: bool,
}

impl Default for CoopParams {
    /// 128×128 tiles, four subgroups of 64×64, no prefetch: the fastest
    /// of the shapes measured on an H200 since the operands load in runs
    /// of eight (benches/RESULTS.md, 2026-12-01, the section on 16-byte
    /// loads in the cooperative GEMM, run 7: 5.36 ms at n = 8192 in
    /// `tune --gemm` against 5.73 for eight subgroups of 64×32, 6.57–6.86
    /// for 256×128 tiles, 6.32 with prefetch).
    fn default() -> Self {
        CoopParams {
            sgm: 2,
            sgn: 2,
            wn4: true,
            prefetch: false,
            double_buffer: false,
        }
    }
}

/// The cooperative shape `var` spells ([`CoopParams::parse`]); `None`
/// where it is unset.
fn env_shape(var: &str) -> Option<Option<CoopParams>> {
    std::env::var(var).ok().map(|v| CoopParams::parse(&v))
}

/// `WGPU_LINALG_COOP` as [`env_shape`] reads it, once per process.
fn coop_env() -> Option<Option<CoopParams>> {
    static ENV: std::sync::OnceLock<Option<Option<CoopParams>>> = std::sync::OnceLock::new();
    *ENV.get_or_init(|| env_shape("WGPU_LINALG_COOP"))
}

/// Whether `runs` loads of a slab split evenly over a workgroup of `wg`
/// invocations, one to eight each (the cooperative kernels' registers).
fn even_runs(runs: usize, wg: usize) -> bool {
    runs.is_multiple_of(wg) && (1..=8).contains(&(runs / wg))
}

impl CoopParams {
    /// Rows and columns of C per workgroup.
    pub fn tile(&self) -> (usize, usize) {
        (
            64 * self.sgm as usize,
            self.sgn as usize * if self.wn4 { 64 } else { 32 },
        )
    }

    /// Whether the kernel runs this shape on subgroups of `subgroup`
    /// invocations: tiles of at most 256×128 (its workgroup memory), at
    /// most 8 subgroups, and slabs (32 deep, 16 with double buffering)
    /// that the workgroup loads in one to eight runs of eight per
    /// invocation and operand, evenly (its registers).
    pub fn valid_for(&self, subgroup: u32) -> bool {
        let (bm, bn) = self.tile();
        let wg = (subgroup * self.sgm * self.sgn) as usize;
        let depth = if self.double_buffer { 16 } else { 32 };
        let runs = |rows| even_runs(rows * depth / 8, wg);
        [1, 2, 4].contains(&self.sgm)
            && [1, 2, 4, 8].contains(&self.sgn)
            && bm <= 256
            && bn <= 128
            && self.sgm * self.sgn <= 8
            && wg <= 1024
            && runs(bm)
            && runs(bn)
    }

    /// The shape in force: `WGPU_LINALG_COOP` = `SGMxSGNxW` (W = 4 for
    /// 4×4 accumulators per subgroup, 2 for 4×2; e.g. `2x4x2`) with
    /// optional flags `xP` (`x0`: no prefetch) and `xD` (`x1`: double
    /// buffering), e.g. `2x4x2x1x1`; or `off` (or `0`) for no
    /// cooperative path (`None`). An unparsable value keeps the default;
    /// one the kernel cannot run falls back to the tiled f16 kernel.
    pub fn from_env() -> Option<CoopParams> {
        coop_env().unwrap_or(Some(CoopParams::default()))
    }

    /// The shape for this adapter: [`with_coop_params`], else
    /// `WGPU_LINALG_COOP`, else the tuning table's `gemm.coop`, else the
    /// default.
    pub(crate) fn for_gpu(gpu: &Gpu) -> Option<CoopParams> {
        FORCED_COOP
            .with(|c| c.get())
            .or_else(coop_env)
            .unwrap_or_else(|| match &gpu.gemm.coop {
                Some(v) => CoopParams::parse(v),
                None => Some(CoopParams::default()),
            })
    }

    /// A shape spelled as `WGPU_LINALG_COOP` spells it ([`CoopParams::from_env`]).
    pub fn parse(v: &str) -> Option<CoopParams> {
        let v = v.trim();
        if v == "off" || v == "0" {
            return None;
        }
        let parts: Vec<u32> = v.split('x').filter_map(|x| x.parse().ok()).collect();
        let flag = |i: usize, default: bool| parts.get(i).map_or(default, |&f| f == 1);
        Some(match parts[..] {
            [sgm, sgn, w, ..]
                if (w == 2 || w == 4) && parts.len() <= 5 && parts[3..].iter().all(|&f| f <= 1) =>
            {
                CoopParams {
                    sgm,
                    sgn,
                    wn4: w == 4,
                    prefetch: flag(3, true),
                    double_buffer: flag(4, false),
                }
            }
            _ => CoopParams::default(),
        })
    }

    /// Rows and columns of C per workgroup of the 8×8 f32 cooperative
    /// GEMM (`wgsl/gemm/coop8.wgsl`): subgroup blocks of 32×32 (`wn4`) or
    /// 32×16.
    pub fn tile_f32(&self) -> (usize, usize) {
        (
            32 * self.sgm as usize,
            self.sgn as usize * if self.wn4 { 32 } else { 16 },
        )
    }

    /// Whether the 8×8 f32 kernel runs this shape on subgroups of
    /// `subgroup` invocations: no prefetch or double buffering (it has
    /// neither), at most 8 subgroups, 32-deep slabs loaded in one to eight
    /// runs of four f32 per invocation and operand, evenly, and at most 32
    /// KiB of workgroup memory (A's and B's tiles, four 8×8 C slots).
    pub fn valid_for_f32(&self, subgroup: u32) -> bool {
        let (bm, bn) = self.tile_f32();
        let wg = (subgroup * self.sgm * self.sgn) as usize;
        let runs = |rows| even_runs(rows * 32 / 4, wg);
        let bytes = 4 * (32 * (bm + 4) + bn * 36 + 4 * 64);
        !self.prefetch
            && !self.double_buffer
            && [1, 2, 4].contains(&self.sgm)
            && [1, 2, 4].contains(&self.sgn)
            && self.sgm * self.sgn <= 8
            && wg <= 1024
            && runs(bm)
            && runs(bn)
            && bytes <= 32 << 10
    }

    /// The 8×8 f32 GEMM's shape for this adapter, where it has 8×8 f32
    /// cooperative matrices: [`with_coop_f32_params`], else
    /// `WGPU_LINALG_COOP_F32` (a shape, or `off`), else the tuning table's
    /// `gemm.coop_f32`; `None`: the tiled f32 kernel. A shape the kernel
    /// cannot run is `None` too.
    pub(crate) fn for_gpu_f32(gpu: &Gpu) -> Option<(u32, CoopParams)> {
        let sg = gpu.coop_f32_subgroup?;
        static ENV: std::sync::OnceLock<Option<Option<CoopParams>>> = std::sync::OnceLock::new();
        let cp = FORCED_COOP_F32
            .with(|c| c.get())
            .or_else(|| *ENV.get_or_init(|| env_shape("WGPU_LINALG_COOP_F32")))
            .unwrap_or_else(|| gpu.gemm.coop_f32.as_deref().and_then(CoopParams::parse))?;
        // the f16 spelling's prefetch flag defaults to on; this kernel has none
        let cp = CoopParams {
            prefetch: false,
            double_buffer: false,
            ..cp
        };
        cp.valid_for_f32(sg).then_some((sg, cp))
    }
}

/// One operand of a GEMM on the GPU: buffer, element offset, leading
/// dimension and batch stride (0 broadcasts one matrix over the batch).
#[derive(Clone, Copy)]
pub(crate) struct Operand<'a> {
    pub buf: &'a wgpu::Buffer,
    pub off: usize,
    pub ld: usize,
    pub stride: usize,
}

/// A GEMM problem for [`encode_gemm`]; dimensions are of op(A) (m×k),
/// op(B) (k×n) and C (m×n).
pub(crate) struct Gemm<'a> {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub batch: usize,
    pub a: Operand<'a>,
    pub ta: bool,
    pub b: Operand<'a>,
    pub tb: bool,
    pub c: Operand<'a>,
    pub alpha: f32,
    pub beta: f32,
    /// f16 storage for A and B.
    pub half: bool,
    /// Only C's lower triangle (i ≥ j) is needed: tiles wholly above the
    /// diagonal are skipped (tiled kernel; the small one computes them).
    pub lower_only: bool,
}

impl<'a> Gemm<'a> {
    /// `C = op(A)·op(B)` for single f32 matrices stored from element 0:
    /// A and B as (buffer, leading dimension, transposed), C as (buffer,
    /// leading dimension); op(A) is m×k, op(B) k×n.
    pub(crate) fn single(
        (m, n, k): (usize, usize, usize),
        a: (&'a wgpu::Buffer, usize, bool),
        b: (&'a wgpu::Buffer, usize, bool),
        c: (&'a wgpu::Buffer, usize),
    ) -> Gemm<'a> {
        let operand = |buf, ld| Operand {
            buf,
            off: 0,
            ld,
            stride: 0,
        };
        Gemm {
            m,
            n,
            k,
            batch: 1,
            a: operand(a.0, a.1),
            ta: a.2,
            b: operand(b.0, b.1),
            tb: b.2,
            c: operand(c.0, c.1),
            alpha: 1.0,
            beta: 0.0,
            half: false,
            lower_only: false,
        }
    }
}

impl GemmUniform {
    /// The uniform block of `g` (batch base 0; the launch code sets the
    /// rest).
    fn of(g: &Gemm<'_>) -> Result<GemmUniform> {
        let op = "matmul";
        Ok(GemmUniform {
            m: u32_of(op, g.m)?,
            n: u32_of(op, g.n)?,
            k: u32_of(op, g.k)?,
            batch_base: 0,
            lda: u32_of(op, g.a.ld.max(1))?,
            ldb: u32_of(op, g.b.ld.max(1))?,
            ldc: u32_of(op, g.c.ld.max(1))?,
            a_off: u32_of(op, g.a.off)?,
            b_off: u32_of(op, g.b.off)?,
            c_off: u32_of(op, g.c.off)?,
            stride_a: u32_of(op, g.a.stride)?,
            stride_b: u32_of(op, g.b.stride)?,
            stride_c: u32_of(op, g.c.stride)?,
            alpha: g.alpha,
            beta: g.beta,
            ..Default::default()
        })
    }
}

/// Whether C can be written as aligned vec4 (every four-row group of a
/// column one 16-byte store).
fn c_vec4_ok(g: &Gemm<'_>) -> bool {
    g.m.is_multiple_of(4)
        && g.c.ld.is_multiple_of(4)
        && g.c.off.is_multiple_of(4)
        && g.c.stride.is_multiple_of(4)
}

/// Whether op(A) and op(B) can be read as the aligned 16-byte runs of
/// `wgsl/gemm/slab4.wgsl`: runs go along the stored columns (rows of A,
/// k of Aᵀ and of B, columns of Bᵀ), so that dimension, the leading
/// dimension, the offset and the batch stride must be multiples of 4; a
/// run then lies wholly inside or outside the matrix.
fn gemm_v4_ok(g: &Gemm<'_>) -> bool {
    let run_a = if g.ta { g.k } else { g.m };
    let run_b = if g.tb { g.n } else { g.k };
    !g.half
        && [
            run_a, g.a.ld, g.a.off, g.a.stride, run_b, g.b.ld, g.b.off, g.b.stride,
        ]
        .iter()
        .all(|x| x.is_multiple_of(4))
}

/// Uniform block of the split-K reduction (`SplitKParams` in
/// `wgsl/gemm/splitk.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct SplitKUniform {
    m: u32,
    n: u32,
    parts: u32,
    ldc: u32,
    c_off: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
    beta: f32,
    pad3: f32,
    pad4: f32,
    pad5: f32,
}

thread_local! {
    static FORCED_COOP: std::cell::Cell<Option<Option<CoopParams>>> = const { std::cell::Cell::new(None) };
    static FORCED_COOP_F32: std::cell::Cell<Option<Option<CoopParams>>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with the 8×8 f32 cooperative GEMM's shape on this thread forced
/// to `params` (`None`: the tiled f32 kernel), whatever the environment and
/// the tuning table say (for `examples/tune --gemm`); it still runs only
/// where the adapter has 8×8 f32 cooperative matrices.
#[doc(hidden)]
pub fn with_coop_f32_params<T>(params: Option<CoopParams>, f: impl FnOnce() -> T) -> T {
    with_override(&FORCED_COOP_F32, params, f)
}

/// Runs `f` with the cooperative f16 GEMM's shape on this thread forced to
/// `params` (`None`: no cooperative path), whatever the environment and
/// the tuning table say (for `examples/tune --gemm`).
#[doc(hidden)]
pub fn with_coop_params<T>(params: Option<CoopParams>, f: impl FnOnce() -> T) -> T {
    with_override(&FORCED_COOP, params, f)
}

thread_local! {
    static FORCED_SPLIT_F16: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with the split-f16 path of f32 products on this thread turned
/// on (every eligible product, also inside other ops) or off, regardless
/// of `WGPU_LINALG_SPLIT_F16` and of the default rule (for accuracy and
/// speed comparisons of the two paths in one process).
#[doc(hidden)]
pub fn with_split_f16<T>(on: bool, f: impl FnOnce() -> T) -> T {
    with_override(&FORCED_SPLIT_F16, on, f)
}

/// The split-f16 switch: `Some(on)` from [`with_split_f16`] or
/// `WGPU_LINALG_SPLIT_F16` (`1` on, `0` off; read once per process, as
/// every GEMM asks), `None` for the default rule.
fn split_f16_forced() -> Option<bool> {
    static FROM_ENV: std::sync::OnceLock<Option<bool>> = std::sync::OnceLock::new();
    FORCED_SPLIT_F16.with(|v| v.get()).or_else(|| {
        *FROM_ENV.get_or_init(|| {
            match std::env::var("WGPU_LINALG_SPLIT_F16")
                .as_deref()
                .map(str::trim)
            {
                Ok("1") => Some(true),
                Ok("0") => Some(false),
                _ => None,
            }
        })
    })
}

/// The subgroup size and cooperative shape of the split-f16 path, where
/// it can run this product: an adapter with the cooperative f16 GEMM, a
/// single non-transposed f32 product whose interleaved parts fit one
/// binding and whose passes the dispatch limit allows.
fn split_f16_eligible(gpu: &Gpu, g: &Gemm<'_>) -> Option<(u32, CoopParams)> {
    let sg = gpu.coop_f16_subgroup?;
    let cp = CoopParams::for_gpu(gpu).filter(|cp| cp.valid_for(sg))?;
    let (tm, tn) = cp.tile();
    let max = gpu.max_groups() as usize;
    let (m8, k16) = (g.m.next_multiple_of(8), g.k.next_multiple_of(16));
    let fits = g.n <= max
        && k16.div_ceil(4) <= max
        && m8.div_ceil(64) <= max
        && k16.div_ceil(64) <= max
        && g.m.div_ceil(tm) <= max
        && g.n.div_ceil(tn) <= max
        && (6 * k16 * m8.max(g.n)) as u64 <= gpu.max_binding();
    (fits && !g.half && !g.ta && !g.tb && !g.lower_only && g.batch == 1 && g.k > 0)
        .then_some((sg, cp))
}

/// Whether a GEMM inside another op runs on the split-f16 path: only when
/// switched on (for experiments); the factorizations keep the f32 kernel.
fn split_f16_subgroup(gpu: &Gpu, g: &Gemm<'_>) -> Option<(u32, CoopParams)> {
    if split_f16_forced() != Some(true) {
        return None;
    }
    split_f16_eligible(gpu, g)
}

/// Whether a `matmul` product runs on the split-f16 path: when switched
/// on, and by default where it was measured faster than the f32 kernel:
/// m, n and k all at least the tuning table's `gemm.split_f16_min` (2048
/// in the NVIDIA entry, from `tune --gemm` on the H200: 0.409 against
/// 0.610 ms at n = 2048, 2.46 against 4.33 at 4096, 16.7 against 32.7 at
/// 8192, but 0.181 against 0.112 at 1024; benches/RESULTS.md, 2026-12-01,
/// run 7 of the section on 16-byte loads in the cooperative GEMM); never
/// where the entry has none. In both it meets the f32
/// kernel's normwise bound ‖C − AB‖_F ≤ k·ε·‖|A||B|‖_F (bench
/// `--split-check`: 1.5e-7 to 2.4e-6 of ‖|A||B|‖_F on random, badly scaled
/// and wide-range inputs, against bounds of 9.3e-5 to 4.9e-4).
fn split_f16_for_matmul(gpu: &Gpu, g: &Gemm<'_>) -> Option<(u32, CoopParams)> {
    let on = split_f16_forced().unwrap_or_else(|| {
        gpu.gemm
            .split_f16_min
            .is_some_and(|min| g.m.min(g.n).min(g.k) >= min)
    });
    if !on {
        return None;
    }
    split_f16_eligible(gpu, g)
}

/// Uniform block of the split kernels (`SplitParams` in
/// `wgsl/gemm/split.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct SplitUniform {
    rows: u32,
    cols: u32,
    ld: u32,
    off: u32,
    prow: u32,
    pcol: u32,
    pad0: u32,
    pad1: u32,
}

/// The scaled f16 parts of one f32 operand (`split.wgsl`): hi and lo
/// interleaved for the products (A: prow × 3·pcol; B: 3·prow × pcol), and
/// the (s, 1/s) scales per row or column.
pub(crate) struct SplitParts {
    pub parts: PooledBuffer,
    pub scales: PooledBuffer,
}

/// Records the split of op.buf (rows × cols at op.off, leading dimension
/// op.ld) into scaled f16 parts, padded to prow × pcol and interleaved
/// (`wgsl/gemm/split.wgsl`): scaled by rows (`by_rows`, A) or by columns
/// (B).
pub(crate) fn encode_split_parts(
    gpu: &Gpu,
    enc: &mut Recorder,
    x: &Operand<'_>,
    (rows, cols): (usize, usize),
    (prow, pcol): (usize, usize),
    by_rows: bool,
) -> Result<SplitParts> {
    let op = "matmul";
    let parts = gpu.storage(op, (3 * prow * pcol * 2) as u64, "split parts")?;
    let nsc = if by_rows { rows } else { cols };
    let scales = gpu.storage(op, (nsc.max(1) * 8) as u64, "split scales")?;
    let u = SplitUniform {
        rows: u32_of(op, rows)?,
        cols: u32_of(op, cols)?,
        ld: u32_of(op, x.ld.max(1))?,
        off: u32_of(op, x.off)?,
        prow: u32_of(op, prow)?,
        pcol: u32_of(op, pcol)?,
        ..Default::default()
    };
    let pb = params_bytes(&u);
    let shape = format!("{rows}x{cols}");
    let split = if by_rows {
        // the rows' maxima from a 2-D grid (one row per invocation and
        // column chunk; a loop over every column per row left 16
        // workgroups to read all of a 4096-row A), then the scales
        let mx = gpu.storage(op, (rows.max(1) * 4) as u64, "split row maxima")?;
        enc.clear_buffer(mx.buffer(), 0, None);
        gpu.launch(
            enc,
            &format!("gemm.split.max {shape}"),
            Kernel::GemmSplitPrep,
            "row_max",
            &[],
            &pb,
            &[(1, x.buf), (5, mx.buffer())],
            [
                rows.div_ceil(256) as u32,
                u32_of(op, cols.div_ceil(64).max(1))?,
                1,
            ],
        );
        gpu.launch(
            enc,
            &format!("gemm.split.scale {shape}"),
            Kernel::GemmSplitPrep,
            "scale_rows",
            &[],
            &pb,
            &[(5, mx.buffer()), (2, scales.buffer())],
            [rows.div_ceil(256) as u32, 1, 1],
        );
        enc.keep(mx);
        "split_rows"
    } else {
        gpu.launch(
            enc,
            &format!("gemm.split.scale {shape}"),
            Kernel::GemmSplitPrep,
            "scale_cols",
            &[],
            &pb,
            &[(1, x.buf), (2, scales.buffer())],
            [cols as u32, 1, 1],
        );
        "split_cols"
    };
    gpu.launch(
        enc,
        &format!("gemm.split.parts {shape}"),
        Kernel::GemmSplitPrep,
        split,
        &[],
        &pb,
        &[(1, x.buf), (2, scales.buffer()), (3, parts.buffer())],
        [prow.div_ceil(64) as u32, pcol.div_ceil(4) as u32, 1],
    );
    Ok(SplitParts { parts, scales })
}

/// The split-f16 path of an f32 product (`split_f16_for_matmul`,
/// `split_f16_subgroup`): A split by rows and B by columns into scaled f16
/// high and low parts, interleaved (`wgsl/gemm/split.wgsl`; m padded to a
/// multiple of 8, k to 16), then the cooperative GEMM of the two results,
/// 3k deep, which sums the three significant products, and unscales on
/// the way out (`wgsl/gemm/coop_out_split.wgsl`).
fn encode_split_f16(
    gpu: &Gpu,
    enc: &mut Recorder,
    g: &Gemm<'_>,
    cp: CoopParams,
    subgroup: u32,
) -> Result<()> {
    let (m, n, k) = (g.m, g.n, g.k);
    let (m8, k16) = (m.next_multiple_of(8), k.next_multiple_of(16));
    let pa = encode_split_parts(gpu, enc, &g.a, (m, k), (m8, k16), true)?;
    let pb = encode_split_parts(gpu, enc, &g.b, (k, n), (k16, n), false)?;
    let products = Gemm {
        m,
        n,
        k: 3 * k16,
        batch: 1,
        a: Operand {
            buf: pa.parts.buffer(),
            off: 0,
            ld: m8,
            stride: 0,
        },
        ta: false,
        b: Operand {
            buf: pb.parts.buffer(),
            off: 0,
            ld: 3 * k16,
            stride: 0,
        },
        tb: false,
        c: g.c,
        alpha: g.alpha,
        beta: g.beta,
        half: true,
        lower_only: false,
    };
    let scales = [pa.scales.buffer(), pb.scales.buffer()];
    encode_coop(gpu, enc, &products, cp, subgroup, Some(scales))?;
    for p in [pa, pb] {
        enc.keep(p.parts);
        enc.keep(p.scales);
    }
    Ok(())
}

/// Records a GEMM (batched over z, in chunks the dispatch limit allows);
/// few-tile, long-k f32 products take the split-K path (module docs).
pub(crate) fn encode_gemm(gpu: &Gpu, enc: &mut Recorder, g: &Gemm<'_>) -> Result<()> {
    if g.m == 0 || g.n == 0 || g.batch == 0 {
        return Ok(());
    }
    if let Some((sg, cp)) = split_f16_subgroup(gpu, g) {
        return encode_split_f16(gpu, enc, g, cp, sg);
    }
    if !g.half && !g.lower_only {
        if let Some(plan) = GemmParams::default().split_k(g.m, g.n, g.k, g.batch) {
            let bytes = (plan.parts * g.m * g.n * 4) as u64;
            if bytes <= gpu.max_binding() {
                return encode_split_k(gpu, enc, g, plan);
            }
        }
    }
    encode_direct(gpu, enc, g)
}

/// The split-K path of [`encode_gemm`]: partial products into scratch, then
/// one reduction into C.
fn encode_split_k(gpu: &Gpu, enc: &mut Recorder, g: &Gemm<'_>, plan: SplitK) -> Result<()> {
    let op = "matmul";
    let (m, n) = (g.m, g.n);
    let mn = m * n;
    let bytes = (plan.parts * mn * 4) as u64;
    let scratch = match enc.take_spare(bytes) {
        Some(b) => b,
        None => gpu.storage(op, bytes, "gemm splitk partials")?,
    };
    let full = g.k / plan.chunk;
    let rem = g.k - full * plan.chunk;
    // element offsets of chunk s = s·step in A and B
    let a_step = if g.ta { 1 } else { g.a.ld };
    let b_step = if g.tb { g.b.ld } else { 1 };
    let part = |k: usize, batch: usize, kc: usize, slot: usize| Gemm {
        m,
        n,
        k,
        batch,
        a: Operand {
            buf: g.a.buf,
            off: g.a.off + kc * a_step,
            ld: g.a.ld,
            stride: plan.chunk * a_step,
        },
        ta: g.ta,
        b: Operand {
            buf: g.b.buf,
            off: g.b.off + kc * b_step,
            ld: g.b.ld,
            stride: plan.chunk * b_step,
        },
        tb: g.tb,
        c: Operand {
            buf: scratch.buffer(),
            off: slot * mn,
            ld: m,
            stride: mn,
        },
        alpha: g.alpha,
        beta: 0.0,
        half: false,
        lower_only: false,
    };
    encode_direct(gpu, enc, &part(plan.chunk, full, 0, 0))?;
    if rem > 0 {
        encode_direct(gpu, enc, &part(rem, 1, full * plan.chunk, full))?;
    }
    let u = SplitKUniform {
        m: u32_of(op, m)?,
        n: u32_of(op, n)?,
        parts: u32_of(op, plan.parts)?,
        ldc: u32_of(op, g.c.ld.max(1))?,
        c_off: u32_of(op, g.c.off)?,
        beta: g.beta,
        ..Default::default()
    };
    let [gx, gy] = tile_grid(gpu, m, n, (64, 4))?;
    gpu.launch(
        enc,
        &format!("splitk reduce {m}x{n} parts {}", plan.parts),
        Kernel::GemmSplitK,
        "reduce",
        &[],
        &params_bytes(&u),
        &[(1, scratch.buffer()), (2, g.c.buf)],
        [gx, gy, 1],
    );
    enc.done_with(scratch);
    Ok(())
}

/// The widest runs along the columns of A (rows) and B (k) an f16
/// problem's operands let the cooperative GEMM read as vectors: 8
/// (`wgsl/gemm/coop_io_v8.wgsl`) or 4 (`coop_io_vec.wgsl`) when m, k, the
/// leading dimensions, offsets and batch strides of A and B are all
/// multiples of it (runs aligned and wholly inside or outside), else 1
/// (`coop_io_f16.wgsl`).
fn coop_run_width(g: &Gemm<'_>) -> usize {
    let dims = [
        g.m, g.k, g.a.ld, g.b.ld, g.a.off, g.b.off, g.a.stride, g.b.stride,
    ];
    [8, 4]
        .into_iter()
        .find(|w| dims.iter().all(|x| x.is_multiple_of(*w)))
        .unwrap_or(1)
}

/// The cooperative-matrix f16 GEMM (module docs), one launch per chunk of
/// the batch the dispatch limit allows.
///
/// With `split_scales` (the (s, 1/s) per row of A and per column of B), it
/// runs the split-f16 products: A and B are interleaved parts padded so
/// that every run of eight loads whole (`encode_split_f16`), and C is
/// unscaled on the way out.
fn encode_coop(
    gpu: &Gpu,
    enc: &mut Recorder,
    g: &Gemm<'_>,
    cp: CoopParams,
    subgroup: u32,
    split_scales: Option<[&wgpu::Buffer; 2]>,
) -> Result<()> {
    let kernel = match (split_scales, coop_run_width(g)) {
        (Some(_), _) => Kernel::GemmCoopSplit,
        (None, 8) => Kernel::GemmCoopV8,
        (None, 4) => Kernel::GemmCoop,
        _ => Kernel::GemmCoopScalar,
    };
    let (tm, tn) = cp.tile();
    let mut u = GemmUniform::of(g)?;
    let grid = tile_grid(gpu, g.m, g.n, (tm, tn))?;
    let constants = [
        ("SG", subgroup as f64),
        ("SGM", cp.sgm as f64),
        ("SGN", cp.sgn as f64),
        ("WN4", cp.wn4 as u32 as f64),
        ("PF", cp.prefetch as u32 as f64),
        ("DB", cp.double_buffer as u32 as f64),
    ];
    let label = match kernel {
        Kernel::GemmCoopSplit => format!("gemm.split.products {}x{}x{}", g.m, g.k / 3, g.n),
        _ => format!(
            "gemm.coop {}x{}x{} batch {} tile {tm}x{tn}{}",
            g.m,
            g.k,
            g.n,
            g.batch,
            match kernel {
                Kernel::GemmCoopV8 => "",
                Kernel::GemmCoop => " runs of four",
                _ => " scalar loads",
            }
        ),
    };
    let mut binds = vec![(1, g.a.buf), (2, g.b.buf), (3, g.c.buf)];
    if let Some([sa, sb]) = split_scales {
        binds.extend([(4, sa), (5, sb)]);
    }
    launch_batch(
        gpu,
        enc,
        (&label, kernel, &constants),
        &mut u,
        &binds,
        grid,
        g.batch,
    );
    Ok(())
}

/// The workgroup grid of an m×n result in tm×tn tiles, or
/// `Error::TooLarge` where it exceeds the dispatch limit.
fn tile_grid(gpu: &Gpu, m: usize, n: usize, (tm, tn): (usize, usize)) -> Result<[u32; 2]> {
    let (gx, gy) = (m.div_ceil(tm), n.div_ceil(tn));
    let max = gpu.max_groups() as usize;
    if gx > max || gy > max {
        return Err(Error::TooLarge {
            op: "matmul",
            bytes: (m * n * 4) as u64,
            limit: (max * tm * max * tn * 4) as u64,
        });
    }
    Ok([gx as u32, gy as u32])
}

/// One launch of `kernel` per chunk of the `batch` matrices the dispatch
/// limit allows (`u.batch_base` set per chunk).
fn launch_batch(
    gpu: &Gpu,
    enc: &mut Recorder,
    (label, kernel, constants): (&str, Kernel, &[(&'static str, f64)]),
    u: &mut GemmUniform,
    binds: &[(u32, &wgpu::Buffer)],
    [gx, gy]: [u32; 2],
    batch: usize,
) {
    let max = gpu.max_groups() as usize;
    let mut base = 0usize;
    while base < batch {
        let chunk = (batch - base).min(max);
        u.batch_base = base as u32;
        gpu.launch(
            enc,
            label,
            kernel,
            "main",
            constants,
            &params_bytes(u),
            binds,
            [gx, gy, chunk as u32],
        );
        base += chunk;
    }
}

/// The 8×8 f32 cooperative GEMM (`wgsl/gemm/coop8.wgsl`), one launch per
/// chunk of the batch the dispatch limit allows.
fn encode_coop8(
    gpu: &Gpu,
    enc: &mut Recorder,
    g: &Gemm<'_>,
    cp: CoopParams,
    subgroup: u32,
) -> Result<()> {
    let (tm, tn) = cp.tile_f32();
    let mut u = GemmUniform::of(g)?;
    let grid = tile_grid(gpu, g.m, g.n, (tm, tn))?;
    let constants = [
        ("SG", subgroup as f64),
        ("SGM", cp.sgm as f64),
        ("SGN", cp.sgn as f64),
        ("WN4", cp.wn4 as u32 as f64),
    ];
    let label = format!(
        "gemm.coop8 {}x{}x{} batch {} tile {tm}x{tn}",
        g.m, g.k, g.n, g.batch
    );
    launch_batch(
        gpu,
        enc,
        (&label, Kernel::GemmCoop8, &constants),
        &mut u,
        &[(1, g.a.buf), (2, g.b.buf), (3, g.c.buf)],
        grid,
        g.batch,
    );
    Ok(())
}

/// One GEMM kernel launch per chunk of the batch the dispatch limit allows.
fn encode_direct(gpu: &Gpu, enc: &mut Recorder, g: &Gemm<'_>) -> Result<()> {
    if g.m == 0 || g.n == 0 || g.batch == 0 {
        return Ok(());
    }
    if g.half && !g.ta && !g.tb && !g.lower_only {
        if let (Some(sg), Some(cp)) = (gpu.coop_f16_subgroup, CoopParams::for_gpu(gpu)) {
            if cp.valid_for(sg) {
                return encode_coop(gpu, enc, g, cp, sg, None);
            }
        }
    }
    // f16 storage has only the 128×128 kernel; lower_only needs its LOWER
    let params = GemmParams::for_gpu(gpu);
    // f32 products the tiled kernel would take run on 8×8 f32 cooperative
    // matrices where the adapter has them and the table (or the
    // environment) names a shape
    if !g.half && !g.ta && !g.tb && !g.lower_only && params.variant(g.m, g.n) == GemmVariant::Tiled
    {
        if let Some((sg, cp)) = CoopParams::for_gpu_f32(gpu) {
            return encode_coop8(gpu, enc, g, cp, sg);
        }
    }
    let variant = match params.variant(g.m, g.n) {
        _ if g.half => GemmVariant::Tiled,
        GemmVariant::Narrow if g.lower_only => GemmVariant::Tiled,
        v => v,
    };
    let kernel = match (variant, g.half) {
        (_, true) => Kernel::GemmTiledF16,
        (GemmVariant::Tiled, false) if c_vec4_ok(g) && params.tiled_depth > 0 && gemm_v4_ok(g) => {
            Kernel::GemmTiledV4
        }
        (GemmVariant::Tiled, false) if c_vec4_ok(g) => Kernel::GemmTiledC4,
        (GemmVariant::Tiled, false) => Kernel::GemmTiled,
        (GemmVariant::Narrow, false) if c_vec4_ok(g) => Kernel::GemmNarrowC4,
        (GemmVariant::Narrow, false) => Kernel::GemmNarrow,
        (GemmVariant::Small, false) => Kernel::GemmSmall,
    };
    let (tm, tn) = variant.tile();
    let mut u = GemmUniform::of(g)?;
    let [gx, gy] = tile_grid(gpu, g.m, g.n, (tm, tn))?;
    let mut constants = vec![("TA", g.ta as u32 as f64), ("TB", g.tb as u32 as f64)];
    if g.lower_only
        && matches!(
            kernel,
            Kernel::GemmTiled | Kernel::GemmTiledC4 | Kernel::GemmTiledV4 | Kernel::GemmTiledF16
        )
    {
        constants.push(("LOWER", 1.0));
    }
    if kernel == Kernel::GemmTiledV4 {
        constants.push(("BK", params.tiled_depth as f64));
    }
    // "gemm.<variant> MxKxN": the profile groups dispatches by these two words
    let word = match kernel {
        Kernel::GemmTiledV4 => format!("tiled_v4_bk{}", params.tiled_depth),
        _ => format!("{variant:?}").to_lowercase(),
    };
    let label = format!(
        "gemm.{} {}x{}x{} batch {} ta={} tb={}",
        word, g.m, g.k, g.n, g.batch, g.ta, g.tb
    );
    launch_batch(
        gpu,
        enc,
        (&label, kernel, &constants),
        &mut u,
        &[(1, g.a.buf), (2, g.b.buf), (3, g.c.buf)],
        [gx, gy],
        g.batch,
    );
    Ok(())
}

/// `C_z = op(A_z)·op(B_z)` (alpha, beta as in [`encode_gemm`]) on the
/// narrow kernel with C's columns scattered by blocks of `width`: the
/// global column j (= z·n + column of C_z, with C at offset 0 and batch
/// stride n·ldc) lands in block `map[map_off + j / width]`, at the same
/// column inside the block (`wgsl/gemm/c_map.wgsl`; `width` a power of
/// two). For the block Jacobi
/// SVD, whose rotated pairs go straight into the next round's layout. C
/// must not overlap A or B. Needs n ≤ 64, m, ldc multiples of 4 and n a
/// multiple of `width`; `None` (nothing recorded) otherwise.
pub(crate) fn encode_gemm_scatter(
    gpu: &Gpu,
    enc: &mut Recorder,
    g: &Gemm<'_>,
    map: &wgpu::Buffer,
    (width, map_off): (usize, usize),
) -> Result<Option<()>> {
    if g.half
        || g.lower_only
        || g.n > 64
        || !width.is_power_of_two()
        || !g.n.is_multiple_of(width)
        || g.c.off != 0
        || g.c.stride != g.n * g.c.ld
        || !c_vec4_ok(g)
    {
        return Ok(None);
    }
    if g.m == 0 || g.n == 0 || g.batch == 0 {
        return Ok(Some(()));
    }
    let op = "matmul";
    let (tm, tn) = GemmVariant::Narrow.tile();
    let mut u = GemmUniform {
        pad0: width.trailing_zeros(),
        c_off: 0,
        pad1: u32_of(op, map_off)?,
        ..GemmUniform::of(g)?
    };
    // the global column index must fit (z·n + j < 2³²/ldc)
    u32_of(op, g.batch * g.n * g.c.ld)?;
    let gx = g.m.div_ceil(tm) as u32;
    let gy = g.n.div_ceil(tn) as u32;
    let max = gpu.max_groups() as usize;
    if gx as usize > max {
        return Err(Error::TooLarge {
            op,
            bytes: (g.m * g.n * 4) as u64,
            limit: (max * tm * tn * 4) as u64,
        });
    }
    let constants = [("TA", g.ta as u32 as f64), ("TB", g.tb as u32 as f64)];
    let label = format!(
        "gemm.scatter {}x{}x{} batch {} ta={} tb={}",
        g.m, g.k, g.n, g.batch, g.ta, g.tb
    );
    launch_batch(
        gpu,
        enc,
        (&label, Kernel::GemmNarrowMap, &constants),
        &mut u,
        &[(1, g.a.buf), (2, g.b.buf), (3, g.c.buf), (4, map)],
        [gx, gy],
        g.batch,
    );
    Ok(Some(()))
}

/// Shape of op(X) for X of `shape`.
fn op_shape(shape: (usize, usize), t: bool) -> (usize, usize) {
    if t {
        (shape.1, shape.0)
    } else {
        shape
    }
}

fn check_inner(op: &'static str, a: (usize, usize), b: (usize, usize)) -> Result<()> {
    if a.1 != b.0 {
        return Err(Error::shape(
            op,
            format!(
                "op(A) m×k and op(B) k×n with equal k (op(A) is {}×{})",
                a.0, a.1
            ),
            format!("op(B) {}×{}", b.0, b.1),
        ));
    }
    Ok(())
}

fn gemm_flops(m: usize, n: usize, k: usize, batch: usize) -> f64 {
    crate::dispatch::nominal_flops("matmul", m, k, n, batch)
}

impl Context {
    /// `A·B`.
    pub fn matmul(&self, a: &DMatrix<f32>, b: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        self.matmul_t(a, false, b, false)
    }

    /// `op(A)·op(B)` where `op(X)` is `Xᵀ` when the flag is set.
    pub fn matmul_t(
        &self,
        a: &DMatrix<f32>,
        ta: bool,
        b: &DMatrix<f32>,
        tb: bool,
    ) -> Result<DMatrix<f32>> {
        self.gemm_host(1.0, a, ta, b, tb, 0.0, None)
    }

    /// `alpha·op(A)·op(B) + beta·C` (C is not read when `beta == 0`).
    #[allow(clippy::too_many_arguments)]
    pub fn gemm(
        &self,
        alpha: f32,
        a: &DMatrix<f32>,
        ta: bool,
        b: &DMatrix<f32>,
        tb: bool,
        beta: f32,
        c: &DMatrix<f32>,
    ) -> Result<DMatrix<f32>> {
        self.gemm_host(alpha, a, ta, b, tb, beta, Some(c))
    }

    #[allow(clippy::too_many_arguments)]
    fn gemm_host(
        &self,
        alpha: f32,
        a: &DMatrix<f32>,
        ta: bool,
        b: &DMatrix<f32>,
        tb: bool,
        beta: f32,
        c: Option<&DMatrix<f32>>,
    ) -> Result<DMatrix<f32>> {
        let sa = op_shape(a.shape(), ta);
        let sb = op_shape(b.shape(), tb);
        check_inner("matmul", sa, sb)?;
        let (m, k, n) = (sa.0, sa.1, sb.1);
        if let Some(c) = c {
            if c.shape() != (m, n) {
                return Err(Error::shape(
                    "matmul",
                    format!("C {m}×{n}"),
                    format!("C {}×{}", c.nrows(), c.ncols()),
                ));
            }
        }
        let c = c.filter(|_| beta != 0.0);
        if m == 0 || n == 0 {
            return Ok(DMatrix::zeros(m, n));
        }
        match decide(self, "matmul", gemm_flops(m, n, k, 1), 1)? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let ga = self.upload(a)?;
                    let gb = self.upload(b)?;
                    let gc = c.map(|c| self.upload(c)).transpose()?;
                    ga.gemm_into(alpha, ta, &gb, tb, beta, gc.as_ref())?
                        .download()
                })
            }
            _ => Ok(cpu::gemm(alpha, a, ta, b, tb, beta, c)),
        }
    }

    /// `A·B` for f16 matrices, accumulated in f32. Uses f16 storage on the
    /// GPU where the adapter has `SHADER_F16` (on cooperative matrices
    /// where [`Context::coop_f16`] says so, else the register-tiled f16
    /// kernel); otherwise the operands are widened to f32 (exactly) and
    /// multiplied by the f32 path.
    pub fn matmul_f16(&self, a: &DMatrix<f16>, b: &DMatrix<f16>) -> Result<DMatrix<f32>> {
        check_inner("matmul_f16", a.shape(), b.shape())?;
        let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
        if m == 0 || n == 0 {
            return Ok(DMatrix::zeros(m, n));
        }
        let route = decide(self, "matmul_f16", gemm_flops(m, n, k, 1), 1)?;
        let gpu = self.gpu();
        match (route, gpu) {
            (Route::Gpu, Some(gpu)) if gpu.features.contains(wgpu::Features::SHADER_F16) => gpu
                .scoped(|| {
                    let ga = self.upload_f16(a)?;
                    let gb = self.upload_f16(b)?;
                    ga.matmul(&gb)?.download()
                }),
            _ => {
                let a32 = a.map(f32::from);
                let b32 = b.map(f32::from);
                match route {
                    Route::Gpu => self.matmul(&a32, &b32),
                    _ => Ok(cpu::gemm(1.0, &a32, false, &b32, false, 0.0, None)),
                }
            }
        }
    }

    /// `A_i·B_i` for each pair, one dispatch for the batch on the GPU.
    pub fn matmul_batched(
        &self,
        a: &[DMatrix<f32>],
        b: &[DMatrix<f32>],
    ) -> Result<Vec<DMatrix<f32>>> {
        if a.len() != b.len() {
            return Err(Error::shape(
                "matmul_batched",
                format!("{} right-hand matrices", a.len()),
                format!("{}", b.len()),
            ));
        }
        let Some((a0, b0)) = a.first().zip(b.first()) else {
            return Ok(Vec::new());
        };
        check_inner("matmul_batched", a0.shape(), b0.shape())?;
        for (x, y) in a.iter().zip(b) {
            if x.shape() != a0.shape() || y.shape() != b0.shape() {
                return Err(Error::shape(
                    "matmul_batched",
                    format!(
                        "all A {}×{}, all B {}×{}",
                        a0.nrows(),
                        a0.ncols(),
                        b0.nrows(),
                        b0.ncols()
                    ),
                    format!(
                        "A {}×{}, B {}×{}",
                        x.nrows(),
                        x.ncols(),
                        y.nrows(),
                        y.ncols()
                    ),
                ));
            }
        }
        let (m, k, n) = (a0.nrows(), a0.ncols(), b0.ncols());
        match decide(
            self,
            "matmul_batched",
            gemm_flops(m, n, k, a.len()),
            a.len(),
        )? {
            Route::Gpu => {
                let gpu = self.gpu_or_err()?;
                gpu.scoped(|| {
                    let ga = self.upload_batch(a)?;
                    let gb = self.upload_batch(b)?;
                    ga.matmul(&gb)?.download_batch()
                })
            }
            _ => Ok(a.iter().zip(b).map(|(x, y)| x * y).collect()),
        }
    }
}

impl GpuMatrix {
    /// `self·b` (batched when either operand is a batch; a single matrix is
    /// broadcast over the other's batch).
    pub fn matmul(&self, b: &GpuMatrix) -> Result<GpuMatrix> {
        self.gemm_into(1.0, false, b, false, 0.0, None)
    }

    /// `op(self)·op(b)`.
    pub fn matmul_t(&self, ta: bool, b: &GpuMatrix, tb: bool) -> Result<GpuMatrix> {
        self.gemm_into(1.0, ta, b, tb, 0.0, None)
    }

    /// `alpha·op(self)·op(b) + beta·c` into a new matrix (`c` is not changed).
    pub fn gemm(
        &self,
        alpha: f32,
        ta: bool,
        b: &GpuMatrix,
        tb: bool,
        beta: f32,
        c: &GpuMatrix,
    ) -> Result<GpuMatrix> {
        self.gemm_into(alpha, ta, b, tb, beta, Some(c))
    }

    pub(crate) fn gemm_into(
        &self,
        alpha: f32,
        ta: bool,
        b: &GpuMatrix,
        tb: bool,
        beta: f32,
        c: Option<&GpuMatrix>,
    ) -> Result<GpuMatrix> {
        let op = "matmul";
        self.same_device(op, b)?;
        if self.half != b.half {
            return Err(Error::shape(
                op,
                "operands of one element type",
                "an f16 and an f32 operand",
            ));
        }
        let sa = op_shape(self.shape(), ta);
        let sb = op_shape(b.shape(), tb);
        check_inner(op, sa, sb)?;
        let (m, k, n) = (sa.0, sa.1, sb.1);
        let batch = match (self.batch, b.batch) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => {
                return Err(Error::shape(
                    op,
                    format!("batch {x} (or 1)"),
                    format!("batch {y}"),
                ))
            }
        };
        if let Some(c) = c {
            self.same_device(op, c)?;
            c.need_f32(op)?;
            if c.shape() != (m, n) || (c.batch != batch && c.batch != 1) {
                return Err(Error::shape(
                    op,
                    format!("C {batch}×{m}×{n}"),
                    format!("C {}×{}×{}", c.batch, c.rows, c.cols),
                ));
            }
        }
        let gpu = self.gpu();
        gpu.scoped(|| {
            let out = GpuMatrix::alloc(&self.ctx, op, m, n, batch)?;
            let mut enc = gpu.encoder("gemm");
            let c_src = match c.filter(|_| beta != 0.0) {
                Some(c) => {
                    // out = c first (broadcast when c is one matrix), then beta·out.
                    let bytes = (m * n * 4) as u64;
                    if c.batch == batch {
                        enc.copy_buffer_to_buffer(
                            c.buffer(),
                            0,
                            out.buffer(),
                            0,
                            bytes * batch as u64,
                        );
                    } else {
                        for z in 0..batch as u64 {
                            enc.copy_buffer_to_buffer(
                                c.buffer(),
                                0,
                                out.buffer(),
                                z * bytes,
                                bytes,
                            );
                        }
                    }
                    beta
                }
                None => 0.0,
            };
            let stride = |x: &GpuMatrix| if x.batch == 1 { 0 } else { x.len1() };
            let g = Gemm {
                m,
                n,
                k,
                batch,
                a: Operand {
                    buf: self.buffer(),
                    off: 0,
                    ld: self.rows,
                    stride: stride(self),
                },
                ta,
                b: Operand {
                    buf: b.buffer(),
                    off: 0,
                    ld: b.rows,
                    stride: stride(b),
                },
                tb,
                c: Operand {
                    buf: out.buffer(),
                    off: 0,
                    ld: m,
                    stride: m * n,
                },
                alpha,
                beta: c_src,
                half: self.half,
                lower_only: false,
            };
            match split_f16_for_matmul(gpu, &g) {
                Some((sg, cp)) => encode_split_f16(gpu, &mut enc, &g, cp, sg)?,
                None => encode_gemm(gpu, &mut enc, &g)?,
            }
            gpu.submit(enc);
            Ok(out)
        })
    }
}

#[cfg(test)]
mod split_tests {
    use super::*;

    /// The split of the split-f16 path (`split.wgsl`), which runs wherever
    /// f16 does (lavapipe included; the cooperative products need a GPU
    /// that has them): scales are powers of two that bring each row's
    /// (column's) largest magnitude into [2^14, 2^15), hi + lo gives the
    /// scaled entry to 2^-22 of that largest magnitude, the padding is
    /// zero; on random, badly scaled and wide-range entries and an odd
    /// shape with an offset and a leading dimension.
    #[test]
    fn split_parts_reconstruct_the_scaled_operand() {
        let Some(ctx) = crate::testing::gpu_context(wgpu::Features::SHADER_F16, "the split") else {
            return;
        };
        let gpu = ctx.gpu().expect("gpu");
        let mut half = crate::testing::xorshift(1);
        // in [-1, 1)
        let mut next = move || 2.0 * half();
        // (rows, cols, ld, off, kind)
        for &(rows, cols, ld, off, kind) in &[
            (37usize, 29usize, 41usize, 3usize, "random"),
            (64, 48, 64, 0, "badly scaled"),
            (33, 70, 35, 5, "wide range"),
        ] {
            let mut x = vec![0.0f32; off + ld * cols];
            for l in 0..cols {
                for i in 0..rows {
                    let v = next();
                    x[off + i + l * ld] = match kind {
                        "random" => v as f32,
                        "badly scaled" => {
                            (v * 2f64.powi(((i * 7 + l * 3) % 61) as i32 - 30)) as f32
                        }
                        _ => (v * 2f64.powi((next() * 20.0).round() as i32)) as f32,
                    };
                }
            }
            let buf = gpu
                .storage_from("test", bytemuck::cast_slice(&x), "x")
                .unwrap();
            let xop = Operand {
                buf: buf.buffer(),
                off,
                ld,
                stride: 0,
            };
            for by_rows in [true, false] {
                // A (by rows): k along the columns, padded to 16; B: k
                // along the rows
                let (prow, pcol) = match by_rows {
                    true => (rows.next_multiple_of(8), cols.next_multiple_of(16)),
                    false => (rows.next_multiple_of(16), cols),
                };
                let mut enc = gpu.encoder("test");
                let parts =
                    encode_split_parts(gpu, &mut enc, &xop, (rows, cols), (prow, pcol), by_rows)
                        .unwrap();
                gpu.submit(enc);
                let bytes = gpu
                    .read_bytes(parts.parts.buffer(), 0, (3 * prow * pcol * 2) as u64)
                    .unwrap();
                let all: Vec<f64> = bytemuck::pod_collect_to_vec::<u8, u16>(&bytes)
                    .into_iter()
                    .map(|h| f64::from(f16::from_bits(h).to_f32()))
                    .collect();
                // (hi, lo) of padded entry (i, l), both copies of hi equal
                let at = |i: usize, l: usize| -> (f64, f64) {
                    let [lo, hi, hi2] = if by_rows {
                        let col = 48 * (l / 16) + l % 16;
                        [col, col + 16, col + 32].map(|c| all[i + c * prow])
                    } else {
                        let row = 48 * (i / 16) + i % 16 + l * 3 * prow;
                        [row + 16, row, row + 32].map(|r| all[r])
                    };
                    assert_eq!(hi, hi2, "({i}, {l}): the two copies of hi");
                    (hi, lo)
                };
                let nsc = if by_rows { rows } else { cols };
                let sc = gpu
                    .read_f32(parts.scales.buffer(), 0, (2 * nsc) as u64)
                    .unwrap();
                let what = format!("{kind} {rows}x{cols} by rows {by_rows}");
                for g in 0..nsc {
                    let (sv, inv) = (f64::from(sc[2 * g]), f64::from(sc[2 * g + 1]));
                    assert_eq!(sv * inv, 1.0, "{what}: scale {g}");
                    assert_eq!(sv.log2().fract(), 0.0, "{what}: scale {g} a power of two");
                    let entries: Vec<(usize, usize)> = match by_rows {
                        true => (0..cols).map(|l| (g, l)).collect(),
                        false => (0..rows).map(|i| (i, g)).collect(),
                    };
                    let mx = entries
                        .iter()
                        .map(|&(i, l)| f64::from(x[off + i + l * ld]).abs() * sv)
                        .fold(0.0, f64::max);
                    assert!(
                        (2f64.powi(14)..2f64.powi(15)).contains(&mx),
                        "{what}: largest scaled magnitude {mx} of {g}"
                    );
                    for &(i, l) in &entries {
                        let want = f64::from(x[off + i + l * ld]) * sv;
                        let (hi, lo) = at(i, l);
                        let err = (hi + lo - want).abs();
                        assert!(
                            err <= mx * 2f64.powi(-22),
                            "{what}: ({i}, {l}): {hi} + {lo} vs {want}"
                        );
                    }
                }
                for l in 0..pcol {
                    for i in 0..prow {
                        if i >= rows || l >= cols {
                            assert_eq!(at(i, l), (0.0, 0.0), "{what}: padding");
                        }
                    }
                }
            }
        }
    }
}
