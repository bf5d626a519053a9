#!/usr/bin/env bash
# One device-machine run: our bench and the PyTorch peer in the same command
# on the same GPU, then the ratio table. Expects release binaries in .gpu/
# and the Vulkan loader packages in .gl/ (see benches/RESULTS.md).
#   bash benches/gpu_run.sh OUTDIR [bench args...]
set -uo pipefail
out=${1:?outdir}; shift
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
export PYTHONUNBUFFERED=1
# At most 8 files come back: env.txt, logs.txt, ours.json, ours.md,
# peer.json, compare.md, tuning.json.
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv
  .gpu/device_info; .gpu/quickstart; } > "$out/env.txt" 2>&1 || { cat "$out/env.txt"; exit 1; }
cat "$out/env.txt"
.gpu/bench --out "$out/ours.json" "$@" > "$out/ours.md" 2> "$out/logs.txt"; echo "bench rc=$?"
tail -5 "$out/logs.txt"
python3 benches/peers/torch_peers.py --out "$out/peer.json" ${PEER_OPS:+--ops $PEER_OPS} >> "$out/logs.txt" 2>&1; echo "peer rc=$?"
python3 benches/compare.py "$out/ours.json" "$out/peer.json" --md "$out/compare.md"
if [ -n "${TUNE:-}" ]; then
    .gpu/tune --table src/tuning.json --out "$out/tuning.json" --max-dim 1024 >> "$out/logs.txt" 2>&1; echo "tune rc=$?"
fi
