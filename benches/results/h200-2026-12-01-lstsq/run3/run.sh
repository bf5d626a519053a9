#!/usr/bin/env bash
# Cooperative f16 GEMM at n = 8192: the 128x128 default against 256-row tiles
# (WGPU_LINALG_COOP=SGMxSGNxW), each checked by the bench; then the PyTorch peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
for s in 2x4x2 4x2x4 4x2x2 4x1x4 2x2x4 4x2x4x0; do
  WGPU_LINALG_COOP=$s timeout 120 .gpu/bench --routes gpu --quick --ops matmul_f16 --min-dim 8192 --out $O/coop_$s.json 2> $O/coop_$s.log > /dev/null
  echo "$s rc=$? $(grep -h '^matmul_f16' $O/coop_$s.log | cut -c1-120) $(grep -h 'check' $O/coop_$s.log | tail -1 | cut -c1-100)"
done
timeout 200 python3 benches/peers/torch_peers.py --ops matmul_f16 --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
