#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Checks that every C/C++ file of src/ and tests/ is formatted as .clang-format says
# (clang-format-14 --dry-run -Werror); ctest runs it as style.format (label style).
#
#   tests/style/format.sh          list the files that differ; exit 1 if any does
#   tests/style/format.sh --fix    reformat them in place
#   tests/style/format.sh --diff   also show what would change
#
# Files: those git tracks (a copy of the tree without .git: every such file on disk), minus
# the generated and vendored ones in `skip` below. Exit 77 (ctest: skipped) without clang-format-14.
set -euo pipefail
cd "$(dirname "$0")/../.."

fix=0
diff=0
for arg in "$@"; do
    case $arg in
        --fix) fix=1 ;;
        --diff) diff=1 ;;
        -h|--help) sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "format.sh: unknown argument '$arg' (--fix, --diff)" >&2; exit 2 ;;
    esac
done

# The version matters: another clang-format formats some constructs differently.
clang_format=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$clang_format" >/dev/null; then
    echo "format.sh: $clang_format not found (apt install clang-format-14; install/deps.sh does)" >&2
    exit 77
fi

# Generated or vendored files, never reformatted (extended regular expressions on the path).
# None today: the seccomp table is generated into the build tree, the fuzz corpora are not C++.
skip='^$'

pattern='\.(c|cc|cpp|cxx|h|hh|hpp|hxx)$'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files -- src tests | grep -E "$pattern" | grep -Ev "$skip")
else
    mapfile -t files < <(find src tests -type f | grep -E "$pattern" | grep -Ev "$skip" | sort)
fi
if [ ${#files[@]} -eq 0 ]; then
    echo "format.sh: no C/C++ files under src/ and tests/" >&2
    exit 2
fi

if [ $fix = 1 ]; then
    "$clang_format" -i --style=file "${files[@]}"
    echo "format.sh: formatted ${#files[@]} files with $clang_format"
    exit 0
fi

bad=()
for f in "${files[@]}"; do
    if ! "$clang_format" --dry-run -Werror --style=file "$f" >/dev/null 2>&1; then
        bad+=("$f")
        [ $diff = 1 ] && { "$clang_format" --style=file "$f" | diff -u "$f" - || true; }
    fi
done
if [ ${#bad[@]} -gt 0 ]; then
    printf '%s\n' "${bad[@]}"
    echo "format.sh: ${#bad[@]} of ${#files[@]} files are not formatted as .clang-format says;" \
         "fix with: tests/style/format.sh --fix"
    exit 1
fi
echo "format.sh: ${#files[@]} files formatted as .clang-format says"
