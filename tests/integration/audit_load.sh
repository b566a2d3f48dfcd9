# SPDX-License-Identifier: Apache-2.0
# No record lost, none duplicated, under load: 20 SSH connections at once, each carrying 25
# requests one after the other (500 requests: allowed, denied by policy, unparsable), through
# the real sshd to bridle, with the private journald's rate limit set as on a real host
# (RateLimitIntervalSec=30s, RateLimitBurst=10000: systemd 252's defaults, not disabled).
# Every request must have exactly one decision record, every allowed one exactly one result
# record with the same request id, no record may belong to a request that was not sent, and
# every client must get the expected status and output. Then a flood from another process
# shows that the rate limit really is active in this journald (it suppresses messages past
# the burst), so the 500 requests were counted against a live limit. docs/audit.md has the
# RateLimit advice this supports.
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
IT_DEFAULT_POLICY=$IT_POLICIES/audit.yaml
harness_setup
WORKERS=20
PER_WORKER=25

# journald as on a real host: sorted after the harness's drop-in (which disables the limit).
printf '%s\n' "[Journal]" RateLimitIntervalSec=30s RateLimitBurst=10000 \
    >/run/systemd/journald.conf.d/99-zz-bridle-load.conf
it_stop_journald TERM
it_start_journald

# journald rate-limits per systemd unit, which it reads from the sender's cgroup (the unified
# hierarchy): a process in no unit's cgroup, as everything is on a host whose PID 1 is not
# systemd, is never limited. So sshd, and with it every session and every bridle, goes into a
# cgroup named like a unit, as ssh.service is on a real host: one shared bucket, the worst
# case. The cgroup is the only thing outside the namespaces this test creates; it_cleanup's
# trap moves every process out and removes it (a run killed with SIGKILL leaves it empty;
# the next run removes such leftovers).
CG_ROOT=
for root in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    [[ $(stat -fc %T "$root" 2>/dev/null) == cgroup2fs ]] && CG_ROOT=$root && break
done
if [[ -z $CG_ROOT ]]; then
    fail load.cgroup "no cgroup2 (unified) hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified"
    harness_finish
fi
for stale in "$CG_ROOT"/bridle-it-load-*.service; do [[ -d $stale ]] && rmdir "$stale" 2>/dev/null; done
CG=$CG_ROOT/bridle-it-load-$$-$RANDOM.service
FLOOD_CG=$CG_ROOT/bridle-it-load-flood-$$-$RANDOM.service
mkdir "$CG" || { fail load.cgroup "cannot create $CG"; harness_finish; }
load_cgroup_cleanup() {
    local pid
    [[ -d $CG ]] || return 0
    for _ in 1 2 3; do
        while read -r pid; do echo "$pid" >"$CG_ROOT/cgroup.procs" 2>/dev/null; done <"$CG/cgroup.procs"
        rmdir "$CG" 2>/dev/null && return 0
        sleep 0.2
    done
    echo "note: could not remove $CG" >&2
}
trap 'it_cleanup; load_cgroup_cleanup; rmdir "$FLOOD_CG" 2>/dev/null' EXIT
echo "$IT_SSHD_PID" >"$CG/cgroup.procs" || fail load.cgroup "cannot move sshd into $CG"

# The workers' connections: one master each, opened one at a time (sshd's MaxStartups would
# drop some of 20 simultaneous handshakes; the load is on the sessions, not the handshakes).
for w in $(seq 1 $WORKERS); do
    ssh -F "$IT_WORK/ssh_config" -o ControlMaster=yes -o ControlPath="$IT_WORK/load-$w" -N main \
        </dev/null >>"$IT_WORK/mux.log" 2>&1 &
    IT_PIDS+=($!)
    wait_until 15 test -S "$IT_WORK/load-$w" || fail "master.$w" "no master connection: $(cat "$IT_WORK/mux.log")"
done

# letters N: N in base 26 with the letters a-z (echo-word takes [a-z]{1,20}).
letters() {
    local n=$1 s=
    while :; do s=$(printf "\\x$(printf %x $((97 + n % 26)))")$s; n=$((n / 26 - 1)); ((n < 0)) && break; done
    printf '%s' "$s"
}

# worker W: PER_WORKER requests over its own connection; one line per request in sent-W.
worker() {
    local w=$1 j k text want out rc
    for j in $(seq 1 $PER_WORKER); do
        k=$(((w - 1) * PER_WORKER + j))
        case $((k % 5)) in
            0) text="cat /etc/load-$k"; want=77 ;;            # no rule: denied
            1) text="echo load$(letters "$k"); id"; want=64 ;; # shell syntax: unparsable
            *) text="echo load$(letters "$k")"; want=0 ;;
        esac
        out=$(timeout -k 5 60 ssh -F "$IT_WORK/ssh_config" -o ControlPath="$IT_WORK/load-$w" main -- "$text" 2>/dev/null </dev/null)
        rc=$?
        printf '%s\t%s\t%s\t%s\n' "$text" "$want" "$rc" "$out"
    done >"$IT_WORK/sent-$w"
}

journal_mark
START=$(date +%s%N)
WORKER_PIDS=()
for w in $(seq 1 $WORKERS); do
    worker "$w" &
    WORKER_PIDS+=($!)
done
wait "${WORKER_PIDS[@]}"
ELAPSED_MS=$((($(date +%s%N) - START) / 1000000))
cat "$IT_WORK"/sent-* >"$IT_WORK/sent"
assert_eq load.requests-sent $((WORKERS * PER_WORKER)) "$(wc -l <"$IT_WORK/sent")"
echo "note: $((WORKERS * PER_WORKER)) requests over $WORKERS connections in $ELAPSED_MS ms"

journal_json SYSLOG_IDENTIFIER=bridle |
    "$IT_PYTHON" "$IT_SUPPORT/journal_query.py" --since "$IT_MARK" filter >"$IT_WORK/load.json"
if "$IT_PYTHON" "$IT_SUPPORT/load_check.py" "$IT_WORK/sent" <"$IT_WORK/load.json" >"$IT_WORK/check.out"; then
    pass load.every-record-once
else
    fail load.every-record-once "$(cat "$IT_WORK/check.out")"
fi
cat "$IT_WORK/check.out" | tail -n 1
# bridle audit sees the same: 500 requests, 300 allowed, 200 refused, no result missing.
STATS=$("$BRIDLE" audit --since "@$((IT_MARK / 1000000))" --stats)
assert_match load.audit-stats.requests "$STATS" "requests: +$((WORKERS * PER_WORKER)) "
assert_match load.audit-stats.decisions "$STATS" 'decisions: +allow 300, deny 200'
assert_not_contains load.audit-stats.no-missing-result "$STATS" "no result yet"

# The limit is live: a flood from one process past the burst gets suppressed. journald keys
# its buckets by unit and starts a bucket's 30 s window at its first message, so the flood
# comes from a unit of its own (a sibling cgroup, as another service on the host): its window
# starts with the flood and holds the whole of it. (Flooding bridle's own bucket is flaky:
# the 500 requests take about 30 s, and a flood that straddles the window's end is counted
# half in each window, so none of it is dropped.) journald scales the burst with the journal's
# available space (burst_modulate() in journald-rate-limit.c: 10000 times 1 to about 4 here,
# the volatile journal's use being capped at 4 GiB), so 60000 records exceed it.
mkdir "$FLOOD_CG" || { fail load.cgroup "cannot create $FLOOD_CG"; harness_finish; }
FLOOD_MS=$("$IT_PYTHON" - "$FLOOD_CG/cgroup.procs" <<'PY'
import os, socket, sys, time
with open(sys.argv[1], "w") as f:   # a unit's cgroup: journald rate-limits units only
    f.write(str(os.getpid()))
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect("/run/systemd/journal/socket")
start = time.monotonic()
for i in range(60000):
    s.send(b"MESSAGE=flood %d\nSYSLOG_IDENTIFIER=bridle-load-flood\n" % i)
print(int((time.monotonic() - start) * 1000))
PY
)
rmdir "$FLOOD_CG" 2>/dev/null
journal_sync
FLOOD=$(journal_json SYSLOG_IDENTIFIER=bridle-load-flood | grep -c .)
if [[ -z $FLOOD_MS ]]; then
    fail load.rate-limit-active "the flood did not run (cannot join $FLOOD_CG or reach journald)"
elif ((FLOOD < 10000)); then
    fail load.rate-limit-active "only $FLOOD flood records were stored: fewer than the configured burst of 10000"
elif ((FLOOD < 60000)); then
    pass load.rate-limit-active
elif ((FLOOD_MS >= 30000)); then
    fail load.rate-limit-active "the flood took $FLOOD_MS ms, longer than journald's 30 s window, so it proved nothing"
else
    fail load.rate-limit-active "all 60000 flood records were stored within one window ($FLOOD_MS ms): the rate limit is not in force, so the load test proved nothing about it"
fi
echo "note: the flood stored $FLOOD of 60000 records in $FLOOD_MS ms (journald's rate limit dropped the rest)"

harness_finish
