# SPDX-License-Identifier: Apache-2.0
# Fleet review: three hosts forward their journals to a central host with systemd's own
# engine (systemd-journal-upload -> systemd-journal-remote over HTTPS, both sides
# authenticated by a fleet CA made with install/fleet/make-certs.sh, configured by the shipped
# drop-ins in install/fleet/), all on loopback inside the harness's network namespace; then
# `bridle audit -D` over the central store shows every request of every host, with its host.
# Host A is the harness itself (real sshd, its private journald). Hosts B and C are nested
# UTS + mount namespaces, each with its own hostname, machine id and journald, where bridle
# runs as the forced command of the test user. Nothing here touches the host: /etc is the
# harness's private copy, the network namespace is private.
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
IT_DEFAULT_POLICY=$IT_POLICIES/audit.yaml
harness_setup
REMOTE=/lib/systemd/systemd-journal-remote
UPLOAD=/lib/systemd/systemd-journal-upload
for tool in $REMOTE $UPLOAD /usr/bin/openssl; do
    [[ -x $tool ]] || { fail fleet.tools "$tool is missing (install/deps.sh installs systemd-journal-remote and openssl)"; harness_finish; }
done
FLEET=$BRIDLE_SOURCE_DIR/install/fleet
HOST_A=$(hostname)

# ---- certificates and the shipped configuration ----------------------------------------------
bash "$FLEET/make-certs.sh" "$IT_WORK/pki" localhost "$HOST_A" bridle-fleet-b bridle-fleet-c >/dev/null ||
    fail fleet.make-certs "make-certs.sh failed"
mkdir -p /etc/bridle/fleet /etc/systemd/journal-remote.conf.d /etc/systemd/journal-upload.conf.d
cp "$FLEET/journal-remote.conf" /etc/systemd/journal-remote.conf.d/bridle.conf
# The one line an administrator edits: URL, here the loopback address of the central host.
sed 's|^URL=.*|URL=https://localhost:19532|' "$FLEET/journal-upload.conf" >/etc/systemd/journal-upload.conf.d/bridle.conf
cp "$IT_WORK/pki/ca.crt" "$IT_WORK/pki/central.key" "$IT_WORK/pki/central.crt" /etc/bridle/fleet/

# ---- the central host: journal-remote on 127.0.0.1:19532 ---------------------------------------
CENTRAL=$IT_WORK/central
mkdir -p "$CENTRAL"
$REMOTE --listen-https=127.0.0.1:19532 --output="$CENTRAL/" >"$IT_WORK/remote.log" 2>&1 &
IT_PIDS+=($!)
wait_until 10 sh -c 'ss -ltn | grep -q "127.0.0.1:19532 "' || fail fleet.central-listens "$(cat "$IT_WORK/remote.log")"

# upload NAME JOURNAL_DIR: what a host's systemd-journal-upload.service does, with the shipped
# drop-in and that host's certificate.
upload() {
    cp "$IT_WORK/pki/$1.key" /etc/bridle/fleet/host.key
    cp "$IT_WORK/pki/$1.crt" /etc/bridle/fleet/host.crt
    if timeout 60 $UPLOAD -D "$2" --follow=no >"$IT_WORK/upload-$1.log" 2>&1; then
        pass "fleet.upload.$1"
    else
        fail "fleet.upload.$1" "$(tail -n 5 "$IT_WORK/upload-$1.log")"
    fi
}

# ---- host A: requests through the real sshd ----------------------------------------------------
bridle_ssh -- 'uptime';           assert_status fleet.a.uptime 0
bridle_ssh -- 'echo alpha';       assert_status fleet.a.echo 0
bridle_ssh -- 'cat /etc/shadow';  assert_status fleet.a.deny 77
journal_sync
upload "$HOST_A" "$IT_JOURNAL_DIR"

# ---- hosts B and C: their own hostname, machine id and journald --------------------------------
# other_host NAME WORD: two requests on host NAME (one allowed, one denied), then its upload.
other_host() {
    local name=$1 word=$2 state=$IT_WORK/host-$1
    mkdir -p "$state"
    unshare --uts --mount --propagation private -- bash -c '
        set -u
        name=$1 word=$2 state=$3 bridle=$4 policy=$5 uid=$6
        source "$7/host_journald.sh" "$name" "$state"
        jpid=$HOST_JOURNALD_PID
        journalctl --sync 2>/dev/null
        for request in "echo $word" "cat /etc/shadow"; do
            SSH_ORIGINAL_COMMAND=$request SSH_CONNECTION="192.0.2.9 50000 192.0.2.1 22" \
                setpriv --reuid="$uid" --regid="$uid" --clear-groups \
                "$bridle" --key "agent-${name##*-}" --policy "$policy" </dev/null >/dev/null 2>&1
            echo "$?"
        done
        journalctl --sync
        kill "$jpid"; wait "$jpid"
    ' bash "$name" "$word" "$state" "$IT_BRIDLE" "$IT_POLICY" "$IT_UID" "$IT_SUPPORT" >"$state/statuses"
    assert_eq "fleet.$name.statuses" $'0\n77' "$(cat "$state/statuses")"
    upload "$name" "$state/log/journal"
}
other_host bridle-fleet-b bravo
other_host bridle-fleet-c charlie

# ---- the central store, through bridle audit -D --------------------------------------------------
kill "${IT_PIDS[-1]}" 2>/dev/null; wait "${IT_PIDS[-1]}" 2>/dev/null   # journal-remote: close the files
# SplitMode=host: one journal file per sending address (all of them 127.0.0.1 here).
FILES=$(cd "$CENTRAL" && ls)
assert_match fleet.central.journal-written "$FILES" "^remote-127\.0\.0\.1\.journal"
JSON=$("$BRIDLE" audit -D "$CENTRAL" -o json)
hosts_of() { "$IT_PYTHON" -c '
import collections, json, sys
c = collections.Counter((json.loads(l)["host"], json.loads(l)["decision"]) for l in sys.stdin if l.strip())
print(" ".join(f"{h}:{d}:{n}" for (h, d), n in sorted(c.items())))'; }
WANT=$(printf '%s\n' "$HOST_A:allow:2" "$HOST_A:deny:1" bridle-fleet-b:allow:1 bridle-fleet-b:deny:1 \
    bridle-fleet-c:allow:1 bridle-fleet-c:deny:1 | sort | tr '\n' ' ')
assert_eq fleet.audit.every-request-of-every-host "${WANT% }" "$(hosts_of <<<"$JSON")"
TABLE=$("$BRIDLE" audit -D "$CENTRAL" --decision deny)
assert_contains fleet.audit.table-has-host-column "$TABLE" "HOST"
for h in bridle-fleet-b bridle-fleet-c; do
    assert_match "fleet.audit.deny.$h" "$TABLE" "$h +agent-${h##*-} +deny"
done
STATS=$("$BRIDLE" audit -D "$CENTRAL" --stats)
assert_match fleet.audit.stats.hosts "$STATS" "hosts: .*bridle-fleet-b 2"
assert_match fleet.audit.stats.requests "$STATS" "requests: +7 "
ECHO_B=$("$BRIDLE" audit -D "$CENTRAL" --key agent-b --rule echo-word -o json)
assert_contains fleet.audit.result-merged "$ECHO_B" '"status":0'

harness_finish
