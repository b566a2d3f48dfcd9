#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Per-request latency of `true` through bridle, three ways, in one run against one sshd:

  ssh        a new ssh connection per command:   ssh HOST true
  mux        one ssh exec per command over a ControlMaster connection:   ssh HOST-mux true
  session    one run_command call over one MCP session:   ssh HOST mcp   (opened once)
  check      one check_command call over the same session: the protocol and the decision
             without the sandboxed spawn of the command (what a session call costs beyond it)
  direct     one run_command call over a session on bridle's own stdio, started as sshd
             starts it but without ssh in between (--direct): what bridle itself costs
  bare       fork, exec of /bin/true and wait by a small C program (`FLOOR calls N bare`)
  floor      /bin/true started in new namespaces under seccomp by the same program, as the
             session's account (--floor-user): the least a sandboxed start costs here
  floor-spawner  the same inside namespaces made once: the least a call costs a per-session
             spawner that keeps its namespaces between calls

Usage: mcp_client.py --config SSH_CONFIG --host HOST --mux-host HOST_MUX [--rounds N]
                     [--session-calls N] --floor FLOOR --floor-user UID:GID
                     -- DIRECT_SESSION_COMMAND...
Rounds are interleaved (each round: one ssh, one mux, N session calls), so drift on the
machine hits every mode alike. Every result is checked (exit 0 / status ok). Prints one JSON
object with the samples' medians and percentiles, in milliseconds.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time


def percentile(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def summary(samples):
    return {"n": len(samples), "median_ms": statistics.median(samples),
            "p10_ms": percentile(samples, 10), "p90_ms": percentile(samples, 90)}


class Session:
    def __init__(self, command):
        start = time.perf_counter()
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=0)
        self.next_id = 0
        self.buffer = b""
        reply = self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                            "clientInfo": {"name": "bench", "version": "1"}})
        assert reply["result"]["protocolVersion"] == "2025-11-25", reply
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        self.connect_ms = (time.perf_counter() - start) * 1000

    def send(self, message):
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            while b"\n" not in self.buffer:
                chunk = self.proc.stdout.read(65536)
                if not chunk:
                    raise RuntimeError("the session ended")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\n", 1)
            reply = json.loads(line)
            if reply.get("id") == self.next_id:
                return reply

    def call_true(self):
        start = time.perf_counter()
        reply = self.request("tools/call", {"name": "run_command", "arguments": {"argv": ["true"]}})
        elapsed = (time.perf_counter() - start) * 1000
        status = reply["result"]["structuredContent"]["status"]
        if status != "ok":
            raise RuntimeError(f"run_command true: {reply}")
        return elapsed

    def check_true(self):
        start = time.perf_counter()
        reply = self.request("tools/call", {"name": "check_command", "arguments": {"argv": ["true"]}})
        elapsed = (time.perf_counter() - start) * 1000
        if reply["result"]["structuredContent"]["decision"] != "allow":
            raise RuntimeError(f"check_command true: {reply}")
        return elapsed

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def ssh_true(config, host):
    start = time.perf_counter()
    done = subprocess.run(["ssh", "-F", config, host, "true"], stdin=subprocess.DEVNULL,
                          capture_output=True)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"ssh {host} true: exit {done.returncode}: {done.stderr[:300]!r}")
    return elapsed


def floor_calls(floor, n, mode="bare", user=None):
    """n starts of /bin/true by tests/bench/floor.c, each timed (ms); as user (uid, gid) if given."""
    ids = {"user": user[0], "group": user[1], "extra_groups": []} if user else {}
    done = subprocess.run([floor, "calls", str(n), mode], capture_output=True, text=True, check=True, **ids)
    return [float(line) for line in done.stdout.split()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--mux-host", required=True)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--session-calls", type=int, default=10)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--floor-user", required=True, help="UID:GID of the session's account")
    ap.add_argument("direct", nargs="+")
    args = ap.parse_args()
    user = tuple(int(x) for x in args.floor_user.split(":"))

    session = Session(["ssh", "-F", args.config, args.host, "mcp"])
    direct = Session(args.direct)
    for _ in range(20):                      # warm-up: page cache, sshd, journald
        session.call_true()
        direct.call_true()
        ssh_true(args.config, args.mux_host)
    floor_calls(args.floor, 20)
    ssh_true(args.config, args.host)
    samples = {"ssh": [], "mux": [], "session": [], "check": [], "direct": [], "bare": [], "floor": [],
               "floor-spawner": []}
    for _ in range(args.rounds):
        samples["ssh"].append(ssh_true(args.config, args.host))
        samples["mux"].append(ssh_true(args.config, args.mux_host))
        for _ in range(args.session_calls):
            samples["session"].append(session.call_true())
            samples["check"].append(session.check_true())
            samples["direct"].append(direct.call_true())
        samples["bare"].extend(floor_calls(args.floor, args.session_calls))
        samples["floor"].extend(floor_calls(args.floor, args.session_calls, "allow", user))
        samples["floor-spawner"].extend(floor_calls(args.floor, args.session_calls, "no-namespaces", user))
    session.close()
    direct.close()
    result = {mode: summary(s) for mode, s in samples.items()}
    result["session_connect_ms"] = session.connect_ms
    result["session_over_mux"] = result["session"]["median_ms"] / result["mux"]["median_ms"]
    result["session_over_ssh"] = result["session"]["median_ms"] / result["ssh"]["median_ms"]
    result["direct_over_bare"] = result["direct"]["median_ms"] / result["bare"]["median_ms"]
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
