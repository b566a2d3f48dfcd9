# SPDX-License-Identifier: Apache-2.0
# `bridle audit` as an administrator uses it the morning after, against records written by the
# real pipeline (a real sshd and a private journald): the table, -o json (one object per
# request, decision and result merged), --stats, every filter, --file and -D on copied
# journals, the file sink (settings.audit: file and both) and reading it back, fail-closed
# behaviour per sink, the output capture's head and SHA-256, and that the WS- and AUDIT- rows
# of the escape corpus cannot forge a field, a line or another request in any store or view.
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
IT_DEFAULT_POLICY=$IT_POLICIES/audit.yaml
harness_setup
chmod 0644 /var/log/syslog
audit() { "$BRIDLE" audit "$@"; }
json_field() { "$IT_PYTHON" -c 'import json,sys; f=sys.argv[1]; [print(json.loads(l).get(f)) for l in sys.stdin if l.strip()]' "$1"; }

# ---- a morning's activity: two keys, allowed, denied, failing, timed out -----------------
it_add_key second "restrict,command=\"$IT_BRIDLE --key second-agent --policy $IT_POLICY\""
journal_mark; START=$IT_MARK
bridle_ssh -- 'uptime';                         assert_status activity.uptime 0
bridle_ssh -- 'echo hello';                     assert_status activity.echo 0
bridle_ssh -- 'cat /etc/shadow';                assert_status activity.deny-cat 77
bridle_ssh -- 'cat /etc/shadow';                assert_status activity.deny-cat-again 77
bridle_ssh -- 'false';                          assert_status activity.false 1
bridle_ssh -- 'nap 5';                          assert_status activity.nap-timeout 124
bridle_ssh -- 'tail -n 3 /var/log/syslog';      assert_status activity.tail 0
TAIL_OUT=$SSH_OUT
IT_KEY=second bridle_ssh -- 'uptime; id';       assert_status activity.second-deny 64 77
IT_KEY=second bridle_ssh -- 'echo second';      assert_status activity.second-echo 0
journal_sync

# ---- the table ------------------------------------------------------------------------------
TABLE=$(audit --since "@$((START / 1000000))")
assert_contains table.header "$TABLE" "VERDICT"
assert_eq table.rows 9 "$(grep -c -E '^[0-9]{2}-[0-9]{2} ' <<<"$TABLE")"
assert_match table.deny-row "$TABLE" 'it-key +deny +- +- +- +cat /etc/shadow  why: no rule allows the program "cat"'
assert_eq table.why 3 "$(grep -c '  why: ' <<<"$TABLE")"
assert_match table.timeout-row "$TABLE" "allow +nap +timeout"
assert_match table.false-row "$TABLE" "allow +exit-one +1 "
assert_not_contains table.no-colour-off-terminal "$TABLE" $'\033['
COLOURED=$(audit --color always --decision deny)
assert_contains table.colour-always "$COLOURED" $'\033[31mdeny'

# ---- filters ----------------------------------------------------------------------------------
DENIED=$(audit --decision deny -o json)
assert_eq filter.decision-deny 3 "$(grep -c . <<<"$DENIED")"
assert_eq filter.key 2 "$(audit --key second-agent -o json | grep -c .)"
assert_eq filter.rule 1 "$(audit --rule nap -o json | grep -c .)"
ID=$(audit --rule nap -o json | json_field request_id)
assert_eq filter.request 1 "$(audit --request "$ID" -o json | grep -c .)"
assert_eq filter.until-before-all 0 "$(audit --until "@$((START / 1000000 - 60))" -o json | grep -c .)"
assert_eq filter.since-future 0 "$(audit --since +1h -o json | grep -c .)"
assert_eq filter.since-relative 9 "$(audit --since -1h -o json | grep -c .)"
audit --since "not a time" >/dev/null 2>"$IT_WORK/err"; SSH_RC=$?
assert_status filter.bad-time 64
assert_contains filter.bad-time.says "$(cat "$IT_WORK/err")" "cannot read the time"

# ---- JSON: one object per request, decision and result merged ------------------------------
NAP=$(audit --rule nap -o json)
assert_eq json.nap.status 124 "$(json_field status <<<"$NAP")"
assert_eq json.nap.timed-out True "$(json_field timed_out <<<"$NAP")"
assert_match json.nap.duration "$(json_field duration_ms <<<"$NAP")" '^[0-9]{3,5}$'
assert_eq json.nap.both-records "True True" "$(json_field has_decision <<<"$NAP") $(json_field has_result <<<"$NAP")"
ECHO=$(audit --rule echo-word --key it-key -o json)
assert_eq json.echo.stdout-bytes 6 "$(json_field stdout_bytes <<<"$ECHO")"
assert_eq json.echo.argv "['echo', 'hello']" "$(json_field argv <<<"$ECHO")"
DENY1=$(audit --decision deny --key it-key -o json | head -n 1)
assert_eq json.deny.no-result "False None" "$(json_field has_result <<<"$DENY1") $(json_field status <<<"$DENY1")"

# ---- output capture: the first 64 bytes and a SHA-256 of all of it ---------------------------
TAIL=$(audit --rule tail-log -o json)
WANT_SHA=$(printf '%s' "$TAIL_OUT" | sha256sum | cut -d' ' -f1)
assert_eq capture.sha256 "$WANT_SHA" "$(json_field stdout_sha256 <<<"$TAIL")"
assert_eq capture.limit 64 "$(json_field capture_bytes <<<"$TAIL")"
WANT_HEAD=$(printf '%s' "$TAIL_OUT" | head -c 64 >"$IT_WORK/head"; "$IT_PYTHON" "$IT_SUPPORT/journal_query.py" escape "$IT_WORK/head")
assert_eq capture.head "$WANT_HEAD" "$(json_field stdout <<<"$TAIL")"
assert_eq capture.not-on-other-rules None "$(json_field stdout_sha256 <<<"$ECHO")"

# ---- stats ------------------------------------------------------------------------------------
STATS=$(audit --stats)
assert_match stats.requests "$STATS" 'requests: +9 '
assert_match stats.decisions "$STATS" 'decisions: +allow 6, deny 3'
assert_match stats.keys "$STATS" 'by key: +it-key 7, second-agent 2'
assert_match stats.top-denied "$STATS" $'top denied commands:\n +2 +cat /etc/shadow'
assert_match stats.slowest "$STATS" $'slowest commands:\n +[0-9]{3,5} ms  nap +nap 5'
assert_match stats.results "$STATS" 'results: .*timed out 1'
assert_le() { if (($2 <= $3)); then pass "$1"; else fail "$1" "$2 > $3"; fi; }
assert_le stats.one-screen "$(wc -l <<<"$STATS")" 24

# ---- --follow: a request that completes later is printed when its result arrives -------------
"$BRIDLE" audit --follow -o json --since now >"$IT_WORK/follow.out" 2>&1 &
FOLLOW_PID=$!
IT_PIDS+=($FOLLOW_PID)
sleep 0.5
bridle_ssh -- 'echo followed'
bridle_ssh -- 'cat /etc/followed'
followed() { grep -q '"command":"echo followed"' "$IT_WORK/follow.out" && grep -q '"command":"cat /etc/followed"' "$IT_WORK/follow.out"; }
if wait_until 10 followed; then pass follow.prints-new-requests; else fail follow.prints-new-requests "$(cat "$IT_WORK/follow.out")"; fi
assert_eq follow.echo-has-result True "$(grep '"echo followed"' "$IT_WORK/follow.out" | json_field has_result)"
assert_eq follow.once-each 2 "$(grep -c . "$IT_WORK/follow.out")"
kill "$FOLLOW_PID"; wait "$FOLLOW_PID" 2>/dev/null

# ---- journals from elsewhere: --file and -D (the 9 requests above and the 2 followed) ----
journal_sync
mkdir -p "$IT_WORK/copied"
cp -r "$IT_JOURNAL_DIR"/. "$IT_WORK/copied/"
JFILE=$(find "$IT_WORK/copied" -name 'system*.journal' | head -n 1)
assert_eq copied.file 11 "$(audit --file "$JFILE" --since "@$((START / 1000000))" -o json | grep -c .)"
assert_eq copied.dir 11 "$(audit -D "$IT_WORK/copied" --since "@$((START / 1000000))" -o json | grep -c .)"
assert_contains copied.dir.shows-host "$(audit -D "$IT_WORK/copied" --decision deny)" "HOST"
audit -D /nonexistent >/dev/null 2>"$IT_WORK/err"; SSH_RC=$?
assert_status copied.missing-dir 69

# ---- integrity: the WS- and AUDIT- corpus rows cannot forge fields, lines or requests --------
# Each row's exact bytes go through sshd; then, in the journal, in the file sink and in every
# view: exactly one decision for the request, no result, BRIDLE_COMMAND is the escaped raw
# request, and no record or row appears that the row did not cause.
# The agent account writes the file sink: its directory is the agent's (here: anyone's).
mkdir -p -m 0777 /var/log/bridle
sed 's/^  audit: journald/  audit: both/' "$IT_POLICIES/audit.yaml" >"$IT_WORK/both.yaml"
install_policy "$IT_WORK/both.yaml"
CORPUS=$BRIDLE_SOURCE_DIR/tests/corpus/escape_public.tsv
"$IT_PYTHON" "$IT_SUPPORT/corpus_decode.py" "$CORPUS" "$IT_WORK/rows" WS- AUDIT- >"$IT_WORK/manifest" ||
    fail integrity.decode "corpus_decode.py failed"
ROWS_RUN=0
while IFS=$'\t' read -r id expected kind _; do
    [[ $kind == set || $kind == nul-tail ]] || continue   # the others cannot be sent (corpus.sh)
    cp "$IT_WORK/rows/$id.cmd" "$IT_WORK/sent"
    text=$(cat "$IT_WORK/sent"; printf x); text=${text%x}
    want=1; [[ $expected == allow-but-contained ]] && want=2
    lines_before=0; [[ -f /var/log/bridle/audit.jsonl ]] && lines_before=$(wc -l </var/log/bridle/audit.jsonl)
    bridle_ssh -- "$text"
    bridle_records >/dev/null; n=$REC_N
    problems=()
    [[ $n == "$want" && $REC_N_DECISION == 1 ]] || problems+=("journal: $n records ($REC_N_DECISION decisions), want $want with 1 decision")
    "$IT_PYTHON" "$IT_SUPPORT/journal_query.py" command-is "$IT_WORK/sent" <"$IT_WORK/records.json" >/dev/null ||
        problems+=("journal: BRIDLE_COMMAND is not the escaped request")
    lines_after=$(wc -l </var/log/bridle/audit.jsonl)
    ((lines_after - lines_before == want)) || problems+=("file: $((lines_after - lines_before)) lines, want $want")
    tail -n "$want" /var/log/bridle/audit.jsonl | head -n 1 >"$IT_WORK/line.json"
    "$IT_PYTHON" "$IT_SUPPORT/journal_query.py" command-is "$IT_WORK/sent" <"$IT_WORK/line.json" >/dev/null ||
        problems+=("file: BRIDLE_COMMAND is not the escaped request")
    rid=$(rec decision BRIDLE_REQUEST_ID)
    view=$(audit --request "$rid")
    view_lines=2   # the header and the request's row
    [[ $(grep -c . <<<"$view") == "$view_lines" ]] || problems+=("table: $(grep -c . <<<"$view") lines for the request, want $view_lines")
    [[ $view != *[$'\x01'-$'\x08\x0b\x0c\x0e'-$'\x1f\x7f']* ]] || problems+=("table: control character shown")
    fview=$(audit --file /var/log/bridle/audit.jsonl --request "$rid" -o json)
    [[ $(grep -c . <<<"$fview") == 1 ]] || problems+=("file view: $(grep -c . <<<"$fview") objects, want 1")
    [[ $(json_field request_id <<<"$fview") == "$rid" ]] || problems+=("file view: another request id")
    if ((${#problems[@]} == 0)); then pass "integrity.$id"; else fail "integrity.$id" "${problems[*]}"; fi
    ROWS_RUN=$((ROWS_RUN + 1))
done <"$IT_WORK/manifest"
assert_eq integrity.rows-ran 5 "$ROWS_RUN"   # WS-004 WS-006 WS-010 WS-011 AUDIT-002

# ---- the file sink: records, rotation, reading back, fail closed ------------------------------
sed 's/^  audit: journald/  audit: file/' "$IT_POLICIES/audit.yaml" >"$IT_WORK/file.yaml"
install_policy "$IT_WORK/file.yaml"
rm -rf /var/log/bridle; mkdir -p /var/log/bridle; chmod 0777 /var/log/bridle
bridle_ssh -- 'echo filesink'; assert_status file.echo 0
bridle_records >/dev/null; n=$REC_N
assert_eq file.not-in-journal 0 "$n"
FJSON=$(audit --file /var/log/bridle/audit.jsonl -o json)
assert_eq file.read-back "echo-word 0" "$(json_field rule <<<"$FJSON") $(json_field status <<<"$FJSON")"
"$BRIDLE" audit --follow --file /var/log/bridle/audit.jsonl -o json >"$IT_WORK/ffollow.out" 2>&1 &
FOLLOW_PID=$!
IT_PIDS+=($FOLLOW_PID)
bridle_ssh -- 'echo filefollow'
if wait_until 10 grep -q '"command":"echo filefollow"' "$IT_WORK/ffollow.out"; then pass file.follow; else fail file.follow "$(cat "$IT_WORK/ffollow.out")"; fi
kill "$FOLLOW_PID"; wait "$FOLLOW_PID" 2>/dev/null
# journald down: a policy that names the file sink explicitly keeps working ...
it_stop_journald KILL
bridle_ssh -- 'echo journaldgone'; assert_status file.journald-down.runs 0
assert_contains file.journald-down.recorded "$(audit --file /var/log/bridle/audit.jsonl)" "echo journaldgone"
# ... `both` refuses (every named sink must take the record) ...
install_policy "$IT_WORK/both.yaml"
bridle_ssh -- "touch $IT_SCRATCH/both-ran"; assert_status both.journald-down.refused 69
assert_absent both.journald-down.did-not-run "$IT_SCRATCH/both-ran"
assert_match both.journald-down.says "$SSH_ERR" '^bridle: journald is not accepting records'
it_start_journald
# ... and the file sink refuses when its directory is gone.
install_policy "$IT_WORK/file.yaml"
touch "$IT_SCRATCH/f"; chmod 0666 "$IT_SCRATCH/f"; touch -t 200001010000 "$IT_SCRATCH/f"
mv /var/log/bridle /var/log/bridle.gone
bridle_ssh -- "touch $IT_SCRATCH/f"; assert_status file.missing-dir.refused 69
assert_eq file.missing-dir.did-not-run "$(date -d '2000-01-01 00:00' +%s)" "$(stat -c %Y "$IT_SCRATCH/f")"
assert_match file.missing-dir.says "$SSH_ERR" '^bridle: the audit file /var/log/bridle/audit.jsonl is not accepting records'
mv /var/log/bridle.gone /var/log/bridle
# A directory the agent cannot write (the file itself writable): rotation could not rename, and
# spdlog would truncate the live file instead, so bridle refuses up front.
chmod 0755 /var/log/bridle; chmod 0666 /var/log/bridle/audit.jsonl
LINES=$(wc -l </var/log/bridle/audit.jsonl)
bridle_ssh -- 'echo unwritabledir'; assert_status file.dir-not-writable.refused 69
assert_match file.dir-not-writable.says "$SSH_ERR" 'is not writable \(rotation would fail\)'
assert_eq file.dir-not-writable.file-intact "$LINES" "$(wc -l </var/log/bridle/audit.jsonl)"
chmod 0777 /var/log/bridle
# Rotation at 64KiB, 3 files kept: long requests fill it; the reader follows the family.
for i in $(seq 1 40); do bridle_ssh -- "echo $(printf 'a%.0s' $(seq 1 20)) $(head -c 1500 /dev/zero | tr '\0' x)"; done
assert_ne file.rotated "" "$(ls /var/log/bridle/audit.1.jsonl 2>/dev/null)"
assert_eq file.reads-rotated "$(cat /var/log/bridle/audit*.jsonl | grep -c '"BRIDLE_EVENT":"decision"')" \
    "$(audit --file /var/log/bridle/audit.jsonl -o json | grep -c .)"

harness_finish
