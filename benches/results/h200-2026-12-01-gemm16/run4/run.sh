#!/usr/bin/env bash
# Tile order in groups of 8 row blocks (default) against the plain order
# (.gpu/v/g1) and groups of 16 (.gpu/v/g16); operand runs loaded as a
# struct of two vec4<f16> (.gpu/v/run8: no unpacking); shapes 2x2x4x0 and
# 2x4x2x0; the split path after the pool keeps 4 GiB idle; tune --gemm;
# the peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
B="timeout 150 .gpu/bench --quick --routes gpu"
f() { grep -v "^adapter\|host .* ms of\|^  [0-9]*:\|^note:\|stack backtrace\|^$\|Adapter:\|^wrote\|^|" | cut -c1-200; }
{
for v in default g1 g16 run8; do
  for s in 2x2x4x0 2x4x2x0; do
    echo "== $v $s"
    if [ $v = default ]; then D=; else D=.gpu/v/$v; fi
    WGPU_LINALG_WGSL_DIR=$D WGPU_LINALG_COOP=$s $B --ops matmul_f16 --min-dim 4096 --max-dim 8192 --out $O/$v-$s.json 2>&1 | grep "^matmul\|GPU time\|FAIL\|rror\|panic" | f
  done
done
echo "== split, table shape (2x4x2x0) and 2x2x4x0"
$B --ops matmul --min-dim 2048 --max-dim 8192 --out $O/split.json 2>&1 | grep "^matmul\|GPU time\|FAIL\|rror\|panic" | f
WGPU_LINALG_COOP=2x2x4x0 $B --ops matmul --min-dim 2048 --max-dim 8192 --out $O/split2x2x4.json 2>&1 | grep "^matmul\|GPU time\|FAIL\|rror\|panic" | f
echo "== tune --gemm"
timeout 300 .gpu/tune --gemm --gemm-max 8192 --quick --table src/tuning.json --out $O/tuning.json 2>&1 | f
} 2>&1 | tee $O/ours.log
timeout 200 python3 benches/peers/torch_peers.py --ops matmul,matmul_f16 --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
