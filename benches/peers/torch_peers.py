#!/usr/bin/env python3
"""Peer benchmark: PyTorch (cuBLAS / cuSOLVER) on a CUDA GPU.

Times the same operations and shapes as the wgpu-linalg bench so the two
JSON files can be joined by benches/compare.py on (op, shape, batch).

Method per (op, shape): three fresh seeded random input sets are built on
the GPU (never zeros); the op is warmed up at least 3 times (the last warm-up
is timed as a probe), then each repetition is timed with CUDA events around
it, and the median is reported.  Reps: 20 for ops under 100 ms, 5 for ops
under 1 s, 3 beyond that; --quick halves (at least 3).  Repetitions rotate
through the three input sets so cached operands do not flatter.  Ops whose
probe is under 1 ms run a short inner loop between the two events (the time
is divided by the loop count) so the CUDA launch gap does not dominate.

TF32 is disabled everywhere: f32 means true f32 arithmetic.

Usage:
    torch_peers.py --out peers.json [--ops matmul,cholesky] [--quick]
                   [--sizes 1024,4096 | --sizes 8192x32x8192 | --sizes 10000@16]

--sizes replaces the default shape list of every selected op.  Items are
N (square), MxN, or MxKxN (matmul ops), optionally prefixed BATCH@ for the
batched ops (default batch: the op's first default batch).  Items that do not
fit an op (BATCH@ on an unbatched op, MxN on a square-only op, ...) are
skipped for that op with a note.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import math
import os
import statistics
import sys
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")

ROUTE = "torch-cuda"
TOPK = 32  # svd_topk: q of torch.svd_lowrank
N_SETS = 3  # distinct random input sets rotated through
WARMUP = 3
FAST_MS = 100.0
SLOW_MS = 1000.0
INNER_TARGET_MS = 1.0
INNER_MAX = 64


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------
# Input generation
# --------------------------------------------------------------------------

def randn(shape: tuple[int, ...], seed: int, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator(device="cuda")
    g.manual_seed(seed)
    return torch.randn(*shape, generator=g, device="cuda", dtype=dtype)


def bshape(batch: int, batched: bool, *dims: int) -> tuple[int, ...]:
    return (batch, *dims) if batched else tuple(dims)


def spd(batch: int, batched: bool, n: int, seed: int) -> torch.Tensor:
    """A = X X^T / n + I (symmetric positive definite)."""
    x = randn(bshape(batch, batched, n, n), seed)
    a = torch.matmul(x, x.mT)
    a.div_(n)
    a.diagonal(dim1=-2, dim2=-1).add_(1.0)
    del x
    return a


# --------------------------------------------------------------------------
# Op table
# --------------------------------------------------------------------------

Case = tuple[int, tuple[int, ...]]  # (batch, dims)


@dataclass
class Op:
    name: str
    dtype: str  # "f32" | "f16"
    batched: bool
    kind: str  # "mm" (dims m,k,n) | "sq" (n,n) | "rect" (m,n)
    defaults: list[Case]
    make: Callable[[int, tuple[int, ...], int], tuple]  # (batch, dims, seed) -> args
    run: Callable[..., Any]
    flops: Callable[[int, tuple[int, ...]], Optional[float]]

    def shape_str(self, dims: tuple[int, ...]) -> str:
        return "x".join(str(d) for d in dims)


def _mm_make(dtype, batched):
    def make(batch, dims, seed):
        m, k, n = dims
        a = randn(bshape(batch, batched, m, k), seed, dtype)
        b = randn(bshape(batch, batched, k, n), seed + 7919, dtype)
        return (a, b)
    return make


def _rand_make(batched):
    def make(batch, dims, seed):
        m, n = dims
        return (randn(bshape(batch, batched, m, n), seed),)
    return make


def _spd_make(batched):
    def make(batch, dims, seed):
        return (spd(batch, batched, dims[0], seed),)
    return make


def _solve_make(batched):
    def make(batch, dims, seed):
        n = dims[0]
        a = randn(bshape(batch, batched, n, n), seed)
        b = randn(bshape(batch, batched, n, 1), seed + 7919)
        return (a, b)
    return make


def spectrum_factors(n: int):
    """The unit vectors u, v and the singular values s of known_spectrum."""
    i = torch.arange(n, device="cuda", dtype=torch.float64)
    u = torch.sin(0.37 * i + 0.1)
    u /= u.norm()
    v = torch.cos(0.11 * i) + 0.5
    v /= v.norm()
    s = 1.0 / (1.0 + i / 8.0)
    return u, s, v


def known_spectrum(n: int):
    """A = (I - 2uu^T) diag(s) (I - 2vv^T), s_k = 1/(1 + k/8), as the Rust
    bench builds it (examples/bench.rs, known_spectrum): singular values
    exactly s, right singular vectors (I - 2vv^T) e_k. Returns A in f32."""
    u, s, v = spectrum_factors(n)
    c = (u * s * v).sum()
    a = -2.0 * torch.outer(u, u * s) - 2.0 * torch.outer(s * v, v) + 4.0 * c * torch.outer(u, v)
    a.diagonal().add_(s)
    return a.float()


def _topk_make(batch, dims, seed):
    return (known_spectrum(dims[0]),)


def topk_accuracy(a: torch.Tensor) -> dict:
    """Largest singular-value error relative to sigma_1 and largest sine of
    the angle between a computed right vector and the exact top-k right
    subspace, as the Rust bench measures them."""
    _, s, v = spectrum_factors(a.shape[0])
    _, sv, vv = torch.svd_lowrank(a, q=TOPK, niter=4)
    k = TOPK
    sv_err = ((sv.double() - s[:k]).abs() / s[0]).max().item()
    x = vv.double()  # n x k, columns are right vectors
    w = x - 2.0 * torch.outer(v, v @ x)
    sin = (w[k:].norm(dim=0) / w.norm(dim=0)).max().item()
    return {"sv_err": sv_err, "sin_theta": sin}


def _lstsq_make(batch, dims, seed):
    m, n = dims
    return (randn((m, n), seed), randn((m, 1), seed + 7919))


def _sym_make(batch, dims, seed):
    n = dims[0]
    x = randn((n, n), seed)
    s = x + x.mT
    del x
    return (s,)


def _sym_make_batched(batch, dims, seed):
    n = dims[0]
    x = randn((batch, n, n), seed)
    return (x + x.mT,)


def _cholesky(a):
    if hasattr(torch.linalg, "cholesky_ex"):  # same kernel, no host sync on info
        return torch.linalg.cholesky_ex(a)
    return torch.linalg.cholesky(a)


def _solve(a, b):
    if hasattr(torch.linalg, "solve_ex"):  # same kernel, no host sync on info
        return torch.linalg.solve_ex(a, b)
    return torch.linalg.solve(a, b)


def _f_mm(batch, d):
    m, k, n = d
    return 2.0 * m * n * k * batch


def _f_chol(batch, d):
    n = d[0]
    return n ** 3 / 3.0 * batch


def _f_solve(batch, d):
    n = d[0]
    return 2.0 * n ** 3 / 3.0 * batch


def _f_qr(batch, d):
    m, n = d
    if m < n:
        m, n = n, m
    return (2.0 * m * n * n - 2.0 * n ** 3 / 3.0) * batch


def _none(batch, d):
    return None


def _sq(ns):
    return [(1, (n, n)) for n in ns]


OPS: list[Op] = [
    Op("matmul", "f32", False, "mm",
       [(1, (n, n, n)) for n in (64, 256, 1024, 2048, 4096, 8192)]
       + [(1, (8192, 32, 8192)), (1, (8192, 64, 8192))],
       _mm_make(torch.float32, False), torch.matmul, _f_mm),
    Op("matmul_f16", "f16", False, "mm",
       [(1, (n, n, n)) for n in (4096, 8192)],
       _mm_make(torch.float16, False), torch.matmul, _f_mm),
    Op("matmul_batched", "f32", True, "mm",
       [(10000, (16, 16, 16)), (1000, (64, 64, 64))],
       _mm_make(torch.float32, True), torch.bmm, _f_mm),
    Op("cholesky", "f32", False, "sq", _sq((1024, 4096, 8192)),
       _spd_make(False), _cholesky, _f_chol),
    Op("solve", "f32", False, "sq", _sq((1024, 4096, 8192)),
       _solve_make(False), _solve, _f_solve),
    Op("cholesky_batched", "f32", True, "sq", [(100000, (16, 16))],
       _spd_make(True), _cholesky, _f_chol),
    Op("solve_batched", "f32", True, "sq", [(100000, (16, 16))],
       _solve_make(True), _solve, _f_solve),
    Op("qr", "f32", False, "rect", _sq((1024, 4096, 8192)),
       _rand_make(False), lambda a: torch.linalg.qr(a, mode="reduced"), _f_qr),
    # the tall, skinny shapes of our qr_mgs rows, through cuSOLVER's
    # Householder QR (PyTorch has no Gram–Schmidt or CholeskyQR)
    Op("qr_mgs", "f32", False, "rect", [(1, (4096, 32)), (1, (32768, 64)), (1, (131072, 16))],
       _rand_make(False), lambda a: torch.linalg.qr(a, mode="reduced"), _f_qr),
    Op("qr_batched", "f32", True, "rect", [(10000, (16, 16))],
       _rand_make(True), lambda a: torch.linalg.qr(a, mode="reduced"), _f_qr),
    Op("geqrf_batched", "f32", True, "rect", [(100000, (16, 16))],
       _rand_make(True), torch.geqrf, _f_qr),
    Op("lstsq", "f32", False, "rect", [(1, (32768, 2048))],
       _lstsq_make, lambda a, b: torch.linalg.lstsq(a, b, driver="gels"), _none),
    Op("svd_topk", "f32", False, "rect", [(1, (8192, 8192))],
       _topk_make, lambda a: torch.svd_lowrank(a, q=TOPK, niter=4), _none),
    Op("svd", "f32", False, "rect", _sq((1024, 4096)) + [(1, (8192, 1024))],
       _rand_make(False), lambda a: torch.linalg.svd(a, full_matrices=False), _none),
    Op("eigh", "f32", False, "sq", _sq((1024, 4096)),
       _sym_make, torch.linalg.eigh, _none),
    Op("svd_batched", "f32", True, "rect", [(10000, (16, 16)), (1000, (64, 64))],
       _rand_make(True), lambda a: torch.linalg.svd(a, full_matrices=False), _none),
]
OPS.append(Op("eigh_batched", "f32", True, "sq", [(10000, (16, 16)), (1000, (64, 64))],
                 _sym_make_batched, torch.linalg.eigh, _none))
OPS_BY_NAME = {op.name: op for op in OPS}


def parse_case(op: Op, item: str) -> Case:
    item = item.strip().lower()
    batch: Optional[int] = None
    if "@" in item:
        b, item = item.split("@", 1)
        batch = int(b)
    dims = [int(x) for x in item.split("x")]
    if op.kind == "mm":
        if len(dims) == 1:
            dims = dims * 3
        if len(dims) != 3:
            raise ValueError(f"{op.name}: give N or MxKxN, not {item!r}")
    else:
        if len(dims) == 1:
            dims = dims * 2
        if len(dims) != 2:
            raise ValueError(f"{op.name}: give N or MxN, not {item!r}")
        if op.kind == "sq" and dims[0] != dims[1]:
            raise ValueError(f"{op.name}: needs a square shape, got {item!r}")
    if batch is None:
        batch = op.defaults[0][0] if op.batched else 1
    if not op.batched and batch != 1:
        raise ValueError("not a batched op")
    return (batch, tuple(dims))


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------

def time_calls(fn, sets, start_idx: int, inner: int) -> float:
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for j in range(inner):
        out = fn(*sets[(start_idx + j) % len(sets)])
    end.record()
    end.synchronize()
    del out
    return start.elapsed_time(end) / inner


def bench(fn, sets, quick: bool) -> tuple[float, int, int]:
    """Returns (median ms per call, reps, inner)."""
    for i in range(WARMUP - 1):
        fn(*sets[i % len(sets)])
    torch.cuda.synchronize()
    probe = time_calls(fn, sets, WARMUP - 1, 1)  # last warm-up, timed

    if probe < FAST_MS:
        reps = 20
    elif probe < SLOW_MS:
        reps = 5
    else:
        reps = 3
    if quick:
        reps = max(3, reps // 2)

    inner = 1
    if probe < INNER_TARGET_MS:
        inner = int(min(INNER_MAX, max(1, math.ceil(INNER_TARGET_MS / max(probe, 1e-3)))))
        # warm the inner-loop pattern once (allocator, queue depth)
        time_calls(fn, sets, 0, inner)

    times = [time_calls(fn, sets, r, inner) for r in range(reps)]
    return statistics.median(times), reps, inner


def free() -> None:
    gc.collect()
    torch.cuda.synchronize()
    torch.cuda.empty_cache()


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def write_json(path: str, doc: dict) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def fmt_ms(v: float) -> str:
    if v >= 100:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.3f}"
    return f"{v:.4f}"


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--ops", default="all",
                    help="comma list of ops (default all): " + ",".join(OPS_BY_NAME))
    ap.add_argument("--quick", action="store_true", help="halve the repetitions")
    ap.add_argument("--sizes", default=None,
                    help="comma list overriding every selected op's shapes: "
                         "N, MxN, MxKxN, optionally BATCH@ prefixed")
    args = ap.parse_args(argv)

    if not torch.cuda.is_available():
        print("error: CUDA is not available to torch", file=sys.stderr)
        return 2

    if args.ops.strip().lower() == "all":
        ops = list(OPS)
    else:
        names = [s.strip() for s in args.ops.split(",") if s.strip()]
        bad = [n for n in names if n not in OPS_BY_NAME]
        if bad:
            print(f"error: unknown op(s) {bad}; known: {', '.join(OPS_BY_NAME)}",
                  file=sys.stderr)
            return 2
        ops = [OPS_BY_NAME[n] for n in names]

    plan: list[tuple[Op, list[Case]]] = []
    for op in ops:
        if args.sizes:
            cases = []
            for item in (s for s in args.sizes.split(",") if s.strip()):
                try:
                    cases.append(parse_case(op, item))
                except ValueError as e:
                    log(f"# --sizes: skipping {item!r} for {op.name}: {e}")
            if not cases:
                log(f"# --sizes: no size fits {op.name}; skipping it")
                continue
        else:
            cases = op.defaults
        plan.append((op, cases))

    torch.manual_seed(0)  # svd_lowrank draws from the global generator
    device = torch.cuda.get_device_name()
    doc: dict[str, Any] = {
        "device": device,
        "torch": torch.__version__,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "results": [],
        "errors": [],
    }
    log(f"# torch {torch.__version__}, CUDA {torch.version.cuda}, device {device}"
        f"{', quick' if args.quick else ''}")

    for op, cases in plan:
        base_seed = zlib.crc32(op.name.encode()) & 0xFFFF
        for ci, (batch, dims) in enumerate(cases):
            shape = op.shape_str(dims)
            tag = f"[{op.name}] {shape} batch={batch} {op.dtype}"
            log(f"{tag}: preparing inputs")
            sets = None
            try:
                sets = [op.make(batch, dims, base_seed * 1000 + ci * 10 + s)
                        for s in range(N_SETS)]
                torch.cuda.synchronize()
                med, reps, inner = bench(op.run, sets, args.quick)
                fl = op.flops(batch, dims)
                gflops = (fl / (med * 1e-3) / 1e9) if (fl is not None and med > 0) else None
                rec = {
                    "op": op.name,
                    "shape": shape,
                    "batch": batch,
                    "route": ROUTE,
                    "median_ms": med,
                    "gflops": gflops,
                    "device": device,
                    "dtype": op.dtype,
                }
                if op.name == "svd_topk":
                    rec["accuracy"] = topk_accuracy(sets[0][0])
                    log(f"{tag}: accuracy {rec['accuracy']}")
                doc["results"].append(rec)
                gtxt = f", {gflops:.1f} GFLOP/s" if gflops is not None else ""
                log(f"{tag}: median {fmt_ms(med)} ms ({reps} reps x{inner}){gtxt}")
            except Exception as e:  # noqa: BLE001 - OOM, unsupported op, ...
                first = str(e).splitlines()[0] if str(e) else ""
                if len(first) > 160:
                    first = first[:157] + "..."
                msg = f"{type(e).__name__}: {first}"
                doc["errors"].append({"op": op.name, "shape": shape, "batch": batch,
                                      "route": ROUTE, "error": msg})
                log(f"{tag}: ERROR {msg}")
            finally:
                del sets
                free()
            write_json(args.out, doc)  # keep partial results if interrupted

    write_json(args.out, doc)

    print(flush=True)
    print(f"Device: {device}, torch {torch.__version__}, date {doc['date']}")
    print()
    print("| op | shape | batch | dtype | median (ms) | GFLOP/s |")
    print("|---|---|---:|---|---:|---:|")
    for r in doc["results"]:
        g = f"{r['gflops']:.1f}" if r["gflops"] is not None else "—"
        print(f"| {r['op']} | {r['shape']} | {r['batch']} | {r['dtype']} | "
              f"{fmt_ms(r['median_ms'])} | {g} |")
    if doc["errors"]:
        print()
        print("Errors:")
        for e in doc["errors"]:
            print(f"- {e['op']} {e['shape']} batch={e['batch']}: {e['error']}")
    sys.stdout.flush()
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
