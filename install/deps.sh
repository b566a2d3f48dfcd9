#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Install what bridle needs to build and to run its tests on Debian 12 (bookworm). Idempotent:
# packages already present are left as they are. Run as root.
set -euo pipefail

build_deps=(
  build-essential cmake pkg-config
  libyaml-cpp-dev libre2-dev libsystemd-dev nlohmann-json3-dev libseccomp-dev
  libgtest-dev libgmock-dev
  # the audit file sink (src/audit/file_sink.cpp)
  libspdlog-dev
  # tests/sandbox builds its syscall helper also as a static i386 binary (the compat ABI):
  # what `gcc -m32` needs, without gcc-multilib, which conflicts with the arm64 cross compiler
  # (install/deps-arm64.sh).
  libc6-dev-i386 lib32gcc-12-dev
  # ctest style.format (tests/style/format.sh): the formatter .clang-format is written for.
  clang-format-14
  # ctest fuzz.run (tests/fuzz): libFuzzer with ASan + UBSan; and the `tidy` target.
  clang-14 libclang-rt-14-dev clang-tidy-14
)
# The tests start real components: sshd and ssh on loopback, systemd-journald in a private
# mount namespace (unshare from util-linux), and the programs the shipped policy allows.
test_deps=(
  openssh-server openssh-client systemd util-linux
  iproute2 iputils-ping procps coreutils grep
  python3 groff-base man-db
  # tests/integration/privilege.sh: run_as rules through the real sudo (and visudo).
  sudo
  # tests/integration/audit_fleet.sh: systemd's journal forwarding (install/fleet/), certificates.
  systemd-journal-remote openssl
  # tests/integration/sandbox.sh: real programs that can start others from their arguments.
  findutils tar mawk git less gzip
  # tests/integration/deploy.sh: a local apt repository (dpkg-scanpackages) and git daemon.
  dpkg-dev
  # Debian package (tests/package): build, check, install with apt, purge.
  debhelper devscripts lintian fakeroot adduser
  # SELinux module (selinux/, tests/selinux): refpolicy devel Makefile, linker, queries.
  selinux-policy-dev checkpolicy semodule-utils policycoreutils setools
)

if [ "$(id -u)" != 0 ]; then
  echo "install/deps.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi

missing=()
for p in "${build_deps[@]}" "${test_deps[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install/deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # policy-rc.d keeps the packages' maintainer scripts from starting daemons (sshd) on the host.
  prc=/usr/sbin/policy-rc.d
  had_prc=0; [ -e "$prc" ] && had_prc=1
  if [ $had_prc = 0 ]; then printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod 755 "$prc"; fi
  trap '[ $had_prc = 0 ] && rm -f "$prc"' EXIT
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Session mode's test client (tests/integration/mcp_session.sh) is the official MCP TypeScript
# SDK from npm, which needs node 18 or later (Debian 12's nodejs is 18.19). Installed only
# when node is missing or older, so a newer node from elsewhere (with its own npm) is kept.
node_ok() { command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' 2>/dev/null; }
node_pkgs=()
node_ok || node_pkgs=(nodejs npm)
[ ${#node_pkgs[@]} -eq 0 ] && ! command -v npm >/dev/null && node_pkgs=(npm)
if [ ${#node_pkgs[@]} -gt 0 ]; then
  echo "install/deps.sh: installing ${node_pkgs[*]} (MCP SDK test client)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${node_pkgs[@]}"
fi
