#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
timeout 200 .gpu/bench --routes gpu --quick --ops solve --min-dim 1024 --out $O/ours.json > /dev/null 2> $O/ours.log; echo "ours rc=$?"
cut -c1-200 $O/ours.log
timeout 200 python3 benches/peers/torch_peers.py --ops solve --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
