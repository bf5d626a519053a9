#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
run() { name=$1; shift; env "$@" timeout 45 .gpu/bench --routes gpu --quick --ops solve --min-dim 1024 --out $O/$name.json > /dev/null 2> $O/$name.log; echo "$name rc=$?"; grep -h "backward\|^solve\|GPU time" $O/$name.log | cut -c1-200; }
run one
run staged WGPU_LINALG_LU_ONE_BARRIER=0
