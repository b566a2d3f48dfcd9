# SPDX-License-Identifier: Apache-2.0
# bridle as the account's login shell (DESIGN.md, SSH surroundings): sshd runs every session
# as `$SHELL -c TEXT`, so with the shell being bridle no client text ever reaches sh or bash.
# - A key with command="bridle --key ..." : sshd runs `bridle -c "<that command>"` and sets
#   SSH_ORIGINAL_COMMAND; the request is still the client's text, under the key's name.
# - A plain key (no command=): sshd runs `bridle -c "<client text>"`; the text is the request,
#   checked against the default policy (/etc/bridle/policy.yaml), never handed to a shell,
#   never read as bridle's own options.
# - No command (a login attempt, shell request): help text, no shell.
# Guards against: BASH_ENV / startup files of a real shell (rrsync "BASH SECURITY ISSUE"),
# shell metacharacters in the client's text, a subsystem (sftp) reaching a real program.
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
harness_setup --login-shell

assert_eq setup.shell-is-bridle "$IT_BRIDLE" "$(getent passwd "$IT_USER" | cut -d: -f7)"
# The plain key's requests use the default policy file; /etc here is the test's private copy.
install -d -m 0755 -o root -g root /etc/bridle
install -m 0644 -o root -g root "$IT_POLICIES/basic.yaml" /etc/bridle/policy.yaml
"$IT_BRIDLE" check --compile >/dev/null 2>&1 || echo "FAIL setup: cannot compile /etc/bridle/policy.yaml"
it_add_key plain "restrict"
POLICY_ENV=$'BRIDLE_IT_MARKER=from-policy\nLANG=C.UTF-8\nPATH=/usr/sbin:/usr/bin:/sbin:/bin'

# ---- key with command=: the request is the client's text ------------------------------------
bridle_ssh -- 'echo hello'
assert_status forced.allowed.status 0
assert_eq forced.allowed.stdout $'hello\n' "$SSH_OUT"
bridle_records >/dev/null
assert_eq forced.allowed.records "1 1" "$REC_N_DECISION $REC_N_RESULT"
assert_eq forced.allowed.record-command "echo hello" "$(rec decision BRIDLE_COMMAND)"
assert_eq forced.allowed.record-key it-key "$(rec decision BRIDLE_KEY)"
assert_eq forced.allowed.record-rule echo-word "$(rec decision BRIDLE_RULE)"
assert_eq forced.allowed.record-front-end login-shell "$(rec decision BRIDLE_FRONT_END)"

bridle_ssh -- 'help'
assert_status forced.help.status 0
assert_contains forced.help.lists-echo "$SSH_OUT$SSH_ERR" "echo WORD"

bridle_ssh -- "uptime; touch $IT_SCRATCH/pwned"
assert_status forced.shell-syntax.status 64
assert_absent forced.shell-syntax.no-effect "$IT_SCRATCH/pwned"

bridle_ssh -T --
assert_status forced.no-command.status 64
assert_ne forced.no-command.help-text "" "$SSH_ERR"
assert_eq forced.no-command.no-stdout "" "$SSH_OUT"

# ---- plain key: `ssh host TEXT` runs `bridle -c TEXT` ------------------------------------------
export IT_KEY=plain
bridle_ssh -- 'uptime'
assert_status plain.uptime.status 0
assert_match plain.uptime.stdout "$SSH_OUT" 'load average'
bridle_records >/dev/null
assert_eq plain.uptime.records "1 1" "$REC_N_DECISION $REC_N_RESULT"
assert_eq plain.uptime.record-command "uptime" "$(rec decision BRIDLE_COMMAND)"
assert_eq plain.uptime.record-rule "uptime" "$(rec decision BRIDLE_RULE)"
assert_eq plain.uptime.record-front-end login-shell "$(rec decision BRIDLE_FRONT_END)"
assert_ne plain.uptime.record-key it-key "$(rec decision BRIDLE_KEY)"

bridle_ssh -- 'echo hello'
assert_status plain.echo.status 0
assert_eq plain.echo.stdout $'hello\n' "$SSH_OUT"

# A rule restricted to other keys is not available without a key name.
bridle_ssh -- 'id'
assert_status plain.keyed-rule-denied.status 77
assert_not_contains plain.keyed-rule-denied.no-output "$SSH_OUT" "uid="

# Shell syntax is refused, nothing runs.
bridle_ssh -- "uptime; id"
assert_status plain.shell-syntax.status 64
assert_not_contains plain.shell-syntax.no-id "$SSH_OUT$SSH_ERR" "uid="
bridle_records >/dev/null
assert_eq plain.shell-syntax.refusal-record "1 0" "$REC_N_REFUSED $REC_N_RESULT"
bridle_ssh -- "echo hi > $IT_SCRATCH/pwned"
assert_status plain.redirect.status 64
assert_absent plain.redirect.no-effect "$IT_SCRATCH/pwned"
bridle_ssh -- "touch $IT_SCRATCH/pwned"
assert_status plain.touch-missing.status 77
assert_absent plain.touch-missing.no-effect "$IT_SCRATCH/pwned"

# The client's text is a request, never bridle's own options: a policy the client names is
# not loaded (this one would allow `id`), and no admin command runs.
printf 'version: 1\nrules:\n  - id: id\n    command: /usr/bin/id\n' >"$IT_ROOT/probe/evil.yaml"
chmod 0644 "$IT_ROOT/probe/evil.yaml"
bridle_ssh -- "--policy $IT_ROOT/probe/evil.yaml id"
assert_status plain.option-injection.status 64 77
assert_not_contains plain.option-injection.no-id "$SSH_OUT" "uid="
bridle_ssh -- "--key it-key --policy $IT_ROOT/probe/evil.yaml"
assert_status plain.option-injection-2.status 64 77
bridle_ssh -- "-c id"
assert_status plain.option-injection-3.status 64 77
assert_not_contains plain.option-injection-3.no-id "$SSH_OUT" "uid="
bridle_ssh -- "explain -- id"
assert_status plain.admin-command.status 64 77
bridle_ssh -- "check"
assert_status plain.admin-command-2.status 64 77

# The environment is the policy's, whatever the client sends (AcceptEnv * in sshd_config).
bridle_ssh -o 'SetEnv=LD_PRELOAD=/x.so LC_ALL=$(id) BASH_ENV=/tmp/x ENV=/tmp/x SHELL=/bin/bash' -- 'env'
assert_status plain.env.status 0
assert_eq plain.env.exact "$POLICY_ENV" "$(sort <<<"${SSH_OUT%$'\n'}")"

# No command: sshd starts the login shell (argv[0] "-bridle", no -c): help text, no shell.
# (stdout may carry the motd: pam_motd prints it for login sessions whatever the shell is,
# and PrintMotd no does not stop it.)
bridle_ssh -T --
assert_status plain.no-command.status 64
assert_ne plain.no-command.help-text "" "$SSH_ERR"
assert_not_contains plain.no-command.no-bridle-output-on-stdout "$SSH_OUT" "bridle"
# Even with input on stdin that a shell would run.
printf 'id\ntouch %s/pwned\nexit 0\n' "$IT_SCRATCH" >"$IT_WORK/stdin-script"
IT_STDIN=$IT_WORK/stdin-script bridle_ssh -T --
assert_status plain.no-command-stdin.status 64
assert_not_contains plain.no-command-stdin.no-id "$SSH_OUT" "uid="
assert_absent plain.no-command-stdin.no-effect "$IT_SCRATCH/pwned"

# A subsystem request (sftp) becomes `bridle -c /usr/lib/openssh/sftp-server`: no rule.
bridle_ssh -s -- sftp
assert_status plain.sftp-subsystem.status 77
assert_eq plain.sftp-subsystem.no-stdout "" "$SSH_OUT"

# ---- two binaries: bridle runs an agent's requests alone, bridle-full everything else -------
# (docs/architecture.md, "Two binaries"). Without bridle-full, the forced command and the
# login shell still answer: nothing of theirs goes through it.
mv "$IT_ROOT/bin/bridle-full" "$IT_ROOT/bin/bridle-full.away"
export IT_KEY=main
bridle_ssh -- 'echo hello'
assert_status alone.forced.status 0
assert_eq alone.forced.stdout $'hello\n' "$SSH_OUT"
export IT_KEY=plain
bridle_ssh -- 'uptime'
assert_status alone.login-shell.status 0
# A policy the compiled cache does not hold is bridle-full's to read (bridle has no YAML
# parser): without it, the request is refused on the record, and the reason said.
mv /var/cache/bridle "$IT_WORK/cache.away"
bridle_ssh -- 'uptime'
assert_status alone.uncompiled.status 78
assert_contains alone.uncompiled.says "$SSH_ERR" "the compiled policy cache has no policy for these files (none), and bridle-full"
bridle_records >/dev/null
assert_eq alone.uncompiled.refused "1 0" "$REC_N_REFUSED $REC_N_RESULT"
mv "$IT_WORK/cache.away" /var/cache/bridle
# An administrator's mode is bridle-full's: its absence is said, and nothing runs.
"$IT_BRIDLE" check --policy "$IT_POLICY" >"$IT_WORK/check.out" 2>&1
assert_eq alone.admin-mode.status 70 "$?"
assert_contains alone.admin-mode.says "$(cat "$IT_WORK/check.out")" "cannot start bridle-full"
# Accounts from a source other than the files (here sss, which this host does not have):
# bridle hands the request over before it reads anything, so it is refused unrecorded while
# bridle-full is away, and runs under bridle-full when it is back.
cp /etc/nsswitch.conf "$IT_WORK/nsswitch.conf"
printf 'passwd: files sss\ngroup: files\n' >/etc/nsswitch.conf
export IT_KEY=main
bridle_ssh -- 'echo hello'
assert_status handed.without-full.status 70
assert_contains handed.without-full.says "$SSH_ERR" "cannot start bridle-full"
assert_eq handed.without-full.no-stdout "" "$SSH_OUT"
bridle_records >/dev/null
assert_eq handed.without-full.no-records "0 0 0" "$REC_N_DECISION $REC_N_REFUSED $REC_N_RESULT"
mv "$IT_ROOT/bin/bridle-full.away" "$IT_ROOT/bin/bridle-full"
bridle_ssh -- 'echo hello'
assert_status handed.full.status 0
assert_eq handed.full.stdout $'hello\n' "$SSH_OUT"
bridle_records >/dev/null
assert_eq handed.full.records "1 1" "$REC_N_DECISION $REC_N_RESULT"
"$IT_BRIDLE" check --policy "$IT_POLICY" >"$IT_WORK/check.out" 2>&1
assert_eq handed.admin-mode.status 0 "$?"
cp "$IT_WORK/nsswitch.conf" /etc/nsswitch.conf

harness_finish
