#!/bin/bash
# The LU panel's pivot search in one barrier per column (built in) against
# the previous kernels (.gpu/v/old: getf2_reg.wgsl, pivot_subgroup.wgsl and
# pivot_tree.wgsl of 7438a15), alternating, solve 4096 and 8192.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
O=${OUT:-/tmp/out}; mkdir -p $O
for v in old new old new; do
  echo "== $v" >> $O/variants.log
  WGPU_LINALG_WGSL_DIR=.gpu/v/$v timeout 100 .gpu/bench --routes gpu --quick --ops solve --min-dim 4096 --max-dim 8192 2>&1 | grep -E "rror|solve |GPU time|FAILED" >> $O/variants.log
done
cat $O/variants.log
