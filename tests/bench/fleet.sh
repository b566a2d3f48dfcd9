#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fleet fan-out benchmark (issue 18): the wall time of a trivial command (`echo hi`) through
# `bridle fleet mcp` on 20 hosts against 1 host, once every session is open. The hosts are
# network namespaces on this machine, each with its own sshd, journald and bridle (the set-up
# of tests/integration/fleet.sh, tests/support/fleet_hosts.sh): all 20 share this machine's
# cores, so the ratio also measures 20 hosts' bridle running on 2 cores at once: the bench
# also measures that CPU (the hosts' and the controller's process trees, from /proc) and
# prints the floor it puts under the wall time. Target from the issue: at most 2x; the last
# line says MET or NOT MET, and why. Results: docs/benchmarks.md.
#
# usage: tests/bench/fleet.sh [--hosts N] [--rounds N] [--max-parallel N]
#        (BRIDLE=path/to/bridle; default the dev build: measure a release build)
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BENCH_SOURCE_DIR:=$(cd "$BENCH_DIR/../.." && pwd)}"
if [[ -z ${BRIDLE_IT_INSIDE:-} ]]; then
    hosts=20 rounds=10 parallel=0
    while (($#)); do
        case $1 in
            --hosts) hosts=$2; shift 2 ;;
            --rounds) rounds=$2; shift 2 ;;
            --max-parallel) parallel=$2; shift 2 ;;
            -h|--help) sed -n '3,13p' "$0"; exit 0 ;;
            *) echo "fleet.sh: unknown argument $1" >&2; exit 2 ;;
        esac
    done
    export BENCH_HOSTS=$hosts BENCH_ROUNDS=$rounds BENCH_PARALLEL=$parallel BRIDLE_SOURCE_DIR=$BENCH_SOURCE_DIR BENCH_SOURCE_DIR
fi
# shellcheck source=../support/harness.sh
source "$BENCH_SOURCE_DIR/tests/support/harness.sh"   # re-executes this script in namespaces
harness_setup
# shellcheck source=../support/fleet_hosts.sh
source "$IT_SUPPORT/fleet_hosts.sh"
INV=$IT_WORK/inventory.yaml
printf 'all:\n  vars: {ansible_user: %s, bridle_key_file: %s}\n  hosts:\n' "$IT_USER" "$IT_WORK/key-fleet" >"$INV"
for n in $(seq "$BENCH_HOSTS"); do
    start_host "$n" "h$n" fleet-web.yaml
    printf '    h%s: {ansible_host: 10.231.%s.2}\n' "$n" "$n" >>"$INV"
done
wait_hosts $(seq "$BENCH_HOSTS")
PIDS=$(IFS=,; echo "${HOST_PID[*]}")
"$IT_PYTHON" "$BENCH_DIR/fleet_bench.py" --hosts "$BENCH_HOSTS" --rounds "$BENCH_ROUNDS" \
    --max-parallel "$BENCH_PARALLEL" --host-pids "$PIDS" -- \
    "$BRIDLE" fleet mcp -i "$INV" --ssh-config "$IT_WORK/fleet_ssh_config" >"$IT_WORK/fleet-bench.json"
status=$?
if ((status == 0)); then
    cat "$IT_WORK/fleet-bench.json"
    pass bench.ran
else
    fail bench.ran "fleet_bench.py exited $status"
fi
harness_finish
