#!/usr/bin/env bash
# lstsq 32768x2048: the Gram route, the Householder route (WGPU_LINALG_LSTSQ=householder),
# phase timings of the Gram route, then the PyTorch peer, in one command.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
B="timeout 200 .gpu/bench --quick"
$B --routes gpu,gpu-host --ops lstsq --out $O/gram.json 2> $O/gram.log > /dev/null; echo "gram rc=$?"
WGPU_LINALG_LSTSQ=householder $B --routes gpu --ops lstsq --out $O/householder.json 2> $O/householder.log > /dev/null; echo "householder rc=$?"
RUST_LOG=wgpu_linalg=debug BENCH_EXPERIMENT=1 $B --routes gpu --ops lstsq 2> $O/debug.log > /dev/null; echo "debug rc=$?"
grep -v "adapter" $O/gram.log $O/householder.log | cut -c1-250
grep -v "DEBUG wgpu_linalg::dispatch" $O/debug.log | tail -40 | cut -c1-250
timeout 200 python3 benches/peers/torch_peers.py --ops lstsq --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
