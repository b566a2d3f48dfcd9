#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The arm64 (Raspberry Pi OS 64-bit, Debian arm64) cross build: compile bridle and the pure
# core's unit tests with aarch64-linux-gnu-g++ against the arm64 multiarch libraries, check
# that the binary is an arm64 PIE, and run the pure unit tests (common, command, policy,
# matching) under qemu-aarch64-static. The sandbox, execution, audit, gate and admin tests
# are skipped, and say so: under qemu-user seccomp_load() fails (-ECANCELED), Landlock is
# ENOSYS, and a seccomp'd child has been seen spinning forever; those need a real arm64 host.
#
# Setup: bash install/deps-arm64.sh (multiarch arm64 + cross compiler + qemu-user-static).
# Exit 77 (ctest: skipped) when it has not been run. BRIDLE_CROSS_DIR keeps the build tree.
set -uo pipefail
SRC=$(realpath "$(dirname "$0")/../..")
for tool in aarch64-linux-gnu-g++ qemu-aarch64-static cmake; do
    command -v "$tool" >/dev/null || { echo "SKIP arm64: $tool is missing (run install/deps-arm64.sh)"; exit 77; }
done
for f in /usr/lib/aarch64-linux-gnu/libyaml-cpp.so.0.7 /usr/lib/aarch64-linux-gnu/pkgconfig/re2.pc \
         /usr/lib/aarch64-linux-gnu/pkgconfig/libsystemd.pc /usr/lib/aarch64-linux-gnu/libgtest.a \
         /usr/lib/aarch64-linux-gnu/cmake/spdlog/spdlogConfig.cmake; do
    [[ -e $f ]] || { echo "SKIP arm64: $f is missing (run install/deps-arm64.sh)"; exit 77; }
done

B=${BRIDLE_CROSS_DIR:-}
if [[ -n $B ]]; then
    mkdir -p "$B"
else
    B=$(mktemp -d /tmp/bridle-arm64.XXXXXX)
    trap 'rm -rf "$B"' EXIT
fi
pure=(common command policy matching)
skipped=(sandbox execution audit gate admin)
failed=0
passed=0
start=$SECONDS
targets=()
for t in "${pure[@]}"; do targets+=("${t}_test"); done
# BRIDLE_CROSS_PACKAGE=1 (ctest): also the arm64 .deb (dpkg-buildpackage -aarm64). Its build
# tree is then the one whose binary is checked and run below, and the unit tests are added to
# it: one arm64 build of the sources instead of two (the package's and a RelWithDebInfo one),
# and what runs under qemu is the binary the package ships. -d: its Build-Depends name
# libyaml-cpp-dev, whose arm64 build cannot be installed here (see install/deps-arm64.sh);
# BRIDLE_CMAKE_FLAGS points CMake at the arm64 library instead, and adds -Werror as the
# toolchain build below has it. Not a unity build, unlike CI's others (install/test.sh): this is
# the build that compiles each source on its own, as a user's does.
if [[ ${BRIDLE_CROSS_PACKAGE:-0} == 1 ]]; then
    # Without -g, as in tests/package/run.sh: a third less compile, the same code.
    if DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" DEB_CFLAGS_STRIP=-g DEB_CXXFLAGS_STRIP=-g \
       BRIDLE_CMAKE_FLAGS="-Dyaml-cpp_DIR=$SRC/install/cross/yaml-cpp-arm64 -DBRIDLE_WERROR=ON" \
       bash "$SRC/tests/package/build-deb.sh" "$B/deb" -aarm64 -d >"$B/deb.log" 2>&1 &&
       deb=$(ls "$B"/deb/bridle_*_arm64.deb) && [[ $(dpkg-deb -f "$deb" Architecture) == arm64 ]]; then
        echo "PASS arm64.package ($(basename "$deb"), $((SECONDS - start)) s)"
        passed=$((passed + 1))
    else
        tail -n 30 "$B/deb.log"
        echo "FAIL arm64.package"
        exit 1
    fi
    # The package was configured without its tests (nocheck); the compiler flags stay in the
    # cache, so turning them on adds the test targets and rebuilds nothing the package built.
    build=$B/deb/src/obj-aarch64-linux-gnu
    configure=(cmake -S "$B/deb/src" -B "$build" -DBRIDLE_TESTS=ON -DBRIDLE_FUZZ_IN_CTEST=OFF
               -DCMAKE_CROSSCOMPILING_EMULATOR=qemu-aarch64-static)
else
    targets+=(bridle)
    build=$B
    configure=(cmake -S "$SRC" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$SRC/install/cross/aarch64-linux-gnu.cmake"
               -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRIDLE_HARDEN=ON -DBRIDLE_WERROR=ON)
fi
if ! "${configure[@]}" >"$build/configure.log" 2>&1; then
    cat "$build/configure.log"
    echo "FAIL arm64.configure"
    exit 1
fi
if ! cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >"$build/build.log" 2>&1; then
    grep -E 'error|Error' "$build/build.log" | head -n 40
    echo "FAIL arm64.build"
    exit 1
fi
echo "PASS arm64.build ($((SECONDS - start)) s)"
passed=$((passed + 1))

info=$(file -L "$build/bridle")
if [[ $info == *"ARM aarch64"* && $info == *"pie executable"* ]]; then
    echo "PASS arm64.binary-is-aarch64-pie"
    passed=$((passed + 1))
else
    echo "FAIL arm64.binary-is-aarch64-pie: $info"
    failed=$((failed + 1))
fi
# No -L: see install/cross/aarch64-linux-gnu.cmake.
emulate=(timeout -k 5 120 qemu-aarch64-static)
if out=$("${emulate[@]}" "$build/bridle" --version 2>&1) && [[ $out == bridle* ]]; then
    echo "PASS arm64.runs-under-qemu ($out)"
    passed=$((passed + 1))
else
    echo "FAIL arm64.runs-under-qemu: $out"
    failed=$((failed + 1))
fi
for t in "${pure[@]}"; do
    bin=$(find "$build" -name "${t}_test" -type f -perm -u+x | head -n 1)
    if (cd "$build" && "${emulate[@]}" "$bin" --gtest_brief=1 >"$build/$t.log" 2>&1); then
        echo "PASS arm64.${t}_test ($(grep -o '[0-9]* tests\? from [0-9]* test suites\? ran' "$build/$t.log" | head -n 1))"
        passed=$((passed + 1))
    else
        tail -n 30 "$build/$t.log"
        echo "FAIL arm64.${t}_test"
        failed=$((failed + 1))
    fi
done
for t in "${skipped[@]}"; do
    echo "SKIP arm64.${t}_test: not pure (seccomp, Landlock, journald or the binary run as a program): run it on an arm64 host"
done
echo "arm64: $passed passed, $failed failed, ${#skipped[@]} skipped ($((SECONDS - start)) s)"
((failed == 0))
