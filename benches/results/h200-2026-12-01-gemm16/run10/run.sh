#!/usr/bin/env bash
# tests/gemm.rs on the H200 (its cooperative f16 GEMM, the split-f16 path and
# the f32 kernels), with WGPU_LINALG_REQUIRE_GPU=1.
set -uo pipefail
O=$OUT
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
WGPU_LINALG_REQUIRE_GPU=1 RUST_LOG=wgpu_linalg=info timeout 300 .gpu/gemm_tests --test-threads 2 2>&1 | tee $O/gemm_tests.log | grep -v "^$" | tail -40
echo "rc=${PIPESTATUS[0]}"
grep -m3 "opened" $O/gemm_tests.log
