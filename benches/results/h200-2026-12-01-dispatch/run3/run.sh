#!/bin/bash
# The LU panel's columns as calls with constant column numbers (built in)
# against the one-barrier loop of 64d5be0 (.gpu/v/onebar) and the kernels
# of 7438a15 (.gpu/v/old), solve 4096 and 8192, then the PyTorch peer.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
O=${OUT:-/tmp/out}; mkdir -p $O
for v in onebar new old new onebar new; do
  echo "== $v" >> $O/variants.log
  WGPU_LINALG_WGSL_DIR=.gpu/v/$v timeout 100 .gpu/bench --routes gpu --quick --ops solve --min-dim 4096 --max-dim 8192 2>&1 | grep -E "rror|solve |GPU time|FAILED" >> $O/variants.log
done
python3 benches/peers/torch_peers.py --ops solve --out $O/peer.json > $O/peer.log 2>&1
cat $O/variants.log; grep -E "median" $O/peer.log
