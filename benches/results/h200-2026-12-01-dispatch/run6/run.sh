#!/bin/bash
# Split-K and narrow-GEMM settings for QR's block updates (Wᵀ = Cᵀ·V), qr 8192.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
O=${OUT:-/tmp/out}; mkdir -p $O
for cfg in "" "WGPU_LINALG_SPLITK_TARGET_GROUPS=528" "WGPU_LINALG_SPLITK_TARGET_GROUPS=1056" "WGPU_LINALG_SPLITK_TARGET_GROUPS=528 WGPU_LINALG_SPLITK_MIN_CHUNK=128" "WGPU_LINALG_SPLITK_TARGET_GROUPS=1056 WGPU_LINALG_SPLITK_MIN_CHUNK=128" "WGPU_LINALG_GEMM_NARROW=0" "WGPU_LINALG_GEMM_BK=16" ""; do
  echo "== [$cfg]" >> $O/sweep.log
  env $cfg timeout 100 .gpu/bench --routes gpu --quick --ops qr --min-dim 8192 --max-dim 8192 2>&1 | grep -E "rror|qr |GPU time|FAILED" >> $O/sweep.log
done
cat $O/sweep.log
