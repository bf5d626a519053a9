#!/usr/bin/env bash
# Run 1's vec4<u32> staging failed to compile on the H200 ("NVVM compilation
# failed"). Which form compiles, and is it faster: staging arrays of u32
# (pairs of f16, coopLoad through a u32 pointer) or of f16 (16-byte global
# loads unpacked into f16 stores)? Cooperative f16 and split-f16 kernels.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
B="timeout 120 .gpu/bench --quick --routes gpu"
f() { grep -v "^adapter\|host .* ms of\|^  [0-9]*:\|^note:\|stack backtrace\|^|\|^$\|Adapter:\|^wrote" | cut -c1-200; }
{
for v in u32 f16st; do
  for s in 2x4x2x0 2x4x2x1 4x2x4x0; do
    echo "== $v WGPU_LINALG_COOP=$s"
    WGPU_LINALG_WGSL_DIR=.gpu/v/$v WGPU_LINALG_COOP=$s $B --ops matmul_f16 --min-dim 8192 --max-dim 8192 --out $O/$v-$s.json 2>&1 | f
  done
  echo "== $v split f32"
  WGPU_LINALG_WGSL_DIR=.gpu/v/$v $B --ops matmul --min-dim 4096 --max-dim 8192 --out $O/$v-split.json 2>&1 | f
  echo "== $v f16 edges and 4096"
  WGPU_LINALG_WGSL_DIR=.gpu/v/$v $B --ops matmul_f16 --min-dim 4096 --max-dim 4096 --out $O/$v-4096.json 2>&1 | f
done
echo "== old"
WGPU_LINALG_WGSL_DIR=.gpu/v/old $B --ops matmul_f16,matmul --min-dim 8192 --max-dim 8192 --out $O/old.json 2>&1 | f
} 2>&1 | tee $O/ours.log
