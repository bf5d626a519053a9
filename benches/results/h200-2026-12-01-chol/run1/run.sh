#!/usr/bin/env bash
# Cholesky: fused block kernel (default) against the two-kernel form
# (WGPU_LINALG_CHOL_OLD=1), and chol_outer 1 / 2 with the fused kernel.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
B="timeout 100 .gpu/bench --routes gpu --quick --ops cholesky --min-dim 1024"
$B --out $O/fused.json 2> $O/fused.log > /dev/null; echo "fused rc=$?"
WGPU_LINALG_CHOL_OLD=1 $B --out $O/old.json 2> $O/old.log > /dev/null; echo "old rc=$?"
WGPU_LINALG_CHOL_OUTER=1 $B --out $O/fused_o1.json 2> $O/fused_o1.log > /dev/null; echo "o1 rc=$?"
WGPU_LINALG_CHOL_OUTER=3 $B --out $O/fused_o3.json 2> $O/fused_o3.log > /dev/null; echo "o3 rc=$?"
for f in fused old fused_o1 fused_o3; do echo "== $f"; cut -c1-200 $O/$f.log; done
timeout 100 python3 benches/peers/torch_peers.py --ops cholesky --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
