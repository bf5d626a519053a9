#!/usr/bin/env bash
# Final state of the session (3ea9fbe, with the buffer pool change): issue 4's and 5's ops,
# ours then the PyTorch peer, in one command.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
B="timeout 200 .gpu/bench --routes gpu --quick"
$B --ops cholesky,solve,qr --min-dim 1024 --out $O/ours.json 2> $O/ours.log > /dev/null; echo "ours rc=$?"
$B --ops cholesky_batched,solve_batched,qr_batched,geqrf_batched --out $O/batched.json 2> $O/batched.log > /dev/null; echo "batched rc=$?"
$B --ops lstsq --out $O/lstsq.json 2> $O/lstsq.log > /dev/null; echo "lstsq rc=$?"
grep -v "adapter" $O/ours.log $O/batched.log $O/lstsq.log | cut -c1-250
timeout 300 python3 benches/peers/torch_peers.py --ops cholesky,solve,qr,cholesky_batched,solve_batched,qr_batched,geqrf_batched,lstsq --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
