#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Install what the arm64 cross build needs on Debian 12 amd64 (tests/cross/arm64.sh, and
# dpkg-buildpackage -aarm64): the cross compiler, qemu-user-static to run the pure unit tests,
# and the arm64 libraries through multiarch. Idempotent; run as root after install/deps.sh.
#
# libyaml-cpp-dev is not Multi-Arch: same, so libyaml-cpp-dev:arm64 would REMOVE the amd64
# one. Only the runtime libyaml-cpp0.7:arm64 (Multi-Arch: same) is installed; the headers are
# architecture-independent, and install/cross/yaml-cpp-arm64/ points CMake at the arm64
# library with the amd64 package's headers. Undo with: apt-get purge '?architecture(arm64)';
# dpkg --remove-architecture arm64; apt-get update.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "install/deps-arm64.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi
native=(g++-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-user-static crossbuild-essential-arm64 file)
foreign=(libc6-dev:arm64 libstdc++-12-dev:arm64 libyaml-cpp0.7:arm64 libre2-dev:arm64 libsystemd-dev:arm64
         libseccomp-dev:arm64 libgtest-dev:arm64 libgmock-dev:arm64 pkgconf:arm64 libspdlog-dev:arm64)
export DEBIAN_FRONTEND=noninteractive
added=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  added=1
fi
missing=()
for p in "${native[@]}" "${foreign[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ $added = 1 ]; then
  apt-get update -q
  # The arm64 -dev packages must be the same versions as the amd64 ones (Multi-Arch: same):
  # bring the amd64 side up to date first where the archive has moved on.
  apt-get install -y -q --no-install-recommends --only-upgrade libsystemd-dev libseccomp-dev libre2-dev \
    libgtest-dev libgmock-dev libyaml-cpp0.7 libspdlog-dev || true
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
