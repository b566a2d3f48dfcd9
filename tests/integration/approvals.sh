#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Approvals through the real sshd, ssh-keygen and journald (issue 15): a request of a rule with
# approval does not run but waits (exit 75) with its id and code; an approver key enrolled with
# `bridle enroll --approver` approves over SSH, a signature made with `ssh-keygen -Y sign -n
# bridle-approval` and delivered by the agent approves too; the same request from the same key
# then runs exactly once, also when re-sent concurrently, and a run_as rule through the real
# sudo runs once as root after the admin approved it over SSH. Refused: an agent key approving by
# itself, an approver key running a command, a foreign or forged signature, a signature of
# another request, a second answer of one approver, another key, a changed argument, a rejected
# request, an expired approval, a changed policy, a second use; and an allowed command naming the
# approval store. Every step has its journal record, tied by the approval id. approvals.notify
# (the shipped webhook script against a listener on loopback; a failing and a hanging program
# leave the request pending); MCP's run_command answers approval_required, and wait_for_approval
# waits for the answer (approvals_wait.py), and the same with the official MCP SDK
# (tests/mcp/client.mjs approvals); the shipped example.
# The MCP SDK comes from npm, installed outside the network namespace (tests/mcp/install.sh).
if [[ -z ${BRIDLE_IT_INSIDE:-} ]]; then
    # shellcheck source=../mcp/install.sh
    source "$(dirname "$0")/../mcp/install.sh" || exit 1
fi
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
harness_setup

it_overlay_usr_bin   # enrolled keys run /usr/bin/bridle
KEYS=$IT_ROOT/authorized_keys/$IT_USER
STORE=$IT_ROOT/approvals
SIGNERS=$IT_ROOT/allowed_signers
install -d -o "$IT_USER" -m 0700 "$STORE"

# Two approvers (admin, bob) with SSH keys, a stranger (mallory) whose key no file names, and a
# second agent key.
for name in admin bob mallory; do
    it_new_key "$name" "$name@phone"
done
for name in admin bob; do
    printf '%s namespaces="bridle-approval" %s\n' "$name" "$(cut -d' ' -f1,2 "$IT_WORK/$name.pub")"
done >"$SIGNERS"
chmod 0644 "$SIGNERS"
it_add_key other "restrict,command=\"$IT_BRIDLE --key other-key --policy $IT_POLICY\""

{
    echo "version: 1"
    echo "approvals:"
    echo "  signers: $SIGNERS"
    echo "  store: $STORE"
    echo "  sets:"
    echo "    admin: {approvers: [admin]}"
    echo "rules:"
    echo "  - id: uptime-pretty"
    echo "    command: /usr/bin/uptime"
    echo "    args: [--pretty]"
    echo "    approval: admin"
    echo "  - id: echo-two"
    echo "    command: /bin/echo"
    echo "    args: [{param: word}]"
    echo "    params: {word: {regex: '[a-z]+'}}"
    echo "    approval: {approvers: [admin, bob], required: 2}"
    echo "  - id: true-soon"
    echo "    command: /bin/true"
    echo "    approval: {approvers: [admin], timeout: 1s}"
    echo "  - id: id-root"
    echo "    command: /usr/bin/id"
    echo "    args: [-u]"
    echo "    run_as: root"
    echo "    approval: admin"
    echo "  - id: cat-mnt"
    echo "    command: /bin/cat"
    echo "    args: [{path: {under: [$IT_ROOT], type: file}}]"
} >"$IT_WORK/policy.yaml"
install_policy "$IT_WORK/policy.yaml"

# --- bridle check: the approvers must be in the signers file; root rules without approval warn.
"$BRIDLE" check --policy "$IT_POLICY" >"$IT_WORK/check.out" 2>&1
assert_eq check.ok 0 "$?"
sed 's/approvers: \[admin\]}/approvers: [carol]}/' "$IT_WORK/policy.yaml" >"$IT_WORK/bad.yaml"
"$BRIDLE" check --policy "$IT_WORK/bad.yaml" >"$IT_WORK/check.out" 2>&1
assert_eq check.unknown-approver.refused 78 "$?"
assert_contains check.unknown-approver.says "$(cat "$IT_WORK/check.out")" "names approver carol"
sed -i 's/approvers: \[carol\]}/approvers: [admin]}/' "$IT_WORK/bad.yaml"
printf '  - id: root-cmd\n    command: /usr/bin/id\n    run_as: root\n' >>"$IT_WORK/bad.yaml"
"$BRIDLE" check --policy "$IT_WORK/bad.yaml" >"$IT_WORK/check.out" 2>&1
assert_contains check.root-rule.warns "$(cat "$IT_WORK/check.out")" "runs as root without approval"

# --- Approver keys, enrolled; an approver key runs no command.
for name in admin bob; do
    /usr/bin/bridle enroll --approver "$name" --file "$KEYS" --policy "$IT_POLICY" \
        "$IT_WORK/$name.pub" >"$IT_WORK/enroll.out" 2>&1
    assert_eq "enroll.approver-$name" 0 "$?"
done
assert_contains enroll.line "$(cat "$KEYS")" \
    "command=\"/usr/bin/bridle --approver admin --approver-key SHA256:"
IT_KEY=admin bridle_ssh -- 'uptime'
assert_eq approver-key.runs-nothing 64 "$SSH_RC"
assert_not_contains approver-key.no-output "$SSH_OUT" "load average"

START=$(date +%s%6N)
approval_id() { sed -n 's/^bridle: approval id: \([0-9a-f]*\)$/\1/p' <<<"$SSH_ERR"; }
# --- The request waits: exit 75, id, code, approvers, what next; nothing ran.
bridle_ssh -- 'uptime --pretty'
assert_eq pending.exit 75 "$SSH_RC"
assert_not_contains pending.not-run "$SSH_OUT" "up "
ID=$(approval_id)
CODE=$(sed -n 's/^bridle: code: \([A-Z0-9-]*\) .*/\1/p' <<<"$SSH_ERR")
assert_match pending.id "$ID" '^[0-9a-f]{32}$'
assert_match pending.code "$CODE" '^[2-9A-Z]{4}-[2-9A-Z]{4}$'
assert_contains pending.approvers "$SSH_ERR" "waits for admin"
assert_contains pending.next "$SSH_ERR" "send exactly the same request again"
[[ -f $STORE/$ID ]] && pass pending.stored || fail pending.stored "no $STORE/$ID"
bridle_records >/dev/null
assert_eq pending.requested-record 1 "$(rec_count BRIDLE_EVENT=approval-requested \
    BRIDLE_APPROVAL_ID="$ID" MESSAGE_ID=1c785a5424ef46a888bbfa013714a0f4)"
assert_eq pending.decision approval \
    "$(rec_get BRIDLE_DECISION BRIDLE_EVENT=decision BRIDLE_APPROVAL_ID="$ID")"
assert_eq pending.code-recorded "$CODE" \
    "$(rec_get BRIDLE_APPROVAL_CODE BRIDLE_EVENT=approval-requested)"
# Re-sent while pending: the same request, no second one.
bridle_ssh -- 'uptime --pretty'
assert_eq pending.again 75 "$SSH_RC"
assert_contains pending.same-id "$SSH_ERR" "approval id: $ID"

# The store is out of every command's reach, whatever the rule allows.
bridle_ssh -- "cat $STORE/$ID"
assert_eq store.unreadable 77 "$SSH_RC"
assert_contains store.says "$SSH_ERR" "approval store"

# --- Refused approvals: the agent by itself, a stranger's, another namespace's, a forged one.
bridle_ssh -- "approve $ID"
assert_eq agent.cannot-approve 64 "$SSH_RC"
bridle_records >/dev/null
assert_eq agent.cannot-approve.recorded 1 "$(rec_count BRIDLE_EVENT=decision BRIDLE_DECISION=deny \
    "BRIDLE_REASON=not an approval request this key may send")"
bridle_ssh -- "approval $ID --text"
assert_eq agent.text 0 "$SSH_RC"
printf '%s' "$SSH_OUT" >"$IT_WORK/req1.txt"
assert_contains agent.text.binds "$SSH_OUT" 'argv: ["uptime","--pretty"]'
sign() { # sign KEY FILE [NAMESPACE]: FILE.sig
    rm -f "$2.sig"
    ssh-keygen -q -Y sign -f "$IT_WORK/$1" -n "${3:-bridle-approval}" "$2" >/dev/null 2>&1
}
deliver() { # deliver ID SIGFILE: the agent hands a signature over
    IT_STDIN=$2 bridle_ssh -- "approve $1 --signature -"
}
sign mallory "$IT_WORK/req1.txt"
deliver "$ID" "$IT_WORK/req1.txt.sig"
assert_eq signature.foreign.refused 77 "$SSH_RC"
sign admin "$IT_WORK/req1.txt" git
deliver "$ID" "$IT_WORK/req1.txt.sig"
assert_eq signature.other-namespace.refused 77 "$SSH_RC"
sign admin "$IT_WORK/req1.txt"
# The same signature with its last bytes flipped.
"$IT_PYTHON" - "$IT_WORK/req1.txt.sig" "$IT_WORK/forged.sig" <<'PYTHON'
import base64, sys
lines = open(sys.argv[1]).read().splitlines()
body = base64.b64decode("".join(lines[1:-1]))
body = body[:-10] + bytes(b ^ 0x55 for b in body[-10:])
b64 = base64.b64encode(body).decode()
out = [lines[0]] + [b64[i:i + 70] for i in range(0, len(b64), 70)] + [lines[-1]]
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PYTHON
deliver "$ID" "$IT_WORK/forged.sig"
assert_eq signature.forged.refused 77 "$SSH_RC"
"$BRIDLE" approvals --policy "$IT_POLICY" "$ID" >"$IT_WORK/show.out" 2>&1
assert_contains refusals.leave-it-pending "$(cat "$IT_WORK/show.out")" "state:     pending"

# Another key sending the same words gets a request of its own, not this approval.
IT_KEY=other bridle_ssh -- 'uptime --pretty'
assert_eq other-key.waits 75 "$SSH_RC"
assert_not_contains other-key.not-this-one "$SSH_ERR" "$ID"

# --- The approver approves over SSH; the request then runs once, even sent three at a time.
IT_KEY=admin bridle_ssh -- 'approvals'
assert_contains approver.lists "$SSH_OUT" "$ID  $CODE  pending"
IT_KEY=admin bridle_ssh -- "show $ID"
assert_contains approver.shows-code "$SSH_OUT" "code:      $CODE"
IT_KEY=admin bridle_ssh -- "approve $ID"
assert_eq approver.approves 0 "$SSH_RC"
assert_contains approver.approved "$SSH_OUT" "state approved"
runs=()
for i in 1 2 3; do
    (timeout 30 ssh -F "$IT_WORK/ssh_config" main 'uptime --pretty' \
        >"$IT_WORK/run$i.out" 2>"$IT_WORK/run$i.err"
    echo $? >"$IT_WORK/run$i.rc") &
    runs+=($!)
done
wait "${runs[@]}"   # only these: the harness's sshd and journald are children too
ran=0 waited=0
for i in 1 2 3; do
    case $(cat "$IT_WORK/run$i.rc") in
        0)
            ran=$((ran + 1))
            grep -q '^up ' "$IT_WORK/run$i.out" || fail concurrent.output "$(cat "$IT_WORK/run$i.out")"
            ;;
        75) waited=$((waited + 1)) ;;
    esac
done
assert_eq concurrent.ran-once 1 "$ran"
assert_eq concurrent.others-wait 2 "$waited"
grep -q "was used already" "$IT_WORK"/run?.err && pass concurrent.says-used ||
    fail concurrent.says-used "$(cat "$IT_WORK"/run?.err)"
bridle_ssh -- 'uptime --pretty'
assert_eq second-use.not-run 75 "$SSH_RC"
assert_not_contains second-use.new-request "$SSH_ERR" "approval id: $ID"

# --- Two of two: admin's signature delivered by the agent, bob over SSH; a changed argument.
bridle_ssh -- 'echo hello'
assert_eq two.pending 75 "$SSH_RC"
ID2=$(approval_id)
assert_contains two.needs-both "$SSH_ERR" "all of admin, bob"
deliver "$ID2" "$IT_WORK/req1.txt.sig"
assert_eq signature.other-request.refused 77 "$SSH_RC"
bridle_ssh -- "approval $ID2 --text"
printf '%s' "$SSH_OUT" >"$IT_WORK/req2.txt"
sign admin "$IT_WORK/req2.txt"
deliver "$ID2" "$IT_WORK/req2.txt.sig"
assert_eq signature.delivered-by-agent 0 "$SSH_RC"
assert_contains two.one-of-two "$SSH_OUT" "1 of 2 approvals; state pending"
deliver "$ID2" "$IT_WORK/req2.txt.sig"
assert_eq signature.twice.refused 77 "$SSH_RC"
bridle_ssh -- 'echo hello'
assert_eq two.not-yet 75 "$SSH_RC"
IT_KEY=bob bridle_ssh -- "approve $ID2"
assert_eq two.bob-approves 0 "$SSH_RC"
bridle_ssh -- 'echo world'
assert_eq changed-argument.not-run 75 "$SSH_RC"
assert_not_contains changed-argument.no-output "$SSH_OUT" "world"
bridle_ssh -- 'echo hello'
assert_eq two.runs 0 "$SSH_RC"
assert_eq two.output $'hello\n' "$SSH_OUT"

# --- Rejected: refused, with who rejected it.
bridle_ssh -- 'echo nope'
ID3=$(approval_id)
IT_KEY=bob bridle_ssh -- "reject $ID3"
assert_eq reject.ok 0 "$SSH_RC"
IT_KEY=admin bridle_ssh -- "approve $ID3"
assert_eq reject.then-approve.refused 77 "$SSH_RC"
bridle_ssh -- 'echo nope'
assert_eq rejected.refused 77 "$SSH_RC"
assert_contains rejected.says "$SSH_ERR" "rejected by bob"

# --- Expired: approved by root on the host, but used too late.
bridle_ssh -- 'true'
ID4=$(approval_id)
"$BRIDLE" approve --policy "$IT_POLICY" "$ID4" >"$IT_WORK/approve.out" 2>&1
assert_eq root.approves 0 "$?" || cat "$IT_WORK/approve.out"
sleep 2.1
bridle_ssh -- 'true'
assert_eq expired.not-run 75 "$SSH_RC"
assert_contains expired.says "$SSH_ERR" "approval $ID4 is expired"

# --- A policy changed between request and use voids the approval.
bridle_ssh -- 'uptime --pretty'
ID5=$(approval_id)
IT_KEY=admin bridle_ssh -- "approve $ID5"
assert_eq policy.approved 0 "$SSH_RC"
printf '# changed\n' >>"$IT_WORK/policy.yaml"
install_policy "$IT_WORK/policy.yaml"
bridle_ssh -- 'uptime --pretty'
assert_eq policy-changed.not-run 75 "$SSH_RC"
assert_contains policy-changed.says "$SSH_ERR" "is void: the policy changed"

# --- Every step on the record, tied by the approval id.
IT_MARK=$START bridle_records >/dev/null
assert_eq records.approved-by "admin" \
    "$(rec_get BRIDLE_APPROVER BRIDLE_EVENT=approval-approved BRIDLE_APPROVAL_ID="$ID")"
assert_eq records.approved-channel "ssh" \
    "$(rec_get BRIDLE_APPROVER_CHANNEL BRIDLE_EVENT=approval-approved BRIDLE_APPROVAL_ID="$ID")"
assert_match records.approver-fingerprint "$(rec_get BRIDLE_APPROVER_FINGERPRINT \
    BRIDLE_EVENT=approval-approved BRIDLE_APPROVAL_ID="$ID")" '^SHA256:'
assert_eq records.refused-answers 3 \
    "$(rec_count BRIDLE_EVENT=approval-refused BRIDLE_APPROVAL_ID="$ID")"
assert_eq records.consumed-once 1 \
    "$(rec_count BRIDLE_EVENT=approval-consumed BRIDLE_APPROVAL_ID="$ID")"
assert_eq records.ran-once 1 "$(rec_count BRIDLE_EVENT=decision BRIDLE_DECISION=allow \
    BRIDLE_APPROVAL_ID="$ID")"
assert_eq records.signature "signature" "$(rec_get BRIDLE_APPROVER_CHANNEL \
    BRIDLE_EVENT=approval-approved BRIDLE_APPROVAL_ID="$ID2" BRIDLE_APPROVER=admin)"
assert_eq records.rejected "bob" \
    "$(rec_get BRIDLE_APPROVER BRIDLE_EVENT=approval-rejected BRIDLE_APPROVAL_ID="$ID3")"
assert_eq records.expired 1 "$(rec_count BRIDLE_EVENT=approval-expired BRIDLE_APPROVAL_ID="$ID4")"
assert_eq records.void 1 "$(rec_count BRIDLE_EVENT=approval-void BRIDLE_APPROVAL_ID="$ID5")"

# --- approvals.notify: the shipped webhook script against a listener on loopback; a program
# that fails or hangs leaves the request pending, within notify_timeout, and is recorded.
LISTENED=$IT_WORK/listened.txt
"$IT_PYTHON" - "$LISTENED" <<'PYTHON' &
import http.server, sys
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[1], "ab") as f:
            f.write(self.headers["Title"].encode() + b"\n" + body + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", 48123), Hook).serve_forever()
PYTHON
LISTENER=$!
# Python's start may take seconds on a loaded machine (CI runs this beside other builds).
listening() { "$IT_PYTHON" -c 'import socket; socket.create_connection(("127.0.0.1", 48123))' 2>/dev/null; }
wait_until 60 listening || fail notify.listener "the loopback listener did not start within 60 s"
with_notify() { # the test's policy with approvals.notify set to the JSON list $1
    sed "s|^approvals:\$|approvals:\n  notify: $1\n  notify_timeout: 1s|" "$IT_WORK/policy.yaml" \
        >"$IT_WORK/notify.yaml"
    install_policy "$IT_WORK/notify.yaml"
}
# A copy the agent's account can reach (the source tree may be private, as a mktemp clone is).
install -m 0755 -o root -g root "$BRIDLE_SOURCE_DIR/install/approvals/notify-webhook" "$IT_ROOT/notify-webhook"
with_notify "[$IT_ROOT/notify-webhook, \"http://127.0.0.1:48123/topic\"]"
bridle_ssh -- 'echo notify'
assert_eq notify.pending 75 "$SSH_RC"
NID=$(approval_id)
assert_contains notify.posted "$(cat "$LISTENED" 2>/dev/null)" "asks to run: echo notify"
assert_contains notify.posted-id "$(cat "$LISTENED" 2>/dev/null)" "approve $NID"
bridle_records >/dev/null
assert_eq notify.recorded ok "$(rec_get BRIDLE_NOTIFY BRIDLE_EVENT=approval-notified BRIDLE_APPROVAL_ID="$NID")"
with_notify "[/bin/false]"
bridle_ssh -- 'echo failing'
assert_eq notify.fails.still-pending 75 "$SSH_RC"
FID=$(approval_id)
bridle_records >/dev/null
assert_eq notify.fails.recorded failed "$(rec_get BRIDLE_NOTIFY BRIDLE_EVENT=approval-notified BRIDLE_APPROVAL_ID="$FID")"
assert_eq notify.fails.reason "exit status 1" "$(rec_get BRIDLE_REASON BRIDLE_EVENT=approval-notified BRIDLE_APPROVAL_ID="$FID")"
printf '#!/bin/sh\nexec sleep 30\n' >"$IT_ROOT/hang" && chmod 0755 "$IT_ROOT/hang"
with_notify "[$IT_ROOT/hang]"
started=$SECONDS
bridle_ssh -- 'echo hanging'
assert_eq notify.hangs.still-pending 75 "$SSH_RC"
((SECONDS - started <= 6)) && pass notify.hangs.bounded || fail notify.hangs.bounded "took $((SECONDS - started)) s"
HID=$(approval_id)
bridle_records >/dev/null
assert_contains notify.hangs.recorded "$(rec_get BRIDLE_REASON BRIDLE_EVENT=approval-notified BRIDLE_APPROVAL_ID="$HID")" "killed after 1000 ms"
pgrep -f 'sleep 30' >/dev/null && fail notify.hangs.killed "sleep 30 still runs" || pass notify.hangs.killed
"$BRIDLE" approvals --policy "$IT_POLICY" "$HID" >"$IT_WORK/show.out" 2>&1
assert_contains notify.hangs.stays-pending "$(cat "$IT_WORK/show.out")" "state:     pending"
kill "$LISTENER" 2>/dev/null
install_policy "$IT_WORK/policy.yaml"

# --- MCP: run_command answers approval_required (not an error), then runs once approved.
answer=$(it_mcp_run_command 1 '["echo","mcp"]')
assert_eq mcp.status approval_required "$(jq_get "$answer" 'm["result"]["structuredContent"]["status"]')"
assert_eq mcp.not-an-error False "$(jq_get "$answer" 'm["result"]["isError"]')"
MCP_ID=$(jq_get "$answer" 'm["result"]["structuredContent"]["approval"]["id"]')
assert_match mcp.id "$MCP_ID" '^[0-9a-f]{32}$'
assert_eq mcp.approvers "['admin', 'bob']" "$(jq_get "$answer" 'm["result"]["structuredContent"]["approval"]["approvers"]')"
"$BRIDLE" approve --policy "$IT_POLICY" "$MCP_ID" >"$IT_WORK/approve.out" 2>&1
answer=$(it_mcp_run_command 2 '["echo","mcp"]')
assert_eq mcp.runs ok "$(jq_get "$answer" 'm["result"]["structuredContent"]["status"]')"
assert_eq mcp.output "mcp" "$(jq_get "$answer" 'm["result"]["structuredContent"]["stdout"].strip()')"

# --- MCP wait_for_approval (approvals_wait.py, one session): progress while it waits, approvers
# answering on the host, approved then run once, rejected, pending at its bound, cancelled,
# expired, refused ids (another key's among them), the session's end. Then its records.
IT_KEY=other bridle_ssh -- 'echo foreign'
OTHER_ID=$(approval_id)
journal_mark
WAIT_MARK=$IT_MARK
wait_started=$SECONDS
timeout -k 5 120 "$IT_PYTHON" "$BRIDLE_SOURCE_DIR/tests/integration/approvals_wait.py" \
    "$IT_WORK/ssh_config" "$BRIDLE" "$IT_POLICY" "$IT_WORK" "$OTHER_ID" \
    >"$IT_WORK/wait.out" 2>"$IT_WORK/wait.err"
assert_eq wait.driver 0 "$?" || cat "$IT_WORK/wait.err"
take_checks wait "$IT_WORK/wait.out" "$IT_WORK/wait.err"
echo "note: the wait_for_approval session took $((SECONDS - wait_started)) s"
IT_MARK=$WAIT_MARK bridle_records >/dev/null
waited() { # waited ID: the outcomes of the approval-waited records of ID, in order
    "$IT_PYTHON" "$IT_SUPPORT/journal_query.py" --match BRIDLE_EVENT=approval-waited \
        --match BRIDLE_APPROVAL_ID="$1" get BRIDLE_WAIT_OUTCOME <"$IT_WORK/records.json" | paste -sd' '
}
assert_eq wait.records.started 1 "$(rec_count BRIDLE_EVENT=approval-wait \
    BRIDLE_APPROVAL_ID="${DATA_approved_id:-none}" MESSAGE_ID=e959f8885c714b989773b1c020cf4f09)"
assert_eq wait.records.approved approved "$(waited "${DATA_approved_id:-none}")"
assert_eq wait.records.approved-id ba31df395d124d249916ca8a84abe7da "$(rec_get MESSAGE_ID \
    BRIDLE_EVENT=approval-waited BRIDLE_APPROVAL_ID="${DATA_approved_id:-none}")"
assert_eq wait.records.same-wait "$(rec_get BRIDLE_WAIT_ID BRIDLE_EVENT=approval-wait \
    BRIDLE_APPROVAL_ID="${DATA_approved_id:-none}")" "$(rec_get BRIDLE_WAIT_ID \
    BRIDLE_EVENT=approval-waited BRIDLE_APPROVAL_ID="${DATA_approved_id:-none}")"
assert_eq wait.records.rejected rejected "$(waited "${DATA_rejected_id:-none}")"
assert_eq wait.records.expired expired "$(waited "${DATA_expired_id:-none}")"
assert_eq wait.records.pending "pending cancelled pending cancelled cancelled cancelled cancelled pending ended" \
    "$(waited "${DATA_pending_id:-none}")"
# The cancelled wait ran 0.5 s before its cancellation: it ended well within a second of it.
cancelled_ms=$(rec_get BRIDLE_DURATION_MS BRIDLE_EVENT=approval-waited BRIDLE_WAIT_OUTCOME=cancelled)
((${cancelled_ms:-99999} < 1500)) && pass wait.records.cancelled-at-once ||
    fail wait.records.cancelled-at-once "waited ${cancelled_ms:-?} ms"
assert_contains wait.records.foreign-denied "$(rec_get BRIDLE_REASON BRIDLE_EVENT=decision \
    BRIDLE_DECISION=deny "BRIDLE_COMMAND=wait_for_approval $OTHER_ID")" "of this key"
assert_eq wait.records.foreign-untouched 0 "$(rec_count BRIDLE_APPROVAL_ID="$OTHER_ID" BRIDLE_EVENT=approval-wait)"

# --- A run_as rule through the real sudo (as `systemctl restart nginx` in the shipped example):
# it waits; the admin approves from their phone's SSH client; the same request then runs once as
# root, through sudo's target side; the next one asks anew.
"$IT_BRIDLE" sudoers --policy "$IT_POLICY" --user "$IT_USER" --install >"$IT_WORK/sudoers.out" 2>&1
assert_eq run-as.sudoers 0 "$?" || cat "$IT_WORK/sudoers.out"
bridle_ssh -- 'id -u'
assert_eq run-as.waits 75 "$SSH_RC"
ROOT_ID=$(approval_id)
IT_KEY=admin bridle_ssh -- "approve $ROOT_ID"
assert_eq run-as.admin-approves 0 "$SSH_RC"
bridle_ssh -- 'id -u'
assert_eq run-as.runs "0 0" "$SSH_RC ${SSH_OUT%$'\n'}"
bridle_records >/dev/null
assert_eq run-as.target-side 0 "$(rec_get BRIDLE_EXIT_STATUS BRIDLE_FRONT_END=sudo BRIDLE_EVENT=result)"
assert_eq run-as.consumed 1 "$(rec_count BRIDLE_EVENT=approval-consumed BRIDLE_APPROVAL_ID="$ROOT_ID")"
bridle_ssh -- 'id -u'
assert_eq run-as.once "75 " "$SSH_RC $SSH_OUT"

# --- The same with the official MCP SDK (tests/mcp/client.mjs approvals): approval_required,
# wait_for_approval while bob (over SSH) and then root answer on the host, run once.
APPROVAL_ID_FILE=$IT_WORK/sdk-approval-id
export APPROVAL_ID_FILE
journal_mark
SDK_MARK=$IT_MARK
(cd "$BRIDLE_MCP_DIR" && timeout -k 5 120 node client.mjs approvals -- -F "$IT_WORK/ssh_config" main) \
    >"$IT_WORK/sdk.out" 2>"$IT_WORK/sdk.err" &
sdk=$!
if wait_until 60 test -s "$APPROVAL_ID_FILE"; then
    SDK_ID=$(cat "$APPROVAL_ID_FILE")
    sleep 1   # the wait has started (its first answer would come as progress either way)
    IT_KEY=bob bridle_ssh -- "approve $SDK_ID"
    assert_eq sdk.bob-approves 0 "$SSH_RC"
    sleep 1
    "$BRIDLE" approve --policy "$IT_POLICY" "$SDK_ID" >"$IT_WORK/approve.out" 2>&1
    assert_eq sdk.root-approves 0 "$?" || cat "$IT_WORK/approve.out"
else
    fail sdk.id "the SDK client wrote no approval id: $(tail -c 1500 "$IT_WORK/sdk.err")"
fi
wait "$sdk"
assert_eq sdk.exit 0 "$?" || tail -c 1500 "$IT_WORK/sdk.err"
take_checks sdk "$IT_WORK/sdk.out" "$IT_WORK/sdk.err"
IT_MARK=$SDK_MARK bridle_records >/dev/null
assert_eq sdk.consumed-once 1 "$(rec_count BRIDLE_EVENT=approval-consumed BRIDLE_APPROVAL_ID="${SDK_ID:-none}")"
assert_eq sdk.waited approved "$(rec_get BRIDLE_WAIT_OUTCOME BRIDLE_EVENT=approval-waited \
    BRIDLE_APPROVAL_ID="${SDK_ID:-none}")"

# --- The shipped example beside the shipped policy: its rules win for exactly their requests.
install -d -m 0755 /etc/bridle/policy.d
install -m 0644 "$BRIDLE_SOURCE_DIR/policy/default.yaml" /etc/bridle/policy.yaml
install -m 0644 "$BRIDLE_SOURCE_DIR/policy/examples/approvals.yaml" /etc/bridle/policy.d/30-approvals.yaml
install -m 0644 "$SIGNERS" /etc/bridle/allowed_signers
"$BRIDLE" check >"$IT_WORK/check.out" 2>&1
assert_eq example.checks 0 "$?" || cat "$IT_WORK/check.out"
for request in 'systemctl restart nginx' 'uptime --pretty' 'uptime -p'; do
    "$BRIDLE" explain -- "$request" >"$IT_WORK/explain.out" 2>&1
    assert_match "example.approval-rule: $request" "$(grep '^rule:' "$IT_WORK/explain.out")" '-approved'
done
"$BRIDLE" explain -- uptime >"$IT_WORK/explain.out" 2>&1
assert_contains example.plain-uptime "$(cat "$IT_WORK/explain.out")" "rule: uptime"

# --- bridle audit shows the approvals, with their steps, and filters them.
"$BRIDLE" audit --decision approval --request "$ID" >"$IT_WORK/audit.out" 2>&1
assert_contains audit.table.verdict "$(cat "$IT_WORK/audit.out")" "approval"
assert_contains audit.table.approved "$(cat "$IT_WORK/audit.out")" "approval $CODE: approved by admin (ssh SHA256:"
assert_contains audit.table.consumed "$(cat "$IT_WORK/audit.out")" "approval $CODE: consumed by request"
"$BRIDLE" audit --decision approval --request "$ID2" -o json >"$IT_WORK/audit.json" 2>&1
assert_contains audit.json.steps "$(cat "$IT_WORK/audit.json")" '"channel":"signature"'
assert_contains audit.json.decision "$(cat "$IT_WORK/audit.json")" '"decision":"approval"'
"$BRIDLE" audit --decision deny >"$IT_WORK/audit.out" 2>&1
assert_not_contains audit.deny.excludes-pending "$(cat "$IT_WORK/audit.out")" "approval $CODE"
harness_finish
