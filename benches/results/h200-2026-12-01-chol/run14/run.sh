#!/usr/bin/env bash
# LU: eight-column register panels in two four-column parts where panels
# take the four-column form (.gpu/bench_two) against four-column panels
# with a rank update after each (.gpu/bench); solve 4096 and 8192; peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
A="--routes gpu --quick --ops solve --min-dim 4096"
timeout 100 .gpu/bench_two $A --out $O/x.json 2> $O/two.log > /dev/null; echo "rc=$?"
timeout 100 .gpu/bench $A --out $O/x.json 2> $O/four.log > /dev/null; echo "rc=$?"
timeout 100 .gpu/bench_two $A --out $O/x.json 2> $O/two_b.log > /dev/null; echo "rc=$?"
for f in two four two_b; do echo "== $f"; grep -v "adapter" $O/$f.log | cut -c1-250; done
rm -f $O/x.json
timeout 100 python3 benches/peers/torch_peers.py --ops solve --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
