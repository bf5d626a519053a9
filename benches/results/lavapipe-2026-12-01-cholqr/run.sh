#!/bin/bash
# Tall, skinny QrAlgo::Mgs on this repository's 2-core CPU with lavapipe:
# shifted CholeskyQR3 (a working-tree change of 2026-12-01 that took such
# inputs there, not kept; see benches/RESULTS.md) against two-pass MGS
# (WGPU_LINALG_CHOLQR=0, that change's switch), alternating,
# device-resident (gpu) and the CPU route (nalgebra).
O=${1:-benches/results/lavapipe-2026-12-01-cholqr}
export XDG_RUNTIME_DIR=/tmp WGPU_LINALG_REQUIRE_GPU=1
for v in cholqr mgs cholqr mgs; do
  if [ $v = mgs ]; then export WGPU_LINALG_CHOLQR=0; else unset WGPU_LINALG_CHOLQR; fi
  echo "== $v" >> $O/ab.log
  target/release/examples/bench --routes gpu,cpu --ops qr_mgs --host-max-gflop 10 --out /tmp/qr_mgs_$v.json 2>&1 | grep -E "rror|qr_mgs|orthogonality" >> $O/ab.log
done
