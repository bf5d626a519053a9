#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > $O/env.txt 2>&1
run() { name=$1; shift; env "$@" timeout 100 .gpu/bench --routes gpu --quick --ops qr --out $O/$name.json > /dev/null 2> $O/$name.log; echo "$name rc=$?"; }
run two64x16
run one32 WGPU_LINALG_QR_NB=32 WGPU_LINALG_QR_INNER=32
run two64x8 WGPU_LINALG_QR_INNER=8
timeout 100 python3 benches/peers/torch_peers.py --ops qr --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 - <<'PY'
import json,os
O=os.environ["OUT"]
peer={(r["op"],r["shape"]):r["median_ms"] for r in json.load(open(f"{O}/peer.json"))["results"]}
for f in ["two64x16","one32","two64x8"]:
    for r in json.load(open(f"{O}/{f}.json"))["results"]:
        p=peer.get((r["op"],r["shape"]))
        print(f, r["op"], r["shape"], "%.4f"%r["median_ms"], "gpu %.4f"%(r.get("gpu_ms") or 0), p, "ratio %.3f"%(p/r["median_ms"]) if p else "")
PY
grep -h "GPU time" $O/two64x16.log | tail -2
