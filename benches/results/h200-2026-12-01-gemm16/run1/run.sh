#!/usr/bin/env bash
# Staging tiles as vec4<u32> (runs of eight f16, one 16-byte load and store
# each) in the cooperative f16 GEMM and the split-f16 GEMM, against the
# previous kernels (.gpu/v/old: the files of commit 5dd1387); the shapes
# again on the new kernel; the split's accuracy check; the peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
B="timeout 120 .gpu/bench --quick --routes gpu"
row() { grep -h "matmul" "$1" | grep -v "check\|path" | head -3; }
{
echo "== new kernel, default shape, f16 + f32 at 4096 and 8192 (with checks)"
$B --ops matmul_f16,matmul --min-dim 4096 --max-dim 8192 --out $O/ours.json 2>&1 | grep -v "^adapter\|host .* ms of" | cut -c1-200
for v in 2x4x2x1 4x2x4x0 4x2x4x1 2x2x4x0 2x2x4x1 2x4x2x1x1 4x2x4x1x1 4x2x2x0; do
  echo "== new kernel, WGPU_LINALG_COOP=$v"
  WGPU_LINALG_COOP=$v $B --ops matmul_f16 --min-dim 8192 --max-dim 8192 --out $O/c_$v.json 2>&1 | grep -v "^adapter\|host .* ms of" | cut -c1-200
done
echo "== old kernels (5dd1387 files), default shape, f16 + split f32 at 4096 and 8192"
WGPU_LINALG_WGSL_DIR=.gpu/v/old $B --ops matmul_f16,matmul --min-dim 4096 --max-dim 8192 --out $O/old.json 2>&1 | grep -v "^adapter\|host .* ms of" | cut -c1-200
echo "== new split kernel with prefetch"
WGPU_LINALG_WGSL_DIR=.gpu/v/splitpf $B --ops matmul --min-dim 4096 --max-dim 8192 --out $O/splitpf.json 2>&1 | grep -v "^adapter\|host .* ms of" | cut -c1-200
echo "== plain f32 kernel"
WGPU_LINALG_SPLIT_F16=0 $B --ops matmul --min-dim 4096 --max-dim 8192 --out $O/f32.json 2>&1 | grep -v "^adapter\|host .* ms of" | cut -c1-200
echo "== split check"
timeout 200 .gpu/bench --split-check 2>&1 | grep -v "^adapter" | cut -c1-220
} 2>&1 | tee $O/ours.log
timeout 200 python3 benches/peers/torch_peers.py --ops matmul,matmul_f16 --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
