#!/usr/bin/env python3
"""Join a wgpu-linalg bench JSON with a peer bench JSON (e.g. torch_peers.py).

For every (op, shape, batch) present in both files (our rows filtered to one
route, default "gpu"), prints a markdown table with both median times, the
ratio peer_ms / ours_ms (1.00 = parity, higher is better for us) and both
GFLOP/s figures.  Rows follow the order of our file.  Standard library only.

Usage:
    compare.py OURS.json PEER.json [--route gpu] [--md OUT.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Optional

DASH = "—"


def load(path: str) -> dict:
    with open(path) as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise SystemExit(f"error: {path}: expected an object with a 'results' list")
    return doc


def key(r: dict) -> tuple[str, str, int]:
    b = r.get("batch")
    return (str(r.get("op")), str(r.get("shape")), int(b) if b is not None else 1)


def num(v: Any) -> Optional[float]:
    if v is None or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt_ms(v: Optional[float]) -> str:
    if v is None:
        return DASH
    if v >= 100:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.3f}"
    return f"{v:.4f}"


def fmt_gflops(v: Optional[float]) -> str:
    return DASH if v is None else f"{v:.1f}"


def build(ours: dict, peer: dict, route: str) -> tuple[str, list[str]]:
    """Returns (markdown text, notes about unmatched rows)."""
    peer_rows: dict[tuple[str, str, int], dict] = {}
    for r in peer["results"]:
        peer_rows.setdefault(key(r), r)  # first occurrence wins

    lines = []
    date = ours.get("date") or DASH
    peer_date = peer.get("date")
    date_txt = str(date)
    if peer_date and str(peer_date) != str(date):
        date_txt += f" (peer {peer_date})"
    lines.append(f"Device: {peer.get('device') or DASH} / "
                 f"{ours.get('adapter') or ours.get('device') or DASH}, date {date_txt}")
    lines.append("")
    lines.append("| op | shape | batch | ours (ms) | peer (ms) | ratio "
                 "| ours GFLOP/s | peer GFLOP/s |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|")

    seen: set[tuple[str, str, int]] = set()
    unmatched = []
    for r in ours["results"]:
        if r.get("route") != route:
            continue
        k = key(r)
        if k in seen:
            continue
        p = peer_rows.get(k)
        if p is None:
            unmatched.append(k)
            continue
        seen.add(k)
        o_ms, p_ms = num(r.get("median_ms")), num(p.get("median_ms"))
        ratio = f"{p_ms / o_ms:.2f}" if (o_ms and p_ms is not None and o_ms > 0) else DASH
        lines.append(f"| {k[0]} | {k[1]} | {k[2]} | {fmt_ms(o_ms)} | {fmt_ms(p_ms)} "
                     f"| {ratio} | {fmt_gflops(num(r.get('gflops')))} "
                     f"| {fmt_gflops(num(p.get('gflops')))} |")

    notes = []
    if len(lines) == 4:
        notes.append(f"no (op, shape, batch) in common for route {route!r}")
    if unmatched:
        notes.append(f"{len(unmatched)} of our {route!r} rows have no peer row: "
                     + ", ".join(f"{o} {s} b{b}" for o, s, b in unmatched))
    return "\n".join(lines) + "\n", notes


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ours", metavar="OURS.json")
    ap.add_argument("peer", metavar="PEER.json")
    ap.add_argument("--route", default="gpu",
                    help="which of our routes to compare (gpu, cpu, auto; default gpu)")
    ap.add_argument("--md", metavar="OUT.md", help="also write the table here")
    args = ap.parse_args(argv)

    text, notes = build(load(args.ours), load(args.peer), args.route)
    sys.stdout.write(text)
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
