#!/bin/bash
# Host time of a device-resident call (recording and submitting) against
# its whole time, for qr, solve and cholesky 4096 and 8192 (BENCH_EXPERIMENT
# prints both and lists every kernel).
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
O=${OUT:-/tmp/out}; mkdir -p $O
lscpu | grep -E "Model name|^CPU\(s\)" > $O/env.txt
BENCH_EXPERIMENT=1 timeout 200 .gpu/bench --routes gpu --quick --ops qr,solve,cholesky --min-dim 4096 --max-dim 8192 2>&1 | grep -E "rror|qr |solve |cholesky |GPU time|FAILED|host" > $O/host.log
cat $O/env.txt $O/host.log
