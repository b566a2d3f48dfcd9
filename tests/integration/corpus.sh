# SPDX-License-Identifier: Apache-2.0
# The public escape corpus (tests/corpus/escape_public.tsv) through a real sshd against the
# SHIPPED policy (policy/default.yaml): every row whose id starts with SH-, TOK-, WS-, UNI-,
# LEN- or ENV- is sent as the exact bytes of its ssh_original_command, and one PASS/FAIL line
# is printed per row id.
#   deny                 exit 64 or 77, nothing on stdout, exactly one record for the request:
#                        a decision (deny for 77, error for an unparsable request, 64) whose
#                        BRIDLE_COMMAND is the escaped raw request, and no result record
#                        (nothing ran); row-specific side effects absent.
#   allow-but-contained  exit 0 (the fixture logs exist), an allow decision and a result, and
#                        the row's effect_to_check where it is observable (see check_* below).
# Client-side rows (ENV-*) set the variables their technique names with ssh -o SetEnv (sshd
# here has AcceptEnv *), plus LD_PRELOAD=<missing library> as a leak detector: ld.so prints an
# error for every process that starts with it, so the command leaks iff the request prints
# more of those errors than `help` (which runs nothing) does under the same environment.
# Bytes an OpenSSH client cannot send are documented where they occur (tests/corpus/README.md):
# - empty text (TOK-010): `ssh host ''` sends a shell request, not an empty exec request, so
#   SSH_ORIGINAL_COMMAND is unset; the set-but-empty case is run locally as the test user.
# - NUL (WS-006): argv strings cannot hold NUL. sshd reads the exec request with
#   sshbuf_get_cstring, which accepts a NUL only as the last byte and hands on the text
#   before it, so a trailing NUL is sent as the text without it; an inner NUL would be
#   rejected by sshd (connection dropped) and is reported as not sendable.
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"

DEFAULT_POLICY=$BRIDLE_SOURCE_DIR/policy/default.yaml
if [[ ! -f $DEFAULT_POLICY ]]; then
    echo "FAIL corpus: $DEFAULT_POLICY is missing"
    exit 1
fi
IT_DEFAULT_POLICY=$DEFAULT_POLICY   # read by harness_setup (it_install_bridle)
harness_setup
CORPUS=$BRIDLE_SOURCE_DIR/tests/corpus/escape_public.tsv
ROWS=$IT_WORK/corpus
PROBE=$IT_ROOT/probe
LEAK_LIB=/nonexistent/bridle-it-leak-probe.so

# Rows whose expectation the shipped policy changes on purpose (policy/default.yaml).
declare -A FLIPPED=(
    [ENV-006]="deny: policy/default.yaml has no curl rule (no network fetches for agents)"
)

# Client environment per ENV row (one SetEnv list each; values must not contain spaces or
# double quotes).
printf '#!/bin/sh\ntouch %s/bash-env-was-read\n' "$IT_SCRATCH" >"$PROBE/bash_env"
printf 'verbose\noutput = "%s/curlrc-was-read"\n' "$IT_SCRATCH" >"$PROBE/.curlrc"
chmod 0755 "$PROBE/bash_env"
chmod 0644 "$PROBE/.curlrc"
declare -A SETENV=(
    [ENV-003]="LD_PRELOAD=$LEAK_LIB"
    [ENV-006]="CURL_HOME=$PROBE HOME=$PROBE"
    [ENV-007]="LC_ALL=\$(id) LANG=\$(id)"
    [ENV-009]="GREP_OPTIONS=-f/etc/shadow GREP_COLORS=mt=01;31 GREP_COLOR=01;31"
    [ENV-011]="BASH_ENV=$PROBE/bash_env ENV=$PROBE/bash_env"
)

# ---- per-row result -------------------------------------------------------------------------
ROW_PROBLEMS=()
problem() { ROW_PROBLEMS+=("$*"); }
row_done() {
    local id=$1 note=${2:-}
    if ((${#ROW_PROBLEMS[@]} == 0)); then
        pass "$id${note:+ ($note)}"
    else
        local IFS=';'
        fail "$id" "${ROW_PROBLEMS[*]}"
    fi
    ROW_PROBLEMS=()
}

leak_count() { grep -c -F "$LEAK_LIB" <<<"$1"; }

# ---- checks -----------------------------------------------------------------------------------
# check_denied ID RAWFILE: the generic deny checks.
check_denied() {
    local id=$1 raw=$2 why
    [[ $SSH_RC == 64 || $SSH_RC == 77 ]] || problem "exit status $SSH_RC (want 64 or 77); stderr $(it_show "$SSH_ERR" 200)"
    [[ -z $SSH_OUT ]] || problem "stdout not empty: $(it_show "$SSH_OUT" 200)"
    [[ $SSH_ERR == *"bridle: "* ]] || problem "no 'bridle: ' message on stderr: $(it_show "$SSH_ERR" 200)"
    bridle_records >/dev/null
    # BRIDLE_DECISION is "deny" both for a policy denial (77) and an unparsable request (64).
    [[ $REC_N == 1 && $REC_N_REFUSED == 1 ]] || problem "$REC_N records, $REC_N_REFUSED refusals (want 1 and 1): $(rec_dump | tr '\n' ';')"
    case $SSH_RC:$(rec decision BRIDLE_DECISION) in
    77:deny | 64:deny) ;;
    *) problem "exit status $SSH_RC with BRIDLE_DECISION=$(rec decision BRIDLE_DECISION)" ;;
    esac
    [[ $REC_N_RESULT == 0 ]] || problem "a result record exists: something ran"
    if [[ $REC_N_REFUSED == 1 ]]; then
        why=$("$IT_PYTHON" "$IT_SUPPORT/journal_query.py" --match BRIDLE_EVENT=decision command-is "$raw" \
            <"$IT_WORK/records.json") || problem "BRIDLE_COMMAND: $(it_show "$why" 300)"
    fi
}

# check_allowed ID: the generic allow checks.
check_allowed() {
    [[ $SSH_RC == 0 ]] || problem "exit status $SSH_RC (want 0); stderr $(it_show "$SSH_ERR" 300)"
    bridle_records >/dev/null
    [[ $REC_N_DECISION == 1 && $(rec decision BRIDLE_DECISION) == allow ]] ||
        problem "no allow decision record: $(rec_dump | tr '\n' ';')"
    [[ $REC_N_RESULT == 1 ]] || problem "$REC_N_RESULT result records (want 1)"
}

# argv_json PYTHON-EXPR: evaluate EXPR with `a` = the decision's BRIDLE_ARGV (a list).
argv_check() {
    "$IT_PYTHON" -c 'import json,sys
a = json.loads(sys.argv[1])
sys.exit(0 if eval(sys.argv[2]) else 1)' "$(rec decision BRIDLE_ARGV)" "$1" 2>/dev/null
}

# Row-specific effect checks (after the generic ones).
check_TOK-005() {
    [[ $SSH_OUT == "$(cat /var/log/auth.log)"$'\n' ]] || problem "stdout is not /var/log/auth.log: $(it_show "$SSH_OUT" 200)"
    argv_check 'a[-1] == "/var/log/auth.log" and sum("auth.log" in x for x in a) == 1' ||
        problem "argv is not one operand /var/log/auth.log: $(rec decision BRIDLE_ARGV)"
}
check_TOK-018() {
    local want
    want=$(grep -F -e 'foo" /etc/shadow "' /var/log/syslog)
    [[ $SSH_OUT == "$want"$'\n' ]] || problem "stdout $(it_show "$SSH_OUT" 200), want $(it_show "$want")"
    argv_check 'a.count("foo\" /etc/shadow \"") == 1 and a[-1] == "/var/log/syslog" and "/etc/shadow" not in a' ||
        problem "argv is not [pattern 'foo\" /etc/shadow \"', file /var/log/syslog]: $(rec decision BRIDLE_ARGV)"
}
check_WS-006() {
    [[ $SSH_OUT == *"load average"* ]] || problem "no uptime output: $(it_show "$SSH_OUT")"
}
check_ENV() {   # all ENV rows: the leak detector
    local got
    got=$(leak_count "$SSH_ERR")
    ((got <= LEAK_BASELINE)) ||
        problem "the command started with the client's LD_PRELOAD ($got ld.so errors, $LEAK_BASELINE without running anything)"
}
check_ENV-003() { check_ENV; [[ $SSH_OUT == *"load average"* ]] || problem "no uptime output"; }
check_ENV-006() { check_ENV; [[ ! -e $IT_SCRATCH/curlrc-was-read ]] || problem "curl read the client's .curlrc"; }
check_ENV-007() {
    check_ENV
    [[ $SSH_OUT$SSH_ERR != *"uid="* ]] || problem "\$(id) was evaluated"
    [[ $SSH_OUT == *"load average"* ]] || problem "no uptime output"
}
check_ENV-009() {
    local want
    want=$(grep -e sshd /var/log/auth.log)
    check_ENV
    [[ $SSH_OUT == "$want"$'\n' ]] || problem "grep output changed by the client's GREP_*: $(it_show "$SSH_OUT" 200)"
    [[ $SSH_ERR != *"grep: warning"* ]] || problem "grep saw GREP_* variables: $(it_show "$SSH_ERR" 200)"
}
check_ENV-011() {
    check_ENV
    [[ ! -e $IT_SCRATCH/bash-env-was-read ]] || problem "a shell read BASH_ENV/ENV"
}

# ---- rows -----------------------------------------------------------------------------------
manifest=$("$IT_PYTHON" "$IT_SUPPORT/corpus_decode.py" "$CORPUS" "$ROWS" SH- TOK- WS- UNI- LEN- ENV-) || {
    fail corpus.decode "corpus_decode.py failed"
    harness_finish
}
[[ -n $manifest ]] || fail corpus.rows "no rows selected"

# The leak baseline: ld.so errors printed by the login shell and bridle itself for `help`.
bridle_ssh -o "SetEnv=LD_PRELOAD=$LEAK_LIB" -- help
LEAK_BASELINE=$(leak_count "$SSH_ERR")
motd_before=$(sha256sum /etc/motd 2>/dev/null)

while IFS=$'\t' read -r id expected kind length; do
    raw=$ROWS/$id.cmd
    request=$(cat "$raw"; printf x)
    request=${request%x}
    note=
    [[ -n ${FLIPPED[$id]:-} ]] && { expected=${FLIPPED[$id]%%:*}; note="expected flipped to ${FLIPPED[$id]}"; }
    opts=()
    if [[ $id == ENV-* ]]; then
        [[ -n ${SETENV[$id]:-} ]] || problem "no client environment defined for this ENV row in corpus.sh"
        opts=(-o "SetEnv=${SETENV[$id]:-}")
        [[ ${SETENV[$id]:-} == *LD_PRELOAD=* ]] || opts=(-o "SetEnv=${SETENV[$id]:-} LD_PRELOAD=$LEAK_LIB")
    fi
    rm -f "$IT_SCRATCH"/*

    case $kind in
    unset)
        bridle_ssh "${opts[@]}" -T -- ;;
    nul-inner)
        problem "an inner NUL cannot be sent by an OpenSSH client (sshd rejects it)"
        row_done "$id"
        continue ;;
    *)
        bridle_ssh "${opts[@]}" -- "$request" ;;
    esac
    [[ $kind == nul-tail ]] && note="sent without its trailing NUL, as sshd hands it on"

    if ((SSH_CLIENT_TIMEOUT)); then
        problem "no answer within ${IT_SSH_TIMEOUT:-30} s"
    elif [[ $id == TOK-010 && $length == 0 ]]; then
        # Over ssh: a shell request (SSH_ORIGINAL_COMMAND unset) -> help text, 64, no shell.
        [[ $SSH_RC == 64 ]] || problem "over ssh (shell request): exit $SSH_RC, want 64"
        [[ -z $SSH_OUT && -n $SSH_ERR ]] || problem "over ssh: want help text on stderr only"
        # SSH_ORIGINAL_COMMAND set but empty, run as sshd would run it.
        run_as_user SSH_ORIGINAL_COMMAND= "SSH_CONNECTION=127.0.0.1 40000 127.0.0.1 22" \
            PATH=/usr/bin:/bin -- "$IT_BRIDLE" --key it-key --policy "$IT_POLICY"
        check_denied "$id" "$raw"
        note="set-but-empty run directly: ssh '' sends a shell request"
    elif [[ $expected == deny ]]; then
        check_denied "$id" "$raw"
    elif [[ $expected == allow-but-contained ]]; then
        check_allowed "$id"
    else
        problem "unknown expectation '$expected'"
    fi
    if declare -F "check_$id" >/dev/null; then
        "check_$id"
    elif [[ $expected == allow-but-contained ]]; then
        problem "no effect check written for this allow-but-contained row in corpus.sh"
    fi
    row_done "$id" "$note"
done <<<"$manifest"

# ---- path confinement of the shipped readers (issue 13) ----------------------------------------
# A second hard link to a file is refused whatever its name (the shipped rules leave links at
# the default, refuse). Both names are on the fixtures' tmpfs: ln cannot link across file
# systems, so the target here stands for a file outside the allowed directories.
printf 'linked secret\n' >/var/log/hl-target.log
chmod 0644 /var/log/hl-target.log
ln /var/log/hl-target.log /var/log/hl-link.log
bridle_ssh -- 'cat /var/log/hl-link.log'
assert_status corpus.hardlink.status 77
assert_eq corpus.hardlink.stdout "" "$SSH_OUT"
assert_contains corpus.hardlink.reason "$SSH_ERR" "has 2 hard links"
rm -f /var/log/hl-target.log /var/log/hl-link.log
# open: fd: the shipped tail reads the descriptor bridle opened (no symlink followed), and the
# decision record maps /dev/fd/N to the file.
bridle_ssh -- 'tail -n 1 /var/log/syslog'
assert_status corpus.openfd.status 0
assert_eq corpus.openfd.stdout "$(tail -n 1 /var/log/syslog)"$'\n' "$SSH_OUT"
bridle_records >/dev/null
assert_match corpus.openfd.exec-argv "$(rec decision BRIDLE_EXEC_ARGV)" '^\["tail", ?"-n1", ?"/dev/fd/[0-9]+"\]$'
assert_match corpus.openfd.fd-paths "$(rec decision BRIDLE_FD_PATHS)" '^\{"/dev/fd/[0-9]+": ?"/var/log/syslog"\}$'

# Side effects of the deny rows that name one.
assert_eq corpus.SH-009.motd-untouched "$motd_before" "$(sha256sum /etc/motd 2>/dev/null)"

harness_finish
