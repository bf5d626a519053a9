#!/usr/bin/env bash
# svdfast device run: variants of our svd bench (env switches), then the torch peer.
# usage: bash .gpu-svdfast/run.sh OUT "name:ENV=..,ENV=.." ...
set -uo pipefail
out=$1; shift
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; fi
export PYTHONUNBUFFERED=1 RUST_LOG=wgpu_linalg::svd=debug
r=$out/raw; mkdir -p $r
{ date -u; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv; .gpu-svdfast/device_info; } > $r/env.txt 2>&1
for spec in "$@"; do
  name=${spec%%:*}; envs=${spec#*:}; extra=""
  case "$envs" in *"|"*) extra=${envs#*|}; envs=${envs%%|*};; esac
  echo "== $name env [$envs] extra [$extra] $(date -u +%T)"
  ( for e in ${envs//,/ }; do export "$e"; done
    .gpu-svdfast/bench --routes gpu --quick --ops svd $extra --out $r/$name.json > $r/$name.md 2> $r/${name}_logs.txt; echo "rc=$?" )
  grep -E "^svd|GPU time" $r/${name}_logs.txt
  grep -c "sweep" $r/${name}_logs.txt
done
echo "== peer $(date -u +%T)"
python3 benches/peers/torch_peers.py --ops svd --out $r/peer.json > $r/peer_logs.txt 2>&1; echo "peer rc=$?"
grep -E "median" $r/peer_logs.txt
for spec in "$@"; do name=${spec%%:*}; python3 benches/compare.py $r/$name.json $r/peer.json --md $r/compare_$name.md >/dev/null 2>&1; echo "-- $name"; cat $r/compare_$name.md; done
cd $out && tar czf raw.tgz raw && rm -rf raw
