#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Two bridle binaries' session calls in one run (issue 17, part 4): a direct MCP session per
# binary (bridle's stdio, started as sshd starts it, without ssh: mcp.sh's "direct" row) and
# the bare fork+exec of /bin/true (`floor calls N bare`, floor.c), in blocks of 10 calls per binary, so that
# each binary's deferred work (a worker exiting after its answer) lands on its own next call.
# Prints the medians and the ratios. Results: docs/benchmarks.md, "A session call, step by
# step".
#
# usage: tests/bench/mcp_ab.sh BEFORE_BINARY AFTER_BINARY [CALLS]   (as root; default 200)
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BENCH_SOURCE_DIR:=$(cd "$BENCH_DIR/../.." && pwd)}"

if [[ -z ${BRIDLE_IT_INSIDE:-} ]]; then
    (($# >= 2)) || { sed -n '3,9p' "$0"; exit 2; }
    for binary in "$1" "$2"; do
        [[ -x $binary ]] || { echo "mcp_ab.sh: $binary is not executable" >&2; exit 2; }
    done
    BRIDLE=$(realpath "$2") && BENCH_BEFORE=$(realpath "$1") || exit 2
    export BRIDLE BENCH_BEFORE BENCH_CALLS=${3:-200}
    export BRIDLE_SOURCE_DIR=$BENCH_SOURCE_DIR BENCH_SOURCE_DIR
    # shellcheck source=../support/harness.sh
    source "$BENCH_SOURCE_DIR/tests/support/harness.sh"
    exit 1   # not reached: the harness re-executes this script in namespaces
fi

# -------------------------------------------------------------------- inside the namespaces
# shellcheck source=../support/harness.sh
source "$BENCH_SOURCE_DIR/tests/support/harness.sh"
# shellcheck source=mcp_setup.sh
source "$BENCH_DIR/mcp_setup.sh"
bench_mcp_setup
install -m 0755 -o root -g root "$BENCH_BEFORE" "$IT_ROOT/bin/bridle-before"
bench_direct_command "$IT_ROOT/bin/bridle-before"
printf '%s\0' "${BENCH_DIRECT[@]}" >"$IT_WORK/before.cmd"
bench_direct_command
printf '%s\0' "${BENCH_DIRECT[@]}" >"$IT_WORK/after.cmd"
"$IT_PYTHON" "$BENCH_DIR/mcp_ab_client.py" "$BENCH_CALLS" "$IT_ROOT/bin/floor" \
    "$IT_WORK/before.cmd" "$IT_WORK/after.cmd"
status=$?
((status == 0)) || echo "FAIL: the benchmark client failed"
it_cleanup
exit $status
