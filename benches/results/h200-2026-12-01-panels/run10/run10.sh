#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > $O/env.txt 2>&1
run() { name=$1; shift; env "$@" timeout 100 .gpu/bench --routes gpu --quick --ops solve,lu --out $O/$name.json > /dev/null 2> $O/$name.log; echo "$name rc=$?"; }
run n16o4 WGPU_LINALG_LU_NB=16 WGPU_LINALG_LU_OUTER=4
run n16o1 WGPU_LINALG_LU_NB=16 WGPU_LINALG_LU_OUTER=1
run n8o8 WGPU_LINALG_LU_NB=8 WGPU_LINALG_LU_OUTER=8
run n32o2 WGPU_LINALG_LU_NB=32 WGPU_LINALG_LU_OUTER=2
timeout 120 python3 benches/peers/torch_peers.py --ops solve --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 - <<'PY'
import json,os
O=os.environ["OUT"]
peer={(r["op"],r["shape"]):r["median_ms"] for r in json.load(open(f"{O}/peer.json"))["results"]}
for f in ["n16o4","n16o1","n8o8","n32o2"]:
    for r in json.load(open(f"{O}/{f}.json"))["results"]:
        p=peer.get((r["op"],r["shape"]))
        print(f, r["op"], r["shape"], "%.4f"%r["median_ms"], "gpu %.4f"%(r.get("gpu_ms") or 0), p, "ratio %.3f"%(p/r["median_ms"]) if p else "")
PY
grep -h "backward" $O/*.log | sort | uniq -c | sort -rn | head -3; grep -h "GPU time" $O/n16o4.log | tail -3
