#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The include graph of src/, folder by folder, checked against the layers of
docs/architecture.md: every edge points down (to a lower layer), and the pure stages include
only pure stages. Prints the graph; exits 1 on an edge that runs back up.

    python3 tests/layout/layers.py [SRC_DIR]
"""
import collections
import pathlib
import re
import sys

# Lowest first. A folder may include its own files and those of any lower layer.
LAYERS = [
    ("base", ["common", "os"]),                        # libc and the standard library only
    ("pure stages", ["command", "policy", "matching", "privilege"]),
    ("mechanisms", ["loader", "sandbox", "execution", "audit", "files", "guard", "approval"]),
    ("pipeline", ["gate"]),
    ("front ends", ["session", "target", "admin", "forced", "fleet"]),
    ("main", ["main.cpp", "front.cpp", "modes.cpp", "modes.hpp"]),
]
# Within a layer, these edges are allowed, and no others (each a documented hand-over).
SIDEWAYS = {
    ("matching", "policy"), ("privilege", "matching"), ("privilege", "policy"),
    ("execution", "sandbox"), ("audit", "execution"),
    ("approval", "execution"),   # ssh-keygen, an auxiliary program
    ("forced", "session"),   # a `mcp` request becomes a session
    ("fleet", "session"),    # the controller frames its MCP requests with session/jsonrpc
}
PURE = {"common", "command", "policy", "matching", "privilege"}
# The one lookup a pure stage makes (docs/architecture.md): privilege's run_as user, through
# os/accounts like every account lookup (tests/layout/account_lookups.sh).
PURE_LOOKUPS = {("privilege", "os")}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"', re.M)


def main() -> int:
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2] / "src")
    rank = {folder: i for i, (_, folders) in enumerate(LAYERS) for folder in folders}
    edges = collections.defaultdict(set)   # (from, to) -> files
    for path in sorted(src.rglob("*.[ch]pp")):
        folder = path.parent.name if path.parent != src else path.name
        for target in INCLUDE.findall(path.read_text(encoding="utf-8")):
            if target != folder:
                edges[(folder, target)].add(str(path.relative_to(src)))
    bad = []
    for (a, b), files in sorted(edges.items()):
        if a not in rank or b not in rank:
            bad.append(f"{a} -> {b}: a folder the layers do not name ({', '.join(sorted(files))})")
            continue
        ok = rank[b] < rank[a] or (a, b) in SIDEWAYS
        if a in PURE and b not in PURE and (a, b) not in PURE_LOOKUPS:
            ok = False
        print(f"{a:10} -> {b:10} {'' if ok else 'UP '}({len(files)} file{'s' if len(files) > 1 else ''})")
        if not ok:
            bad.append(f"{a} -> {b}: runs back up ({', '.join(sorted(files))})")
    for line in bad:
        print("layers: " + line, file=sys.stderr)
    print(f"layers: {len(edges)} folder edges, {len(bad)} against the layers")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
