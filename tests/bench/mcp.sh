#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Session-mode benchmark (issue 6): per-request latency of `true` through bridle over one
# MCP session, against a new ssh connection per command and against one ssh exec per
# command over a ControlMaster connection, in one run against the same sshd (the
# integration harness: private namespaces, a private journald, a throwaway user; nothing on
# the host changes). Target: a session call costs under a tenth of a multiplexed ssh exec.
# Results and how to read them: docs/benchmarks.md.
#
# usage: tests/bench/mcp.sh [--build-dir DIR] [--no-build] [--rounds N] [--session-calls N]
#   --build-dir DIR     release build to use/make (default /tmp/bridle-bench-build)
#   --no-build          use DIR as it is
#   --rounds N          interleaved rounds (default 40): each one ssh, one mux exec, and
#   --session-calls N   this many session calls (default 10)
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BENCH_SOURCE_DIR:=$(cd "$BENCH_DIR/../.." && pwd)}"

if [[ -z ${BRIDLE_IT_INSIDE:-} ]]; then
    build_dir=/tmp/bridle-bench-build
    build=1
    rounds=40
    calls=10
    while (($#)); do
        case $1 in
            --build-dir) build_dir=$2; shift 2 ;;
            --no-build) build=0; shift ;;
            --rounds) rounds=$2; shift 2 ;;
            --session-calls) calls=$2; shift 2 ;;
            -h|--help) sed -n '3,16p' "$0"; exit 0 ;;
            *) echo "mcp.sh: unknown argument $1" >&2; exit 2 ;;
        esac
    done
    if ((build)); then
        echo "== release build in $build_dir" >&2
        mkdir -p "$build_dir" || exit 1
        cmake -S "$BENCH_SOURCE_DIR" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRIDLE_HARDEN=ON \
            -DBRIDLE_FUZZ_IN_CTEST=OFF >"$build_dir/bench-configure.log" 2>&1 ||
            { cat "$build_dir/bench-configure.log"; exit 1; }
        cmake --build "$build_dir" --parallel "$(nproc)" --target bridle \
            >"$build_dir/bench-build.log" 2>&1 || { tail -n 40 "$build_dir/bench-build.log"; exit 1; }
    fi
    [[ -x $build_dir/bridle ]] || { echo "mcp.sh: $build_dir/bridle is missing" >&2; exit 1; }
    export BRIDLE=$build_dir/bridle BRIDLE_SOURCE_DIR=$BENCH_SOURCE_DIR BENCH_SOURCE_DIR
    export BENCH_ROUNDS=$rounds BENCH_CALLS=$calls
    echo "== ssh vs ControlMaster vs one MCP session (private sshd and journald)" >&2
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
bench_direct_command
direct=("${BENCH_DIRECT[@]}")
"$IT_PYTHON" "$BENCH_DIR/mcp_client.py" --config "$IT_WORK/ssh_config" --host main --mux-host main-mux \
    --rounds "$BENCH_ROUNDS" --session-calls "$BENCH_CALLS" --floor "$IT_ROOT/bin/floor" \
    --floor-user "$IT_UID:$(id -g "$IT_USER")" -- "${direct[@]}" >"$IT_WORK/mcp-bench.json"
status=$?
if ((status == 0)); then
    "$IT_PYTHON" - "$IT_WORK/mcp-bench.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
rows = [("ssh", "`ssh HOST true` (new connection per command)"),
        ("mux", "`ssh HOST-mux true` (ControlMaster, one exec per command)"),
        ("session", "`run_command {argv: [true]}` over one MCP session"),
        ("check", "`check_command {argv: [true]}` over the same session (no process started)"),
        ("direct", "`run_command {argv: [true]}` over a session on bridle's stdio (no ssh)"),
        ("bare", "fork, exec of `/bin/true`, wait (a small C program)"),
        ("floor", "floor: `/bin/true` started in new namespaces under seccomp by the same small program"),
        ("floor-spawner", "floor: the same inside namespaces made once (what a per-session spawner pays per call)")]
print("| request path | n | median | p10 .. p90 | vs mux |")
print("|---|---:|---:|---:|---:|")
for key, label in rows:
    s = r[key]
    print(f"| {label} | {s['n']} | {s['median_ms']:.2f} ms | {s['p10_ms']:.2f} .. {s['p90_ms']:.2f} ms "
          f"| {s['median_ms'] / r['mux']['median_ms']:.3f}x |")
print()
print(f"Opening the session (ssh connection + initialize): {r['session_connect_ms']:.0f} ms.")
ratio = r["session_over_mux"]
print(f"Target: a session call under 0.1x a multiplexed exec: {ratio:.3f}x -> {'MET' if ratio < 0.1 else 'NOT MET'}")
ratio = r["direct_over_bare"]
print(f"Target (issue 17): a session's run_command of /bin/true at most 1.5x a bare fork+exec: "
      f"{ratio:.2f}x -> {'MET' if ratio <= 1.5 else 'NOT MET'}")
bare = r["bare"]["median_ms"]
print(f"The floor (tests/bench/floor.c, as the session's account): a sandboxed start with new namespaces "
      f"per call {r['floor']['median_ms'] / bare:.2f}x bare; inside namespaces made once "
      f"{r['floor-spawner']['median_ms'] / bare:.2f}x bare.")
EOF
else
    echo "FAIL: the benchmark client failed"
fi
it_cleanup
exit $status
