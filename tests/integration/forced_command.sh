# SPDX-License-Identifier: Apache-2.0
# bridle as the forced command of a key (authorized_keys restrict,command="bridle --key it-key
# --policy ..."), through a real sshd: allowed commands run and their output and exit status
# come through unchanged; denied and unparsable requests never run anything (side-effect files
# never appear) and say why; `help` lists only this key's rules; the command's environment is
# exactly the policy's whatever the client sends (AcceptEnv * in sshd_config); every request
# is audited (decision before, result after, tied by BRIDLE_REQUEST_ID); a dropped connection
# and a timeout kill the command and everything it started.
# Guards against: "forced command not restricted" (OpenSSH regress/key-options.sh), checker
# and shell parsing differently (lshell CVE-2016-6902/6903), newline as separator (btrbk),
# LD_PRELOAD/BASH_ENV/LC_* from the client, orphaned processes after a disconnect.
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
harness_setup

POLICY_SHA=$(sha256sum "$IT_POLICY" | cut -d' ' -f1)
POLICY_ENV=$'BRIDLE_IT_MARKER=from-policy\nLANG=C.UTF-8\nPATH=/usr/sbin:/usr/bin:/sbin:/bin'
CANARY=$IT_SCRATCH/canary
touch "$CANARY"

# json_norm JSON: canonical form of a JSON text (or "invalid: ..." when it does not parse).
json_norm() {
    python3 -c 'import json,sys
try: print(json.dumps(json.loads(sys.argv[1])))
except Exception as e: print("invalid:", repr(sys.argv[1])[:200])' "$1"
}

# is_true VALUE: how bridle spells a true flag in a record.
is_true() { [[ $1 == 1 || $1 == true || $1 == yes ]]; }
is_false() { [[ $1 == 0 || $1 == false || $1 == no ]]; }

# check_bridle_lines NAME: every stderr line comes from bridle, names a reason, points at help.
check_denial_message() {
    local name=$1 line bad=
    while IFS= read -r line; do
        [[ -z $line || $line == "bridle: "* ]] || bad=$line
    done <<<"$SSH_ERR"
    if [[ -n $bad ]]; then fail "$name.prefix" "stderr line without 'bridle: ': $(it_show "$bad")"
    elif [[ -z $SSH_ERR ]]; then fail "$name.prefix" "no message on stderr"
    else pass "$name.prefix"; fi
    assert_contains "$name.points-at-help" "$SSH_ERR" "help"
    assert_eq "$name.no-stdout" "" "$SSH_OUT"
}

# expect_denied NAME STATUS REQUEST [SIDE-EFFECT-PATH]: the request is refused with STATUS,
# nothing ran, and exactly one record was written for it: a decision "deny", both for a policy
# denial (77) and for a request that could not be parsed (64), with the reason that stderr
# gives.
expect_denied() {
    local name=$1 status=$2 request=$3 effect=${4:-$IT_SCRATCH/pwned}
    bridle_ssh -- "$request"
    assert_status "$name.status" "$status"
    check_denial_message "$name"
    assert_absent "$name.no-effect" "$effect"
    if [[ -e $CANARY ]]; then pass "$name.canary-intact"; else fail "$name.canary-intact" "$CANARY was removed"; fi
    bridle_records >/dev/null
    assert_eq "$name.one-refusal-record" "1 1 0" "$REC_N $REC_N_REFUSED $REC_N_RESULT"
    assert_eq "$name.record-decision" deny "$(rec decision BRIDLE_DECISION)"
    assert_eq "$name.record-key" it-key "$(rec decision BRIDLE_KEY)"
    local reason
    reason=$(rec decision BRIDLE_REASON)
    assert_ne "$name.record-reason" "" "$reason"
    [[ -n $reason ]] && assert_contains "$name.stderr-names-reason" "$SSH_ERR" "$reason"
    rm -f "$effect"
}

# ---- allowed commands ---------------------------------------------------------------------
bridle_ssh -- 'echo hello'
assert_status allowed.echo.status 0
assert_eq allowed.echo.stdout $'hello\n' "$SSH_OUT"
assert_eq allowed.echo.stderr "" "$SSH_ERR"

# Records of that request: a decision and a result, same request id, the documented fields.
bridle_records >/dev/null
assert_eq records.allow.count "2" "$REC_N"
assert_eq records.allow.one-decision "1" "$REC_N_DECISION"
assert_eq records.allow.one-result "1" "$REC_N_RESULT"
req_d=$(rec decision BRIDLE_REQUEST_ID)
req_r=$(rec result BRIDLE_REQUEST_ID)
assert_ne records.allow.request-id-set "" "$req_d"
assert_eq records.allow.same-request-id "$req_d" "$req_r"
t_d=$(rec decision __MONOTONIC_TIMESTAMP)
t_r=$(rec result __MONOTONIC_TIMESTAMP)
if [[ -n $t_d && -n $t_r ]] && ((t_d <= t_r)); then pass records.allow.decision-first
else fail records.allow.decision-first "decision at $t_d, result at $t_r"; fi
for event in decision result; do
    for field in MESSAGE MESSAGE_ID PRIORITY BRIDLE_EVENT BRIDLE_DECISION BRIDLE_RULE \
        BRIDLE_COMMAND BRIDLE_ARGV BRIDLE_KEY BRIDLE_CLIENT BRIDLE_POLICY_SHA256 BRIDLE_FRONT_END; do
        assert_ne "records.allow.$event.has-$field" "" "$(rec $event "$field")"
    done
    assert_eq "records.allow.$event.identifier" bridle "$(rec $event SYSLOG_IDENTIFIER)"
    assert_eq "records.allow.$event.decision" allow "$(rec $event BRIDLE_DECISION)"
    assert_eq "records.allow.$event.key" it-key "$(rec $event BRIDLE_KEY)"
    assert_eq "records.allow.$event.rule" echo-word "$(rec $event BRIDLE_RULE)"
    assert_eq "records.allow.$event.front-end" forced "$(rec $event BRIDLE_FRONT_END)"
    assert_eq "records.allow.$event.command" "echo hello" "$(rec $event BRIDLE_COMMAND)"
    assert_eq "records.allow.$event.argv" '["echo", "hello"]' \
        "$(json_norm "$(rec $event BRIDLE_ARGV)")"
    assert_match "records.allow.$event.client" "$(rec $event BRIDLE_CLIENT)" '^127\.0\.0\.1 [0-9]+ 127\.0\.0\.1 [0-9]+$'
    assert_eq "records.allow.$event.policy-sha256" "$POLICY_SHA" "$(rec $event BRIDLE_POLICY_SHA256)"
    assert_match "records.allow.$event.message-id" "$(rec $event MESSAGE_ID)" '^[0-9a-f]{32}$'
done
assert_ne records.allow.message-ids-differ "$(rec decision MESSAGE_ID)" \
    "$(rec result MESSAGE_ID)"
assert_eq records.allow.decision.executable /bin/echo "$(rec decision BRIDLE_EXECUTABLE)"
for field in BRIDLE_EXIT_STATUS BRIDLE_SIGNAL BRIDLE_DURATION_MS BRIDLE_STDOUT_BYTES BRIDLE_STDERR_BYTES \
    BRIDLE_TRUNCATED BRIDLE_TIMED_OUT BRIDLE_DISCONNECTED; do
    assert_ne "records.allow.result.has-$field" "" "$(rec result "$field")"
done
assert_eq records.allow.result.exit-status 0 "$(rec result BRIDLE_EXIT_STATUS)"
assert_eq records.allow.result.stdout-bytes 6 "$(rec result BRIDLE_STDOUT_BYTES)"
assert_eq records.allow.result.stderr-bytes 0 "$(rec result BRIDLE_STDERR_BYTES)"
assert_match records.allow.result.duration "$(rec result BRIDLE_DURATION_MS)" '^[0-9]+$'
v=$(rec result BRIDLE_TIMED_OUT)
is_false "$v" && pass records.allow.result.not-timed-out || fail records.allow.result.not-timed-out "BRIDLE_TIMED_OUT=$v"
v=$(rec result BRIDLE_DISCONNECTED)
is_false "$v" && pass records.allow.result.not-disconnected || fail records.allow.result.not-disconnected "BRIDLE_DISCONNECTED=$v"
v=$(rec result BRIDLE_TRUNCATED)
is_false "$v" && pass records.allow.result.not-truncated || fail records.allow.result.not-truncated "BRIDLE_TRUNCATED=$v"

bridle_ssh -- 'uptime'
assert_status allowed.uptime.status 0
assert_match allowed.uptime.stdout "$SSH_OUT" 'load average'

# Extra spaces are fine.
bridle_ssh -- '  echo   hello  '
assert_status allowed.spacing.status 0
assert_eq allowed.spacing.stdout $'hello\n' "$SSH_OUT"

bridle_ssh -- 'tail -n 2 /var/log/nginx/access.log'
assert_status allowed.tail.status 0
assert_eq allowed.tail.stdout "$(tail -n 2 /var/log/nginx/access.log)"$'\n' "$SSH_OUT"
bridle_ssh -- 'tail --lines=1 /var/log/syslog'
assert_status allowed.tail-long-option.status 0
assert_eq allowed.tail-long-option.stdout "$(tail -n 1 /var/log/syslog)"$'\n' "$SSH_OUT"

# ---- a command's own status and stderr pass through -----------------------------------------
bridle_ssh -- 'false'
assert_status status.false 1
bridle_records >/dev/null
assert_eq status.false.record "1" "$(rec result BRIDLE_EXIT_STATUS)"

install -m 0600 -o root -g root /dev/null /var/log/secret.log
bridle_ssh -- 'tail -n 1 /var/log/secret.log'
assert_status status.tail-unreadable 1
assert_contains status.tail-unreadable.stderr "$SSH_ERR" "Permission denied"
bridle_records >/dev/null
assert_eq status.tail-unreadable.record "1" "$(rec result BRIDLE_EXIT_STATUS)"
assert_eq status.tail-unreadable.record-stderr-bytes "${#SSH_ERR}" "$(rec result BRIDLE_STDERR_BYTES)"

# ---- denied by policy: 77, nothing runs ------------------------------------------------------
expect_denied denied.path-must-exist 77 "touch $IT_SCRATCH/pwned"
expect_denied denied.no-rule 77 "rm -rf $IT_SCRATCH" "$IT_SCRATCH/none"
expect_denied denied.regex 77 'echo HELLO'
assert_contains denied.regex.names-synopsis "$SSH_ERR" "echo WORD"
expect_denied denied.extra-argument 77 'echo hello world'
expect_denied denied.int-range 77 'sleep 0'
expect_denied denied.int-not-decimal 77 'sleep 0x10'
expect_denied denied.path-outside 77 'tail -n 1 /etc/passwd'
expect_denied denied.path-dotdot 77 'tail -n 1 /var/log/../../etc/passwd'
expect_denied denied.path-symlink-out 77 'tail -n 1 /var/log/evil.log'
expect_denied denied.path-directory 77 'tail -n 1 /var/log/nginx'
expect_denied denied.other-key-rule 77 'id'
expect_denied denied.shell-interpreter 77 "sh -c 'touch $IT_SCRATCH/pwned'"
expect_denied denied.shell-by-path 77 "/bin/sh -c 'touch $IT_SCRATCH/pwned'"
expect_denied denied.absolute-path 77 '/bin/echo hello'
expect_denied denied.relative-path 77 './echo hello'
expect_denied denied.case 77 'ECHO hello'

# ---- unparsable: 64, nothing runs ------------------------------------------------------------
expect_denied unparsable.semicolon 64 "uptime; touch $IT_SCRATCH/pwned"
expect_denied unparsable.and-list 64 "uptime && touch $IT_SCRATCH/pwned"
expect_denied unparsable.or-list 64 "uptime || touch $IT_SCRATCH/pwned"
expect_denied unparsable.pipe-and 64 "uptime |& tee $IT_SCRATCH/pwned"
# A pipe parses (pipelines.sh); its stages are then decided, and neither is allowed here.
expect_denied denied.pipe 77 "uptime | tee $IT_SCRATCH/pwned"
expect_denied unparsable.redirect 64 "echo hi > $IT_SCRATCH/pwned"
expect_denied unparsable.append 64 "echo hi >> $IT_SCRATCH/pwned"
expect_denied unparsable.substitution 64 "echo \$(touch $IT_SCRATCH/pwned)"
expect_denied unparsable.backticks 64 "echo \`touch $IT_SCRATCH/pwned\`"
expect_denied unparsable.newline 64 $'uptime\ntouch '"$IT_SCRATCH/pwned"
expect_denied unparsable.carriage-return 64 $'uptime\r'
expect_denied unparsable.tab 64 $'echo\thello'
expect_denied unparsable.background 64 "touch $IT_SCRATCH/pwned &"
expect_denied unparsable.bad-utf8 64 $'echo caf\xe9'
expect_denied unparsable.unbalanced-quote 64 "echo 'hello"
expect_denied unparsable.whitespace-only 64 '   '
expect_denied unparsable.too-long 64 "echo $(head -c 70000 /dev/zero | tr '\0' a)"
# The escaped raw request is in the record, even for a request that could not be parsed.
bridle_ssh -- $'echo\x1b[31mred'
bridle_records >/dev/null
assert_eq records.deny.command-escaped 'echo\x1B[31mred' "$(rec decision BRIDLE_COMMAND)"

# No command at all (a login attempt: ssh sends a shell request, SSH_ORIGINAL_COMMAND unset):
# help text on stderr, exit 64, never a shell.
bridle_ssh -T --
assert_status no-command.status 64
assert_ne no-command.help-text "" "$SSH_ERR"
assert_eq no-command.no-stdout "" "$SSH_OUT"

# A subsystem request under a forced command: sshd runs the forced command with
# SSH_ORIGINAL_COMMAND set to the configured subsystem command; no rule allows it.
bridle_ssh -s -- sftp
assert_status sftp-subsystem.status 77
assert_eq sftp-subsystem.no-stdout "" "$SSH_OUT"
bridle_records >/dev/null
assert_eq sftp-subsystem.record "deny /usr/lib/openssh/sftp-server" "$(rec decision BRIDLE_DECISION) $(rec decision BRIDLE_COMMAND)"

# ---- help ------------------------------------------------------------------------------------
bridle_ssh -- 'help'
assert_status help.status 0
help_text=$SSH_OUT$SSH_ERR
assert_contains help.lists-uptime "$help_text" "uptime"
assert_contains help.lists-echo "$help_text" "echo WORD"
assert_contains help.lists-tail "$help_text" "tail"
assert_contains help.lists-spawn-tree "$help_text" "spawn-tree"
assert_not_contains help.hides-other-keys-rules "$help_text" "another key"
if grep -qE '(^|[[:space:]])id([[:space:]]|$)' <<<"$help_text"; then
    fail help.hides-other-keys-synopsis "'id' is listed for it-key"
else
    pass help.hides-other-keys-synopsis
fi

# ---- environment: exactly the policy's ----------------------------------------------------------
bridle_ssh -- 'env'
assert_status env.plain.status 0
assert_eq env.plain.exact "$POLICY_ENV" "$(sort <<<"${SSH_OUT%$'\n'}")"
bridle_ssh -o 'SetEnv=LD_PRELOAD=/x.so LC_ALL=$(id) BASH_ENV=/tmp/x ENV=/tmp/x PATH=/tmp:/usr/bin' -- 'env'
assert_status env.hostile-client.status 0
assert_eq env.hostile-client.exact "$POLICY_ENV" "$(sort <<<"${SSH_OUT%$'\n'}")"
assert_not_contains env.hostile-client.no-id-output "$SSH_OUT$SSH_ERR" "uid="

# ---- output cap ------------------------------------------------------------------------------
for i in $(seq 1 4000); do printf 'line %05d %s\n' "$i" "................................................"; done >/var/log/big.log
chmod 0644 /var/log/big.log
bridle_ssh -- 'tail -n 5000 /var/log/big.log'
if ((${#SSH_OUT} <= 65536 && ${#SSH_OUT} > 0)); then pass truncate.stdout-capped
else fail truncate.stdout-capped "stdout is ${#SSH_OUT} bytes, max_output is 64 KiB"; fi
bridle_records >/dev/null
v=$(rec result BRIDLE_TRUNCATED)
is_true "$v" && pass truncate.record || fail truncate.record "BRIDLE_TRUNCATED=$(it_show "$v"); $(rec_dump | tail -n 1)"

# ---- a dropped connection kills the command and everything it started -------------------------
sleeps() { pgrep -f -x 'sleep 2718' | wc -l; }
tree_running() { (($(sleeps) >= 3)); }
tree_gone() { (($(sleeps) == 0)); }
bridle_gone() { ! pgrep -f -- '--key it-key' >/dev/null; }
result_recorded() { bridle_records >/dev/null; ((REC_N_RESULT >= 1)); }
journal_mark
ssh -F "$IT_WORK/ssh_config" main -- "spawn-tree -c 'sleep 2718 & sleep 2718 & setsid sleep 2718 & wait'" </dev/null >"$IT_WORK/tree.out" 2>"$IT_WORK/tree.err" &
client=$!
if wait_until 10 tree_running; then
    pass disconnect.tree-started
    kill -KILL "$client"
    wait "$client" 2>/dev/null
    if wait_until 10 tree_gone; then
        pass disconnect.tree-killed
    else
        fail disconnect.tree-killed "still running 10 s after the client died: $(pgrep -a -f 'sleep 2718' | tr '\n' ';')"
    fi
    if wait_until 10 bridle_gone; then
        pass disconnect.bridle-exited
    else
        fail disconnect.bridle-exited "$(pgrep -a -f -- '--key it-key' | tr '\n' ';')"
    fi
    wait_until 5 result_recorded
    v=$(rec result BRIDLE_DISCONNECTED)
    is_true "$v" && pass disconnect.record || fail disconnect.record "BRIDLE_DISCONNECTED=$(it_show "$v"); $(rec_dump | tr '\n' ';')"
    v=$(rec result BRIDLE_TIMED_OUT)
    is_false "$v" && pass disconnect.record-not-timeout || fail disconnect.record-not-timeout "BRIDLE_TIMED_OUT=$(it_show "$v")"
    assert_eq disconnect.record-rule tree "$(rec result BRIDLE_RULE)"
else
    fail disconnect.tree-started "spawn-tree did not start: $(cat "$IT_WORK/tree.err")"
    kill -KILL "$client" 2>/dev/null
fi
pids=$(pgrep -f 'sleep 2718')
[[ -n $pids ]] && kill -KILL $pids 2>/dev/null

# ---- a command killed by a signal: 128+N, and the record names the signal ---------------------
nap37_running() { pgrep -f -x 'sleep 37' >/dev/null; }
journal_mark
mark=$IT_MARK
ssh -F "$IT_WORK/ssh_config" main -- 'sleep 37' </dev/null >"$IT_WORK/sig.out" 2>"$IT_WORK/sig.err" &
client=$!
if wait_until 10 nap37_running; then
    kill -TERM "$(pgrep -f -x 'sleep 37')"
    wait "$client"
    SSH_RC=$? SSH_ERR=$(cat "$IT_WORK/sig.err")
    assert_status signal.status 143
    IT_MARK=$mark
    wait_until 5 result_recorded
    assert_eq signal.record "15" "$(rec result BRIDLE_SIGNAL)"
else
    fail signal.started "sleep 37 did not start: $(cat "$IT_WORK/sig.err")"
    kill -KILL "$client" 2>/dev/null
fi

# ---- timeouts ----------------------------------------------------------------------------------
# Rule timeout (nap: 1 s).
start=$SECONDS
bridle_ssh -- 'nap 30'
assert_status timeout.rule.status 124
if ((SECONDS - start <= 10)); then pass timeout.rule.prompt; else fail timeout.rule.prompt "took $((SECONDS - start)) s"; fi
# settings.timeout (2 s).
install_policy "$IT_POLICIES/timeout.yaml"
start=$SECONDS
bridle_ssh -- 'sleep 30'
assert_status timeout.settings.status 124
if ((SECONDS - start <= 12)); then pass timeout.settings.prompt; else fail timeout.settings.prompt "took $((SECONDS - start)) s"; fi
assert_eq timeout.settings.no-leftover 0 "$(pgrep -f -x 'sleep 30' | wc -l)"
bridle_records >/dev/null
v=$(rec result BRIDLE_TIMED_OUT)
is_true "$v" && pass timeout.settings.record || fail timeout.settings.record "BRIDLE_TIMED_OUT=$(it_show "$v"); $(rec_dump | tr '\n' ';')"
assert_eq timeout.settings.record-rule sleep "$(rec result BRIDLE_RULE)"
install_policy "$IT_POLICIES/basic.yaml"

harness_finish
