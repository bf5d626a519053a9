#!/bin/bash
# device run 3 of the coop helper: shape sweep (double buffering), full bench with the best shape + torch peer,
# then the split-f16 path: accuracy check and timing (last, in case it misbehaves)
B=.gpu-coop/bench
rm -f /tmp/cfg_*.json
for cfg in 2x4x2x1x0 2x4x2x1x1 2x2x4x1x1 1x4x2x1x1 2x2x2x1x1; do
  echo "== WGPU_LINALG_COOP=$cfg" >> $OUT/tune.txt
  WGPU_LINALG_COOP=$cfg timeout 45 $B --routes gpu --ops matmul_f16 --max-dim 8192 --quick --out /tmp/cfg_$cfg.json >/dev/null 2>> $OUT/tune.txt
  echo "rc=$?" >> $OUT/tune.txt
done
python3 .gpu-coop/pick.py >> $OUT/tune.txt 2>&1
BEST=$(awk '/^BEST/{print $2}' $OUT/tune.txt)
echo "best: $BEST" >> $OUT/logs.txt
WGPU_LINALG_COOP=$BEST timeout 150 $B --routes gpu --ops matmul_f16,matmul --max-dim 8192 --out $OUT/ours.json > /dev/null 2>> $OUT/logs.txt
echo "bench rc=$?" >> $OUT/logs.txt
timeout 120 python3 benches/peers/torch_peers.py --ops matmul_f16,matmul --out $OUT/peer.json >> $OUT/logs.txt 2>&1
python3 benches/compare.py $OUT/ours.json $OUT/peer.json --md $OUT/compare.md >> $OUT/logs.txt 2>&1
echo "== split check" >> $OUT/split.txt
WGPU_LINALG_COOP=$BEST timeout 90 $B --split-check 2>> $OUT/split.txt
echo "split check rc=$?" >> $OUT/split.txt
WGPU_LINALG_COOP=$BEST WGPU_LINALG_SPLIT_F16=1 timeout 100 $B --routes gpu --ops matmul --max-dim 8192 --quick --out $OUT/split.json > /dev/null 2>> $OUT/split.txt
echo "split bench rc=$?" >> $OUT/split.txt
python3 benches/compare.py $OUT/split.json $OUT/peer.json --md $OUT/compare_split.md >> $OUT/split.txt 2>&1
cat $OUT/compare.md; grep -E "best|rc=|FAIL|check" $OUT/logs.txt | tail -14; grep -E "8192x8192|rc=|==|FAIL|BEST" $OUT/tune.txt; grep -E "split|rc=|FAIL|8192|4096" $OUT/split.txt | grep -v "^\s*GPU time" | tail -30; cat $OUT/compare_split.md
