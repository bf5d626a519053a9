#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
run() { name=$1; md=$2; shift 2; env "$@" timeout 100 .gpu/bench --routes gpu --quick --ops qr --min-dim $md --out $O/$name.json > /dev/null 2> $O/$name.log; echo "== $name rc=$? $*"; grep -h "orthog\|^qr\|GPU time" $O/$name.log | cut -c1-200; }
run ours 1024
run sk512 4096 WGPU_LINALG_SPLITK_MIN_K=512
run sk512c256 4096 WGPU_LINALG_SPLITK_MIN_K=512 WGPU_LINALG_SPLITK_MIN_CHUNK=256
run sk1024c256t512 4096 WGPU_LINALG_SPLITK_MIN_K=1024 WGPU_LINALG_SPLITK_MIN_CHUNK=256 WGPU_LINALG_SPLITK_TARGET_GROUPS=512
