#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
run() { name=$1; op=$2; shift 2; env "$@" timeout 60 .gpu/bench --routes gpu --quick --ops $op --min-dim 4096 --max-dim 4096 --out $O/$name.json > /dev/null 2> $O/$name.log; echo "== $name rc=$? $*"; grep -h "^qr\|^solve" $O/$name.log | cut -c1-220; }
for f in 16 32 48 96; do run solve_f$f solve WGPU_LINALG_FLUSH_STEPS=$f; run qr_f$f qr WGPU_LINALG_FLUSH_STEPS=$f; done
