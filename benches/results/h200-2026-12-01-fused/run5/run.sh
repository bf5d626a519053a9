#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
run() { name=$1; bin=$2; op=$3; shift 3; env "$@" timeout 60 .gpu/$bin --routes gpu --quick --ops $op --min-dim 8192 --out $O/$name.json > /dev/null 2> $O/$name.log; echo "== $name rc=$? $*"; grep -h "orthog\|backward\|^qr\|^solve" $O/$name.log | cut -c1-200; }
for k in 1 2 3; do run head$k bench qr; run a$k bench_a qr; done
run solve1 bench solve
run solve2 bench solve
