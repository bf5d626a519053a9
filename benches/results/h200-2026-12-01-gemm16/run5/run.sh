#!/usr/bin/env bash
# Final command at the committed state: matmul (f32, the split-f16 path from
# 2048 per the table) and matmul_f16 at every bench size, the split's
# accuracy check, double buffering on the 2x2x4 shape, and the peer, all
# in one command.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
f() { grep -v "^adapter\|host .* ms of\|^  [0-9]*:\|^note:\|stack backtrace\|^$\|Adapter:\|^wrote" | cut -c1-200; }
{
echo "== bench (table as committed)"
timeout 300 .gpu/bench --routes gpu --ops matmul,matmul_f16 --out $O/ours.json 2>&1 | f
echo "== split check"
timeout 200 .gpu/bench --split-check 2>&1 | f
for s in 2x2x4x1x1 2x2x4x0x1; do
  echo "== WGPU_LINALG_COOP=$s"
  WGPU_LINALG_COOP=$s timeout 150 .gpu/bench --quick --routes gpu --ops matmul_f16 --min-dim 8192 --max-dim 8192 --out $O/c_$s.json 2>&1 | grep "^matmul\|GPU time\|FAIL\|rror\|panic" | f
done
} 2>&1 | tee $O/ours.log
timeout 200 python3 benches/peers/torch_peers.py --ops matmul,matmul_f16 --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
