# SPDX-License-Identifier: Apache-2.0
# wait_for_approval through one real `ssh main mcp` session (run by approvals.sh inside its
# namespaces; prints PASS/FAIL/DATA lines). A wait with a progressToken gets progress while the
# session answers other requests; approvers answer on the host meanwhile (bob's approver key over
# SSH, admin's signature delivered by the agent, root's `bridle reject`); the wait returns
# approved and the same run_command then runs once; rejected, expired and pending (its bound
# passed) waits; a cancelled wait ends at once; at most 4 wait at once; an unknown, foreign or
# malformed id is refused; the session's end (stdin closed) ends a running wait.
#
# usage: approvals_wait.py SSH_CONFIG BRIDLE POLICY WORK OTHER_KEYS_ID
import json
import queue
import subprocess
import sys
import threading
import time

config, bridle, policy, work, other_id = sys.argv[1:6]


def report(ok, name, why=""):
    print(f"PASS {name}" if ok else f"FAIL {name}: {why}", flush=True)


def data(key, value):
    print(f"DATA {key} {value}", flush=True)


class Session:
    def __init__(self):
        self.ssh = subprocess.Popen(["ssh", "-F", config, "main", "mcp"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines = queue.Queue()
        self.seen = []  # every message read, in order
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.ssh.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)  # EOF

    def send(self, message):
        self.ssh.stdin.write(json.dumps(dict(jsonrpc="2.0", **message)) + "\n")
        self.ssh.stdin.flush()

    def call(self, call_id, tool, arguments, token=None):
        params = {"name": tool, "arguments": arguments}
        if token is not None:
            params["_meta"] = {"progressToken": token}
        self.send({"id": call_id, "method": "tools/call", "params": params})

    def expect(self, predicate, timeout):
        """The first message (already read or arriving within `timeout` s) that matches."""
        for m in self.seen:
            if predicate(m):
                self.seen.remove(m)
                return m
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                m = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if m is None:
                break
            if predicate(m):
                return m
            self.seen.append(m)
        return None

    def answer(self, call_id, timeout=30):
        return self.expect(lambda m: m.get("id") == call_id and "method" not in m, timeout)


def structured(m):
    return (m or {}).get("result", {}).get("structuredContent", {})


def ssh(host, command, stdin_path=None):
    with open(stdin_path or "/dev/null", "rb") as stdin:
        return subprocess.run(["ssh", "-F", config, host, command], stdin=stdin,
                              capture_output=True, text=True, timeout=30)


def pending_id(s, call_id, argv):
    s.call(call_id, "run_command", {"argv": argv})
    r = structured(s.answer(call_id))
    report(r.get("status") == "approval_required", f"{call_id}.approval-required", r)
    return r.get("approval", {}).get("id", "none")


s = Session()
s.send({"id": "init", "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "approvals_wait.py", "version": "0"}}})
s.answer("init")
s.send({"method": "notifications/initialized"})

# tools/list: the tool, its schemas.
s.send({"id": "list", "method": "tools/list"})
tools = {t["name"]: t for t in s.answer("list")["result"]["tools"]}
wait = tools.get("wait_for_approval", {})
report(wait.get("inputSchema", {}).get("required") == ["id"], "listed.input-schema", wait)
report("pending" in wait.get("outputSchema", {}).get("properties", {}).get("status", {}).get("enum", []),
       "listed.output-schema", wait)
report(wait.get("annotations", {}).get("readOnlyHint") is True, "listed.read-only", wait)

# --- Approved while it waits: progress, a responsive session, bob over SSH, admin's signature.
A = pending_id(s, "a-run", ["echo", "waitone"])
data("approved_id", A)
started = time.monotonic()
s.call("a-wait", "wait_for_approval", {"id": A, "timeout_seconds": 60}, token="tok-a")
s.send({"id": "a-ping", "method": "ping"})
s.call("a-list", "list_allowed_commands", {})
pong = s.answer("a-ping", 3)
listed = s.answer("a-list", 3)
report(pong is not None and s.expect(lambda m: m.get("id") == "a-wait", 0) is None,
       "approved.session-answers-while-waiting", pong)
report("wait_for_approval" in json.dumps(listed), "approved.list-mentions-wait", listed)
is_progress = lambda m: m.get("method") == "notifications/progress" and \
    m["params"].get("progressToken") == "tok-a"
first = s.expect(is_progress, 12)
report(first is not None and "0 of 2 approvals" in first["params"].get("message", ""),
       "approved.progress", first)
out = ssh("bob", f"approve {A}")
report(out.returncode == 0, "approved.bob-over-ssh", out.stderr)
# A new approval is told at once, not at the next interval.
second = s.expect(lambda m: is_progress(m) and "1 of 2" in m["params"].get("message", ""), 5)
report(second is not None, "approved.progress-on-approval", second)
report(s.expect(lambda m: m.get("id") == "a-wait", 0) is None, "approved.still-waiting-for-two")
text = ssh("main", f"approval {A} --text")
with open(f"{work}/wait.txt", "w") as f:
    f.write(text.stdout)
subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", f"{work}/admin", "-n", "bridle-approval",
                f"{work}/wait.txt"], check=False, capture_output=True)
out = ssh("main", f"approve {A} --signature -", f"{work}/wait.txt.sig")
given = time.monotonic()
report(out.returncode == 0, "approved.signature-delivered", out.stderr)
done = s.answer("a-wait", 10)
r = structured(done)
report(r.get("status") == "approved" and done["result"].get("isError") is False,
       "approved.result", done)
report(time.monotonic() - given < 3, "approved.promptly", f"{time.monotonic() - given:.1f} s")
report("run_command again" in r.get("next", ""), "approved.next", r)
report(r.get("approval", {}).get("approvals") == 2, "approved.count", r)
s.call("a-run2", "run_command", {"argv": ["echo", "waitone"]})
r = structured(s.answer("a-run2"))
report(r.get("status") == "ok" and r.get("stdout") == "waitone\n", "approved.runs", r)
s.call("a-run3", "run_command", {"argv": ["echo", "waitone"]})
r = structured(s.answer("a-run3"))
report(r.get("status") == "approval_required" and r["approval"]["id"] != A, "approved.runs-once", r)

# --- Rejected by root on the host while it waits.
B = pending_id(s, "b-run", ["echo", "waitrej"])
data("rejected_id", B)
s.call("b-wait", "wait_for_approval", {"id": B})
time.sleep(0.3)
out = subprocess.run([bridle, "reject", "--policy", policy, B], capture_output=True, text=True)
report(out.returncode == 0, "rejected.root-rejects", out.stderr)
r = structured(s.answer("b-wait", 5))
report(r.get("status") == "rejected" and "refused until" in r.get("next", ""), "rejected.result", r)

# --- Its bound passes: pending, with what to do next.
C = pending_id(s, "c-run", ["uptime", "--pretty"])
data("pending_id", C)
t0 = time.monotonic()
s.call("c-wait", "wait_for_approval", {"id": C, "timeout_seconds": 1.5})
r = structured(s.answer("c-wait", 5))
took = time.monotonic() - t0
report(r.get("status") == "pending" and 1.4 <= took < 3.5, "pending.after-bound",
       f"{took:.1f} s: {r}")
report("call wait_for_approval again" in r.get("next", ""), "pending.next", r)

# --- Cancelled: notifications/cancelled ends it at once; no answer follows.
s.call("c-wait2", "wait_for_approval", {"id": C, "timeout_seconds": 60}, token="tok-c")
time.sleep(0.5)
t0 = time.monotonic()
s.send({"method": "notifications/cancelled", "params": {"requestId": "c-wait2"}})
s.send({"id": "c-ping", "method": "ping"})
pong = s.answer("c-ping", 2)
report(pong is not None and time.monotonic() - t0 < 1, "cancelled.promptly",
       f"{time.monotonic() - t0:.1f} s")
s.call("c-wait3", "wait_for_approval", {"id": C, "timeout_seconds": 0.2})
report(structured(s.answer("c-wait3", 3)).get("status") == "pending", "cancelled.session-goes-on")
report(s.expect(lambda m: m.get("id") == "c-wait2", 0) is None, "cancelled.no-answer")

# --- Expired while it waits (rule true-soon: 1 s).
D = pending_id(s, "d-run", ["true"])
data("expired_id", D)
s.call("d-wait", "wait_for_approval", {"id": D, "timeout_seconds": 30})
r = structured(s.answer("d-wait", 5))
report(r.get("status") == "expired", "expired.result", r)

# --- Refused: another key's request, an unknown id, a malformed one, a bad bound.
for name, args, says in (
        ("foreign", {"id": other_id}, "of this key"),
        ("unknown", {"id": "0123456789abcdef0123456789abcdef"}, "of this key"),
        ("malformed", {"id": "../../etc/passwd"}, "not an approval id"),
        ("too-long", {"id": C, "timeout_seconds": 301}, "at most 300"),
        ("no-id", {}, "`id` is missing")):
    s.call(f"x-{name}", "wait_for_approval", args)
    m = s.answer(f"x-{name}", 5)
    report(m is not None and m["result"].get("isError") is True and
           says in m["result"]["content"][0]["text"] and
           "bridle: bridle:" not in m["result"]["content"][0]["text"], f"refused.{name}", m)

# --- At most 4 waits at once in a session; a fifth is refused, the others go on.
for n in range(4):
    s.call(f"f-wait{n}", "wait_for_approval", {"id": C, "timeout_seconds": 60})
s.call("f-wait4", "wait_for_approval", {"id": C, "timeout_seconds": 60})
m = s.answer("f-wait4", 3)
report(m is not None and m["result"].get("isError") is True and
       "4 approvals already" in m["result"]["content"][0]["text"], "bounded.fifth-refused", m)
for n in range(4):
    s.send({"method": "notifications/cancelled", "params": {"requestId": f"f-wait{n}"}})
s.call("f-wait5", "wait_for_approval", {"id": C, "timeout_seconds": 0.2})
report(structured(s.answer("f-wait5", 3)).get("status") == "pending", "bounded.room-again")

# --- The session's end ends a running wait.
s.call("e-wait", "wait_for_approval", {"id": C, "timeout_seconds": 60})
time.sleep(0.3)
t0 = time.monotonic()
s.ssh.stdin.close()
try:
    s.ssh.wait(timeout=10)
except subprocess.TimeoutExpired:
    s.ssh.kill()
report(time.monotonic() - t0 < 3, "ended.promptly", f"{time.monotonic() - t0:.1f} s")
