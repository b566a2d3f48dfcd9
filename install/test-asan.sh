#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The unit tests (the golden files are read by them) and the fuzz corpus replay under ASan +
# UBSan, in build/asan: the asan presets. install/test.sh runs this as the ctest test asan.unit
# (BRIDLE_ASAN_IN_CTEST); by hand it needs no root and installs nothing (install/deps.sh does that).
#
# Only what those tests need is built: each tests/unit/<name>_test.cpp's <name>_test, the
# fuzz_replay_<target> programs (and, through their dependencies, the seeds), and bridle, which
# some unit tests run. Not the sandbox syscall helpers, the benchmarks or the i386 builds.
# The preset compiles with -g1: line tables, which is all a sanitizer report's file:line needs,
# for about a tenth less compile than -g; and as a unity build, as install/test.sh's.
# No test is excluded: every unit test passes under the sanitizers, including those that fork
# into a sandbox (seccomp, Landlock, namespaces, RLIMIT_AS): the sandbox is applied in the
# forked child on its way to execve, and the program it execs is not instrumented, so ASan's
# shadow memory never meets the 1 GiB address-space limit.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
cmake --preset asan -DCMAKE_UNITY_BUILD=ON
configured=$SECONDS

# The targets are read from the build system, so a new unit test or fuzz target is picked up;
# a tests/unit file without a target of its name is skipped.
mapfile -t available < <(cmake --build build/asan --target help | sed -n 's/^\.\.\. //p')
targets=()
for t in "${available[@]}"; do
    if [[ $t == bridle || $t == fuzz_replay_* ]] ||
       [[ $t == *_test && -f tests/unit/$t.cpp ]]; then
        targets+=("$t")
    fi
done
echo "test-asan.sh: building ${targets[*]}"
cmake --build --preset asan --target "${targets[@]}"
built=$SECONDS

# The preset adds ASAN_OPTIONS (leaks, strict string checks, stack use after return) in front
# of any the caller set; UBSan stops at the first report (-fno-sanitize-recover=all).
ctest --preset asan-unit
echo "test-asan.sh: configure $((configured - start)) s, build $((built - configured)) s," \
     "test $((SECONDS - built)) s"
