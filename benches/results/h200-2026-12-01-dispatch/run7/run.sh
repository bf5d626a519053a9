#!/bin/bash
# Split-K scratch taken again within a recording (built in); split-K
# settings for QR's block updates, qr 4096 and 8192, host time printed.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
O=${OUT:-/tmp/out}; mkdir -p $O
for cfg in "" "WGPU_LINALG_SPLITK_TARGET_GROUPS=528" "WGPU_LINALG_SPLITK_TARGET_GROUPS=1056" "WGPU_LINALG_SPLITK_TARGET_GROUPS=1056 WGPU_LINALG_SPLITK_MIN_CHUNK=128" ""; do
  echo "== [$cfg]" >> $O/sweep.log
  env $cfg BENCH_EXPERIMENT=1 timeout 100 .gpu/bench --routes gpu --quick --ops qr --min-dim 4096 --max-dim 8192 2>&1 | grep -E "rror|qr |GPU time|FAILED|host" >> $O/sweep.log
done
cat $O/sweep.log
