#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Drives `bridle fleet mcp` with raw JSON-RPC for tests/bench/fleet.sh: opens every host's
session first, then times run_command on one host and on all of them, interleaved, once the
sessions are open; then the same with a command every host denies (no process starts on the
hosts: the controller's own scaling). Around each call it reads the CPU time that the hosts' process trees
(sshd, its journald, the session's bridle and its workers and commands) and the controller's
(bridle fleet mcp and its ssh clients) used, from /proc: utime + stime of every live process
of the trees plus cutime + cstime (their reaped children). All of it runs on this machine's
cores, so (hosts' CPU + controller's CPU) / cores is a floor under the fan-out's wall time
that no controller can beat here. Prints one JSON object (medians, the ratio, the floor, the
verdict against the issue's target of at most 2x), then the verdict in a line of its own.

    fleet_bench.py --hosts N --rounds N --host-pids PID,... [--max-parallel N] -- BRIDLE fleet mcp -i INVENTORY --ssh-config FILE
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")
TARGET = 2.0


def process_table():
    """pid -> (ppid, own + reaped children's CPU ticks, comm) for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        # state ppid ... utime(14) stime(15) cutime(16) cstime(17), counted from 1 at pid
        table[int(entry)] = (int(fields[1]), sum(int(x) for x in fields[11:15]), comm)
    return table


def tree_cpu_ms(table, roots):
    """The CPU time (ms) of the processes under `roots` (included), by process name (a
    process's reaped children count under its name: bridle's workers and their commands)."""
    children = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    by_name, stack, seen = {}, [r for r in roots if r in table], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        _, ticks, comm = table[pid]
        by_name[comm] = by_name.get(comm, 0) + ticks * TICK_MS
        stack.extend(children.get(pid, ()))
    return by_name


def difference(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--hosts", type=int, required=True)
    parser.add_argument("--host-pids", default="", help="each host's sshd (the root of its tree)")
    parser.add_argument("--cores", type=int, default=os.cpu_count())
    parser.add_argument("--max-parallel", type=int, default=0, help="0: the controller's default")
    parser.add_argument("--sleep-rounds", type=int, default=2, help="rounds of `sleep 1`")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    host_pids = [int(p) for p in args.host_pids.split(",") if p]
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

    def run(target, argv=("echo", "hi"), want="ok"):
        """(wall ms, hosts' CPU ms, controller's CPU ms) of one run_command."""
        before = process_table()
        start = time.monotonic()
        arguments = dict(target, argv=list(argv))
        if args.max_parallel and "max_parallel" not in arguments:
            arguments["max_parallel"] = args.max_parallel
        result = call("tools/call", {"name": "run_command", "arguments": arguments})
        elapsed = (time.monotonic() - start) * 1000
        # The hosts' workers are reaped (and counted in cutime) right after they answer.
        time.sleep(0.05)
        after = process_table()
        summary = result["structuredContent"]["summary"]
        if summary.get(want) != summary["hosts"]:
            print(f"fleet_bench: not every host {want}: {summary}", file=sys.stderr)
            sys.exit(1)
        hosts = difference(tree_cpu_ms(after, host_pids), tree_cpu_ms(before, host_pids))
        controller = difference(tree_cpu_ms(after, [proc.pid]), tree_cpu_ms(before, [proc.pid]))
        return elapsed, hosts, controller

    call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
    first = run({"group": "all"})[0]  # opens every session
    run({"group": "all"})
    one, many, denied_one, denied_many = [], [], [], []
    # A denied command: the same fan-out, but each host only decides and writes one record
    # (no process starts), so the hosts' CPU nearly vanishes and what is left is the
    # controller's own scaling (its threads, JSON, 20 ssh channels) and the transport.
    denied = dict(argv=("cat", "/etc/shadow"), want="denied")
    for _ in range(args.rounds):
        one.append(run({"hosts": ["h1"]}))
        many.append(run({"group": "all"}))
        denied_one.append(run({"hosts": ["h1"]}, **denied))
        denied_many.append(run({"group": "all"}, **denied))
    # Waves: `sleep 1` takes a second of wall time and almost no CPU, so a fan-out of it shows
    # what the controller's concurrency costs apart from the hosts' CPU: with max_parallel
    # below the number of hosts, the last hosts start only when the first have finished.
    sleep = dict(argv=("sleep", "1"))
    sleep_one, sleep_all, sleep_all_16 = [], [], []
    for _ in range(args.sleep_rounds):
        sleep_one.append(run({"hosts": ["h1"]}, **sleep)[0])
        sleep_all.append(run({"group": "all"}, **sleep)[0])
        sleep_all_16.append(run({"group": "all", "max_parallel": 16}, **sleep)[0])
    proc.stdin.close()
    proc.wait(timeout=30)

    def per_call(rows, i):
        """The mean CPU (ms) per call by process name (clock ticks are 10 ms: a median of
        single calls would be mostly rounding)."""
        names = set().union(*(r[i] for r in rows))
        return {n: sum(r[i].get(n, 0) for r in rows) / len(rows) for n in sorted(names)}

    one_ms = statistics.median(r[0] for r in one)
    all_ms = statistics.median(r[0] for r in many)
    ratio = all_ms / one_ms
    hosts_by_name, controller_by_name = per_call(many, 1), per_call(many, 2)
    hosts_cpu, controller_cpu = sum(hosts_by_name.values()), sum(controller_by_name.values())
    floor_ms = (hosts_cpu + controller_cpu) / args.cores
    floor_ratio = floor_ms / one_ms
    if ratio <= TARGET:
        verdict = f"MET: {ratio:.2f}x <= {TARGET:g}x"
    elif floor_ratio > TARGET:
        verdict = (f"NOT MET: {ratio:.2f}x > {TARGET:g}x; but this machine's CPU floor is already "
                   f"{floor_ratio:.2f}x (the {args.hosts} hosts used {hosts_cpu:.0f} ms of CPU and the "
                   f"controller {controller_cpu:.0f} ms per fan-out, on {args.cores} cores: at least "
                   f"{floor_ms:.0f} ms of wall time), so the target cannot be judged here; the wall "
                   f"time is {all_ms / floor_ms:.2f}x that floor")
    else:
        verdict = (f"NOT MET: {ratio:.2f}x > {TARGET:g}x with a CPU floor of {floor_ratio:.2f}x "
                   f"({floor_ms:.0f} ms; it counts neither the other load on this machine nor "
                   f"the waits between one request's processes): the wall time is "
                   f"{all_ms / floor_ms:.2f}x that floor")
    print(json.dumps({
        "hosts": args.hosts,
        "rounds": args.rounds,
        "max_parallel": args.max_parallel or "default",
        "cores": args.cores,
        "open_all_ms": round(first, 1),
        "one_median_ms": round(one_ms, 1),
        "all_median_ms": round(all_ms, 1),
        "ratio": round(ratio, 2),
        "one_hosts_cpu_ms": round(sum(per_call(one, 1).values()), 1),
        "all_hosts_cpu_ms": round(hosts_cpu, 1),
        "all_hosts_cpu_by_process_ms": {n: round(v, 1) for n, v in hosts_by_name.items() if v},
        "all_controller_cpu_ms": round(controller_cpu, 1),
        "all_controller_cpu_by_process_ms": {n: round(v, 1) for n, v in controller_by_name.items() if v},
        "cpu_floor_ms": round(floor_ms, 1),
        "cpu_floor_ratio": round(floor_ratio, 2),
        "wall_over_floor": round(all_ms / floor_ms, 2) if floor_ms else None,
        "denied_one_median_ms": round(statistics.median(r[0] for r in denied_one), 1),
        "denied_all_median_ms": round(statistics.median(r[0] for r in denied_many), 1),
        "denied_ratio": round(statistics.median(r[0] for r in denied_many)
                              / statistics.median(r[0] for r in denied_one), 2),
        "denied_all_hosts_cpu_ms": round(sum(per_call(denied_many, 1).values()), 1),
        "denied_all_controller_cpu_ms": round(sum(per_call(denied_many, 2).values()), 1),
        "sleep_one_ms": round(statistics.median(sleep_one), 1) if sleep_one else None,
        "sleep_all_ms": round(statistics.median(sleep_all), 1) if sleep_all else None,
        "sleep_all_max_parallel_16_ms": round(statistics.median(sleep_all_16), 1) if sleep_all_16 else None,
        "verdict": verdict,
    }))
    print(f"fleet: {args.hosts} hosts {all_ms:.1f} ms, 1 host {one_ms:.1f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
