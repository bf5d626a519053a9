#!/bin/bash
# Kernel variants of the LU pieces (one binary, WGPU_LINALG_WGSL_DIR), solve
# 4096 and 8192; variants other than base and rmax8 leave out a step, so
# their results are wrong (BENCH_EXPERIMENT=1 lets the run go on): they
# measure what the step costs.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
O=${OUT:-/tmp/out}; mkdir -p $O
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > $O/env.txt 2>&1
for v in base rmax8 norest nopiv noupd nocols emptyrank trsmnochain; do
  echo "== $v" >> $O/variants.log
  WGPU_LINALG_WGSL_DIR=.gpu/v/$v BENCH_EXPERIMENT=1 timeout 100 .gpu/bench --routes gpu --quick --ops solve --min-dim 4096 --max-dim 8192 2>&1 | grep -E "rror|solve |GPU time|FAILED" >> $O/variants.log
done
cat $O/env.txt $O/variants.log
