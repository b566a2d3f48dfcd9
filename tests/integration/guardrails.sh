# SPDX-License-Identifier: Apache-2.0
# Guardrails per key (settings.guardrails) through a real sshd, counted across concurrent
# connections: a burst of parallel connections over requests_per_minute gets exactly the
# limit through and 75 with the time to retry for the rest, each refusal audited; N+1
# concurrent requests under `concurrent: N` refuse the last; a request whose bridle is
# SIGKILLed frees its slot; requests_per_day; each MCP run_command counts; other keys are
# untouched. Guards against: a looping agent hammering the host; counts lost to races between
# connections; a slot kept by a killed request.
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
IT_DEFAULT_POLICY=$IT_POLICIES/guardrails.yaml   # read by harness_setup
harness_setup
SPOOL=$IT_ROOT/tasks
install -d -m 1733 -o root -g root "$SPOOL"   # root's; each account makes its own directory
for k in hammer slot day mcp; do
    it_add_key "$k" "restrict,command=\"$IT_BRIDLE --key $k-agent --policy $IT_POLICY\""
done

# ---- the rate: a parallel burst of 8 connections, 4 per minute --------------------------------
journal_mark
burst=()
for i in 1 2 3 4 5 6 7 8; do
    (timeout -k 5 30 ssh -F "$IT_WORK/ssh_config" hammer uptime >/dev/null 2>"$IT_WORK/h$i.err"
     echo $? >"$IT_WORK/h$i.rc") &
    burst+=($!)
done
wait "${burst[@]}"   # only these: the harness's sshd and journald run in the background too
ok=0 over=0
for i in 1 2 3 4 5 6 7 8; do
    case $(cat "$IT_WORK/h$i.rc") in
        0) ok=$((ok + 1)) ;;
        75) over=$((over + 1)); last_err=$(cat "$IT_WORK/h$i.err") ;;
    esac
done
assert_eq rate.admitted 4 "$ok"
assert_eq rate.refused 4 "$over"
assert_match rate.retry "${last_err:-}" 'over the guardrail of key hammer-agent: at most 4 requests per minute; retry in [0-9]+ s'
assert_contains rate.nothing-run "${last_err:-}" "nothing was run"
bridle_records >/dev/null
assert_eq rate.records 4 "$(rec_count BRIDLE_EVENT=decision BRIDLE_DECISION=deny BRIDLE_KEY=hammer-agent)"
assert_match rate.reason "$(rec_get BRIDLE_REASON BRIDLE_DECISION=deny BRIDLE_KEY=hammer-agent)" \
    '^guardrail requests_per_minute: key hammer-agent is at its 4 requests per minute \(/mnt/bridle/policy.yaml:[0-9]+:[0-9]+\); retry in [0-9]+ s$'
assert_eq rate.admitted-ran 4 "$(rec_count BRIDLE_EVENT=result BRIDLE_KEY=hammer-agent)"
# The counters are the account's own, private, in the task spool.
assert_eq rate.state-dir "700 $IT_USER" "$(stat -c '%a %U' "$SPOOL/$IT_UID/hammer-agent/guard")"
# Another key is not counted with it.
bridle_ssh -- uptime
assert_status rate.other-key 0

# ---- concurrency: 2 slots, a third request waits; a SIGKILLed request frees its slot ----------
for i in 1 2; do
    timeout -k 5 40 ssh -F "$IT_WORK/ssh_config" slot 'nap 30' >/dev/null 2>&1 &
done
naps() { (($(pgrep -u "$IT_USER" -x sleep | grep -c .) == $1)); }
wait_until 10 naps 2 && pass slots.two-running || fail slots.two-running "$(pgrep -u "$IT_USER" -x sleep | grep -c .) sleeps"
IT_KEY=slot bridle_ssh -- uptime
assert_status slots.third-refused 75
assert_contains slots.third-why "$SSH_ERR" "at most 2 concurrent requests; retry in 1 s"
bridle_records >/dev/null
assert_match slots.record "$(rec_get BRIDLE_REASON BRIDLE_DECISION=deny BRIDLE_KEY=slot-agent)" '^guardrail concurrent: '
# SIGKILL one request's bridle (the sleep's grandparent: bridle, then its init): its slot frees.
nap=$(pgrep -u "$IT_USER" -x sleep | head -n 1)
init=$(ps -o ppid= -p "$nap" | tr -d ' ')
supervisor=$(ps -o ppid= -p "$init" | tr -d ' ')
assert_match slots.supervisor "$(tr '\0' ' ' <"/proc/$supervisor/cmdline")" '--key slot-agent'
kill -KILL "$supervisor"
wait_until 10 naps 1 && pass slots.killed-gone || fail slots.killed-gone "$(pgrep -u "$IT_USER" -x sleep | grep -c .) sleeps"
IT_KEY=slot bridle_ssh -- uptime
assert_status slots.freed-by-sigkill 0
# The request still running keeps its slot: with it and one more, the cap holds again.
timeout -k 5 40 ssh -F "$IT_WORK/ssh_config" slot 'nap 30' >/dev/null 2>&1 &
wait_until 10 naps 2 && pass slots.refilled || fail slots.refilled "$(pgrep -u "$IT_USER" -x sleep | grep -c .) sleeps"
IT_KEY=slot bridle_ssh -- uptime
assert_status slots.cap-again 75
pkill -KILL -u "$IT_USER" -x sleep
# A task's detached supervisor lets go of the slot of the `task start` that made it (tasks have
# their own cap, settings.task_max_running): three tasks start under `concurrent: 2`.
for i in 1 2 3; do
    IT_KEY=slot bridle_ssh -- 'task start nap 30'
    assert_status "slots.task-start-$i" 0
done
IT_KEY=slot bridle_ssh -- uptime
assert_status slots.tasks-hold-none 0

# ---- the daily quota --------------------------------------------------------------------------
IT_KEY=day bridle_ssh -- uptime
assert_status day.first 0
IT_KEY=day bridle_ssh -- uptime
assert_status day.second 0
IT_KEY=day bridle_ssh -- uptime
assert_status day.third-refused 75
assert_match day.retry "$SSH_ERR" 'at most 2 requests per day \(UTC\); retry in ([0-9]+ h [0-9]+ min|[0-9]+ min [0-9]+ s|[0-9]+ s)'

# ---- MCP: each run_command counts; 5 calls in one session, 3 per minute -------------------------
journal_mark
answers=$(timeout -k 5 60 "$IT_PYTHON" - "$IT_WORK/ssh_config" <<'PY'
import json, subprocess, sys
ssh = subprocess.Popen(["ssh", "-F", sys.argv[1], "mcp", "mcp"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
messages = [{"jsonrpc": "2.0", "id": "init", "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                        "clientInfo": {"name": "guardrails.sh", "version": "0"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"}]
messages += [{"jsonrpc": "2.0", "id": i, "method": "tools/call",
              "params": {"name": "run_command", "arguments": {"argv": ["uptime"]}}}
             for i in range(1, 6)]
for m in messages:
    ssh.stdin.write(json.dumps(m) + "\n")
ssh.stdin.flush()
left = {1, 2, 3, 4, 5}
for line in ssh.stdout:
    m = json.loads(line)
    if m.get("id") in left:
        left.discard(m["id"])
        s = m["result"]["structuredContent"]
        print(s["bridle_status"], s["status"], json.dumps(s.get("message", "")))
        if not left:
            break
ssh.stdin.close()
ssh.wait()
PY
)
assert_eq mcp.admitted 3 "$(grep -c '^0 ' <<<"$answers")"
assert_eq mcp.refused 2 "$(grep -c '^75 ' <<<"$answers")"
assert_match mcp.retry "$(grep '^75 ' <<<"$answers" | head -n 1)" '^75 denied .*at most 3 requests per minute; retry in [0-9]+ s'
assert_not_contains mcp.no-pointer "$answers" "list_allowed_commands"   # nothing to look up: wait
bridle_records >/dev/null
assert_eq mcp.records 2 "$(rec_count BRIDLE_EVENT=decision BRIDLE_DECISION=deny BRIDLE_KEY=mcp-agent BRIDLE_FRONT_END=mcp)"

harness_finish
