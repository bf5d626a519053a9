#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
for e in 0 4 5; do WGPU_LINALG_EXP=$e timeout 60 .gpu/bench_exp --routes gpu --quick --ops lu --max-dim 4096 --out $O/exp$e.json 2> $O/exp$e.log >/dev/null; echo "exp$e"; grep -h "GPU time\|^lu" $O/exp$e.log | cut -c1-200; done
