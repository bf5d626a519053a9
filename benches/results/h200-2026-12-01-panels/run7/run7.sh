#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv; .gpu/device_info; } > $O/env.txt 2>&1
run() { name=$1; ops=$2; shift 2; env "$@" timeout 150 .gpu/bench --routes gpu --quick --ops $ops --out $O/$name.json > /dev/null 2> $O/$name.log; echo "$name rc=$?"; }
run ours cholesky,solve,lu,qr,lstsq,matmul,overhead
run before_lu32 solve WGPU_LINALG_LU_NB=32
run before_qr64 qr WGPU_LINALG_QR_NB=64
timeout 200 python3 benches/peers/torch_peers.py --ops cholesky,solve,qr,lstsq,matmul --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
python3 benches/compare.py $O/ours.json $O/peer.json --md $O/compare.md > /dev/null 2>&1
python3 - <<'PY'
import json,os
O=os.environ["OUT"]
peer={(r["op"],r["shape"]):r["median_ms"] for r in json.load(open(f"{O}/peer.json"))["results"]}
for f in ["ours","before_lu32","before_qr64"]:
    try: rows=json.load(open(f"{O}/{f}.json"))["results"]
    except Exception as e: print(f,e); continue
    for r in rows:
        p=peer.get((r["op"],r["shape"]))
        print(f, r["op"], r["shape"], "%.4f"%r["median_ms"], "gpu %.4f"%(r.get("gpu_ms") or 0), p, "ratio %.3f"%(p/r["median_ms"]) if p else "")
PY
grep -h "untimed\|backward\|overhead\|round trip" $O/*.log | head -20
