#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Run every libFuzzer target for a bounded time; exit 1 if any of them finds anything (a
# crash, a sanitizer report, a leak, an input over the memory limit or the per-input timeout).
# CI runs this through ctest (test fuzz.run, label `fuzz`, when BRIDLE_FUZZ_IN_CTEST is ON).
#
# usage: tests/fuzz/run_fuzzers.sh [--build-dir DIR] [--time SECONDS] [--fresh] [TARGET...]
#   --build-dir DIR  the clang build (default /tmp/bridle-fuzz-build); configured here with
#                    BRIDLE_FUZZ=ON, only the fuzz_* targets are built
#   --time SECONDS   per target (default 60)
#   --fresh          start from the seeds again (forget what earlier runs in DIR discovered)
#   TARGET           tokenizer, policy, matcher, mcp, redaction, policy_cache (default: all)
# Environment: CXX (default clang++), JOBS (default: number of CPUs).
#
# libFuzzer writes the inputs it discovers into the FIRST corpus directory it is given: that
# is a scratch directory in the build dir, so the committed corpus (tests/fuzz/corpus) and
# the generated seeds are only read. A finding is saved as DIR/run/TARGET/crash-* (leak-*,
# oom-*, timeout-*): add it to tests/fuzz/corpus/TARGET/ with a name that says what it
# guards against, fix the cause, and let fuzz.replay.TARGET keep it fixed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
build_dir=/tmp/bridle-fuzz-build
seconds=60
fresh=0
targets=()
while (($#)); do
    case $1 in
        --build-dir) build_dir=$2; shift 2 ;;
        --time) seconds=$2; shift 2 ;;
        --fresh) fresh=1; shift ;;
        -h|--help) sed -n '3,20p' "$0"; exit 0 ;;
        tokenizer|policy|matcher|mcp|redaction|policy_cache) targets+=("$1"); shift ;;
        *) echo "run_fuzzers.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
((${#targets[@]})) || targets=(tokenizer policy matcher mcp redaction policy_cache)

# Per-target input size bound: past these the code under test refuses the input early
# (requests over 64 KiB; policies are a few KiB), and shorter inputs mutate faster. The
# replay tests still run every seed at full size.
declare -A max_len=([tokenizer]=8192 [policy]=16384 [matcher]=4096 [mcp]=16384 [redaction]=16384 [policy_cache]=16384)

cxx=${CXX:-clang++}
if ! command -v "$cxx" >/dev/null; then
    echo "run_fuzzers.sh: $cxx not found (install clang-14 libclang-rt-14-dev)" >&2
    exit 1
fi

mkdir -p "$build_dir" || exit 1
echo "== configuring $build_dir (CXX=$cxx, BRIDLE_FUZZ=ON)"
# A unity build, as CI's others (install/test.sh): CI runs this alone, so its build is wall time.
cmake -S "$source_dir" -B "$build_dir" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRIDLE_FUZZ=ON -DBRIDLE_FUZZ_IN_CTEST=OFF -DBRIDLE_STATIC_DEPS=OFF \
    -DCMAKE_UNITY_BUILD=ON \
    >"$build_dir/fuzz-configure.log" 2>&1 || { cat "$build_dir/fuzz-configure.log"; exit 1; }
echo "== building ${targets[*]/#/fuzz_}"
cmake --build "$build_dir" --parallel "${JOBS:-$(nproc)}" --target "${targets[@]/#/fuzz_}" \
    >"$build_dir/fuzz-build.log" 2>&1 || { tail -n 60 "$build_dir/fuzz-build.log"; exit 1; }

# fuzz_one TARGET: one bounded run; prints its report, returns 1 on any finding.
fuzz_one() {
    local target=$1 run=$build_dir/run/$1 status findings
    ((fresh)) && rm -rf "$run"
    mkdir -p "$run/corpus"
    rm -f "$run"/crash-* "$run"/leak-* "$run"/oom-* "$run"/timeout-* "$run"/slow-unit-*
    echo "== fuzz_$target for ${seconds}s"
    # -timeout: one input taking over 10 s is a finding (the code is meant to be linear).
    # -rss_limit_mb: yaml-cpp alone can reach ~600 MB on hostile input within seconds.
    "$build_dir/tests/fuzz/fuzz_$target" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len="${max_len[$target]}" \
        -print_final_stats=1 -artifact_prefix="$run/" \
        "$run/corpus" "$build_dir/tests/fuzz/seeds/$target" "$here/corpus/$target" \
        >"$run/log" 2>&1
    status=$?
    findings=$(find "$run" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' \) | sort)
    grep -E '^(stat::|#[0-9]+ *DONE)' "$run/log" | tr '\n' ' '
    echo
    if ((status != 0)) || [[ -n $findings ]]; then
        echo "FAIL fuzz_$target: exit status $status"
        grep -E -A 40 '^==[0-9]+==ERROR|runtime error|fuzz invariant violated|ALARM|out-of-memory' "$run/log" | head -n 80
        for f in $findings; do
            echo "reproducer: $f"
            echo "  replay:  $build_dir/tests/fuzz/fuzz_$target $f"
            echo "  keep it: cp $f $here/corpus/$target/<what-it-guards-against>"
        done
        return 1
    fi
    echo "PASS fuzz_$target: nothing found; $(find "$run/corpus" -type f | wc -l) new inputs in $run/corpus"
}

# JOBS targets at a time (each libFuzzer process uses one core); reports in target order.
jobs=${JOBS:-$(nproc)}
failed=0
for ((first = 0; first < ${#targets[@]}; first += jobs)); do
    batch=("${targets[@]:first:jobs}")
    pids=()
    for target in "${batch[@]}"; do
        mkdir -p "$build_dir/run/$target"
        fuzz_one "$target" >"$build_dir/run/$target.report" 2>&1 &
        pids+=($!)
    done
    for i in "${!batch[@]}"; do
        wait "${pids[$i]}" || failed=1
        cat "$build_dir/run/${batch[$i]}.report"
    done
done
exit $failed
