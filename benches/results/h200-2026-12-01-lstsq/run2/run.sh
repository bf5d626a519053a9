#!/usr/bin/env bash
# Tall, skinny QR (QrAlgo::Mgs): shifted CholeskyQR3 (default on a GPU) against the
# two-pass MGS kernels (WGPU_LINALG_TALL_QR=mgs); lstsq resident and host-level;
# then the PyTorch peers, in one command.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > $O/env.txt
B="timeout 200 .gpu/bench --quick"
RUST_LOG=wgpu_linalg::qr=debug $B --routes gpu --ops qr_mgs --out $O/cholqr.json 2> $O/cholqr.log > /dev/null; echo "cholqr rc=$?"
WGPU_LINALG_TALL_QR=mgs $B --routes gpu --ops qr_mgs --out $O/mgs.json 2> $O/mgs.log > /dev/null; echo "mgs rc=$?"
$B --routes gpu,gpu-host --host-max-gflop 1000 --ops lstsq --out $O/lstsq.json 2> $O/lstsq.log > /dev/null; echo "lstsq rc=$?"
grep -v "adapter" $O/mgs.log $O/lstsq.log | cut -c1-250
grep -v "adapter" $O/cholqr.log | sort | uniq -c | sort -rn | head -30 | cut -c1-250
timeout 200 python3 benches/peers/torch_peers.py --ops qr_mgs,lstsq --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 -c "
import json
for r in json.load(open('$O/peer.json'))['results']: print(r['op'], r['shape'], r.get('batch'), round(r['median_ms'],3))
"
