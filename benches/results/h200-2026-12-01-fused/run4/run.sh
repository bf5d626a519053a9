#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
run() { name=$1; bin=$2; shift 2; env "$@" timeout 60 .gpu/$bin --routes gpu --quick --ops qr --min-dim 8192 --out $O/$name.json > /dev/null 2> $O/$name.log; echo "== $name rc=$? $*"; grep -h "orthog\|^qr\|GPU time" $O/$name.log | cut -c1-200; }
run head bench
run a_oldload bench_a
run b_oldT bench_b
run head_sk2048 bench WGPU_LINALG_SPLITK_MIN_K=2048 WGPU_LINALG_SPLITK_MIN_CHUNK=512
