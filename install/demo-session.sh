#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The demo's session (install/demo.sh builds and calls it): a throwaway account whose key is
# forced through bridle with policy/default.yaml, a private journald, a real sshd on loopback.
# shellcheck source=../tests/support/harness.sh
source "$(dirname "$0")/../tests/support/harness.sh"
# The account is in adm and systemd-journal, as the shipped policy's journal rule expects.
IT_USER_GROUPS=adm,systemd-journal IT_DEFAULT_POLICY=$BRIDLE_SOURCE_DIR/policy/default.yaml harness_setup

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

# agent TEXT EXPECTED-STATUS: what an agent sees for one request.
agent() {
    printf '\n\033[36magent$ ssh ai-agent@pi %q\033[0m\n' "$1"
    bridle_ssh -- "$1"
    printf '%s' "$SSH_OUT" | head -n 12
    printf '\033[33m%s\033[0m' "$SSH_ERR" | head -n 6
    echo "[exit status $SSH_RC]"
    assert_eq "demo: $1" "$2" "$SSH_RC"
}

say "authorized_keys: restrict,command=\"$IT_FORCED\" ssh-ed25519 ..."
agent 'help' 0
agent 'uptime' 0
agent 'df -h' 0
agent "tail -n 3 /var/log/syslog" 0
agent 'journalctl -n 5 --no-pager' 0
say "Denied: nothing runs, and the agent is told why and what would work"
agent 'cat /etc/shadow' 77
agent 'tail -n 3 /var/log/evil.log' 77
agent 'systemctl restart ssh' 77        # the root rule restarts nginx only
agent '/usr/bin/uptime' 77
say "Shell syntax is refused before any policy is consulted"
agent 'uptime; rm -rf /' 64
agent 'cat /var/log/$(id).log' 64

say "The journal: one decision record per request, and a result record for what ran"
journalctl --directory="$IT_JOURNAL_DIR" --no-pager SYSLOG_IDENTIFIER=bridle -o cat
say "One request in full (journalctl BRIDLE_REQUEST_ID=... -o verbose):"
id=$(journalctl --directory="$IT_JOURNAL_DIR" --no-pager SYSLOG_IDENTIFIER=bridle BRIDLE_DECISION=deny \
     -o export -n 1 | sed -n 's/^BRIDLE_REQUEST_ID=//p')
journalctl --directory="$IT_JOURNAL_DIR" --no-pager BRIDLE_REQUEST_ID="$id" -o verbose \
    | grep -E '^\S|MESSAGE=|BRIDLE_|SYSLOG_IDENTIFIER'
say "The morning review: what did the agent do (bridle audit --stats) ..."
"$BRIDLE" audit --stats --color always
say "... and what was refused (bridle audit --decision deny)"
"$BRIDLE" audit --decision deny --color always
harness_finish
