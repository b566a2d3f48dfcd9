#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks src/front.order against the bridle binary (CMakeLists.txt, "Hot code first").

1. The list still names bridle's functions: a list most of whose names are gone (renamed,
   removed, inlined) no longer puts the hot code first, and nothing else would say so.
2. The linker honoured it: when lld linked bridle, the listed functions lie packed at the start
   of the text, within half as much again as their own size. Built without lld, the layout is
   the compiler's, and this part is skipped (exit 77).

usage: tests/layout/front_order.py BRIDLE ORDER_FILE
"""
import subprocess
import sys

PRESENT_AT_LEAST = 0.90  # of the listed names
PACKED_WITHIN = 1.5  # the span they occupy, against the sum of their sizes
SLACK = 64 * 1024  # alignment and the few sections a listed function shares


def text_symbols(binary):
    out = subprocess.run(["nm", "--defined-only", "-S", binary], capture_output=True, text=True,
                         check=True).stdout
    symbols = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2] in "tTwWiI":
            symbols.setdefault(fields[3], (int(fields[0], 16), int(fields[1], 16)))
    return symbols


def section(binary, name):
    out = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        fields = line.replace("[ ", "[").split()
        if len(fields) > 5 and fields[1] == name:
            return int(fields[3], 16), int(fields[5], 16)
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1])
        return 2
    binary, order_file = sys.argv[1], sys.argv[2]
    with open(order_file) as f:
        names = [line.strip() for line in f if line.strip()]
    symbols = text_symbols(binary)
    present = [name for name in names if name in symbols]
    share = len(present) / len(names) if names else 0.0
    print(f"front_order: {len(present)} of the {len(names)} functions {order_file} lists are in "
          f"{binary} ({share:.0%})")
    if share < PRESENT_AT_LEAST:
        print(f"front_order: FAIL: fewer than {PRESENT_AT_LEAST:.0%}: the list is stale; "
              "regenerate it with tests/bench/order.sh")
        return 1
    comment = subprocess.run(["readelf", "-p", ".comment", binary], capture_output=True,
                             text=True).stdout
    if "LLD" not in comment:
        print("front_order: SKIP: not linked by lld, so the list was not used")
        return 77
    text = section(binary, ".text")
    if text is None:
        print(f"front_order: FAIL: {binary} has no .text")
        return 1
    start = text[0]
    size = sum(symbols[name][1] for name in present)
    limit = start + int(size * PACKED_WITHIN) + SLACK
    outside = [name for name in present if symbols[name][0] >= limit]
    print(f"front_order: the listed functions are {size // 1024} KiB; "
          f"{len(present) - len(outside)} of them lie in the first {(limit - start) // 1024} KiB "
          f"of the text ({text[1] // 1024} KiB)")
    if len(outside) > len(present) // 20:
        print(f"front_order: FAIL: {len(outside)} listed functions lie beyond, e.g. "
              f"{', '.join(outside[:5])}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
