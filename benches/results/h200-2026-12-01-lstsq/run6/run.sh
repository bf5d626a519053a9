#!/usr/bin/env bash
# Split-f16 f32 GEMM (WGPU_LINALG_SPLIT_F16=1): accuracy against the plain f32 kernel
# (--split-check), timing at n = 4096 and 8192 without and with prefetch (a kernel
# variant through WGPU_LINALG_WGSL_DIR), the plain f32 kernel, then the PyTorch peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
B="timeout 200 .gpu/bench --quick"
WGPU_LINALG_SPLIT_F16=1 $B --split-check 2> $O/split_check.log > /dev/null; echo "split-check rc=$?"
WGPU_LINALG_SPLIT_F16=1 $B --routes gpu --ops matmul --min-dim 4096 --out $O/split.json 2> $O/split.log > /dev/null; echo "split rc=$?"
WGPU_LINALG_WGSL_DIR=.gpu/v/pf WGPU_LINALG_SPLIT_F16=1 $B --routes gpu --ops matmul --min-dim 4096 --out $O/split_pf.json 2> $O/split_pf.log > /dev/null; echo "split pf rc=$?"
$B --routes gpu --ops matmul --min-dim 4096 --out $O/plain.json 2> $O/plain.log > /dev/null; echo "plain rc=$?"
grep -v "adapter" $O/split_check.log $O/split.log $O/split_pf.log $O/plain.log | cut -c1-250
timeout 200 python3 benches/peers/torch_peers.py --ops matmul --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
