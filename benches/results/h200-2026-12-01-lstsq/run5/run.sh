#!/usr/bin/env bash
# Final state of the session: matmul_f16 (new default), matmul, lstsq (resident and
# host-level, with the new upload), tall, skinny QR; then the PyTorch peers, in one command.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
B="timeout 200 .gpu/bench --quick"
$B --routes gpu --ops matmul_f16,matmul --min-dim 4096 --out $O/gemm.json 2> $O/gemm.log > /dev/null; echo "gemm rc=$?"
$B --routes gpu,gpu-host --host-max-gflop 1000 --ops lstsq --out $O/lstsq.json 2> $O/lstsq.log > /dev/null; echo "lstsq rc=$?"
$B --routes gpu --ops qr_mgs --out $O/qr_mgs.json 2> $O/qr_mgs.log > /dev/null; echo "qr_mgs rc=$?"
grep -v "adapter" $O/gemm.log $O/lstsq.log $O/qr_mgs.log | cut -c1-250
timeout 300 python3 benches/peers/torch_peers.py --ops matmul_f16,matmul,lstsq,qr_mgs --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],4))
"
