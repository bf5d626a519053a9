#!/usr/bin/env bash
# Cholesky's fused block kernel (update two columns per step), outer
# blocks of 1, 2, 3, 4 inner blocks (WGPU_LINALG_CHOL_OUTER), and the peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
B="timeout 100 .gpu/bench --routes gpu --quick --ops cholesky --min-dim 1024"
for o in 2 1 3 4; do WGPU_LINALG_CHOL_OUTER=$o $B --out $O/o$o.json 2> $O/o$o.log > /dev/null; echo "o$o rc=$?"; done
for o in 2 1 3 4; do echo "== outer $o"; grep -v adapter $O/o$o.log | cut -c1-200; done
timeout 100 python3 benches/peers/torch_peers.py --ops cholesky --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
