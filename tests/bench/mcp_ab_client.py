#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mcp_ab_client.py CALLS FLOOR BEFORE.cmd AFTER.cmd: run_command of /bin/true over two
direct sessions (each command line NUL-separated in its file) and the bare fork+exec, in
blocks of 10, 50 ms apart; prints the medians and ratios (tests/bench/mcp_ab.sh)."""
import statistics
import sys
import time

from mcp_client import Session, floor_calls

BLOCK = 10


def main():
    calls, floor = int(sys.argv[1]), sys.argv[2]
    sessions = [Session([w.decode() for w in open(path, "rb").read().split(b"\0")[:-1]])
                for path in sys.argv[3:5]]
    for _ in range(10):  # warm-up: page cache, journald
        for s in sessions:
            s.call_true()
    samples = {"before": [], "after": [], "bare": []}
    for _ in range(max(1, calls // BLOCK)):
        for name, s in zip(("before", "after"), sessions):
            time.sleep(0.05)
            samples[name].extend(s.call_true() for _ in range(BLOCK))
        time.sleep(0.05)
        samples["bare"].extend(floor_calls(floor, BLOCK))
    for s in sessions:
        s.close()
    m = {k: statistics.median(v) for k, v in samples.items()}
    for k, v in samples.items():
        v = sorted(v)
        print(f"{k:7s} n={len(v)} median {m[k]:.3f} ms  p10 {v[len(v) // 10]:.3f}  "
              f"p90 {v[9 * len(v) // 10]:.3f}")
    print(f"before / bare {m['before'] / m['bare']:.2f}x  after / bare {m['after'] / m['bare']:.2f}x  "
          f"after / before {m['after'] / m['before']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
