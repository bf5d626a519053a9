//! GPU launch sequences of the blocked factorizations (LAPACK pattern): a
//! narrow panel factorized inside one workgroup, then a trailing update that
//! is a GEMM. Everything is recorded into one command encoder; pivots and
//! failure flags stay in GPU buffers.

use crate::error::Result;
use crate::gpu::pool::PooledBuffer;
use crate::gpu::Recorder;
use crate::gpu::{params_bytes, Gpu, Kernel};
use crate::ops::blas1::encode_laswp;
use crate::ops::matmul::{encode_gemm, Gemm, Operand};
use crate::ops::{
    env_usize, panels_in_registers, reg_panel, reg_panel_cols, u32_of, with_override,
};

thread_local! {
    static FORCED_LU: std::cell::Cell<Option<(usize, usize)>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with every LU recorded on this thread blocked as `nb`-wide
/// panels in outer blocks of `outer` panels (`nb`·`outer` ≤ 64), whatever
/// the shape and the environment say. For tests of the two-level
/// blocking at sizes the rule keeps on one level.
#[doc(hidden)]
pub fn with_lu_blocking<T>(nb: usize, outer: usize, f: impl FnOnce() -> T) -> T {
    with_override(&FORCED_LU, (nb.clamp(1, 64), outer.max(1)), f)
}

/// Block sizes of the blocked factorizations, with automatic defaults.
#[derive(Clone, Copy, Debug)]
pub struct FactorParams {
    /// Cholesky block column width (≤ 64: the diagonal block lives in
    /// workgroup memory).
    pub chol_nb: usize,
    /// Inner blocks per outer Cholesky block column (1 ..= 4): the depth
    /// of the trailing update is `chol_outer`·`chol_nb`.
    pub chol_outer: usize,
    /// LU panel width (8 ..= 64), or 0 for the width by shape
    /// ([`FactorParams::lu_blocking`]).
    pub lu_nb: usize,
    /// LU panels per outer block column (1 ..= 8; the depth of the
    /// trailing update is `lu_outer`·`lu_nb`, at most 64), or 0 for the
    /// count by shape.
    pub lu_outer: usize,
    /// Triangular-solve diagonal block (≤ 64).
    pub trsm_nb: usize,
    /// Recorded steps (launches) after which the blocked loops submit what
    /// they have, so that the GPU starts while the host records the rest
    /// (parts growing from 8 steps up to this many: `Gpu::flush_after`).
    pub flush_steps: usize,
}

impl Default for FactorParams {
    /// 64 / 16 / 64, or `WGPU_LINALG_CHOL_NB`, `WGPU_LINALG_LU_NB`,
    /// `WGPU_LINALG_TRSM_NB` (each 8..=64) for tuning runs; submissions
    /// every 96 steps, or `WGPU_LINALG_FLUSH_STEPS`. The environment is
    /// read once per process.
    fn default() -> Self {
        static FROM_ENV: std::sync::OnceLock<FactorParams> = std::sync::OnceLock::new();
        *FROM_ENV.get_or_init(FactorParams::from_env)
    }
}

impl FactorParams {
    /// LU panel width and panels per outer block for an m×n matrix:
    /// 8-wide panels in outer blocks of 8 (64 deep) at every size while
    /// the panels are held in registers ([`panels_in_registers`]: two
    /// dispatches per panel), and without them from min(m, n) = 4096,
    /// with 16-wide panels alone below. With streaming panels on an H200
    /// (benches/RESULTS.md, 2026-12-01) solve took 38.1 / 110.4 ms at
    /// n = 4096 / 8192 with (8, 8) against 41.7 / 153.6 ms with (16, 1),
    /// and at n = 1024 6.8 ms with (16, 1) against 10.3 ms with (8, 8);
    /// with register-held panels (8, 8) took 5.7 ms at n = 1024.
    /// `WGPU_LINALG_LU_NB` and `WGPU_LINALG_LU_OUTER` override either.
    pub(crate) fn lu_blocking(&self, m: usize, n: usize) -> (usize, usize) {
        if let Some(forced) = FORCED_LU.with(|f| f.get()) {
            return forced;
        }
        // the register-held panel takes two dispatches per panel against
        // six around getf2_panel, so narrow panels pay at every size
        let big = panels_in_registers() || m.min(n) >= 4096;
        let nb = match self.lu_nb {
            0 if big => 8,
            0 => 16,
            nb => nb,
        };
        let outer = match self.lu_outer {
            0 if big => 8,
            0 => 1,
            o => o,
        };
        (nb, outer)
    }

    /// Columns of an LU outer block for an m×n matrix (at most 64: its
    /// inverted diagonal block lives in one workgroup).
    pub(crate) fn lu_panel_cols(&self, m: usize, n: usize) -> usize {
        let (nb, outer) = self.lu_blocking(m, n);
        (nb * outer).clamp(nb, 64)
    }

    /// Columns of the packed Cholesky panel (`Scratch` block width for
    /// [`encode_potrf`]).
    pub(crate) fn chol_panel_cols(&self) -> usize {
        self.chol_nb * self.chol_outer
    }

    fn from_env() -> FactorParams {
        // the switch when set within `range`, else `default`
        let env = |name: &str, range: std::ops::RangeInclusive<usize>, default: usize| {
            env_usize(name)
                .filter(|v| range.contains(v))
                .unwrap_or(default)
        };
        FactorParams {
            chol_nb: env("WGPU_LINALG_CHOL_NB", 8..=64, 64),
            chol_outer: env("WGPU_LINALG_CHOL_OUTER", 1..=4, 2),
            lu_nb: env("WGPU_LINALG_LU_NB", 8..=64, 0),
            trsm_nb: env("WGPU_LINALG_TRSM_NB", 8..=64, 64),
            lu_outer: env("WGPU_LINALG_LU_OUTER", 1..=8, 0),
            flush_steps: env("WGPU_LINALG_FLUSH_STEPS", 1..=usize::MAX, 96),
        }
    }
}

/// Uniform block of `wgsl/factor/blocked.wgsl` (`FParams`).
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct FUniform {
    m: u32,
    n: u32,
    k0: u32,
    nb: u32,
    lda: u32,
    ldt: u32,
    t_off: u32,
    flags: u32,
    mode: u32,
    b_off: u32,
    o_off: u32,
    pad: u32,
}

/// Flags of a triangular solve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TriFlags {
    pub upper: bool,
    pub trans: bool,
    pub unit: bool,
}

impl TriFlags {
    fn bits(self) -> u32 {
        self.upper as u32 | (self.trans as u32) << 1 | (self.unit as u32) << 2
    }
}

/// A 2-D grid of `groups` workgroups within the per-dimension limit.
fn grid(gpu: &Gpu, groups: usize) -> [u32; 3] {
    let max = gpu.max_groups() as usize;
    let groups = groups.max(1);
    if groups <= max {
        [groups as u32, 1, 1]
    } else {
        [max as u32, groups.div_ceil(max) as u32, 1]
    }
}

/// Scratch buffers of the blocked factorizations: each role its own
/// buffer, because one dispatch may not bind a buffer both read-only and
/// read-write.
pub(crate) struct Scratch {
    pub(crate) inv: PooledBuffer,
    pub(crate) p2: PooledBuffer,
    pub(crate) p3: PooledBuffer,
}

impl Scratch {
    /// Hands the buffers to the recording that uses them.
    pub(crate) fn keep_in(self, rec: &mut Recorder) {
        rec.keep(self.inv);
        rec.keep(self.p2);
        rec.keep(self.p3);
    }

    /// For an m×n matrix with blocks of `nb` columns.
    pub(crate) fn new(
        gpu: &Gpu,
        op: &'static str,
        m: usize,
        n: usize,
        nb: usize,
    ) -> Result<Scratch> {
        let f = |x: usize| ((x.max(1)) * 4) as u64;
        Ok(Scratch {
            inv: gpu.storage(op, f(nb * nb), "factor scratch: block inverse")?,
            p2: gpu.storage(op, f(m.max(n) * nb), "factor scratch: packed panel 2")?,
            p3: gpu.storage(op, f(m.max(n) * nb), "factor scratch: packed panel 3")?,
        })
    }
}

/// W ← T_kk⁻¹ for the lower-triangular nb×nb block of T at (k0, k0).
#[allow(clippy::too_many_arguments)]
fn encode_trtri_lower(
    gpu: &Gpu,
    enc: &mut Recorder,
    t: &wgpu::Buffer,
    ldt: usize,
    k0: usize,
    nb: usize,
    unit: bool,
    w: &wgpu::Buffer,
) -> Result<()> {
    let u = FUniform {
        k0: u32_of("trtri", k0)?,
        nb: nb as u32,
        ldt: u32_of("trtri", ldt)?,
        flags: TriFlags {
            upper: false,
            trans: false,
            unit,
        }
        .bits(),
        ..Default::default()
    };
    gpu.launch(
        enc,
        "trtri lower",
        Kernel::Factor,
        "trtri_lower",
        &[],
        &params_bytes(&u),
        &[(1, t), (5, w)],
        [1, 1, 1],
    );
    Ok(())
}

/// A plain GEMM C = alpha·op(A)·op(B) + beta·C on column-major operands.
#[allow(clippy::too_many_arguments)]
fn gemm(
    gpu: &Gpu,
    enc: &mut Recorder,
    (m, n, k): (usize, usize, usize),
    a: Operand<'_>,
    ta: bool,
    b: Operand<'_>,
    tb: bool,
    c: Operand<'_>,
    alpha: f32,
    beta: f32,
    lower_only: bool,
) -> Result<()> {
    encode_gemm(
        gpu,
        enc,
        &Gemm {
            m,
            n,
            k,
            batch: 1,
            a,
            ta,
            b,
            tb,
            c,
            alpha,
            beta,
            half: false,
            lower_only,
        },
    )
}

fn opnd(buf: &wgpu::Buffer, off: usize, ld: usize) -> Operand<'_> {
    Operand {
        buf,
        off,
        ld,
        stride: 0,
    }
}

/// Records the Cholesky factorization of the n×n matrix in `a` (leading
/// dimension `lda`) in place: L in the lower triangle, exact zeros above.
/// `info[0]` (zeroed by the caller) receives column + 1 of the first
/// non-positive pivot. `sc.p2` holds at least n × [`FactorParams::chol_panel_cols`]
/// floats, `sc.p3` at least n × `chol_nb`.
///
/// Two levels of blocking. An outer block column of up to
/// `chol_outer`·`chol_nb` columns is factorized `chol_nb` columns at a
/// time, each block in one dispatch (`potrf_block`: the diagonal block
/// factorized redundantly in every workgroup beside 64 rows of the panel
/// L21 = A21·L11⁻ᵀ, which it writes in place and packs into P, the outer
/// block's packed panel; L11 goes to `sc.p3` until `potrf_finish` copies
/// the diagonal blocks back at the end), and, when more inner blocks
/// follow, the update of the outer block's remaining columns alone (a
/// GEMM at most 192 wide). The trailing lower triangle then takes one
/// GEMM with the whole outer panel: with two inner blocks its depth is 128
/// instead of 64, which the tiled GEMM runs at a higher rate.
pub(crate) fn encode_potrf(
    gpu: &Gpu,
    enc: &mut Recorder,
    a: &wgpu::Buffer,
    n: usize,
    lda: usize,
    info: &wgpu::Buffer,
    sc: &Scratch,
) -> Result<()> {
    let op = "cholesky";
    let fp = FactorParams::default();
    let nb_max = fp.chol_nb;
    let p = sc.p2.buffer();
    let dg = sc.p3.buffer();
    let mut u = FUniform {
        m: u32_of(op, n)?,
        n: u32_of(op, n)?,
        lda: u32_of(op, lda)?,
        ..Default::default()
    };
    for (k0, w) in blocks(0, n, fp.chol_outer * nb_max) {
        // the outer block k0 .. kend; P's row 0 is row `base` of A
        let kend = k0 + w;
        let base = k0 + nb_max.min(n - k0);
        let ld = n - base;
        for (kk, nb) in blocks(k0, kend, nb_max) {
            gpu.flush_after(enc, fp.flush_steps);
            let k1 = kk + nb;
            u.k0 = kk as u32;
            u.nb = nb as u32;
            let rows = n - k1;
            // this block's columns of P, from its row k1
            let p_off = (k1 - base) + (kk - k0) * ld;
            let pu = FUniform {
                ldt: u32_of(op, ld)?,
                o_off: u32_of(op, p_off)?,
                ..u
            };
            gpu.launch(
                enc,
                "potrf block",
                Kernel::Factor,
                "potrf_block",
                &[],
                &params_bytes(&pu),
                &[(2, a), (3, info), (5, dg), (6, p)],
                [rows.div_ceil(64).max(1) as u32, 1, 1],
            );
            if k1 >= n {
                break;
            }
            if k1 < kend {
                // the outer block's columns right of this inner block:
                // A[k1.., k1..kend] −= L21·L21[0:kend−k1]ᵀ
                gemm(
                    gpu,
                    enc,
                    (rows, kend - k1, nb),
                    opnd(p, p_off, ld),
                    false,
                    opnd(p, p_off, ld),
                    true,
                    opnd(a, k1 + k1 * lda, lda),
                    -1.0,
                    1.0,
                    false,
                )?;
            }
        }
        if kend < n {
            // trailing A22 −= P·Pᵀ over the outer block's rows below it
            // (lower triangle), depth kend − k0
            let rows = n - kend;
            gemm(
                gpu,
                enc,
                (rows, rows, kend - k0),
                opnd(p, kend - base, ld),
                false,
                opnd(p, kend - base, ld),
                true,
                opnd(a, kend + kend * lda, lda),
                -1.0,
                1.0,
                true,
            )?;
        }
    }
    let fu = FUniform {
        ldt: u32_of(op, n)?,
        nb: u32_of(op, nb_max)?,
        ..u
    };
    gpu.launch(
        enc,
        "potrf finish",
        Kernel::Factor,
        "potrf_finish",
        &[],
        &params_bytes(&fu),
        &[(1, dg), (2, a)],
        [n.div_ceil(16) as u32, n.div_ceil(16) as u32, 1],
    );
    Ok(())
}

/// The blocks `(first, width)` of `width` columns from `start` to `end`,
/// the last one cut at `end`: the outer and the inner loops of the
/// two-level blocked factorizations.
fn blocks(start: usize, end: usize, width: usize) -> impl Iterator<Item = (usize, usize)> {
    (start..end)
        .step_by(width.max(1))
        .map(move |b| (b, width.min(end - b)))
}

/// Records `B ← op(T)⁻¹·B` for an n×n triangular T (in `t` at `t_off`,
/// leading dimension `ldt`) and n×nrhs B (in `b`, leading dimension `ldb`):
/// diagonal blocks solved four columns per workgroup (and packed for the
/// update), off-diagonal updates as GEMMs: two dispatches per block. The
/// diagonal solve passes each finished x to the other rows of its group
/// by subgroup shuffles where the adapter has SUBGROUP (`trsm_diag_sg`;
/// on an H200 2.53 → 1.50 ms for the two 1-RHS solves at n = 4096,
/// benches/RESULTS.md, 2026-12-01), else through workgroup memory
/// (`trsm_diag_pack`). `scratch` holds at least nb·nrhs floats.
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_trsm(
    gpu: &Gpu,
    enc: &mut Recorder,
    t: &wgpu::Buffer,
    t_off: usize,
    ldt: usize,
    n: usize,
    flags: TriFlags,
    b: &wgpu::Buffer,
    ldb: usize,
    nrhs: usize,
    scratch: &wgpu::Buffer,
) -> Result<()> {
    if n == 0 || nrhs == 0 {
        return Ok(());
    }
    let op = "solve_triangular";
    let fp = FactorParams::default();
    let nb_max = fp.trsm_nb;
    let eff_lower = flags.upper == flags.trans;
    // the diagonal solve with subgroup broadcasts where the adapter has them
    let (kernel, entry) = if gpu.features.contains(wgpu::Features::SUBGROUP) {
        (Kernel::FactorSubgroup, "trsm_diag_sg")
    } else {
        (Kernel::Factor, "trsm_diag_pack")
    };
    let mut order: Vec<(usize, usize)> = blocks(0, n, nb_max).collect();
    if !eff_lower {
        order.reverse();
    }
    let mut u = FUniform {
        m: u32_of(op, n)?,
        n: u32_of(op, nrhs)?,
        lda: u32_of(op, ldb)?,
        ldt: u32_of(op, ldt)?,
        t_off: u32_of(op, t_off)?,
        flags: flags.bits(),
        ..Default::default()
    };
    for (k0, nb) in order {
        gpu.flush_after(enc, fp.flush_steps);
        u.k0 = k0 as u32;
        u.nb = nb as u32;
        // X_k in place and packed into scratch
        gpu.launch(
            enc,
            "trsm diag",
            kernel,
            entry,
            &[],
            &params_bytes(&u),
            &[(1, t), (2, b), (5, scratch)],
            grid(gpu, nrhs.div_ceil(4)),
        );
        let k1 = k0 + nb;
        // rows still to update: below the block (forward) or above (backward)
        let (r0, rows) = if eff_lower { (k1, n - k1) } else { (0, k0) };
        if rows == 0 {
            continue;
        }
        // B[r0.., :] -= op(T)[r0.., k0..k1] · X_k
        // op(T)[r, c] = T[r, c] (no transpose) or T[c, r] (transpose)
        let t_blk = if flags.trans {
            t_off + k0 + r0 * ldt
        } else {
            t_off + r0 + k0 * ldt
        };
        encode_gemm(
            gpu,
            enc,
            &Gemm {
                m: rows,
                n: nrhs,
                k: nb,
                batch: 1,
                a: Operand {
                    buf: t,
                    off: t_blk,
                    ld: ldt,
                    stride: 0,
                },
                ta: flags.trans,
                b: Operand {
                    buf: scratch,
                    off: 0,
                    ld: nb,
                    stride: 0,
                },
                tb: false,
                c: Operand {
                    buf: b,
                    off: r0,
                    ld: ldb,
                    stride: 0,
                },
                alpha: -1.0,
                beta: 1.0,
                half: false,
                lower_only: false,
            },
        )?;
    }
    Ok(())
}

/// Records LU with partial pivoting of the m×n matrix in `a` in place
/// (LAPACK `getrf`): packed L\U, absolute 0-based pivots in `ipiv`
/// (min(m, n) u32), `info[0]` = column + 1 of the first exactly zero pivot.
/// `sc` is sized for blocks of [`FactorParams::lu_panel_cols`] columns.
///
/// Two levels of blocking ([`FactorParams::lu_blocking`]). An outer block
/// column of up to `outer` inner panels of `nb` columns is factorized
/// panel by panel: the panel
/// in one workgroup (`getf2_panel`), its row swaps on the outer block's
/// other columns, and the update of the outer block's columns right of
/// it ([`lu_update`]). Then the outer block's swaps go to the columns
/// left and right of it, and one [`lu_update`] as deep as the outer block
/// updates the trailing matrix: the one-workgroup panels stay narrow
/// (their time per column grows with their width) while the trailing
/// GEMM keeps its depth.
#[allow(clippy::too_many_arguments)]
pub(crate) fn encode_getrf(
    gpu: &Gpu,
    enc: &mut Recorder,
    a: &wgpu::Buffer,
    m: usize,
    n: usize,
    lda: usize,
    ipiv: &wgpu::Buffer,
    info: &wgpu::Buffer,
    sc: &Scratch,
) -> Result<()> {
    let op = "lu";
    let kmax = m.min(n);
    let (getf2_kernel, reg_kernel, reg4_kernel) = if gpu.features.contains(wgpu::Features::SUBGROUP)
    {
        (
            Kernel::Getf2Subgroup,
            Kernel::Getf2RegSubgroup,
            Kernel::Getf2Reg4Subgroup,
        )
    } else {
        (Kernel::Getf2, Kernel::Getf2Reg, Kernel::Getf2Reg4)
    };
    let fp = FactorParams::default();
    let (nb_max, _) = fp.lu_blocking(m, n);
    let in_registers = panels_in_registers();
    let mut u = FUniform {
        m: u32_of(op, m)?,
        n: u32_of(op, n)?,
        lda: u32_of(op, lda)?,
        ..Default::default()
    };
    for (k0, w) in blocks(0, kmax, fp.lu_panel_cols(m, n)) {
        let kend = k0 + w;
        let rows = m - k0;
        let reg = reg_panel(rows).filter(|_| in_registers && rows <= lu_reg_rows());
        let nb_block = reg.map_or(nb_max, |(_, rpi)| nb_max.min(reg_panel_cols(rpi)));
        for (kk, nb) in blocks(k0, kend, nb_block) {
            gpu.flush_after(enc, fp.flush_steps);
            let k1 = kk + nb;
            u.k0 = kk as u32;
            u.nb = nb as u32;
            if let Some((pw, rpi)) = reg {
                // the panel, its interchanges on the outer block and U12 in
                // one dispatch; then the rank-nb update below U12
                let pu = FUniform {
                    b_off: u32_of(op, k0)?,
                    o_off: u32_of(op, kend)?,
                    ..u
                };
                gpu.launch(
                    enc,
                    "getf2 block",
                    if nb_block <= 4 {
                        reg4_kernel
                    } else {
                        reg_kernel
                    },
                    "getf2_block",
                    &[("PW", pw as f64), ("RPI", rpi as f64)],
                    &params_bytes(&pu),
                    &[(2, a), (3, info), (4, ipiv)],
                    [1, 1, 1],
                );
                if k1 < kend && k1 < m {
                    gpu.launch(
                        enc,
                        "lu rank update",
                        Kernel::Factor,
                        "lu_rank_update",
                        &[],
                        &params_bytes(&pu),
                        &[(2, a)],
                        [
                            u32_of(op, (m - k1).div_ceil(64))?,
                            u32_of(op, (kend - k1).div_ceil(32))?,
                            1,
                        ],
                    );
                }
                continue;
            }
            gpu.launch(
                enc,
                "getf2 panel",
                getf2_kernel,
                "getf2_panel",
                &[],
                &params_bytes(&u),
                &[(2, a), (3, info), (4, ipiv)],
                [1, 1, 1],
            );
            // the panel's interchanges on the outer block's other columns
            encode_laswp(
                gpu,
                enc,
                a,
                m,
                lda,
                k0,
                (kend - k0) - nb,
                ipiv,
                kk,
                k1,
                (kk - k0, k1 - k0),
            )?;
            if k1 < kend {
                lu_update(gpu, enc, a, (m, lda), (kk, nb), kend, sc, u)?;
            }
        }
        // the outer block's interchanges left and right of it, then the
        // trailing update as deep as the outer block
        encode_laswp(
            gpu,
            enc,
            a,
            m,
            lda,
            0,
            n - (kend - k0),
            ipiv,
            k0,
            kend,
            (k0, kend),
        )?;
        if kend < n {
            lu_update(gpu, enc, a, (m, lda), (k0, w), n, sc, u)?;
        }
    }
    Ok(())
}

/// Rows up to which the LU panel is held in registers: 8192 (the most
/// [`reg_panel`] takes), or `WGPU_LINALG_LU_REG_ROWS`; taller panels take
/// `getf2_panel`.
fn lu_reg_rows() -> usize {
    static ROWS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *ROWS.get_or_init(|| env_usize("WGPU_LINALG_LU_REG_ROWS").unwrap_or(8192))
}

/// After the LU of the block column kb .. kb+w (pivots applied to its
/// columns and to columns kb+w .. col_end): U12 = L11⁻¹·A12 for columns
/// kb+w .. col_end, by substitution in place where the adapter has
/// subgroups (`trsm_diag_sg`), else as U12ᵀ = A12ᵀ·L11⁻ᵀ on the (narrow)
/// GEMM with the inverted unit-lower block and written back; L21 packed
/// (with that write-back, one dispatch); and A22 −= L21·U12 over rows
/// kb+w .. m and those columns.
#[allow(clippy::too_many_arguments)]
fn lu_update(
    gpu: &Gpu,
    enc: &mut Recorder,
    a: &wgpu::Buffer,
    (m, lda): (usize, usize),
    (kb, w): (usize, usize),
    col_end: usize,
    sc: &Scratch,
    u: FUniform,
) -> Result<()> {
    let op = "lu";
    let k1 = kb + w;
    let cols = col_end - k1;
    let rows = m - k1;
    // U12 packed in p2: w × cols (leading dimension w), or its transpose
    let u12_transposed = if gpu.features.contains(wgpu::Features::SUBGROUP) {
        // U12 = L11⁻¹·A12 by substitution (trsm_diag_sg, four columns per
        // workgroup), in place and packed, L11 read from a. On an H200
        // (benches/RESULTS.md, 2026-12-01) this took 2.78 ms at n = 4096
        // with trsm_diag_pack's shared-memory chain, slower than the
        // inverse below (1.82 ms); with subgroup broadcasts it is faster.
        let tu = FUniform {
            n: u32_of(op, cols)?,
            k0: u32_of(op, kb)?,
            nb: u32_of(op, w)?,
            ldt: u32_of(op, lda)?,
            t_off: 0,
            flags: TriFlags {
                upper: false,
                trans: false,
                unit: true,
            }
            .bits()
                | 8,
            b_off: u32_of(op, k1 * lda)?,
            ..u
        };
        gpu.launch(
            enc,
            "lu u12 trsm",
            Kernel::FactorSubgroup,
            "trsm_diag_sg",
            &[],
            &params_bytes(&tu),
            &[(1, sc.p3.buffer()), (2, a), (5, sc.p2.buffer())],
            grid(gpu, cols.div_ceil(4)),
        );
        false
    } else {
        // U12ᵀ = A12ᵀ·L11⁻ᵀ on the (narrow) GEMM with the inverted block
        encode_trtri_lower(gpu, enc, a, lda, kb, w, true, sc.inv.buffer())?;
        gemm(
            gpu,
            enc,
            (cols, w, w),
            opnd(a, kb + k1 * lda, lda),
            true,
            opnd(sc.inv.buffer(), 0, w),
            true,
            opnd(sc.p2.buffer(), 0, cols),
            1.0,
            0.0,
            false,
        )?;
        true
    };
    // U12 written back from its transpose (workgroups below g1) and L21
    // packed into p3, in one dispatch
    let g1 = if u12_transposed {
        (w * cols).div_ceil(256)
    } else {
        0
    };
    let g2 = (rows * w).div_ceil(256);
    let pu = FUniform {
        k0: u32_of(op, kb)?,
        nb: u32_of(op, w)?,
        ldt: u32_of(op, cols)?,
        mode: u32_of(op, g1)?,
        ..u
    };
    gpu.launch(
        enc,
        &format!("lu pack {rows}x{w}x{cols}"),
        Kernel::Factor,
        "lu_pack",
        &[],
        &params_bytes(&pu),
        &[(1, sc.p2.buffer()), (2, a), (6, sc.p3.buffer())],
        [u32_of(op, g1 + g2)?, 1, 1],
    );
    if rows > 0 {
        // A22 −= L21·U12 = p3·p2 (or p3·p2ᵀ)
        let ld_u12 = if u12_transposed { cols } else { w };
        gemm(
            gpu,
            enc,
            (rows, cols, w),
            opnd(sc.p3.buffer(), 0, rows),
            false,
            opnd(sc.p2.buffer(), 0, ld_u12),
            u12_transposed,
            opnd(a, k1 + k1 * lda, lda),
            -1.0,
            1.0,
            false,
        )?;
    }
    Ok(())
}
