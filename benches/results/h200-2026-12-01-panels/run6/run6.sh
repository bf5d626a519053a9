#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > $O/env.txt 2>&1
run() { name=$1; ops=$2; shift 2; env "$@" timeout 120 .gpu/bench --routes gpu --quick --ops $ops --out $O/$name.json > /dev/null 2> $O/$name.log; echo "$name rc=$?"; }
run qr64 qr
run qr32 qr WGPU_LINALG_QR_NB=32
run qr16 qr WGPU_LINALG_QR_NB=16
run qr8 qr WGPU_LINALG_QR_NB=8
run ls16 lstsq WGPU_LINALG_QR_NB=16
run lu16 solve WGPU_LINALG_LU_NB=16
run lu8 solve WGPU_LINALG_LU_NB=8
timeout 150 python3 benches/peers/torch_peers.py --ops qr,lstsq,solve --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
grep -h "GPU time" $O/qr*.log
python3 - <<'PY'
import json,os
O=os.environ["OUT"]
peer={(r["op"],r["shape"]):r["median_ms"] for r in json.load(open(f"{O}/peer.json"))["results"]}
for f in ["qr64","qr32","qr16","qr8","ls16","lu16","lu8"]:
    try: rows=json.load(open(f"{O}/{f}.json"))["results"]
    except Exception as e: print(f,e); continue
    for r in rows:
        p=peer.get((r["op"],r["shape"]))
        print(f, r["op"], r["shape"], "%.4f"%r["median_ms"], "gpu %.4f"%(r.get("gpu_ms") or 0), p, "ratio %.3f"%(p/r["median_ms"]) if p else "")
PY
