#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Build the Debian package from a copy of the source tree, so the work tree stays clean:
#   tests/package/build-deb.sh OUTDIR [dpkg-buildpackage options...]
# Copies the files git knows (tracked, plus untracked ones that are not ignored; every file
# but build/ when the tree is not a git checkout) to OUTDIR/src, runs
# `dpkg-buildpackage -us -uc -b` there, and leaves the .deb, .buildinfo and .changes in OUTDIR.
# DEB_BUILD_OPTIONS is passed through (default: parallel=<cores>).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: build-deb.sh OUTDIR [dpkg-buildpackage options]}
shift
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/src"
mkdir "$out/src"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$src" ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [[ -e "$src/$f" ]] && printf '%s\0' "$f"; done |
        tar -C "$src" --null -T - -cf - | tar -C "$out/src" -xf -
else
    tar -C "$src" --exclude=./build --exclude=./Testing -cf - . | tar -C "$out/src" -xf -
fi
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=$(nproc)}
cd "$out/src"
dpkg-buildpackage -us -uc -b "$@"
