#!/usr/bin/env bash
# matmul with its default choice (the split-f16 path from m, n, k >= 8192), its
# accuracy check, matmul_f16, the split-f16 accuracy comparison, a variant of the
# split kernel (.gpu/v/cs4, run7/cs4_coop_split.patch applied to wgsl/gemm/coop_split.wgsl); PyTorch peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
B="timeout 200 .gpu/bench --quick"
$B --routes gpu --ops matmul,matmul_f16 --min-dim 2048 --out $O/ours.json 2> $O/ours.log > /dev/null; echo "ours rc=$?"
$B --split-check 2> $O/split_check.log > /dev/null; echo "split-check rc=$?"
# a kernel variant: C staged through four slots in turns (25 KiB of workgroup memory, not 29)
WGPU_LINALG_WGSL_DIR=.gpu/v/cs4 $B --routes gpu --ops matmul --min-dim 8192 --out $O/cs4.json 2> $O/cs4.log > /dev/null; echo "cs4 rc=$?"
grep -v "adapter" $O/ours.log $O/split_check.log $O/cs4.log | cut -c1-250
timeout 200 python3 benches/peers/torch_peers.py --ops matmul,matmul_f16 --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
