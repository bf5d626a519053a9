#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv; .gpu/device_info; } > $O/env.txt 2>&1
timeout 200 .gpu/bench --routes gpu --quick --ops cholesky,solve,lu,qr,lstsq --out $O/ours.json > /dev/null 2> $O/ours.log; echo "ours rc=$?"
timeout 200 python3 benches/peers/torch_peers.py --ops cholesky,solve,qr,lstsq --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 benches/compare.py $O/ours.json $O/peer.json --md $O/compare.md > /dev/null 2>&1; echo "compare rc=$?"
python3 - <<'PY'
import json,os
O=os.environ["OUT"]
peer={(r["op"],r["shape"]):r["median_ms"] for r in json.load(open(f"{O}/peer.json"))["results"]}
for r in json.load(open(f"{O}/ours.json"))["results"]:
    p=peer.get((r["op"],r["shape"]))
    print(r["op"], r["shape"], "%.4f"%r["median_ms"], "gpu %.4f"%(r.get("gpu_ms") or 0), p, "ratio %.3f"%(p/r["median_ms"]) if p else "")
PY
grep -h "backward" $O/ours.log
