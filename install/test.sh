#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Install the dependencies, build, and run every test (unit, golden, integration through a real
# sshd and a private journald). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash install/deps.sh
# The arm64 cross build and its package (tests/cross/arm64.sh) need the arm64 multiarch
# libraries and qemu-user-static: this adds the arm64 architecture to dpkg.
bash install/deps-arm64.sh
# BRIDLE_ASAN_IN_CTEST: the unit tests (golden files included) and the fuzz corpus replay
# under ASan + UBSan (install/test-asan.sh, its own build in build/asan, 4-7 min on 2 cores)
# run as the test asan.unit, so that their build overlaps the integration tests (two at a
# time: the dev test preset) and ctest's summary stays CI's last line.
built=$SECONDS
# -g1 (line tables: backtraces, no variables) instead of the dev preset's -g: a sixth less
# compile time for a build that is tested, not stepped through. CMAKE_UNITY_BUILD: each
# library's sources compiled as a few larger files, which parses the shared headers once per
# batch instead of once per file (a quarter less build time). A source that does not compile
# on its own would pass here: the arm64 build (tests/cross/arm64.sh) compiles each one alone.
cmake --preset dev -DBRIDLE_ASAN_IN_CTEST=ON -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 \
      -DCMAKE_UNITY_BUILD=ON
cmake --build --preset dev
# The stages' times, for the next look at CI's budget (each test's own time is in ctest's lines).
echo "test.sh: deps $built s, build $((SECONDS - built)) s; then ctest"
ctest --preset dev
