#!/usr/bin/env bash
# lstsq 32768x2048 on the benchmark's input (Gram route) and on the same input with its
# columns scaled from 1 to 1/100 (CholeskyQR2 route), that one also on the Householder
# route (WGPU_LINALG_LSTSQ=householder); the PyTorch peer (gels on the first input).
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
B="timeout 250 .gpu/bench --quick --routes gpu"
RUST_LOG=wgpu_linalg::lstsq=debug $B --ops lstsq,lstsq_cond100 --out $O/ours.json 2> $O/ours.log > /dev/null; echo "ours rc=$?"
WGPU_LINALG_LSTSQ=householder $B --ops lstsq_cond100 --out $O/householder.json 2> $O/householder.log > /dev/null; echo "householder rc=$?"
grep -v adapter $O/ours.log | grep -v "done at" | sed 's/^\[[^]]*\] //' | sort | uniq -c | sort -rn | cut -c1-220
grep -v adapter $O/householder.log | cut -c1-220
timeout 200 python3 benches/peers/torch_peers.py --ops lstsq --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
