#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
run() { name=$1; bin=$2; op=$3; shift 3; env "$@" timeout 60 .gpu/$bin --routes gpu --quick --ops $op --min-dim 4096 --max-dim 4096 --out $O/$name.json > /dev/null 2> $O/$name.log; echo "== $name rc=$? $*"; grep -h "orthog\|backward\|^qr\|^solve\|GPU time" $O/$name.log | cut -c1-220; }
run solve bench solve
run solve_t32 bench solve WGPU_LINALG_TRSM_NB=32
run solve_t16 bench solve WGPU_LINALG_TRSM_NB=16
run solve_f1000 bench solve WGPU_LINALG_FLUSH_STEPS=1000
run qr bench qr
run qr_f1000 bench qr WGPU_LINALG_FLUSH_STEPS=1000
run qr_pw256 bench_x qr
