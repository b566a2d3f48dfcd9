# SPDX-License-Identifier: Apache-2.0
# Fail closed when the audit sink is gone (DESIGN.md invariants 2 and 4): with journald down,
# an allowed request is refused with exit 69 (EX_UNAVAILABLE), the command never runs, and
# bridle says why on stderr. sd_journal_send() returns 0 when nobody listens (the datagram is
# dropped), so this checks that bridle really verifies the sink instead of trusting it.
# Cases: journald killed with its socket file left behind (connection refused), the socket
# file removed as well (no such file), and journald back again (requests run again).
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
harness_setup

STAMP=$IT_SCRATCH/stamp
OLD=200001010000
old_stamp() { touch -t "$OLD" "$STAMP"; chmod 0666 "$STAMP"; }
stamp_is_old() { [[ $(stat -c %Y "$STAMP") == $(date -d '2000-01-01 00:00' +%s) ]]; }

# The probe: `touch STAMP` is allowed (touch-scratch) and visibly updates the mtime.
old_stamp
bridle_ssh -- "touch $STAMP"
assert_status control.before.status 0
if stamp_is_old; then fail control.before.ran "the allowed touch did not update $STAMP"; else pass control.before.ran; fi
bridle_records >/dev/null
assert_eq control.before.records "1 1" "$REC_N_DECISION $REC_N_RESULT"

# check_refused NAME: the probe request is refused with 69, nothing runs, bridle says why.
check_refused() {
    local name=$1
    old_stamp
    bridle_ssh -- "touch $STAMP"
    assert_status "$name.status" 69
    if stamp_is_old; then pass "$name.did-not-run"; else fail "$name.did-not-run" "$STAMP was touched: the command ran unaudited"; fi
    assert_match "$name.says-why" "$SSH_ERR" '^bridle: .*([Aa]udit|[Jj]ournal)'
    assert_eq "$name.no-stdout" "" "$SSH_OUT"
    # A request that would be denied anyway still gets a clear answer, and nothing runs.
    bridle_ssh -- "touch $IT_SCRATCH/pwned"
    assert_status "$name.denied-request.status" 69 77
    assert_absent "$name.denied-request.no-effect" "$IT_SCRATCH/pwned"
}

# journald killed, /run/systemd/journal/socket left behind.
it_stop_journald KILL
if [[ -S /run/systemd/journal/socket ]]; then pass journald-killed.socket-left; else fail journald-killed.socket-left "socket gone"; fi
check_refused journald-killed

# No socket at all.
rm -f /run/systemd/journal/socket
check_refused journald-no-socket

# journald stopped (SIGSTOP): the socket accepts datagrams into its buffer, nobody reads
# them. Not a failure bridle can see at once; what matters is that nothing hangs forever.
it_start_journald
kill -STOP "$IT_JOURNALD_PID"
old_stamp
IT_SSH_TIMEOUT=40 bridle_ssh -- "touch $STAMP"
if ((SSH_CLIENT_TIMEOUT)); then fail journald-stopped.no-hang "bridle hung with journald stopped"; else pass journald-stopped.no-hang; fi
kill -CONT "$IT_JOURNALD_PID"

# journald back: requests run and are recorded again.
it_stop_journald KILL
it_start_journald
old_stamp
bridle_ssh -- "touch $STAMP"
assert_status control.after.status 0
if stamp_is_old; then fail control.after.ran "the allowed touch did not update $STAMP"; else pass control.after.ran; fi
bridle_records >/dev/null
assert_eq control.after.records "1 1" "$REC_N_DECISION $REC_N_RESULT"

harness_finish
