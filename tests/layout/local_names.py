#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""File-local names are local to one file of a src/ folder: no function, constant or type
that one .cpp defines for itself (in an anonymous namespace, `static`, or a namespace-scope
constant) has the name of anything another .cpp of the same folder defines in the same
namespace. Prints each clash; exits 1 if there is one.

Why: CI compiles each library as a unity build (install/test.sh), several sources in one
translation unit, where such names meet. The same name twice is a redefinition at best; an
overload of the other file's helper, chosen in silence, at worst (two `trim`s once differed in
whether they took tabs). A helper two files need belongs in a header, once.

    python3 tests/layout/local_names.py [SRC_DIR]
"""
import collections
import pathlib
import re
import sys

NAMESPACE_OPEN = re.compile(r"^namespace\s*([\w:]*)\s*\{")
NAMESPACE_CLOSE = re.compile(r"^\}\s*//\s*namespace\b")
# Definitions at column 0, the only place this tree puts a namespace-scope name.
TYPE = re.compile(r"^(?:struct|class|union|enum(?:\s+class)?)\s+(\w+)\s*(?:final\s*)?[:{]?\s*$|"
                  r"^(?:struct|class|union|enum(?:\s+class)?)\s+(\w+)\s*(?:final\s*)?[:{]")
CONSTANT = re.compile(r"^(?:static\s+|inline\s+)*(?:constexpr|const)\b[^=;({]*?\b(\w+)\s*(?:=|\{|\[)")
FUNCTION = re.compile(r"^(?!(?:return|using|namespace|template|typedef|struct|class|enum|union|"
                      r"if|for|while|switch|case|default|else|do)\b)"
                      r"(?:static\s+|inline\s+|constexpr\s+|\[\[\w+\]\]\s+)*"
                      r"[\w:<>,\s\*&]+?[\s\*&]([A-Za-z_]\w*)\s*\(")
MORE_CONSTANTS = re.compile(r",\s*(k\w+)\s*=")


def definitions(path: pathlib.Path):
    """(enclosing namespace, name, file-local?) of each namespace-scope definition in `path`."""
    stack = []  # the open namespaces, innermost last; "" for an anonymous one
    for line in path.read_text(encoding="utf-8").splitlines():
        opened = NAMESPACE_OPEN.match(line)
        if opened:
            stack.append(opened.group(1))
            continue
        if NAMESPACE_CLOSE.match(line) and stack:
            stack.pop()
            continue
        if not stack or not line or not (line[0].isalpha() or line[0] == "["):
            continue
        local = "" in stack or line.startswith("static ")
        enclosing = "::".join(n for n in stack if n)
        found = TYPE.match(line)
        if found:
            if not line.rstrip().endswith(";"):  # not a forward declaration
                yield enclosing, found.group(1) or found.group(2), local
            continue
        found = CONSTANT.match(line)
        if found:  # a namespace-scope constant has internal linkage: file-local wherever it is
            yield enclosing, found.group(1), True
            for more in MORE_CONSTANTS.finditer(line[found.end():]):
                yield enclosing, more.group(1), True
            continue
        found = FUNCTION.match(line)
        if found and not line.rstrip().endswith(";"):
            yield enclosing, found.group(1), local


def main() -> int:
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2] / "src")
    clashes = 0
    checked = 0
    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        where = collections.defaultdict(set)  # (namespace, name) -> files that define it
        local = collections.defaultdict(set)  # (namespace, name) -> files where it is file-local
        for path in sorted(folder.glob("*.cpp")):
            checked += 1
            for namespace, name, is_local in definitions(path):
                where[namespace, name].add(path.name)
                if is_local:
                    local[namespace, name].add(path.name)
        for (namespace, name), files in sorted(local.items()):
            if len(where[namespace, name]) > 1:
                clashes += 1
                print(f"{folder.name}: {namespace}::{name} is file-local in {', '.join(sorted(files))}"
                      f" and defined in {', '.join(sorted(where[namespace, name]))}")
    print(f"local_names: {checked} files, {clashes} clash(es)")
    return 1 if clashes else 0


if __name__ == "__main__":
    sys.exit(main())
