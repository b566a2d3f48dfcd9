# SPDX-License-Identifier: Apache-2.0
# Session mode (the `mcp` request) through a real sshd, as a user configures an MCP client:
# command ssh, args [-i KEY, user@host, mcp]. The clients are the official MCP TypeScript SDKs
# (tests/mcp/; npm installs them into the build dir from the lock file, cached). The v1 SDK
# (client.mjs): handshake, tools/list, allowed, denied and non-zero calls, progress,
# concurrent calls, cancellation (the command is killed), and a killed client (the command's
# whole tree is killed). The v2 client (client_v2.mjs) in its three negotiation modes
# (legacy, auto, pinned to 2026-07-28): lists, runs, is denied (a result), gets progress with
# the output's tail (and outlasts its own timeout by resetting it on progress), cancels. Raw
# JSON-RPC lines over ssh check what an SDK never sends: version negotiation, malformed JSON,
# wrong types, batches, a 2 MiB line, deep nesting, requests before initialize, a last line
# without its newline, EOF and SIGHUP while a command runs, and for 2026-07-28 calls without
# discover, unsupported versions, missing and broken _meta envelopes, removed methods. Every
# call is audited like a forced command, with BRIDLE_FRONT_END=mcp and one BRIDLE_SESSION_ID
# per connection.
# The user's login shell is bridle (--login-shell), so the hand-over through `bridle -c` is
# the one exercised; the forced command path is the same function.
# Guards against: MCP servers enforcing on the agent's own machine; session calls skipping
# the gate or the audit; orphaned commands after a cancel or a dropped connection; a
# malformed message crashing or hanging the session; protocol noise on stdout.

# The SDKs come from npm, installed outside the network namespace (tests/mcp/install.sh).
if [[ -z ${BRIDLE_IT_INSIDE:-} ]]; then
    # shellcheck source=../mcp/install.sh
    source "$(dirname "$0")/../mcp/install.sh" || exit 1
fi

# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
harness_setup --login-shell

SSH_ARGS=(-F "$IT_WORK/ssh_config" main)
INIT='{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}'

# mcp_raw FILE [SECONDS]: send FILE's bytes as the session's stdin (then, SECONDS later, EOF,
# so that the commands it started can finish); the answers go to $IT_WORK/raw.out, one JSON
# message per line, and MCP_RC is ssh's status.
mcp_raw() {
    journal_mark
    if [[ -n ${2:-} ]]; then
        { cat "$1"; sleep "$2"; } | timeout -k 5 60 ssh "${SSH_ARGS[@]}" mcp >"$IT_WORK/raw.out" 2>"$IT_WORK/raw.err"
        MCP_RC=${PIPESTATUS[1]}
        return
    fi
    timeout -k 5 60 ssh "${SSH_ARGS[@]}" mcp <"$1" >"$IT_WORK/raw.out" 2>"$IT_WORK/raw.err"
    MCP_RC=$?
}

# answer ID EXPR: evaluate the Python expression EXPR on the answer `m` with that id ("null"
# for id null: the first such), print its value.
answer() {
    "$IT_PYTHON" - "$IT_WORK/raw.out" "$1" "$2" <<'EOF'
import json, sys
path, want, expr = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
for line in open(path, encoding="utf-8", errors="replace"):
    m = json.loads(line)
    if m.get("id") == want:
        print(eval(expr, {"m": m, "json": json}))
        break
else:
    print("<no answer>")
EOF
}

# ---- stdout carries protocol messages only ----------------------------------------------------
# every_line_is_jsonrpc: each stdout line is one JSON-RPC 2.0 message.
every_line_is_jsonrpc() {
    "$IT_PYTHON" -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    m = json.loads(line)
    assert m["jsonrpc"] == "2.0" and ("result" in m or "error" in m or "method" in m), line
' "$IT_WORK/raw.out" 2>&1
}

# ---- version negotiation -------------------------------------------------------------------------
for v in 2025-06-18 2025-11-25 1999-01-01; do
    printf '%s\n' "${INIT/2025-06-18/$v}" >"$IT_WORK/in"
    mcp_raw "$IT_WORK/in"
    want=$v
    [[ $v == 1999-01-01 ]] && want=2025-11-25
    assert_eq "negotiate.$v" "$want" "$(answer '"init"' 'm["result"]["protocolVersion"]')"
done
assert_eq negotiate.exit-status 0 "$MCP_RC"

# ---- malformed and unexpected messages: JSON-RPC errors, never a crash or a hang ---------------
{
    echo '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'                  # before initialize
    echo '{"jsonrpc":"2.0","id":2,"method":"ping"}'                        # ping is always fine
    echo "$INIT"
    echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    echo 'this is not json'
    echo '[{"jsonrpc":"2.0","id":3,"method":"ping"}]'
    echo '{"jsonrpc":"1.0","id":4,"method":"ping"}'
    echo '{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}'
    echo '{"jsonrpc":"2.0","id":5,"method":42}'
    echo '{"jsonrpc":"2.0","id":6,"method":"resources/list"}'
    echo '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":[1,2]}'
    echo '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"arguments":{}}}'
    echo '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"nope"}}'
    echo '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"run_command","arguments":{"argv":[1,2]}}}'
    echo '{"jsonrpc":"2.0","method":"notifications/unknown","params":{"x":1}}'
    echo '{"jsonrpc":"2.0","id":11,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}'
    head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'a'; echo
    echo '{"jsonrpc":"2.0","id":12,"method":"ping"}'
    printf '%*s\n' 100000 '' | tr ' ' '['
    printf '\xff\xfe{"jsonrpc":"2.0","id":13}\n'
    echo '{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"run_command","arguments":{"command":"echo last"}}}'
    printf '%s' '{"jsonrpc":"2.0","id":15,"method":"ping"}'        # no newline before EOF
} >"$IT_WORK/in"
start=$SECONDS
mcp_raw "$IT_WORK/in"
if ((SECONDS - start <= 20)); then pass robust.prompt; else fail robust.prompt "took $((SECONDS - start)) s"; fi
assert_eq robust.exit-status 0 "$MCP_RC"
out=$(every_line_is_jsonrpc)
assert_eq robust.stdout-only-jsonrpc "" "$out"
assert_eq robust.before-initialize -32600 "$(answer 1 'm["error"]["code"]')"
assert_eq robust.ping-before-initialize "{}" "$(answer 2 'json.dumps(m["result"])')"
assert_eq robust.parse-error -32700 "$(answer null 'm["error"]["code"]')"
n=$("$IT_PYTHON" -c '
import json, sys
codes = [json.loads(l)["error"]["code"] for l in open(sys.argv[1]) if json.loads(l).get("id") is None]
print(" ".join(map(str, codes)))' "$IT_WORK/raw.out")
# id null: not JSON, a batch, an object id, the 2 MiB line, the deep nesting, invalid UTF-8.
assert_eq robust.null-id-errors "-32700 -32600 -32600 -32600 -32600 -32700" "$n"
assert_eq robust.jsonrpc-1.0 -32600 "$(answer 4 'm["error"]["code"]')"
assert_eq robust.method-not-string -32600 "$(answer 5 'm["error"]["code"]')"
assert_eq robust.method-not-found -32601 "$(answer 6 'm["error"]["code"]')"
assert_eq robust.params-array -32602 "$(answer 7 'm["error"]["code"]')"
assert_eq robust.call-without-name -32602 "$(answer 8 'm["error"]["code"]')"
assert_eq robust.unknown-tool -32602 "$(answer 9 'm["error"]["code"]')"
assert_eq robust.argv-wrong-types "True error" "$(answer 10 'm["result"]["isError"], m["result"]["structuredContent"]["status"]' | tr -d "(),'")"
assert_eq robust.second-initialize -32600 "$(answer 11 'm["error"]["code"]')"
assert_eq robust.ping-after-huge-line "{}" "$(answer 12 'json.dumps(m["result"])')"
assert_eq robust.last-line-without-newline "{}" "$(answer 15 'json.dumps(m["result"])')"
# id 14 ran (or was cut short by the EOF that followed): either way it was answered.
assert_match robust.call-before-eof-answered "$(answer 14 'm["result"]["structuredContent"]["status"]')" '^(ok|cancelled)$'
lines=$(wc -l <"$IT_WORK/raw.out")
assert_eq robust.one-answer-per-request 20 "$lines"

# ---- revision 2026-07-28: no initialize, a _meta envelope on every request ---------------------
# Raw lines for what the v2 client never sends: wrong versions, broken envelopes, methods the
# revision removed, and a legacy and a stateless client sharing one channel.
ENV26='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"raw","version":"0"}}'
{
    echo '{"jsonrpc":"2.0","id":"s-list","method":"tools/list","params":{'"$ENV26"'}}'     # no discover, no initialize
    echo '{"jsonrpc":"2.0","id":"s-run","method":"tools/call","params":{"name":"run_command","arguments":{"argv":["echo","stateless"]},'"$ENV26"'}}'
    echo '{"jsonrpc":"2.0","id":"s-deny","method":"tools/call","params":{"name":"run_command","arguments":{"command":"echo HELLO"},'"$ENV26"'}}'
    echo '{"jsonrpc":"2.0","id":"s-discover","method":"server/discover","params":{'"$ENV26"'}}'
    echo '{"jsonrpc":"2.0","id":"s-discover-bare","method":"server/discover"}'
    echo '{"jsonrpc":"2.0","id":"s-no-caps","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}'
    echo '{"jsonrpc":"2.0","id":"s-caps-array","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":[]}}}'
    echo '{"jsonrpc":"2.0","id":"s-version-number","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":20260728,"io.modelcontextprotocol/clientCapabilities":{}}}}'
    echo '{"jsonrpc":"2.0","id":"s-future","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}'
    echo '{"jsonrpc":"2.0","id":"s-future-unknown-method","method":"nope/nope","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}'
    echo '{"jsonrpc":"2.0","id":"s-ping","method":"ping","params":{'"$ENV26"'}}'
    echo '{"jsonrpc":"2.0","id":"s-init","method":"initialize","params":{"protocolVersion":"2026-07-28",'"$ENV26"'}}'
    echo '{"jsonrpc":"2.0","id":"s-resources","method":"resources/list","params":{'"$ENV26"'}}'
    echo '{"jsonrpc":"2.0","id":"s-unknown-tool","method":"tools/call","params":{"name":"nope",'"$ENV26"'}}'
    echo '{"jsonrpc":"2.0","id":"s-cursor","method":"tools/list","params":{"cursor":"x",'"$ENV26"'}}'
    echo '{"jsonrpc":"2.0","id":"s-legacy-uninitialized","method":"tools/list"}'
    echo '{"jsonrpc":"2.0","id":"s-malformed","method":"tools/list","params":{'"$ENV26"
    echo "$INIT"
    echo '{"jsonrpc":"2.0","id":"s-legacy-list","method":"tools/list"}'
    echo '{"jsonrpc":"2.0","id":"s-list-after-init","method":"tools/list","params":{'"$ENV26"'}}'
} >"$IT_WORK/in"
mcp_raw "$IT_WORK/in" 3
assert_eq stateless.exit-status 0 "$MCP_RC"
assert_eq stateless.stdout-only-jsonrpc "" "$(every_line_is_jsonrpc)"
assert_eq stateless.list-without-discover "complete 3600000 private run_command,list_allowed_commands,check_command,read_file,write_file,get_task,get_task_output,cancel_task,wait_for_approval" \
    "$(answer '"s-list"' '" ".join([m["result"]["resultType"], str(m["result"]["ttlMs"]), m["result"]["cacheScope"], ",".join(t["name"] for t in m["result"]["tools"])])')"
assert_eq stateless.server-info bridle "$(answer '"s-list"' 'm["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"]')"
assert_eq stateless.call-without-discover "complete ok stateless" \
    "$(answer '"s-run"' '" ".join([m["result"]["resultType"], m["result"]["structuredContent"]["status"], m["result"]["structuredContent"]["stdout"].strip()])')"
assert_eq stateless.call-no-cache-hints "False False" "$(answer '"s-run"' '" ".join(str(k in m["result"]) for k in ("ttlMs", "cacheScope"))')"
assert_eq stateless.denial-is-a-result "complete True denied" \
    "$(answer '"s-deny"' '" ".join([m["result"]["resultType"], str(m["result"]["isError"]), m["result"]["structuredContent"]["status"]])')"
assert_eq stateless.discover '["2026-07-28", "2025-11-25", "2025-06-18"] {"extensions": {"io.modelcontextprotocol/tasks": {}}, "tools": {"listChanged": false}} complete private' \
    "$(answer '"s-discover"' '" ".join([json.dumps(m["result"]["supportedVersions"]), json.dumps(m["result"]["capabilities"]), m["result"]["resultType"], m["result"]["cacheScope"]])')"
assert_match stateless.discover-instructions "$(answer '"s-discover"' 'm["result"]["instructions"]')" 'list_allowed_commands'
assert_eq stateless.discover-without-meta -32602 "$(answer '"s-discover-bare"' 'm["error"]["code"]')"
assert_eq stateless.missing-capabilities -32602 "$(answer '"s-no-caps"' 'm["error"]["code"]')"
assert_eq stateless.capabilities-not-object -32602 "$(answer '"s-caps-array"' 'm["error"]["code"]')"
assert_eq stateless.version-not-string -32602 "$(answer '"s-version-number"' 'm["error"]["code"]')"
assert_eq stateless.unsupported-version '-32022 ["2026-07-28", "2025-11-25", "2025-06-18"] 2099-01-01' \
    "$(answer '"s-future"' '" ".join([str(m["error"]["code"]), json.dumps(m["error"]["data"]["supported"]), m["error"]["data"]["requested"]])')"
assert_eq stateless.version-outranks-method -32022 "$(answer '"s-future-unknown-method"' 'm["error"]["code"]')"
assert_eq stateless.no-ping -32601 "$(answer '"s-ping"' 'm["error"]["code"]')"
assert_eq stateless.no-initialize -32601 "$(answer '"s-init"' 'm["error"]["code"]')"
assert_eq stateless.resources-not-offered -32601 "$(answer '"s-resources"' 'm["error"]["code"]')"
assert_eq stateless.unknown-tool -32602 "$(answer '"s-unknown-tool"' 'm["error"]["code"]')"
assert_eq stateless.unknown-cursor -32602 "$(answer '"s-cursor"' 'm["error"]["code"]')"
assert_eq stateless.legacy-still-needs-initialize -32600 "$(answer '"s-legacy-uninitialized"' 'm["error"]["code"]')"
assert_eq stateless.malformed-json -32700 "$(answer null 'm["error"]["code"]')"
assert_eq stateless.legacy-handshake-alongside 2025-06-18 "$(answer '"init"' 'm["result"]["protocolVersion"]')"
assert_eq stateless.legacy-result-unchanged "False False False" \
    "$(answer '"s-legacy-list"' '" ".join(str(k in m["result"]) for k in ("resultType", "ttlMs", "_meta"))')"
assert_eq stateless.modern-after-initialize complete "$(answer '"s-list-after-init"' 'm["result"]["resultType"]')"
assert_eq stateless.one-answer-per-request 20 "$(wc -l <"$IT_WORK/raw.out")"
# The two calls ran at once: their records are found by request id, not by order.
bridle_records >/dev/null
rid=$(answer '"s-run"' 'm["result"]["structuredContent"]["request_id"]')
assert_eq stateless.records.allowed "allow echo-word mcp" \
    "$(rec_get BRIDLE_DECISION BRIDLE_REQUEST_ID="$rid" BRIDLE_EVENT=decision) $(rec_get BRIDLE_RULE BRIDLE_REQUEST_ID="$rid" BRIDLE_EVENT=decision) $(rec_get BRIDLE_FRONT_END BRIDLE_REQUEST_ID="$rid" BRIDLE_EVENT=decision)"
rid=$(answer '"s-deny"' 'm["result"]["structuredContent"]["request_id"]')
assert_eq stateless.records.denied "deny mcp" \
    "$(rec_get BRIDLE_DECISION BRIDLE_REQUEST_ID="$rid" BRIDLE_EVENT=decision) $(rec_get BRIDLE_FRONT_END BRIDLE_REQUEST_ID="$rid" BRIDLE_EVENT=decision)"

# ---- EOF while a command runs: killed, answered as cancelled if stdout is still there, recorded -
{
    echo "$INIT"
    echo '{"jsonrpc":"2.0","id":"long","method":"tools/call","params":{"name":"run_command","arguments":{"argv":["sleep","421"]}}}'
} >"$IT_WORK/in"
# stdin: the two lines, then 2 s of nothing (so sleep 421 starts), then EOF.
journal_mark
{ cat "$IT_WORK/in"; sleep 2; } | timeout -k 5 60 ssh "${SSH_ARGS[@]}" mcp >"$IT_WORK/raw.out" 2>"$IT_WORK/raw.err"
MCP_RC=$?
assert_eq eof.exit-status 0 "$MCP_RC"
assert_eq eof.answered-cancelled "cancelled True" "$(answer '"long"' 'm["result"]["structuredContent"]["status"], m["result"]["isError"]' | tr -d "(),'")"
wait_until 5 bash -c '! pgrep -f -x "sleep 421" >/dev/null'
assert_eq eof.command-killed 0 "$(pgrep -f -x 'sleep 421' | wc -l)"
bridle_records >/dev/null
assert_eq eof.records "1 1" "$REC_N_DECISION $REC_N_RESULT"
v=$(rec result BRIDLE_DISCONNECTED)
assert_match eof.record-disconnected "$v" '^(1|true|yes)$'
assert_eq eof.record-front-end mcp "$(rec result BRIDLE_FRONT_END)"

# ---- SIGHUP ends the session: the command is killed and answered, everything is reaped ----------
mkfifo "$IT_WORK/hup.in"
journal_mark
hup_mark=$IT_MARK
timeout -k 5 60 ssh "${SSH_ARGS[@]}" mcp <"$IT_WORK/hup.in" >"$IT_WORK/raw.out" 2>"$IT_WORK/raw.err" &
client=$!
exec 7>"$IT_WORK/hup.in"   # stdin stays open: only the signal may end the session
{
    echo "$INIT"
    echo '{"jsonrpc":"2.0","id":"hup","method":"tools/call","params":{"name":"run_command","arguments":{"argv":["sleep","433"]}}}'
} >&7
if wait_until 10 pgrep -f -x 'sleep 433' >/dev/null; then
    session_pid=$(pgrep -o -f -- '--key it-key')   # the oldest: the session, not its worker
    kill -HUP "$session_pid"
    if wait_until 10 bash -c '! pgrep -f -x "sleep 433" >/dev/null'; then pass sighup.command-killed
    else fail sighup.command-killed "sleep 433 still running"; fi
    session_gone() { ! kill -0 "$session_pid" 2>/dev/null && ! pgrep -f -- '--key it-key' >/dev/null; }
    if wait_until 10 session_gone; then pass sighup.session-exited
    else fail sighup.session-exited "$(pgrep -a -f -- '--key it-key' | tr '\n' ';')"; fi
    exec 7>&-
    wait "$client"
    assert_eq sighup.answered-cancelled "cancelled" "$(answer '"hup"' 'm["result"]["structuredContent"]["status"]')"
    IT_MARK=$hup_mark
    bridle_records >/dev/null
    assert_match sighup.record-disconnected "$(rec result BRIDLE_DISCONNECTED)" '^(1|true|yes)$'
else
    fail sighup.started "sleep 433 did not start: $(cat "$IT_WORK/raw.err")"
    exec 7>&-
    kill "$client" 2>/dev/null
fi

# ---- workers: one serves call after call; a cancelled or killed one never gets another ---------
# The decision record's _PID is the worker's. Calls one at a time (each waits for its answer).
mkfifo "$IT_WORK/workers.in"
journal_mark
timeout -k 5 90 ssh "${SSH_ARGS[@]}" mcp <"$IT_WORK/workers.in" >"$IT_WORK/raw.out" 2>"$IT_WORK/raw.err" &
client=$!
exec 7>"$IT_WORK/workers.in"
worker_call() {
    printf '{"jsonrpc":"2.0","id":"%s","method":"tools/call","params":{"name":"run_command","arguments":{"argv":%s}}}\n' "$1" "$2" >&7
}
answered() { grep -q "\"id\":\"$1\"" "$IT_WORK/raw.out"; }
# worker_of ID: the _PID of the decision record of the call answered as ID.
worker_of() {
    bridle_records >/dev/null
    rec_get _PID BRIDLE_EVENT=decision \
        BRIDLE_REQUEST_ID="$(answer "\"$1\"" 'm["result"]["structuredContent"]["request_id"]')"
}
echo "$INIT" >&7
worker_call w1 '["echo","one"]' && wait_until 10 answered w1
worker_call w2 '["echo","two"]' && wait_until 10 answered w2
worker_call w3 '["sleep","447"]' && wait_until 10 pgrep -f -x 'sleep 447' >/dev/null
echo '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"w3"}}' >&7
wait_until 10 bash -c '! pgrep -f -x "sleep 447" >/dev/null'
worker_call w4 '["echo","four"]' && wait_until 10 answered w4
w4_worker=$(worker_of w4)
[[ -n $w4_worker ]] && kill -KILL "$w4_worker"   # the idle worker, from outside
sleep 0.3
worker_call w5 '["echo","five"]' && wait_until 10 answered w5
worker_call w6 '["echo","six"]' && wait_until 10 answered w6
# Cancelled in the same write as the call: the signal reaches a kept worker that may still be
# finishing w6, and must end this call, not be discarded with w6's leftovers.
printf '%s\n%s\n' \
    '{"jsonrpc":"2.0","id":"w7","method":"tools/call","params":{"name":"run_command","arguments":{"argv":["sleep","449"]}}}' \
    '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"w7"}}' >&7
w7_recorded() {
    bridle_records >/dev/null
    [[ $(rec_count BRIDLE_EVENT=result BRIDLE_COMMAND="sleep 449") == 1 ]]
}
if wait_until 15 w7_recorded; then pass workers.cancelled-at-once-ended
else fail workers.cancelled-at-once-ended "no result record for sleep 449 while the session lives"; fi
exec 7>&-
wait "$client"
for id in w1 w2 w4 w5 w6; do
    assert_eq "workers.$id-ok" "ok" "$(answer "\"$id\"" 'm["result"]["structuredContent"]["status"]')"
done
assert_eq workers.w6-output "six" "$(answer '"w6"' 'm["result"]["structuredContent"]["stdout"].strip()')"
bridle_records >/dev/null
w3_worker=$(rec_get _PID BRIDLE_EVENT=decision BRIDLE_COMMAND="sleep 447")
assert_match workers.recorded "$(worker_of w1) $w3_worker" '^[0-9]+ [0-9]+$'
assert_eq workers.one-serves-in-turn "$(worker_of w1) $(worker_of w1)" "$(worker_of w2) $w3_worker"
assert_ne workers.cancelled-not-reused "$w3_worker" "$w4_worker"
assert_ne workers.killed-replaced "$w4_worker" "$(worker_of w5)"
assert_eq workers.replacement-serves-in-turn "$(worker_of w5)" "$(worker_of w6)"
assert_match workers.cancelled-at-once-recorded "$(rec_get BRIDLE_DISCONNECTED BRIDLE_EVENT=result BRIDLE_COMMAND="sleep 449")" '^(1|true|yes)$'
assert_match workers.cancelled-recorded "$(rec_get BRIDLE_DISCONNECTED BRIDLE_EVENT=result BRIDLE_COMMAND="sleep 447")" '^(1|true|yes)$'

# ---- the official SDK client ------------------------------------------------------------------------
# run_client LABEL [SCRIPT SCENARIO]: an SDK client (default: the v1 SDK's client.mjs with
# scenario LABEL) spawns `ssh ... mcp`; its PASS/FAIL lines count here as sdk.LABEL.*.
run_client() {
    local label=$1 script=${2:-client.mjs} scenario=${3:-$1}
    journal_mark
    CLIENT_MARK=$IT_MARK
    (cd "$BRIDLE_MCP_DIR" && timeout -k 5 240 node "$script" "$scenario" -- "${SSH_ARGS[@]}") \
        >"$IT_WORK/client.out" 2>"$IT_WORK/client.err"
    local rc=$?
    [[ $rc == 0 ]] || fail "sdk.$label.exit" "node exited $rc: $(tail -c 1500 "$IT_WORK/client.err")"
    take_checks "sdk.$label"
}

# More than the test policy's max_output (64 KiB) for the truncation check.
for i in $(seq 1 4000); do printf 'line %05d %s\n' "$i" "................................................"; done >/var/log/big.log
chmod 0644 /var/log/big.log
run_client main
echo "note: the SDK client connected in ${DATA_connect_ms:-?} ms"
IT_MARK=$CLIENT_MARK
bridle_records BRIDLE_FRONT_END=mcp >/dev/null
sessions=$("$IT_PYTHON" "$IT_SUPPORT/journal_query.py" get BRIDLE_SESSION_ID <"$IT_WORK/records.json" | sort -u | wc -l)
assert_eq sdk.records.one-session 1 "$sessions"
assert_match sdk.records.session-id "$(rec decision BRIDLE_SESSION_ID)" '^[0-9a-f]{32}$'
assert_eq sdk.records.allowed-decision "allow echo-word" \
    "$(rec_get BRIDLE_DECISION BRIDLE_REQUEST_ID="${DATA_allowed_request_id:-none}" BRIDLE_EVENT=decision) $(rec_get BRIDLE_RULE BRIDLE_REQUEST_ID="${DATA_allowed_request_id:-none}" BRIDLE_EVENT=decision)"
assert_eq sdk.records.allowed-result 0 "$(rec_get BRIDLE_EXIT_STATUS BRIDLE_REQUEST_ID="${DATA_allowed_request_id:-none}" BRIDLE_EVENT=result)"
assert_eq sdk.records.denied "deny" "$(rec_get BRIDLE_DECISION BRIDLE_REQUEST_ID="${DATA_denied_request_id:-none}")"
assert_eq sdk.records.denied-no-result 0 "$(rec_count BRIDLE_REQUEST_ID="${DATA_denied_request_id:-none}" BRIDLE_EVENT=result)"
assert_match sdk.records.cancelled "$(rec_get BRIDLE_DISCONNECTED BRIDLE_COMMAND="sleep 577" BRIDLE_EVENT=result)" '^(1|true|yes)$'
assert_absent sdk.denied-had-no-effect "$IT_SCRATCH/pwned"
assert_eq sdk.records.pipeline "2 echo-word|count-bytes 0 0" \
    "$(rec_get BRIDLE_STAGES BRIDLE_REQUEST_ID="${DATA_pipeline_request_id:-none}" BRIDLE_EVENT=decision) $(rec_get BRIDLE_RULE BRIDLE_REQUEST_ID="${DATA_pipeline_request_id:-none}" BRIDLE_EVENT=decision) $(rec_get BRIDLE_PIPESTATUS BRIDLE_REQUEST_ID="${DATA_pipeline_request_id:-none}" BRIDLE_EVENT=result)"

# ---- the official v2 client, in each of its version-negotiation modes --------------------------
# legacy: initialize (2025-11-25); auto: server/discover on a throw-away ssh, then 2026-07-28;
# pinned: 2026-07-28 or nothing. Each lists, runs, is denied (as a result), cancels.
for mode in legacy auto pinned; do
    run_client "v2-$mode" client_v2.mjs "$mode"
    v="DATA_v2_${mode}_connect_ms"
    echo "note: the v2 client ($mode) connected in ${!v:-?} ms"
    IT_MARK=$CLIENT_MARK
    bridle_records BRIDLE_FRONT_END=mcp >/dev/null
    v="DATA_v2_${mode}_allowed_request_id"
    assert_eq "sdk.v2-$mode.records.allowed" "allow echo-word" \
        "$(rec_get BRIDLE_DECISION BRIDLE_REQUEST_ID="${!v:-none}" BRIDLE_EVENT=decision) $(rec_get BRIDLE_RULE BRIDLE_REQUEST_ID="${!v:-none}" BRIDLE_EVENT=decision)"
    v="DATA_v2_${mode}_denied_request_id"
    assert_eq "sdk.v2-$mode.records.denied" deny "$(rec_get BRIDLE_DECISION BRIDLE_REQUEST_ID="${!v:-none}")"
done
assert_absent sdk.v2.denied-had-no-effect "$IT_SCRATCH/pwned-v2"

run_client disconnect
bridle_gone() { ! pgrep -f -- '--key it-key' >/dev/null; }
if wait_until 10 bridle_gone; then pass sdk.disconnect.bridle-exited
else fail sdk.disconnect.bridle-exited "$(pgrep -a -f -- '--key it-key' | tr '\n' ';')"; fi
IT_MARK=$CLIENT_MARK
result_recorded() { bridle_records BRIDLE_RULE=tree >/dev/null; ((REC_N_RESULT >= 1)); }
wait_until 5 result_recorded
assert_match sdk.disconnect.record "$(rec result BRIDLE_DISCONNECTED)" '^(1|true|yes)$'
assert_eq sdk.disconnect.record-front-end mcp "$(rec result BRIDLE_FRONT_END)"
# Tasks: background, reconnect, output from an offset, status, cancel (client.mjs `tasks`).
install -d -m 1733 -o root -g root "$IT_ROOT/tasks"
run_client tasks
# The same through the Tasks extension of 2026-07-28, as raw JSON-RPC (the v2 SDK client has
# no runtime for the extension yet): tasks/get, tasks/cancel, tasks/update and their errors.
"$IT_PYTHON" "$BRIDLE_SOURCE_DIR/tests/mcp/tasks_extension.py" "${SSH_ARGS[@]}" \
    >"$IT_WORK/client.out" 2>"$IT_WORK/client.err"
take_checks raw.tasks-extension
# The tasks/get that found the task completed carried a fan-out id; bridle's own follow-up
# (`task output ID`, which inlines the result) has no message of its own and must record the
# same id (it was lost once). Both steps' decision records carry it.
TASK_STEPS=$(journal_json SYSLOG_IDENTIFIER=bridle BRIDLE_EVENT=decision BRIDLE_FANOUT_ID="${DATA_tasks_fanout:-none}" |
    "$IT_PYTHON" -c 'import json, sys; print(" ".join(sorted({" ".join(json.loads(l)["BRIDLE_COMMAND"].split()[:2]) for l in sys.stdin if l.strip()})))')
assert_eq raw.tasks-extension.fanout-id-on-every-step "task output task status" "$TASK_STEPS"

pids=$(pgrep -f 'sleep (2718|577|587|421|433|599)')
[[ -n $pids ]] && kill -KILL $pids 2>/dev/null

harness_finish
