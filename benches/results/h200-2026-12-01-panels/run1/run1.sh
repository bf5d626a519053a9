#!/usr/bin/env bash
# run 1: GEMM slab-depth sweep, factorizations with the new LU panel, peer
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv > $O/env.txt 2>&1
.gpu/device_info >> $O/env.txt 2>&1
for bk in 0 8 16; do
  WGPU_LINALG_GEMM_BK=$bk timeout 120 .gpu/bench --routes gpu --quick --ops matmul --out $O/mm_bk$bk.json > /dev/null 2> $O/mm_bk$bk.log; echo "bk $bk rc=$?"
done
timeout 200 .gpu/bench --routes gpu --quick --ops cholesky,solve,lu,qr --out $O/ours.json > /dev/null 2> $O/fact.log; echo "fact rc=$?"
for nb in 16 64; do
  WGPU_LINALG_LU_NB=$nb timeout 60 .gpu/bench --routes gpu --quick --ops solve --out $O/solve_nb$nb.json > /dev/null 2> $O/solve_nb$nb.log; echo "nb $nb rc=$?"
done
timeout 150 python3 benches/peers/torch_peers.py --ops matmul,cholesky,solve,qr --out $O/peer.json > $O/peer.log 2>&1; echo "peer rc=$?"
grep -h "GFLOP/s" $O/mm_bk*.log $O/fact.log $O/solve_nb*.log | head -80
python3 - <<'PY'
import json,os
O=os.environ["OUT"]
peer={(r["op"],r["shape"]):r["median_ms"] for r in json.load(open(f"{O}/peer.json"))["results"]} if os.path.exists(f"{O}/peer.json") else {}
for f in ["mm_bk0","mm_bk8","mm_bk16","ours","solve_nb16","solve_nb64"]:
    try: rows=json.load(open(f"{O}/{f}.json"))["results"]
    except Exception as e: print(f,e); continue
    for r in rows:
        p=peer.get((r["op"],r["shape"]))
        print(f, r["op"], r["shape"], "%.4f"%r["median_ms"], p, "ratio %.3f"%(p/r["median_ms"]) if p else "")
PY
