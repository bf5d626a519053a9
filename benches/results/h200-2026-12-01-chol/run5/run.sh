#!/usr/bin/env bash
# potrf_block (as in run 3) with the first part of a long recording
# submitted after 8 steps (default) against 96 (WGPU_LINALG_FLUSH_FIRST=96,
# the old behaviour), and 16-step parts; solve and qr likewise; peers.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
B="timeout 150 .gpu/bench --routes gpu --quick"
$B --ops cholesky --min-dim 1024 --out $O/x.json 2> $O/chol_f8.log > /dev/null; echo "rc=$?"
WGPU_LINALG_FLUSH_FIRST=96 $B --ops cholesky --min-dim 1024 --out $O/x.json 2> $O/chol_f96.log > /dev/null; echo "rc=$?"
WGPU_LINALG_FLUSH_STEPS=16 $B --ops cholesky --min-dim 1024 --out $O/x.json 2> $O/chol_s16.log > /dev/null; echo "rc=$?"
$B --ops solve,qr --min-dim 4096 --out $O/x.json 2> $O/sq_f8.log > /dev/null; echo "rc=$?"
WGPU_LINALG_FLUSH_FIRST=96 $B --ops solve,qr --min-dim 4096 --out $O/x.json 2> $O/sq_f96.log > /dev/null; echo "rc=$?"
for f in chol_f8 chol_f96 chol_s16 sq_f8 sq_f96; do echo "== $f"; grep -v "adapter\|GPU time" $O/$f.log | cut -c1-120; done
rm -f $O/x.json
timeout 150 python3 benches/peers/torch_peers.py --ops cholesky,solve,qr --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
