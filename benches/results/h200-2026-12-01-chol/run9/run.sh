#!/usr/bin/env bash
# Submission cadence of long recordings: parts of 8, 16, 32, 64, then 96
# steps (default of this binary) against 8 then 96 (WGPU_LINALG_FLUSH_GROW=0,
# the committed rule), alternating twice; cholesky, solve and qr 4096; peers.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
B="timeout 150 .gpu/bench --routes gpu --quick --ops cholesky,solve,qr --min-dim 4096 --max-dim 4096"
for r in 1 2; do
  $B --out $O/x.json 2> $O/grow$r.log > /dev/null; echo "rc=$?"
  WGPU_LINALG_FLUSH_GROW=0 $B --out $O/x.json 2> $O/fixed$r.log > /dev/null; echo "rc=$?"
done
for f in grow1 fixed1 grow2 fixed2; do echo "== $f"; grep -v "adapter\|GPU time\|orthog\|backward" $O/$f.log | cut -c1-120; done
rm -f $O/x.json
timeout 150 python3 benches/peers/torch_peers.py --ops cholesky,solve,qr --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
