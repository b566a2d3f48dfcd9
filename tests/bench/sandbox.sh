#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The sandbox's cost (issue 3): /bin/true started N times through execution::run, without a
# sandbox and in several, round-robin in one process so that every variant sees the same
# machine (tests/sandbox/sandbox_bench.cpp); plus prepare() alone, which builds the BPF
# programs with libseccomp. Prints medians and p90s in microseconds and each variant's ratio
# to the unsandboxed start measured in the same run. Results: docs/sandbox.md.
#
# usage: tests/bench/sandbox.sh [--build-dir DIR] [--runs N] [--no-build]
#   --build-dir DIR  release build to use/make (default /tmp/bridle-bench-build, as run.sh)
#   --runs N         starts per variant (default 300, after 10 warm-up rounds)
#   --no-build       use DIR as it is
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SOURCE_DIR=$(cd "$BENCH_DIR/../.." && pwd)
build_dir=/tmp/bridle-bench-build
runs=300
build=1
while (($#)); do
    case $1 in
        --build-dir) build_dir=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '3,13p' "$0"; exit 0 ;;
        *) echo "sandbox.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

if ((build)); then
    echo "== release build in $build_dir" >&2
    mkdir -p "$build_dir"
    cmake -S "$SOURCE_DIR" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRIDLE_HARDEN=ON \
        >"$build_dir/sandbox-bench-configure.log" 2>&1 || { cat "$build_dir/sandbox-bench-configure.log"; exit 1; }
    cmake --build "$build_dir" --parallel "$(nproc)" --target sandbox_bench \
        >"$build_dir/sandbox-bench-build.log" 2>&1 || { tail -n 40 "$build_dir/sandbox-bench-build.log"; exit 1; }
fi
bench=$build_dir/tests/sandbox_bench
[[ -x $bench ]] || { echo "sandbox.sh: $bench is missing" >&2; exit 1; }

table() {
    awk -F'\t' '
    NR == 1 { base = $2 }
    { rows[NR] = $0; name[NR] = $1; median[NR] = $2; p90[NR] = $3 }
    END {
        printf "| variant | median us | p90 us | median / unsandboxed |\n|---|---:|---:|---:|\n"
        for (i = 1; i <= NR; i++)
            printf "| %s | %d | %d | %.2f |\n", name[i], median[i], p90[i], median[i] / base
    }'
}
echo "== $runs starts per variant, round-robin ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
echo "== as $(id -un) (uid $(id -u)$( (($(id -u) == 0)) && echo ': namespaces without a user namespace'))" >&2
"$bench" "$runs" | table
# The unprivileged path (a user namespace as well), as the agent's account runs it.
if (($(id -u) == 0)) && command -v setpriv >/dev/null; then
    echo "== as nobody (namespaces through a user namespace)" >&2
    setpriv --reuid=65534 --regid=65534 --clear-groups "$bench" "$runs" | table
fi
