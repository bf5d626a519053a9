#!/usr/bin/env bash
# Cholesky's fused block kernel with unroll-friendly chol8/solve8, and the
# same kernel with steps skipped (WGPU_LINALG_CHOL_SKIP bits: 1 chol8,
# 2 row solves, 4 rank-8 update; timing only, the results are wrong).
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
B="timeout 100 .gpu/bench --routes gpu --quick --ops cholesky --min-dim 1024 --max-dim 4096"
$B --out $O/fused.json 2> $O/fused.log > /dev/null; echo "fused rc=$?"
for k in 1 2 4 7; do WGPU_LINALG_CHOL_SKIP=$k $B --out $O/skip$k.json 2> $O/skip$k.log > /dev/null; echo "skip$k rc=$?"; done
for f in fused skip1 skip2 skip4 skip7; do echo "== $f"; grep -v adapter $O/$f.log | cut -c1-200; done
