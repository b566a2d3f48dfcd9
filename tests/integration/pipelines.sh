# SPDX-License-Identifier: Apache-2.0
# Pipelines of allowed stages through a real sshd (bridle-policy(5), PIPELINES): an unquoted
# `|` separates stages; each stage is decided alone and in its place; bridle wires the pipes
# itself (never a shell); each stage runs in its own rule's sandbox and the strictest timeout
# ends them all; one decision record and one result record carry every stage.
# First against the shipped policy (the agent's `journalctl ... | grep -i error | tail -n 20`,
# and escape attempts with pipes), then against tests/integration/policies/pipelines.yaml
# (side effects, exec-once per stage, SIGPIPE, timeout, disconnect).
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
IT_DEFAULT_POLICY=$BRIDLE_SOURCE_DIR/policy/default.yaml   # read by harness_setup
harness_setup

is_true() { [[ $1 == 1 || $1 == true || $1 == yes ]]; }

# ---- the shipped policy ----------------------------------------------------------------------
# The journal holds bridle's own records by now (private journald): search them. The account
# reads the journal as a member of systemd-journal (this /etc is the test's private copy), on a
# new connection (group membership is set at login).
usermod -a -G systemd-journal "$IT_USER"
bridle_ssh -- 'uptime'
bridle_ssh -o ControlPath=none -- 'journalctl -n 500 --no-pager | grep -i -F uptime | tail -n 2'
assert_status shipped.journal.status 0
assert_match shipped.journal.stdout "$SSH_OUT" 'uptime'
lines=$(printf '%s' "$SSH_OUT" | grep -c '')
assert_eq shipped.journal.tail-n-2 2 "$lines"
bridle_records >/dev/null
assert_eq shipped.journal.records "1 1" "$REC_N_DECISION $REC_N_RESULT"
assert_eq shipped.journal.rules "journal|grep-filter|tail-filter" "$(rec decision BRIDLE_RULE)"
assert_eq shipped.journal.stages 3 "$(rec decision BRIDLE_STAGES)"
assert_eq shipped.journal.argv '[["journalctl","-n","500","--no-pager"],["grep","-i","-F","uptime"],["tail","-n","2"]]' \
    "$(rec decision BRIDLE_ARGV)"
assert_eq shipped.journal.sandboxes "readonly|filter|filter" "$(rec decision BRIDLE_SANDBOX)"
assert_eq shipped.journal.pipestatus "0 0 0" "$(rec result BRIDLE_PIPESTATUS)"
assert_eq shipped.journal.exit 0 "$(rec result BRIDLE_EXIT_STATUS)"

bridle_ssh -- 'cat /var/log/nginx/access.log | grep -F item/4 | wc -l'
assert_status shipped.cat.status 0
assert_eq shipped.cat.count $'11\n' "$SSH_OUT"
bridle_records >/dev/null
assert_eq shipped.cat.rules "cat-log|grep-filter|wc" "$(rec decision BRIDLE_RULE)"

# Pipes into what is not allowed there: refused, nothing runs (no result record), and the
# agent is told which stage and why. Shells, interpreters, writers and exec-ers, in the last
# place or the middle; and a filter where it may not stand.
while IFS= read -r request; do
    [[ -z $request ]] && continue
    bridle_ssh -- "$request"
    bridle_records >/dev/null
    if [[ $SSH_RC == 77 && $REC_N_DECISION == 1 && $REC_N_RESULT == 0 &&
          $(rec decision BRIDLE_DECISION) == deny && $SSH_ERR == *"bridle: denied: stage "* ]]; then
        pass "shipped.refused: $request"
    else
        fail "shipped.refused: $request" "status $SSH_RC, records $REC_N_DECISION/$REC_N_RESULT, stderr $(it_show "$SSH_ERR" 300)"
    fi
done <<'REQUESTS'
uptime | sh
journalctl -n 5 --no-pager | sh
journalctl -n 5 --no-pager | bash -c id
ps aux | grep -F x | python3
ps aux | xargs kill
ps aux | tee /mnt/bridle/scratch/pwned
ss -tln | awk '{print}'
ps aux | env sh
ps aux | sort -o /mnt/bridle/scratch/pwned
ps aux | sort --compress-program=sh
journalctl -n 5 --no-pager | grep -F x /etc/shadow
grep -i error | tail -n 2
ps aux | grep -F x | ps aux
REQUESTS
assert_absent shipped.refused.no-effect "$IT_SCRATCH/pwned"

# Lists, redirections and `|&` stay refused before anything is decided (exit 64).
for request in 'uptime || sh' 'ps aux |& grep x' 'ps aux | wc -l > /mnt/bridle/scratch/pwned' \
               'ps aux | wc -l; id' 'ps aux | wc -l && id' 'ps aux |'; do
    bridle_ssh -- "$request"
    assert_status "shipped.unparsable: $request" 64
done
assert_absent shipped.unparsable.no-effect "$IT_SCRATCH/pwned"

# ---- the test policy -------------------------------------------------------------------------
install_policy "$IT_POLICIES/pipelines.yaml"

bridle_ssh -- 'seq 1000 | grep 7 | tail -n 2'
assert_status three.status 0
assert_eq three.stdout $'987\n997\n' "$SSH_OUT"
bridle_ssh -- 'seq 1000|head -n 3|tail -n 1'
assert_eq three.no-spaces $'3\n' "$SSH_OUT"

# One stage denied: nothing at all runs, the earlier stage's side effect included (touch
# would set the marker's time to now).
marker=$IT_SCRATCH/marker
touch -d '2000-01-01 00:00:00' "$marker"
chmod 0666 "$marker"
old_time=$(stat -c %Y "$marker")
bridle_ssh -- "touch $marker | sh"
assert_status denied.status 77
assert_eq denied.no-side-effect "$old_time" "$(stat -c %Y "$marker")"
assert_contains denied.names-stage "$SSH_ERR" 'bridle: denied: stage 2 of 2 (`sh`)'
bridle_records >/dev/null
assert_eq denied.records "1 0" "$REC_N_DECISION $REC_N_RESULT"
assert_eq denied.record-stage 2 "$(rec decision BRIDLE_DENIED_STAGE)"
assert_eq denied.record-rules "touch-first|-" "$(rec decision BRIDLE_RULE)"
bridle_ssh -- "seq 3 | wc -l"
assert_status denied.not-in-place 77
assert_contains denied.not-in-place.why "$SSH_ERR" 'rule alone may not run as the last stage of a pipeline (its pipeline: lists alone)'
bridle_ssh -- "touch $marker | head -n 1"
assert_status allowed.side-effect.status 0
assert_ne allowed.side-effect.ran "$old_time" "$(stat -c %Y "$marker")"

# Exec-once holds per stage: the second stage's shell may not start /bin/true.
bridle_ssh -- 'seq 3 | exec-again'
bridle_records >/dev/null
assert_match exec-once.per-stage "$(rec result BRIDLE_STAGE_EXEC_BLOCKED)" '^0 [1-9][0-9]*$'
assert_contains exec-once.message "$SSH_ERR" 'stage 2 of 2 (`exec-again`) tried to start another program'

# A reader that stops early ends its writer by SIGPIPE: a normal result (exit 0), recorded.
bridle_ssh -- 'yes | head -n 3'
assert_status sigpipe.status 0
assert_eq sigpipe.stdout $'y\ny\ny\n' "$SSH_OUT"
bridle_records >/dev/null
assert_eq sigpipe.pipestatus "141 0" "$(rec result BRIDLE_PIPESTATUS)"

# The strictest stage's timeout (nap: 1 s) ends every stage.
sleeps() { pgrep -f -x "sleep $1" | wc -l; }
bridle_ssh -- 'sleep 431 | nap 432'
assert_status timeout.status 124
assert_contains timeout.message "$SSH_ERR" 'every stage of the pipeline'
bridle_records >/dev/null
is_true "$(rec result BRIDLE_TIMED_OUT)" && pass timeout.record || fail timeout.record "$(rec_dump | tail -n 1)"
assert_eq timeout.nothing-left "0 0" "$(sleeps 431) $(sleeps 432)"

# A dropped connection ends every stage.
both_running() { (($(sleeps 271) == 1 && $(sleeps 272) == 1)); }
both_gone() { (($(sleeps 271) == 0 && $(sleeps 272) == 0)); }
result_recorded() { bridle_records >/dev/null; ((REC_N_RESULT >= 1)); }
journal_mark
ssh -F "$IT_WORK/ssh_config" main -- 'sleep 271 | sleep 272' </dev/null >/dev/null 2>"$IT_WORK/cut.err" &
client=$!
if wait_until 10 both_running; then
    kill -KILL "$client"
    wait "$client" 2>/dev/null
    if wait_until 10 both_gone; then pass disconnect.stages-killed
    else fail disconnect.stages-killed "$(pgrep -a -f 'sleep 27[12]' | tr '\n' ';')"; fi
    wait_until 5 result_recorded
    is_true "$(rec result BRIDLE_DISCONNECTED)" && pass disconnect.record ||
        fail disconnect.record "$(rec_dump | tail -n 1)"
else
    fail disconnect.started "$(cat "$IT_WORK/cut.err")"
    kill -KILL "$client" 2>/dev/null
fi
pids=$(pgrep -f -x 'sleep (271|272|431|432)')
[[ -n $pids ]] && kill -KILL $pids 2>/dev/null

harness_finish
