#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
timeout 60 .gpu/bench --routes gpu --quick --ops solve --min-dim 8192 --out $O/cap.json > /dev/null 2> $O/cap.log; echo "cap rc=$?"
grep -h "GPU time\|^[a-z]" $O/cap.log | cut -c1-330
RUST_LOG=wgpu_linalg=debug WGPU_LINALG_LU_REG_ROWS=8192 timeout 40 .gpu/bench --routes gpu --quick --ops solve --min-dim 8192 --out $O/r8.json > /dev/null 2> $O/r8.log; echo "r8 rc=$?"
grep -h "GPU time\|^[a-z]" $O/r8.log | cut -c1-330 | tail -5
tail -c 1500 $O/r8.log
