#!/usr/bin/env bash
# solve through the LU of [A | B] and the backward substitution alone
# (default) against LU, then both substitutions (WGPU_LINALG_SOLVE_OLD=1,
# a measuring switch of this binary only); solve 4096 and 8192; peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
B="timeout 150 .gpu/bench --routes gpu --quick --ops solve --min-dim 4096"
$B --out $O/x.json 2> $O/aug.log > /dev/null; echo "rc=$?"
WGPU_LINALG_SOLVE_OLD=1 $B --out $O/x.json 2> $O/old.log > /dev/null; echo "rc=$?"
$B --out $O/x.json 2> $O/aug_b.log > /dev/null; echo "rc=$?"
for f in aug old aug_b; do echo "== $f"; grep -v "adapter" $O/$f.log | cut -c1-250; done
rm -f $O/x.json
timeout 150 python3 benches/peers/torch_peers.py --ops solve --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
