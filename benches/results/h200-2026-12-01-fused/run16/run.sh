#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
run() { name=$1; op=$2; md=$3; shift 3; env "$@" timeout 40 .gpu/bench --routes gpu --quick --ops $op --min-dim $md --out $O/$name.json > /dev/null 2> $O/$name.log; echo "== $name rc=$? $*"; grep -h "^svd_topk\|^matmul\|^solve\|GPU time" $O/$name.log | cut -c1-200; }
run topk_new svd_topk 8192
run topk_old svd_topk 8192 WGPU_LINALG_SPLITK_MIN_K=2048 WGPU_LINALG_SPLITK_MIN_CHUNK=512
run topk_new2 svd_topk 8192
run mm matmul 8192
