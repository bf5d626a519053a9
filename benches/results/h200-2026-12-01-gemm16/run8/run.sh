#!/usr/bin/env bash
# After C's staging and stores moved to wgsl/gemm/coop_store.wgsl (shared
# with the 8×8 f32 kernel, written for the fragment side F): the f16 and
# f32 (split) products at every bench size, each checked, the f16 edge
# shapes, the split check; tune --gemm (no 8×8 f32 matrices here: the
# section must stay as shipped); the peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
f() { grep -v "^adapter\|host .* ms of\|^  [0-9]*:\|^note:\|stack backtrace\|^$\|Adapter:\|^wrote" | cut -c1-200; }
{
echo "== bench"
timeout 300 .gpu/bench --routes gpu --ops matmul,matmul_f16 --out $O/ours.json 2>&1 | f
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
