# SPDX-License-Identifier: Apache-2.0
# Tasks through a real sshd (bridle(8), TASKS): `task start` returns an id at once, the command
# runs on after the connection closed, and a later connection reads its output from an offset
# and its final status; the rule's timeout and idle_timeout still hold; an outside SIGKILL of
# the supervisor leaves no process of the task; another key sees none of it; the per-key cap.
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
IT_DEFAULT_POLICY=$IT_POLICIES/tasks.yaml   # read by harness_setup
harness_setup
SPOOL=$IT_ROOT/tasks
install -d -m 1733 -o root -g root "$SPOOL"   # root's; each account makes its own directory
it_add_key second "restrict,command=\"$IT_BRIDLE --key second-agent --policy $IT_POLICY\""

# task_state ID: the state line of `task status ID`.
task_state() {
    bridle_ssh -- "task status $1"
    sed -n 's/^state: //p' <<<"$SSH_OUT"
}
# wait_state ID STATE SECONDS
wait_state() {
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        [[ $(task_state "$1") == "$2" ]] && return 0
        sleep 0.2
    done
    return 1
}

# ---- start, disconnect, reconnect, read from an offset, the final status ---------------------
start=$SECONDS
bridle_ssh -- 'task start ticker 4'
assert_status start.status 0
id=${SSH_OUT%$'\n'}
assert_match start.id "$id" '^[0-9a-f]{16}$'
((SECONDS - start < 3)) && pass start.returns-at-once || fail start.returns-at-once "took $((SECONDS - start)) s"
bridle_records >/dev/null
assert_eq start.builtin-record "builtin:task" "$(rec_get BRIDLE_RULE BRIDLE_EVENT=decision)"

sleep 1.5
bridle_ssh -- "task output $id"
assert_status output.first.status 0
first=$SSH_OUT
assert_match output.first.some "$first" '^tick 1'
assert_match output.first.offset "$SSH_ERR" "task $id: running; next offset [0-9]+"
offset=$(sed -n 's/.*next offset \([0-9]*\).*/\1/p' <<<"$SSH_ERR")
assert_eq output.first.offset-is-bytes "${#first}" "$offset"
assert_eq status.running running "$(task_state "$id")"

wait_state "$id" exited 15 && pass ended || fail ended "state $(task_state "$id")"
bridle_ssh -- "task output $id --offset $offset"
assert_status output.rest.status 0
assert_eq output.whole $'tick 1\ntick 2\ntick 3\ntick 4\n' "$first$SSH_OUT"
assert_contains output.rest.done "$SSH_ERR" "task $id: exited; next offset 28"
bridle_ssh -- "task status $id"
assert_contains status.exit "$SSH_OUT" "exit_status: 0"
assert_contains status.rule "$SSH_OUT" "rule: ticker"
# The run itself was decided and audited like any request, tagged with the task's id.
IT_MARK=0 bridle_records >/dev/null   # every record since the start
assert_eq audit.decision allow "$(rec_get BRIDLE_DECISION BRIDLE_TASK_ID="$id" BRIDLE_EVENT=decision)"
assert_eq audit.result 0 "$(rec_get BRIDLE_EXIT_STATUS BRIDLE_TASK_ID="$id" BRIDLE_EVENT=result)"
assert_eq audit.rule ticker "$(rec_get BRIDLE_RULE BRIDLE_TASK_ID="$id" BRIDLE_EVENT=result)"

# --follow: on until the end.
bridle_ssh -- 'task start ticker 2'
id2=${SSH_OUT%$'\n'}
bridle_ssh -- "task output $id2 --follow"
assert_eq follow.all $'tick 1\ntick 2\n' "$SSH_OUT"
assert_contains follow.done "$SSH_ERR" "exited; next offset 14"

# ---- the spool: the account's own, 0700 ---------------------------------------------------------
assert_eq spool.mode "700 $IT_USER" "$(stat -c '%a %U' "$SPOOL/$IT_UID/it-key")"

# ---- the spool is hidden from every command, with Landlock and without --------------------------
# (tests/sandbox/state_probe.c, as the allowed command of a sandbox whose Landlock would let it
# write the spool: only the request's mount namespace stands in the way.)
if [[ -z ${STATE_PROBE:-} || ! -x $STATE_PROBE ]]; then
    fail setup.probe "STATE_PROBE is not set to the built helper (tests/CMakeLists.txt sets it)"
else
    install -D -m 0755 -o root -g root "$STATE_PROBE" /mnt/bridle/probe/state_probe
    bridle_ssh -- 'task start ticker 30'
    probed=${SSH_OUT%$'\n'}
    output="$SPOOL/$IT_UID/it-key/$probed/output"
    policy_auto=$IT_WORK/tasks-auto.yaml
    cp "$IT_POLICY" "$policy_auto"
    for landlock in auto off; do
        sed "s/^  landlock: auto /  landlock: $landlock /" "$policy_auto" >"$IT_POLICY"
        bridle_ssh -- "state-probe $output"
        assert_status "hidden.$landlock.status" 0
        assert_not_contains "hidden.$landlock.reached" "$SSH_OUT" REACHED
        assert_contains "hidden.$landlock.tried" "$SSH_OUT" "unshare-umount refused"
        bridle_records >/dev/null
        assert_match "hidden.$landlock.containment" \
            "$(rec_get BRIDLE_CONTAINMENT BRIDLE_RULE=state-probe BRIDLE_EVENT=result)" ' mntns=yes '
    done
    cp "$policy_auto" "$IT_POLICY"
    assert_not_contains hidden.output-untouched "$(cat "$output")" probe
    assert_absent hidden.nothing-created "$SPOOL/probe-created"
    bridle_ssh -- "task cancel $probed"
fi

# ---- refusals ---------------------------------------------------------------------------------
bridle_ssh -- 'task start uptime'
assert_status refused.not-a-task-rule 77
assert_contains refused.not-a-task-rule.why "$SSH_ERR" "does not allow tasks"
bridle_ssh -- 'task start cat /etc/shadow'
assert_status refused.policy 77
bridle_ssh -- 'task start task list'
assert_status refused.nested 64
bridle_ssh -- 'task frobnicate'
assert_status refused.verb 64
bridle_ssh -- 'task status ../../etc'
assert_status refused.bad-id 64

# ---- timeout and idle_timeout -----------------------------------------------------------------
bridle_ssh -- 'task start nap 30'
nap=${SSH_OUT%$'\n'}
bridle_ssh -- 'task start quiet 30'
quiet=${SSH_OUT%$'\n'}
wait_state "$nap" timed-out 10 && pass timeout.killed || fail timeout.killed "state $(task_state "$nap")"
bridle_ssh -- "task status $nap"
assert_contains timeout.status "$SSH_OUT" "exit_status: 124"
wait_state "$quiet" idle-timeout 10 && pass idle.killed || fail idle.killed "state $(task_state "$quiet")"
# A foreground run that prints more often than its idle_timeout is not killed.
bridle_ssh -- 'chatty 4'
assert_status idle.foreground-output-flows 0
assert_eq idle.foreground-all $'tick 1\ntick 2\ntick 3\ntick 4\n' "$SSH_OUT"

# ---- another key, the cap, cancel -------------------------------------------------------------
bridle_ssh -- 'task start ticker 60'
a=${SSH_OUT%$'\n'}
bridle_ssh -- 'task start ticker 60'
b=${SSH_OUT%$'\n'}
bridle_ssh -- 'task start ticker 60'
assert_status cap.refused 75
assert_contains cap.why "$SSH_ERR" "settings.task_max_running"
IT_KEY=second bridle_ssh -- "task status $a"
assert_status other-key.status 64
IT_KEY=second bridle_ssh -- "task cancel $a"
assert_status other-key.cancel 64
IT_KEY=second bridle_ssh -- 'task list'
assert_eq other-key.list "" "$SSH_OUT"
IT_KEY=second bridle_ssh -- 'task start ticker 1'
assert_status other-key.own-cap 0
assert_eq other-key.untouched running "$(task_state "$a")"
bridle_ssh -- 'task list'
assert_contains list.a "$SSH_OUT" "$a running ticker"
bridle_ssh -- "task cancel $a"
assert_status cancel.status 0
wait_state "$a" cancelled 10 && pass cancel.ended || fail cancel.ended "state $(task_state "$a")"

# ---- an outside SIGKILL of the supervisor: nothing of the task survives ------------------------
pid=$(sed -n 's/^pid=//p' "$SPOOL/$IT_UID/it-key/$b/meta")
assert_match sigkill.pid "$pid" '^[0-9]+$'
kill -KILL "$pid"
gone=0
for ((i = 0; i < 50; i++)); do
    if ! pgrep -u "$IT_USER" -f 'tick' >/dev/null && ! pgrep -u "$IT_USER" -x sleep >/dev/null; then
        gone=1
        break
    fi
    sleep 0.1
done
assert_eq sigkill.no-survivor 1 "$gone"
assert_eq sigkill.state lost "$(task_state "$b")"

# ---- a follower whose client left ends, though the task is silent --------------------------------
bridle_ssh -- 'task start silent 30'
f=${SSH_OUT%$'\n'}
bridle_count() { pgrep -u "$IT_USER" -f -- '--key it-key' | grep -c .; }
sleep 1
base=$(bridle_count)
IT_SSH_TIMEOUT=2 bridle_ssh -o ControlPath=none -- "task output $f --follow"
follower_gone() { (($(bridle_count) <= base)); }
if wait_until 5 follower_gone; then pass follow.client-left; else fail follow.client-left "$(bridle_count) bridle processes, $base before"; fi
assert_eq follow.task-runs-on running "$(task_state "$f")"
bridle_ssh -- "task cancel $f"

# ---- bridle audit shows a task's run, and how the idle one ended ------------------------------------
review=$("$BRIDLE" audit --since @1 --color never 2>&1)
assert_match audit.review.task "$review" "ticker +0 .*\[task $id\] ticker 4"
assert_match audit.review.idle "$review" "quiet +idle .*\[task $quiet\] quiet 30"

# ---- the administrator sees every key's tasks ---------------------------------------------------
all=$("$IT_BRIDLE" tasks --policy "$IT_POLICY")
assert_contains admin.tasks.own "$all" "$IT_UID it-key $id exited ticker"
assert_contains admin.tasks.lost "$all" "$IT_UID it-key $b lost ticker"
assert_contains admin.tasks.other-key "$all" "$IT_UID second-agent "

harness_finish
