#!/usr/bin/env bash
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > $O/env.txt 2>&1
timeout 200 .gpu/bench --routes gpu --quick --ops cholesky,solve,lu,qr --out $O/ours.json > /dev/null 2> $O/fact.log; echo "fact rc=$?"
for nb in 16 64; do
  WGPU_LINALG_LU_NB=$nb timeout 60 .gpu/bench --routes gpu --quick --ops solve --out $O/solve_nb$nb.json > /dev/null 2> $O/solve_nb$nb.log; echo "nb $nb rc=$?"
done
timeout 150 python3 benches/peers/torch_peers.py --ops cholesky,solve,qr --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
grep -h -B1 "GFLOP/s" $O/fact.log $O/solve_nb*.log | head -80
python3 - <<'PY'
import json,os
O=os.environ["OUT"]
peer={(r["op"],r["shape"]):r["median_ms"] for r in json.load(open(f"{O}/peer.json"))["results"]} if os.path.exists(f"{O}/peer.json") else {}
for f in ["ours","solve_nb16","solve_nb64"]:
    try: rows=json.load(open(f"{O}/{f}.json"))["results"]
    except Exception as e: print(f,e); continue
    for r in rows:
        p=peer.get((r["op"],r["shape"]))
        print(f, r["op"], r["shape"], "%.4f"%r["median_ms"], r.get("gpu_ms"), p, "ratio %.3f"%(p/r["median_ms"]) if p else "")
PY
