#!/usr/bin/env bash
# LU register panels in workgroups of 1024 (default), 512 and 256
# (WGPU_LINALG_PANEL_PW): more rows per invocation, fewer subgroups per
# barrier; solve 4096 and 8192; peer.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
B="timeout 150 .gpu/bench --routes gpu --quick --ops solve --min-dim 4096"
$B --out $O/x.json 2> $O/pw1024.log > /dev/null; echo "rc=$?"
WGPU_LINALG_PANEL_PW=512 $B --out $O/x.json 2> $O/pw512.log > /dev/null; echo "rc=$?"
WGPU_LINALG_PANEL_PW=256 $B --out $O/x.json 2> $O/pw256.log > /dev/null; echo "rc=$?"
for f in pw1024 pw512 pw256; do echo "== $f"; grep -v "adapter" $O/$f.log | cut -c1-250; done
rm -f $O/x.json
timeout 150 python3 benches/peers/torch_peers.py --ops solve --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
