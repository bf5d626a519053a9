#!/bin/bash
# Four-column QR register panels past four rows per invocation (.gpu/bench,
# built at the commit that adds them) against the commit before
# (.gpu/bench_prev, 7d5238a), alternating, qr 4096 and 8192; then the peer.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
O=${OUT:-/tmp/out}; mkdir -p $O
for b in bench_prev bench bench_prev bench; do
  echo "== $b" >> $O/ab.log
  timeout 100 .gpu/$b --routes gpu --quick --ops qr --min-dim 4096 --max-dim 8192 2>&1 | grep -E "rror|qr |GPU time|FAILED|orthogonality" >> $O/ab.log
done
python3 benches/peers/torch_peers.py --ops qr --out $O/peer.json > $O/peer.log 2>&1
cat $O/ab.log; grep -E "median" $O/peer.log
