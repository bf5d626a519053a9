#!/bin/bash
# device run 2 of the coop helper: tile/prefetch sweep, then the full bench with the best shape and the torch peer
B=.gpu-coop/bench
for cfg in 2x4x2x1 2x4x2x0 2x2x4x1 2x2x4x0 2x2x2x1 1x4x2x1 1x2x2x1; do
  echo "== WGPU_LINALG_COOP=$cfg" >> $OUT/tune.txt
  WGPU_LINALG_COOP=$cfg timeout 60 $B --routes gpu --ops matmul_f16 --max-dim 8192 --quick --out /tmp/cfg_$cfg.json >/dev/null 2>> $OUT/tune.txt
  echo "rc=$?" >> $OUT/tune.txt
done
python3 .gpu-coop/pick.py > $OUT/pick.txt 2>&1
BEST=$(awk '/^BEST/{print $2}' $OUT/pick.txt)
echo "best: $BEST" >> $OUT/logs.txt
WGPU_LINALG_COOP=$BEST $B --routes gpu --ops matmul_f16,matmul --max-dim 8192 --out $OUT/ours.json > $OUT/ours.md 2>> $OUT/logs.txt
echo "bench rc=$?" >> $OUT/logs.txt
python3 benches/peers/torch_peers.py --ops matmul_f16,matmul --out $OUT/peer.json >> $OUT/logs.txt 2>&1
python3 benches/compare.py $OUT/ours.json $OUT/peer.json --md $OUT/compare.md >> $OUT/logs.txt 2>&1
cat $OUT/pick.txt; cat $OUT/compare.md; grep -E "rc=|FAIL|check" $OUT/logs.txt | tail -12; grep -E "8192x8192|rc=|==|FAIL" $OUT/tune.txt
