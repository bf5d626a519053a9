#!/usr/bin/env bash
# run 8 again with the slab depth scored on the square product and a panel update
# (tune --gemm: slab depth, cooperative
# shape, split-f16 threshold), then matmul with the written table, and the peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
timeout 400 .gpu/tune --gemm --gemm-max 8192 --quick --table src/tuning.json --out $O/tuning.json 2> $O/tune.log; echo "tune rc=$?"
cat $O/tune.log
WGPU_LINALG_TUNING=$O/tuning.json timeout 200 .gpu/bench --quick --routes gpu --ops matmul,matmul_f16 --min-dim 4096 --out $O/ours.json 2> $O/ours.log > /dev/null; echo "bench rc=$?"
grep -v adapter $O/ours.log | grep -v "^  matmul_f16 [0-9]*x[0-9]*x[0-9]* check: " | cut -c1-200
timeout 200 python3 benches/peers/torch_peers.py --ops matmul,matmul_f16 --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
