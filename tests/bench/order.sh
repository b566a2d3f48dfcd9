#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Writes src/front.order: the functions bridle (the forced command's binary) runs for the
# requests an agent sends most, in the order the linker lays them out at the start of its text
# (lld's --symbol-ordering-file; CMakeLists.txt). Packed together they are read in a few 64 KiB
# fault-around windows instead of dozens spread over 4 MB: fewer page faults per request and a
# supervisor that keeps half the memory resident (docs/benchmarks.md, "Hot code first").
#
# A stale list costs speed, never correctness: a name that no longer exists is skipped by the
# linker, and a function missing from the list lands after the listed ones. ctest
# layout.front-order fails when most of the list no longer names bridle's functions.
#
# usage: tests/bench/order.sh [--build-dir DIR] [--out FILE]
#   --build-dir DIR  a release build with bridle and bridle-full (default build/release)
#   --out FILE       where to write the list (default src/front.order)
#
# Needs root (a private journald in namespaces, as the bench), valgrind (callgrind names every
# function a request runs, in the order of their first call) and, if installed, perf: callgrind's
# CPU has no AVX-512 or SHA extensions, so glibc's string functions and bridle's SHA-256 take
# other variants under it; perf samples of the native runs add the ones this CPU takes.
set -uo pipefail

ORDER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BENCH_SOURCE_DIR:=$(cd "$ORDER_DIR/../.." && pwd)}"

if [[ -z ${BRIDLE_IT_INSIDE:-} ]]; then
    build_dir=$BENCH_SOURCE_DIR/build/release
    out=$BENCH_SOURCE_DIR/src/front.order
    while (($#)); do
        case $1 in
            --build-dir) build_dir=$2; shift 2 ;;
            --out) out=$(realpath -m "$2"); shift 2 ;;
            -h|--help) sed -n '3,21p' "$0"; exit 0 ;;
            *) echo "order.sh: unknown argument $1" >&2; exit 2 ;;
        esac
    done
    [[ $EUID -eq 0 ]] || { echo "order.sh: needs root (a private journald in namespaces)" >&2; exit 1; }
    command -v valgrind >/dev/null || { echo "order.sh: install valgrind" >&2; exit 1; }
    for program in bridle bridle-full; do
        [[ -x $build_dir/$program ]] || { echo "order.sh: $build_dir/$program is missing" >&2; exit 1; }
    done
    ORDER_WORK=$(mktemp -d /tmp/bridle-order.XXXXXX) || exit 1
    chmod 1777 "$ORDER_WORK"   # callgrind writes there as the agent
    export ORDER_WORK ORDER_OUT=$out BENCH_SOURCE_DIR
    export BRIDLE=$build_dir/bridle BRIDLE_SOURCE_DIR=$BENCH_SOURCE_DIR
    # The harness re-executes this script inside private mount, PID and network namespaces;
    # the work directory goes with this shell's exit.
    trap 'rm -rf "$ORDER_WORK"' EXIT
    (
        # shellcheck source=../support/harness.sh
        source "$BENCH_SOURCE_DIR/tests/support/harness.sh"
    )
    exit $?
fi

# -------------------------------------------------------------------- inside the namespaces
# shellcheck source=../support/harness.sh
source "$BENCH_SOURCE_DIR/tests/support/harness.sh"
it_setup_namespace
it_start_journald

export user=nobody policy=/mnt/order-policy.yaml
home=$(getent passwd "$user" | cut -d: -f6)
export home
# The bench's policy (tests/bench/run.sh): the shipped one and two rules for its requests.
{
    cat "$BENCH_SOURCE_DIR/policy/default.yaml"
    printf '%s\n' "" "  - id: bench-true" "    command: /bin/true" \
        "  - id: bench-sleep" "    command: /bin/sleep" "    args: [{name: seconds, int: [1, 5]}]"
} >"$policy"
chmod 0644 "$policy"
"$(dirname "$BRIDLE")/bridle-full" check --compile --policy "$policy" >"$ORDER_WORK/check.txt" 2>&1 ||
    { echo "FAIL: bridle check --compile"; cat "$ORDER_WORK/check.txt"; exit 1; }

# The requests, most frequent first: the list takes each one's functions in this order, so the
# start and a denial touch the fewest windows.
requests=(--version "cat /etc/shadow" "nosuch-program" "true" "uptime" "sleep 1" "help")
as_agent() {   # as_agent REQUEST PROGRAM...: PROGRAM as sshd starts the forced command
    local request=$1
    shift
    local env=(USER="$user" LOGNAME="$user" HOME="$home" PATH=/usr/bin:/bin SHELL=/bin/sh
               "SSH_CONNECTION=127.0.0.1 50000 127.0.0.1 22")
    [[ $request != --version ]] && env+=(SSH_ORIGINAL_COMMAND="$request")
    setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups env -i "${env[@]}" "$@" \
        </dev/null >/dev/null 2>&1
}
bridle_args() {   # bridle_args REQUEST: bridle's words for it
    if [[ $1 == --version ]]; then echo --version; else echo --key order --policy "$policy"; fi
}
# Then the same through the login shell sshd puts in front of a forced command when bridle is
# the account's shell (bridle -c 'bridle --key ...').
login_shell=("cat /etc/shadow" "true")
i=0
for request in "${requests[@]}"; do
    # shellcheck disable=SC2046  # bridle's words, split on purpose
    as_agent "$request" valgrind --tool=callgrind --demangle=no --compress-strings=no \
        --compress-pos=no --callgrind-out-file="$ORDER_WORK/callgrind.$i" \
        "$BRIDLE" $(bridle_args "$request")
    [[ -s $ORDER_WORK/callgrind.$i ]] || { echo "FAIL: callgrind wrote nothing for '$request'"; exit 1; }
    i=$((i + 1))
done
for request in "${login_shell[@]}"; do
    as_agent "$request" valgrind --tool=callgrind --demangle=no --compress-strings=no \
        --compress-pos=no --callgrind-out-file="$ORDER_WORK/callgrind.$i" \
        "$BRIDLE" -c "$BRIDLE $(bridle_args "$request")"
    [[ -s $ORDER_WORK/callgrind.$i ]] || { echo "FAIL: callgrind wrote nothing for -c '$request'"; exit 1; }
    i=$((i + 1))
done
if command -v perf >/dev/null; then
    # shellcheck disable=SC2016
    perf record -q -F 20000 -e cpu-clock -o "$ORDER_WORK/perf.data" -- bash -c '
        for round in $(seq 100); do
            for request in "$@"; do
                [[ $request == "sleep 1" ]] && ((round % 25)) && continue
                '"$(declare -f as_agent bridle_args)"'
                as_agent "$request" "$BRIDLE" $(bridle_args "$request")
            done
        done' order "${requests[@]}" >/dev/null 2>&1
    perf script -i "$ORDER_WORK/perf.data" -F comm,ip,sym,dso --no-demangle 2>/dev/null |
        awk -v dso="($BRIDLE)" '$1 == "bridle" && $NF == dso {print $3}' |
        sort -u >"$ORDER_WORK/perf.symbols"   # by name: a list that changes only with the code
else
    echo "order.sh: perf is not installed: the list has callgrind's functions only" >&2
    : >"$ORDER_WORK/perf.symbols"
fi
"$IT_PYTHON" - "$ORDER_WORK" "$i" "$ORDER_OUT" <<'EOF'
import sys
work, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names, seen = [], set()
def add(name):
    # callgrind names a recursive function's deeper calls NAME'2; perf says [unknown] where it
    # has no name, and callgrind 0x... ; '(below main)' is callgrind's name for libc's start.
    name = name.split("'")[0]
    if name and not name.startswith(("0x", "(", "[")) and name not in seen:
        seen.add(name)
        names.append(name)
# Request by request, each one's new functions by name: a list that changes with the code
# only, not with the layout the last list gave (callgrind writes functions in address order).
for i in range(count):
    with open(f"{work}/callgrind.{i}") as f:
        for name in sorted({line[3:].strip() for line in f if line.startswith("fn=")}):
            add(name)
with open(f"{work}/perf.symbols") as f:
    for line in f:
        add(line.strip())
with open(out, "w") as f:
    f.write("".join(name + "\n" for name in names))
print(f"order.sh: {len(names)} functions written to {out}")
EOF
status=$?
it_cleanup
exit $status
