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
cmake --preset dev
cmake --build --preset dev
# The unit tests (golden files included) and the fuzz corpus replay under ASan + UBSan, in
# build/asan (4-7 min on 2 cores). Before the full suite, so that its summary is CI's last line.
bash install/test-asan.sh
ctest --preset dev
