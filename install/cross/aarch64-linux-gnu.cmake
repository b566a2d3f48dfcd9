# SPDX-License-Identifier: Apache-2.0
# CMake toolchain for the Debian multiarch arm64 cross build (install/deps-arm64.sh installs
# what it needs). The arm64 libraries are :arm64 packages under /usr/lib/aarch64-linux-gnu.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# find_package looks in /usr/lib/aarch64-linux-gnu/cmake. Do NOT set CMAKE_FIND_ROOT_PATH to
# /usr/aarch64-linux-gnu: Debian's multiarch libraries are not under it.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
# libyaml-cpp-dev:arm64 cannot be installed next to the amd64 one: see yaml-cpp-arm64/.
set(yaml-cpp_DIR "${CMAKE_CURRENT_LIST_DIR}/yaml-cpp-arm64" CACHE PATH "arm64 yaml-cpp shim")
# Tests (and gtest_discover_tests) run the arm64 binaries under qemu-user. No -L prefix:
# libc6:arm64 puts the arm64 loader at /lib/ld-linux-aarch64.so.1, and with -L qemu maps
# "/" itself to the prefix, which breaks code that walks paths from the root (the policy
# loader's ownership checks: "cannot open /work").
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static)
