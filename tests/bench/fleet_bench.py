#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Drives `bridle fleet mcp` with raw JSON-RPC for tests/bench/fleet.sh: opens every host's
session first, then times run_command on one host and on all of them, interleaved, once the
sessions are open. Prints one JSON object with the medians and their ratio.

    fleet_bench.py --rounds N -- BRIDLE fleet mcp -i INVENTORY --ssh-config FILE
"""
import argparse
import json
import statistics
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--hosts", type=int, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    next_id = [0]

    def call(method, params):
        next_id[0] += 1
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": next_id[0], "method": method, "params": params}) + "\n")
        proc.stdin.flush()
        while True:
            message = json.loads(proc.stdout.readline())
            if message.get("id") == next_id[0]:
                return message["result"]

    def run(target):
        start = time.monotonic()
        result = call("tools/call", {"name": "run_command", "arguments": dict(target, argv=["echo", "hi"])})
        elapsed = (time.monotonic() - start) * 1000
        summary = result["structuredContent"]["summary"]
        if summary.get("ok") != summary["hosts"]:
            print(f"fleet_bench: not every host ok: {summary}", file=sys.stderr)
            sys.exit(1)
        return elapsed

    call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
    first = run({"group": "all"})  # opens every session
    run({"group": "all"})
    one, many = [], []
    for _ in range(args.rounds):
        one.append(run({"hosts": ["h1"]}))
        many.append(run({"group": "all"}))
    proc.stdin.close()
    proc.wait(timeout=30)
    print(json.dumps({
        "hosts": args.hosts,
        "rounds": args.rounds,
        "open_all_ms": round(first, 1),
        "one_median_ms": round(statistics.median(one), 1),
        "all_median_ms": round(statistics.median(many), 1),
        "ratio": round(statistics.median(many) / statistics.median(one), 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
