#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Key enrolment through a real sshd: a key added with `bridle enroll` logs in and runs an
# allowed command under its own name (BRIDLE_KEY in the journal), a key file that smuggles
# authorized_keys options is refused and leaves the keys file as it was, and a key removed
# with `bridle revoke` is refused by sshd while the other enrolled key keeps working. A key
# enrolled with --expires carries OpenSSH's expiry-time= option: it logs in until then, and
# sshd itself refuses it after; `bridle keys` shows each key's expiry and its last use (from
# the journal).
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
harness_setup

it_overlay_usr_bin   # enrolled keys run /usr/bin/bridle
KEYS=$IT_ROOT/authorized_keys/$IT_USER

for name in agent-a agent-b agent-x; do
    it_new_key "$name" "$name@controller"
done

enroll() { /usr/bin/bridle enroll --file "$KEYS" --policy "$IT_POLICY" "$@" >"$IT_WORK/enroll.out" 2>&1; }

# Refusals first: nothing reaches the file.
cp "$KEYS" "$IT_WORK/keys.before"
printf 'command="/bin/sh" %s\n' "$(cat "$IT_WORK/agent-a.pub")" >"$IT_WORK/smuggled.pub"
enroll --name smuggled "$IT_WORK/smuggled.pub"
assert_eq enroll.smuggled-options.refused 64 "$?"
enroll --name 'bad name' "$IT_WORK/agent-a.pub"
assert_eq enroll.bad-name.refused 64 "$?"
cmp -s "$KEYS" "$IT_WORK/keys.before" && pass enroll.refusals-leave-file || fail enroll.refusals-leave-file "the keys file changed"

enroll --name agent-a "$IT_WORK/agent-a.pub"
assert_eq enroll.a 0 "$?"
enroll --name agent-b "$IT_WORK/agent-b.pub"
assert_eq enroll.b 0 "$?"
enroll --name agent-c "$IT_WORK/agent-a.pub"
assert_eq enroll.same-key-twice.refused 64 "$?"
assert_eq enroll.file-mode "root:root 644" "$(stat -c '%U:%G %a' "$KEYS")"

IT_KEY=agent-a bridle_ssh -- 'uptime'
assert_eq enrolled.runs 0 "$SSH_RC"
assert_contains enrolled.output "$SSH_OUT" "load average"
bridle_records >/dev/null
assert_eq enrolled.record-key agent-a "$(rec decision BRIDLE_KEY)"
IT_KEY=agent-a bridle_ssh -- 'cat /etc/shadow'
assert_eq enrolled.denied 77 "$SSH_RC"

# ---- key lifetime: --expires writes expiry-time=, and the real sshd honours it ----------------
enroll --name agent-x --expires 2020-01-01 "$IT_WORK/agent-x.pub"
assert_eq expires.past.refused 64 "$?"
enroll --name agent-x --expires 40000d "$IT_WORK/agent-x.pub"
assert_eq expires.too-far.refused 64 "$?"
expires=$(date -u -d '+6 seconds' +%Y-%m-%dT%H:%M:%S)
enroll --name agent-x --expires "$expires" "$IT_WORK/agent-x.pub"
assert_eq expires.enrolled 0 "$?"
assert_contains expires.said "$(cat "$IT_WORK/enroll.out")" "expires ${expires}Z"
assert_contains expires.option "$(grep -F -- '--key agent-x' "$KEYS")" \
    "restrict,expiry-time=\"$(tr -d ':T-' <<<"$expires")Z\",command=\"/usr/bin/bridle --key agent-x"
IT_KEY=agent-x bridle_ssh -- 'uptime'
assert_eq expires.runs-before 0 "$SSH_RC"
past_expiry() { [[ $(date -u +%Y-%m-%dT%H:%M:%S) > "$expires" ]]; }
wait_until 15 past_expiry || fail expires.wait "the clock did not pass $expires"
IT_KEY=agent-x bridle_ssh -- 'uptime'
assert_eq expires.refused-by-sshd 255 "$SSH_RC"
assert_contains expires.permission-denied "$SSH_ERR" "Permission denied"

# ---- bridle keys: expiry and last use ------------------------------------------------------------
listing=$(/usr/bin/bridle keys --file "$KEYS" 2>"$IT_WORK/keys.err")
assert_eq keys.status 0 "$?"
assert_match keys.a "$(grep '^agent-a' <<<"$listing")" \
    $'^agent-a\tssh-ed25519\t256\tSHA256:[^\t]+\tnever\t[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\tagent-a@controller$'
assert_match keys.b.never-used "$(grep '^agent-b' <<<"$listing")" $'\tnever\tnever\tagent-b@controller$'
assert_match keys.x.expired "$(grep '^agent-x' <<<"$listing")" \
    $'\texpired:'"${expires}"$'Z\t[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\tagent-x@controller$'
assert_eq keys.no-warning "" "$(cat "$IT_WORK/keys.err")"

/usr/bin/bridle revoke --file "$KEYS" agent-a >"$IT_WORK/revoke.out" 2>&1
assert_eq revoke.status 0 "$?"
IT_KEY=agent-a bridle_ssh -- 'uptime'
assert_eq revoked.refused 255 "$SSH_RC"
assert_contains revoked.permission-denied "$SSH_ERR" "Permission denied"
IT_KEY=agent-b bridle_ssh -- 'uptime'
assert_eq other-key.still-runs 0 "$SSH_RC"
bridle_ssh -- 'uptime'
assert_eq harness-key.still-runs 0 "$SSH_RC"
harness_finish
