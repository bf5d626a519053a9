#!/usr/bin/env bash
# The cooperative GEMM with 16-byte operand loads (f16 tiles in workgroup
# memory), and the split-f16 path rebuilt on it (interleaved parts, one
# 3k-deep cooperative GEMM, scales undone on the way out): f16 and f32
# products with the table as it is, the f32 kernel alone, the split's
# accuracy check, tune --gemm, and the peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
B="timeout 150 .gpu/bench --quick --routes gpu"
f() { grep -v "^adapter\|host .* ms of\|^  [0-9]*:\|^note:\|stack backtrace\|^$\|Adapter:\|^wrote" | cut -c1-200; }
{
echo "== default (table as committed: split from 2048)"
$B --ops matmul_f16,matmul --min-dim 1024 --max-dim 8192 --out $O/ours.json 2>&1 | f
echo "== split forced at 1024 and below"
WGPU_LINALG_SPLIT_F16=1 $B --ops matmul --max-dim 1024 --out $O/split_small.json 2>&1 | grep "^matmul\|GPU time" | f
echo "== f32 kernel alone"
WGPU_LINALG_SPLIT_F16=0 $B --ops matmul --min-dim 2048 --max-dim 8192 --out $O/f32.json 2>&1 | grep "^matmul\|GPU time" | f
echo "== split check"
timeout 200 .gpu/bench --split-check 2>&1 | f
echo "== tune --gemm"
timeout 300 .gpu/tune --gemm --gemm-max 8192 --quick --table src/tuning.json --out $O/tuning.json 2>&1 | f
} 2>&1 | tee $O/ours.log
timeout 200 python3 benches/peers/torch_peers.py --ops matmul,matmul_f16 --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
