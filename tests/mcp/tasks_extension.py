# SPDX-License-Identifier: Apache-2.0
"""The MCP Tasks extension (io.modelcontextprotocol/tasks, SEP-2663) of revision 2026-07-28
against bridle's session mode, as raw JSON-RPC over a real `ssh HOST mcp` (the v2 SDK client
has no runtime for the extension): run_command with background: true answers with a
CreateTaskResult; tasks/get polls it to completed with the tool result inlined, across a
reconnect; tasks/cancel ends a running one; the error paths. Prints PASS/FAIL lines like the
harness; the exit status is the number of failures.

usage: tasks_extension.py SSH_ARG...   (e.g. -F ssh_config main)
"""
import json
import subprocess
import sys
import time

EXT = "io.modelcontextprotocol/tasks"
SSH = ["ssh", *sys.argv[1:], "mcp"]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)[:600]))
    failures += 0 if ok else 1


def meta(declare=True, fanout=None):
    caps = {"extensions": {EXT: {}}} if declare else {}
    m = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
         "io.modelcontextprotocol/clientCapabilities": caps,
         "io.modelcontextprotocol/clientInfo": {"name": "tasks-ext", "version": "0"}}
    if fanout:
        m["bridle/fanout_id"] = fanout
    return m


class Session:
    def __init__(self):
        self.proc = subprocess.Popen(SSH, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.next_id = 0

    def call(self, method, params):
        self.next_id += 1
        rid = self.next_id
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method,
                                          "params": params}) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                return {"error": {"code": "eof"}}
            m = json.loads(line)
            if m.get("id") == rid:
                return m

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def tool(s, name, arguments, declare=True):
    return s.call("tools/call", {"name": name, "arguments": arguments, "_meta": meta(declare)})


def poll(s, task_id, until, seconds=20, fanout=None):
    deadline = time.time() + seconds
    while True:
        m = s.call("tasks/get", {"taskId": task_id, "_meta": meta(fanout=fanout)})
        status = m.get("result", {}).get("status")
        if status in until or time.time() > deadline:
            return m
        time.sleep(0.2)


s = Session()
d = s.call("server/discover", {"_meta": meta()})
check("ext.discover", EXT in d["result"]["capabilities"].get("extensions", {}), d)

t0 = time.time()
m = tool(s, "run_command", {"argv": ["ticker", "-c", "echo tick-one; sleep 3; echo tick-two"],
                            "background": True})
r = m.get("result", {})
task_id = r.get("taskId", "")
check("ext.create.result-type", r.get("resultType") == "task", m)
check("ext.create.working", r.get("status") == "working" and len(task_id) == 16, m)
check("ext.create.fields", all(k in r for k in ("createdAt", "lastUpdatedAt", "ttlMs",
                                                "pollIntervalMs")), m)
check("ext.create.at-once", time.time() - t0 < 2.5, time.time() - t0)
m = s.call("tasks/get", {"taskId": task_id, "_meta": meta()})
check("ext.get.working", m.get("result", {}).get("status") == "working"
      and m["result"].get("resultType") == "complete" and "result" not in m["result"], m)
s.close()

# Another connection (the stateless revision needs nothing of the first) reads the end, as the
# fleet controller would: its fan-out id in _meta, which the completed task's follow-up
# (`task output`, started by bridle itself) records too (mcp_session.sh checks the journal).
FANOUT = "tasksext%08x" % (int(time.time()) & 0xFFFFFFFF)
print("DATA tasks_fanout " + FANOUT)
s = Session()
m = poll(s, task_id, ("completed", "failed", "cancelled"), fanout=FANOUT)
r = m.get("result", {})
inner = r.get("result", {})
check("ext.get.completed", r.get("status") == "completed", m)
check("ext.get.result-inlined", inner.get("structuredContent", {}).get("output")
      == "tick-one\ntick-two\n" and inner.get("isError") is False
      and inner["structuredContent"].get("exit_status") == 0, m)

# A running task cancelled through tasks/cancel.
m = tool(s, "run_command", {"argv": ["sleep", "587"], "background": True})
long_id = m.get("result", {}).get("taskId", "")
check("ext.long.created", m.get("result", {}).get("resultType") == "task", m)
time.sleep(0.5)
m = s.call("tasks/cancel", {"taskId": long_id, "_meta": meta()})
check("ext.cancel.ack", m.get("result", {}).get("resultType") == "complete", m)
m = poll(s, long_id, ("cancelled", "completed", "failed"))
check("ext.cancel.cancelled", m.get("result", {}).get("status") == "cancelled", m)
m = s.call("tasks/update", {"taskId": long_id, "inputResponses": {}, "_meta": meta()})
check("ext.update.ack", m.get("result", {}).get("resultType") == "complete", m)

# Refusals: a denied start is a plain tool result, never a task; an unknown id; a client
# that did not declare the extension; no taskId; tasks/result (not in SEP-2663).
m = tool(s, "run_command", {"argv": ["echo", "hello"], "background": True})
r = m.get("result", {})
check("ext.denied-is-no-task", r.get("resultType") == "complete" and r.get("isError") is True
      and "does not allow tasks" in json.dumps(r), m)
m = s.call("tasks/get", {"taskId": "0123456789abcdef", "_meta": meta()})
check("ext.get.unknown", m.get("error", {}).get("code") == -32602
      and "of this key" in m["error"].get("message", ""), m)
m = s.call("tasks/get", {"taskId": task_id, "_meta": meta(declare=False)})
check("ext.get.undeclared", m.get("error", {}).get("code") == -32021
      and EXT in json.dumps(m["error"].get("data")), m)
m = s.call("tasks/get", {"_meta": meta()})
check("ext.get.no-id", m.get("error", {}).get("code") == -32602, m)
m = s.call("tasks/result", {"taskId": task_id, "_meta": meta()})
check("ext.result-method", m.get("error", {}).get("code") == -32601, m)
# Without the extension, background keeps bridle's own answer (a tool result with task_id).
m = tool(s, "run_command", {"argv": ["ticker", "-c", "echo tick-one; sleep 3; echo tick-two"],
                            "background": True},
         declare=False)
r = m.get("result", {})
check("ext.undeclared-background", r.get("resultType") == "complete"
      and len(r.get("structuredContent", {}).get("task_id", "")) == 16, m)
s.close()

# A legacy session has no tasks/* at all.
s = Session()
s.call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                      "clientInfo": {"name": "legacy", "version": "0"}})
m = s.call("tasks/get", {"taskId": task_id})
check("ext.legacy.not-found", m.get("error", {}).get("code") == -32601, m)
s.close()
sys.exit(min(failures, 100))
