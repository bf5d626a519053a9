#!/bin/bash
# The QR register panel's columns as calls with constant column numbers
# (built in) against the loop of aaeae1f (.gpu/v/qrold), qr 4096 and 8192
# (the last run lists every kernel), then the PyTorch peer.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
O=${OUT:-/tmp/out}; mkdir -p $O
for v in qrold new qrold new; do
  echo "== $v" >> $O/variants.log
  WGPU_LINALG_WGSL_DIR=.gpu/v/$v timeout 100 .gpu/bench --routes gpu --quick --ops qr --min-dim 4096 --max-dim 8192 2>&1 | grep -E "rror|qr |GPU time|FAILED|orthogonality" >> $O/variants.log
done
echo "== new, every kernel" >> $O/variants.log
BENCH_EXPERIMENT=1 timeout 100 .gpu/bench --routes gpu --quick --ops qr --min-dim 8192 --max-dim 8192 2>&1 | grep -E "rror|qr |GPU time|FAILED|orthogonality" >> $O/variants.log
python3 benches/peers/torch_peers.py --ops qr --out $O/peer.json > $O/peer.log 2>&1
cat $O/variants.log; grep -E "median" $O/peer.log
