#!/usr/bin/env bash
# After the split's row maxima moved to a 2-D grid: tune --gemm again (the split-f16
# threshold may move), matmul with the written table and with the split forced at
# 4096, the split accuracy check, and the peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
timeout 400 .gpu/tune --gemm --gemm-max 8192 --quick --table src/tuning.json --out $O/tuning.json 2> $O/tune.log; echo "tune rc=$?"
cat $O/tune.log
B="timeout 200 .gpu/bench --quick --routes gpu"
WGPU_LINALG_TUNING=$O/tuning.json BENCH_EXPERIMENT=1 $B --ops matmul --min-dim 4096 --out $O/ours.json 2> $O/ours.log > /dev/null; echo "bench rc=$?"
WGPU_LINALG_SPLIT_F16=1 BENCH_EXPERIMENT=1 $B --ops matmul --min-dim 4096 --max-dim 4096 --out $O/split4096.json 2> $O/split4096.log > /dev/null; echo "split4096 rc=$?"
$B --split-check 2> $O/split_check.log > /dev/null; echo "split-check rc=$?"
grep -v adapter $O/ours.log $O/split4096.log $O/split_check.log | grep -v "host .* ms of" | cut -c1-220
timeout 200 python3 benches/peers/torch_peers.py --ops matmul --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
