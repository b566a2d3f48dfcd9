#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Install what is needed, build, and show bridle doing its job: the shipped default policy
# behind a real sshd on loopback, an agent's allowed and denied requests, and the journald
# records they leave. Runs in private namespaces; nothing on the host is changed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash install/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target bridle   # the demo needs the program only
BRIDLE=$PWD/build/release/bridle BRIDLE_SOURCE_DIR=$PWD exec bash install/demo-session.sh
