#!/usr/bin/env bash
# Tiles in workgroup memory as vec4<f16> (.gpu/v/h4) or vec2<f16>
# (.gpu/v/h2), read by coopLoad through a pointer to them (same component
# type; run 1's u32 / vec4<u32> tiles failed to compile), so a run of eight
# goes to workgroup memory in two (four) stores instead of eight 2-byte
# ones; against the committed kernel; shapes; split path; peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
B="timeout 150 .gpu/bench --quick --routes gpu"
f() { grep -v "^adapter\|host .* ms of\|^  [0-9]*:\|^note:\|stack backtrace\|^$\|Adapter:\|^wrote\|^|" | cut -c1-200; }
{
for v in h4 h2 default; do
  if [ $v = default ]; then D=; else D=.gpu/v/$v; fi
  for s in 2x2x4x0 2x4x2x0 4x2x4x0; do
    echo "== $v $s"
    WGPU_LINALG_WGSL_DIR=$D WGPU_LINALG_COOP=$s $B --ops matmul_f16 --min-dim 4096 --max-dim 8192 --out $O/$v-$s.json 2>&1 | grep "^matmul\|GPU time\|FAIL\|rror\|panic\|NVVM" | f
  done
  echo "== $v split (2x2x4x0)"
  WGPU_LINALG_WGSL_DIR=$D $B --ops matmul --min-dim 4096 --max-dim 8192 --out $O/$v-split.json 2>&1 | grep "^matmul\|GPU time\|FAIL\|rror\|panic\|NVVM" | f
done
echo "== h4 edge checks"
WGPU_LINALG_WGSL_DIR=.gpu/v/h4 $B --ops matmul_f16 --max-dim 1024 --out $O/h4-small.json 2>&1 | grep "check\|FAIL\|rror" | f
} 2>&1 | tee $O/ours.log
timeout 200 python3 benches/peers/torch_peers.py --ops matmul,matmul_f16 --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
