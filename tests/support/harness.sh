# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Shared set-up for tests/integration/*.sh: a real sshd, a private systemd-journald, a
# throwaway user whose key runs bridle as its forced command, and fixture files, all inside
# private namespaces so that the host is left exactly as it was found.
#
# A test script does:
#     source "$(dirname "$0")/../support/harness.sh"     # re-execs the script in namespaces
#     harness_setup [--login-shell]                       # journald, fixtures, user, sshd
#     bridle_ssh -- 'uptime'; assert_eq uptime-status 0 "$SSH_RC"
#     harness_finish                                      # exit status: 1 if any check failed
#
# Isolation (why the host stays untouched, even when the test is killed):
# - The script re-execs itself under `unshare --mount --pid --net --fork --kill-child
#   --mount-proc`. It is PID 1 of a new PID namespace: when it exits (or unshare is killed),
#   the kernel kills every process left in the namespace (sshd, journald, the command under
#   test and anything it forked), and the mount and network namespaces vanish with them.
# - tmpfs over /run (on some hosts /run is on the root file system: never mkdir there), over
#   /var/log (fixture logs; hides the host's persistent journal) and over /mnt (the "bridle
#   root" /mnt/bridle). Every mount uses `mount -n`: without it libmount creates
#   /run/mount (its utab lock) on the host's /run before the tmpfs covers it.
# - /etc is bind-mounted from a copy on the /run tmpfs, so useradd and userdel only ever edit
#   the copy (shadow-utils also rewrites /etc/passwd- and friends, which a real
#   useradd+userdel would leave changed), and a test may write /etc/bridle/ freely.
# - sshd listens on 127.0.0.1 inside the private network namespace: no port is opened on
#   the host, and no other process can race for it.
# - The ssh client runs with its own ssh_config (-F): ~/.ssh is never read or written.
#
# Requires root and: util-linux (unshare, mount), iproute2 (ip), openssh-server,
# openssh-client, systemd (systemd-journald, journalctl), python3, procps (pgrep).
#
# Functions (each documented where it is defined):
#   harness_setup [--login-shell]   harness_finish
#   bridle_ssh [ssh options] -- [TEXT]      run_as_user [VAR=V...] -- CMD...
#   it_mcp_run_command ID ARGV-JSON [HOST]
#   install_policy FILE   it_add_key NAME OPTIONS   it_new_key NAME COMMENT
#   it_start_journald   it_stop_journald [SIG]
#   it_overlay_usr_bin   it_overlay_var_lib   it_host_dpkg_sum
#   journal_json [journalctl matches]   journal_mark   bridle_records   rec EVENT FIELD
#   rec_get FIELD [F=V...]   rec_count [F=V...]   rec_dump   jq_get JSON EXPR
#   pass NAME   fail NAME WHY   assert_eq/assert_ne NAME A B   assert_contains/
#   assert_not_contains NAME HAYSTACK NEEDLE   assert_match NAME STRING ERE
#   assert_absent NAME PATH   assert_status NAME CODE...   wait_until SECONDS CMD...
#   take_checks PREFIX [OUT [ERR]]
#
# Variables a test may use after harness_setup:
#   BRIDLE          the binary under test (outside path); IT_BRIDLE its copy /mnt/bridle/bin/bridle
#                   (bridle-full, beside BRIDLE, is copied beside it)
#   IT_USER         the temporary user; IT_WORK private work dir (tmpfs); IT_SCRATCH side-effect dir
#   IT_POLICY       /mnt/bridle/policy.yaml; IT_POLICIES the test policies dir in the source tree
#   SSH_RC SSH_OUT SSH_ERR   results of the last bridle_ssh
#   IT_MARK         journal mark (microseconds) set by journal_mark / bridle_ssh

set -uo pipefail
export LC_ALL=C   # byte semantics for ${#var}, sort and regexes

IT_SCRIPT=$(realpath "${BASH_SOURCE[${#BASH_SOURCE[@]}-1]}")
IT_NAME=$(basename "$IT_SCRIPT" .sh)
IT_SUPPORT=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
: "${BRIDLE_SOURCE_DIR:=$(realpath "$IT_SUPPORT/../..")}"
: "${BRIDLE:=$BRIDLE_SOURCE_DIR/build/dev/bridle}"
export BRIDLE BRIDLE_SOURCE_DIR

# --------------------------------------------------------------------------------------------
# Re-exec inside the namespaces.
if [[ "${BRIDLE_IT_INSIDE:-}" != "$IT_SCRIPT" ]]; then
    if [[ $EUID -ne 0 ]]; then
        echo "FAIL $IT_NAME: integration tests need root (namespaces, useradd, sshd)"
        exit 1
    fi
    for tool in unshare mount ip python3 pgrep ssh ssh-keygen journalctl useradd; do
        if ! command -v "$tool" >/dev/null; then
            echo "FAIL $IT_NAME: '$tool' is missing (packages: util-linux iproute2 python3 procps" \
                 "openssh-client openssh-server systemd passwd)"
            exit 1
        fi
    done
    for file in /usr/sbin/sshd /lib/systemd/systemd-journald; do
        [[ -x $file ]] || { echo "FAIL $IT_NAME: $file is missing"; exit 1; }
    done
    if [[ ! -x $BRIDLE ]]; then
        echo "FAIL $IT_NAME: BRIDLE=$BRIDLE is not an executable file"
        exit 1
    fi
    BRIDLE=$(realpath "$BRIDLE")
    export BRIDLE_IT_INSIDE=$IT_SCRIPT
    exec unshare --mount --propagation private --pid --fork --kill-child --mount-proc --net \
        -- /bin/bash "$IT_SCRIPT" "$@"
    echo "FAIL $IT_NAME: unshare failed"
    exit 1
fi

# --------------------------------------------------------------------------------------------
# Checks and results.
IT_FAILED=0
IT_PASSED=0
IT_CLEANED=
declare -a IT_PIDS=()

pass() {
    echo "PASS $1"
    IT_PASSED=$((IT_PASSED + 1))
}

# fail NAME WHY
fail() {
    local why=${2:-failed}
    why=${why//$'\n'/\\n}
    echo "FAIL $1: ${why:0:2000}"
    IT_FAILED=$((IT_FAILED + 1))
}

# Printable rendering of untrusted text for a message.
it_show() {
    local s=${1:0:${2:-400}}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    printf '%q' "$s"
}

# assert_eq NAME EXPECTED ACTUAL
assert_eq() {
    if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1" "expected $(it_show "$2"), got $(it_show "$3")"; fi
}

# assert_ne NAME UNEXPECTED ACTUAL
assert_ne() {
    if [[ "$2" != "$3" ]]; then pass "$1"; else fail "$1" "got $(it_show "$3"), which it must not be"; fi
}

# assert_contains NAME HAYSTACK NEEDLE
assert_contains() {
    if [[ "$2" == *"$3"* ]]; then pass "$1"; else fail "$1" "$(it_show "$3") not in $(it_show "$2")"; fi
}

# assert_not_contains NAME HAYSTACK NEEDLE
assert_not_contains() {
    if [[ "$2" != *"$3"* ]]; then pass "$1"; else fail "$1" "$(it_show "$3") found in $(it_show "$2")"; fi
}

# assert_match NAME STRING ERE
assert_match() {
    if [[ "$2" =~ $3 ]]; then pass "$1"; else fail "$1" "$(it_show "$2") does not match /$3/"; fi
}

# assert_absent NAME PATH: a side effect that must not have happened.
assert_absent() {
    if [[ ! -e "$2" && ! -L "$2" ]]; then pass "$1"; else fail "$1" "$2 exists: the request had an effect"; fi
}

# assert_status NAME EXPECTED... : SSH_RC is one of the expected statuses.
assert_status() {
    local name=$1 s
    shift
    for s in "$@"; do
        if [[ "$SSH_RC" == "$s" ]]; then pass "$name"; return 0; fi
    done
    fail "$name" "exit status $SSH_RC, expected ${*// / or }; stderr: $(it_show "$SSH_ERR" 300)"
    return 1
}

# wait_until SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    while ! "$@"; do
        ((SECONDS >= deadline)) && return 1
        sleep 0.1
    done
}

# harness_finish: print a summary, dump logs when something failed, exit 0 or 1.
harness_finish() {
    if ((IT_FAILED > 0)); then
        {
            echo "---- sshd log (tail) ----"
            tail -n 40 "$IT_WORK/sshd.log" 2>/dev/null
            echo "---- journald output (tail) ----"
            tail -n 20 "$IT_WORK/journald.log" 2>/dev/null
            echo "---- bridle records (tail) ----"
            journal_json SYSLOG_IDENTIFIER=bridle 2>/dev/null | "$IT_PYTHON" "$IT_SUPPORT/journal_query.py" dump | tail -n 20
        } >&2
    fi
    echo "$IT_NAME: $IT_PASSED passed, $IT_FAILED failed"
    it_cleanup
    ((IT_FAILED == 0))
    exit $?
}

# --------------------------------------------------------------------------------------------
# Clean-up. Safe to call twice. The PID namespace kills whatever is left when PID 1 (this
# script) exits; the explicit steps make the order deterministic and logs complete.
it_cleanup() {
    [[ -n $IT_CLEANED ]] && return 0
    IT_CLEANED=1
    local pid
    for pid in "${IT_PIDS[@]}" ${IT_SSHD_PID:-} ${IT_JOURNALD_PID:-}; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${IT_PIDS[@]}" ${IT_SSHD_PID:-} ${IT_JOURNALD_PID:-}; do
        wait "$pid" 2>/dev/null
    done
    if [[ -n ${IT_USER:-} ]] && getent passwd "$IT_USER" >/dev/null; then
        userdel "$IT_USER" 2>/dev/null   # edits the private /etc copy only
    fi
    return 0
}
trap it_cleanup EXIT
trap 'echo "FAIL $IT_NAME: interrupted"; exit 130' INT
trap 'echo "FAIL $IT_NAME: terminated"; exit 143' TERM HUP

# it_bg COMMAND...: start a background process that cleanup will kill.
it_bg() {
    "$@" &
    IT_PIDS+=($!)
}

# --------------------------------------------------------------------------------------------
# Namespace set-up: mounts, loopback, private /etc.
IT_WORK=/run/bridle-it
IT_ROOT=/mnt/bridle
IT_BRIDLE=$IT_ROOT/bin/bridle
IT_POLICY=$IT_ROOT/policy.yaml
IT_SCRATCH=$IT_ROOT/scratch
IT_POLICIES=$BRIDLE_SOURCE_DIR/tests/integration/policies
IT_JOURNAL_DIR=/run/log/journal
# The system interpreter: a version-manager shim (pyenv) in PATH costs ~0.5 s per call.
IT_PYTHON=/usr/bin/python3
[[ -x $IT_PYTHON ]] || IT_PYTHON=$(command -v python3)

it_setup_namespace() {
    [[ $$ -eq 1 ]] || { echo "FAIL $IT_NAME: expected to be PID 1 of a new PID namespace"; exit 1; }
    ip link set lo up || { echo "FAIL $IT_NAME: cannot bring up lo"; exit 1; }
    # /run: a tmpfs, then what sshd and journald expect in it.
    mount -n -t tmpfs -o mode=0755,nosuid,nodev bridle-it-run /run || exit 1
    mkdir -m 0755 /run/sshd /run/systemd /run/log /run/lock /run/user
    mkdir -m 0700 "$IT_WORK"
    # /etc: a private copy, so account edits never reach the host.
    mkdir -m 0755 "$IT_WORK/etc"
    cp -a /etc/. "$IT_WORK/etc/" || { echo "FAIL $IT_NAME: cannot copy /etc"; exit 1; }
    mount -n --bind "$IT_WORK/etc" /etc || exit 1
    # journald needs a machine id (container images often ship none).
    if [[ ! -s /etc/machine-id ]]; then
        tr -d '-' </proc/sys/kernel/random/uuid >/etc/machine-id
    fi
    # /var/log: fixtures only (also hides /var/log/journal from the test journald).
    mount -n -t tmpfs -o mode=0755,nosuid,nodev bridle-it-log /var/log || exit 1
    # /mnt: the bridle root.
    mount -n -t tmpfs -o mode=0755,nosuid,nodev bridle-it-mnt /mnt || exit 1
    # /var/cache: empty, so the compiled policy cache (/var/cache/bridle) is the test's own.
    mount -n -t tmpfs -o mode=0755,nosuid,nodev bridle-it-cache /var/cache || exit 1
}

# Fixture logs under /var/log (world-readable so the unprivileged command can read them).
it_make_fixtures() {
    mkdir -p /var/log/nginx /var/log/journal
    {
        echo "Nov 24 10:00:01 pi systemd[1]: Started Daily apt download activities."
        echo "Nov 24 10:00:02 pi kernel: [    1.234567] usb 1-1: new high-speed USB device"
        echo 'Nov 24 10:00:03 pi app[42]: query foo" /etc/shadow " finished'
        echo "Nov 24 10:00:04 pi CRON[77]: (root) CMD (test -x /usr/sbin/anacron)"
    } >/var/log/syslog
    {
        echo "Nov 24 10:01:00 pi sshd[100]: Accepted publickey for ai-agent from 192.0.2.7 port 51000 ssh2"
        echo "Nov 24 10:01:01 pi sshd[100]: pam_unix(sshd:session): session opened for user ai-agent(uid=1001)"
        echo "Nov 24 10:02:00 pi sudo: pam_unix(sudo:auth): authentication failure"
    } >/var/log/auth.log
    for i in $(seq 1 50); do
        echo "192.0.2.$i - - [24/Nov/2026:10:00:$((i % 60)) +0000] \"GET /item/$i HTTP/1.1\" 200 $((100 + i))"
    done >/var/log/nginx/access.log
    ln -s /etc/shadow /var/log/evil.log
    chmod 0644 /var/log/syslog /var/log/auth.log /var/log/nginx/access.log
}

# --------------------------------------------------------------------------------------------
# journald
it_start_journald() {
    mkdir -p /run/systemd/journald.conf.d
    printf '%s\n' "[Journal]" Storage=volatile ReadKMsg=no Audit=no ForwardToSyslog=no ForwardToKMsg=no \
        ForwardToConsole=no ForwardToWall=no RateLimitBurst=0 MaxLevelStore=debug \
        >/run/systemd/journald.conf.d/99-bridle-it.conf
    rm -f /run/systemd/journal/socket
    # systemd-journald takes NO arguments: argv[1] would be a journal namespace name.
    SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=notice /lib/systemd/systemd-journald \
        </dev/null >>"$IT_WORK/journald.log" 2>&1 &
    IT_JOURNALD_PID=$!
    if ! wait_until 10 test -S /run/systemd/journal/socket; then
        echo "FAIL $IT_NAME: journald did not come up"
        cat "$IT_WORK/journald.log"
        exit 1
    fi
    # The socket exists before journald reads from it; a varlink sync proves it serves.
    wait_until 5 journalctl --sync 2>/dev/null || true
    # What systemd-tmpfiles does on a real host (tmpfiles.d/systemd.conf): the volatile journal
    # is readable by the systemd-journal group, so an account in it can run journalctl.
    if getent group systemd-journal >/dev/null; then
        chgrp -R systemd-journal /run/log/journal
        find /run/log/journal -type d -exec chmod 2750 {} +
        find /run/log/journal -type f -exec chmod 0640 {} +
        chmod 2755 /run/log/journal
    fi
}

# it_stop_journald [SIGNAL]: stop the private journald (the socket file stays behind).
it_stop_journald() {
    [[ -n ${IT_JOURNALD_PID:-} ]] || return 0
    kill -s "${1:-KILL}" "$IT_JOURNALD_PID" 2>/dev/null
    wait "$IT_JOURNALD_PID" 2>/dev/null
    IT_JOURNALD_PID=
}

journal_sync() {
    journalctl --sync >/dev/null 2>&1 || sleep 0.2
}

# journal_json [journalctl match args...]: the private journal as JSON lines.
journal_json() {
    journal_sync
    # --all: without it, -o json prints null for any value over 4096 bytes.
    journalctl --directory="$IT_JOURNAL_DIR" --no-pager --all -o json "$@" 2>/dev/null
}

# journal_mark: remember "now"; bridle_records only returns records written after it.
journal_mark() {
    IT_MARK=$(date +%s%6N)
}

# bridle_records [journalctl match args...]: load bridle's records written since the mark:
# saves them to $IT_WORK/records.json, sets REC_N (how many), REC_N_DECISION, REC_N_RESULT,
# REC_N_DENY (BRIDLE_DECISION=deny), REC_N_REFUSED (any decision but allow), and the fields of the first decision / result record for `rec`. Prints REC_N.
bridle_records() {
    journal_json SYSLOG_IDENTIFIER=bridle "$@" |
        "$IT_PYTHON" "$IT_SUPPORT/journal_query.py" --since "${IT_MARK:-0}" filter >"$IT_WORK/records.json"
    eval "$("$IT_PYTHON" "$IT_SUPPORT/journal_query.py" bash <"$IT_WORK/records.json")"
    echo "$REC_N"
}

# rec EVENT FIELD: FIELD of the first loaded record of EVENT (decision or result).
rec() {
    if [[ $1 == decision ]]; then echo "${REC_DECISION[$2]:-}"; else echo "${REC_RESULT[$2]:-}"; fi
}

# rec_count [FIELD=VALUE...]: number of saved records (see bridle_records) matching all.
rec_count() {
    local args=() m
    for m in "$@"; do args+=(--match "$m"); done
    "$IT_PYTHON" "$IT_SUPPORT/journal_query.py" "${args[@]}" count <"$IT_WORK/records.json"
}

# rec_get FIELD [FIELD=VALUE...]: FIELD of the first saved record matching all.
rec_get() {
    local field=$1 args=() m
    shift
    for m in "$@"; do args+=(--match "$m"); done
    "$IT_PYTHON" "$IT_SUPPORT/journal_query.py" "${args[@]}" get "$field" <"$IT_WORK/records.json" | head -n 1
}

# take_checks PREFIX [OUT [ERR]]: the PASS/FAIL/DATA lines a client script printed to OUT
# (default $IT_WORK/client.out; its stderr in ERR, default $IT_WORK/client.err) as this test's
# checks PREFIX.NAME; "DATA KEY VALUE" sets DATA_KEY.
take_checks() {
    local line label=$1 out=${2:-$IT_WORK/client.out} err=${3:-$IT_WORK/client.err}
    grep -q '^PASS ' "$out" || fail "$label.ran" "no checks ran: $(tail -c 1500 "$err")"
    while IFS= read -r line; do
        case $line in
            "PASS "*) pass "$label.${line#PASS }" ;;
            "FAIL "*) line=${line#FAIL }; fail "$label.${line%%:*}" "${line#*: }" ;;
            "DATA "*) line=${line#DATA }; printf -v "DATA_${line%% *}" '%s' "${line#* }" ;;
        esac
    done <"$out"
}

# jq_get JSON EXPR: the Python expression EXPR on the JSON value `m` ("<none>" when it fails),
# for a record's JSON fields (BRIDLE_ARGV, BRIDLE_EXECS...).
jq_get() {
    "$IT_PYTHON" -c 'import json, sys
try:
    print(eval(sys.argv[2], {"m": json.loads(sys.argv[1])}))
except Exception:
    print("<none>")' "$1" "$2"
}

# rec_dump: the saved records, one line each (for messages).
rec_dump() {
    "$IT_PYTHON" "$IT_SUPPORT/journal_query.py" dump <"$IT_WORK/records.json"
}

# --------------------------------------------------------------------------------------------
# bridle root, user, keys, sshd.

# install_policy FILE: FILE becomes /mnt/bridle/policy.yaml (root:root 0644), compiled into the
# test's own policy cache as the package's postinst does, so that bridle itself, not bridle-full
# after a hand-over, serves the requests (docs/architecture.md, "Two binaries"). A policy bridle
# refuses is not compiled, and the forced command refuses it all the same.
install_policy() {
    install -m 0644 -o root -g root "$1" "$IT_POLICY"
    [[ -x $IT_BRIDLE ]] && "$IT_BRIDLE" check --compile --policy "$IT_POLICY" >/dev/null 2>&1
    return 0
}

it_install_bridle() {
    install -d -m 0755 -o root -g root "$IT_ROOT" "$IT_ROOT/bin" "$IT_ROOT/authorized_keys" "$IT_ROOT/probe"
    install -m 0755 -o root -g root "$BRIDLE" "$IT_BRIDLE"
    install -m 0755 -o root -g root "$(dirname "$BRIDLE")/bridle-full" "$IT_ROOT/bin/bridle-full"
    install -d -m 0777 "$IT_SCRATCH"   # side-effect probes: anyone could create files here
    install_policy "${IT_DEFAULT_POLICY:-$IT_POLICIES/basic.yaml}"
}

# it_create_user SHELL
it_create_user() {
    local suffix
    suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
    IT_USER=bridle-it-$suffix
    # IT_USER_GROUPS: supplementary groups, as a real ai-agent account would have them
    # (adm and systemd-journal to read logs); none by default.
    useradd -M -N -d / -s "$1" -c "bridle integration test" ${IT_USER_GROUPS:+-G "$IT_USER_GROUPS"} "$IT_USER" ||
        { echo "FAIL $IT_NAME: useradd failed"; exit 1; }
    IT_UID=$(id -u "$IT_USER")
}

# it_add_key NAME OPTIONS: a client key; its authorized_keys line carries OPTIONS (may be
# empty); `IT_KEY=NAME bridle_ssh ...` uses it.
it_add_key() {
    local name=$1 options=$2
    ssh-keygen -q -t ed25519 -N '' -C "bridle-it-$name" -f "$IT_WORK/key-$name" || exit 1
    printf '%s%s\n' "${options:+$options }" "$(cat "$IT_WORK/key-$name.pub")" >>"$IT_ROOT/authorized_keys/$IT_USER"
    chmod 0644 "$IT_ROOT/authorized_keys/$IT_USER"
    cat >>"$IT_WORK/ssh_config.hosts" <<EOF
Host $name $name-mux
  HostName 127.0.0.1
  Port $IT_PORT
  User $IT_USER
  IdentityFile $IT_WORK/key-$name
Host $name-mux
  ControlPath $IT_WORK/mux-$name
EOF
    it_write_ssh_config
}

# ssh_config: host blocks first (the first value found for an option wins), defaults last.
it_write_ssh_config() {
    cat "$IT_WORK/ssh_config.hosts" - >"$IT_WORK/ssh_config" <<EOF
Host *
  IdentitiesOnly yes
  UserKnownHostsFile $IT_WORK/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  UpdateHostKeys no
  BatchMode yes
  LogLevel ERROR
  ConnectTimeout 10
  ControlMaster no
  ControlPath none
  ForwardAgent no
  ForwardX11 no
EOF
}

# it_start_mux NAME: open a master connection for key NAME. From then on, bridle_ssh calls
# with no ssh options open their session over it (~0.05 s instead of ~0.35 s per request;
# sshd still starts the forced command afresh for every session). Calls with options (SetEnv,
# -T, ...) always get a connection of their own: a mux client would not pass them on.
declare -A IT_MUX=()
it_start_mux() {
    ssh -F "$IT_WORK/ssh_config" -o ControlMaster=yes -o ControlPath="$IT_WORK/mux-$1" -N "$1" \
        </dev/null >>"$IT_WORK/mux.log" 2>&1 &
    IT_PIDS+=($!)
    if wait_until 10 test -S "$IT_WORK/mux-$1"; then
        IT_MUX[$1]=1
    else
        echo "note: no master connection for $1 ($(cat "$IT_WORK/mux.log")); using direct connections"
    fi
}

# The forced command of the default key.
IT_FORCED="$IT_BRIDLE --key it-key --policy $IT_POLICY"

it_start_sshd() {
    ssh-keygen -q -t ed25519 -N '' -C bridle-it-host -f "$IT_WORK/hostkey" || exit 1
    local _
    for _ in 1 2 3 4 5; do
        IT_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
        cat >"$IT_WORK/sshd_config" <<EOF
Port $IT_PORT
ListenAddress 127.0.0.1
HostKey $IT_WORK/hostkey
PidFile $IT_WORK/sshd.pid
AuthorizedKeysFile $IT_ROOT/authorized_keys/%u
AuthorizedPrincipalsFile none
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM yes
AllowUsers $IT_USER
PermitRootLogin no
StrictModes yes
DisableForwarding yes
PermitTTY no
PermitUserRC no
PermitTunnel no
PermitUserEnvironment no
# Worst case: the client may send any variable. bridle must still give the command only
# the policy's environment.
AcceptEnv *
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel VERBOSE
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
        /usr/sbin/sshd -t -f "$IT_WORK/sshd_config" || { echo "FAIL $IT_NAME: sshd -t rejected the config"; exit 1; }
        : >"$IT_WORK/sshd.log"
        /usr/sbin/sshd -D -f "$IT_WORK/sshd_config" -E "$IT_WORK/sshd.log" </dev/null &
        IT_SSHD_PID=$!
        if wait_until 10 grep -q "Server listening on 127.0.0.1 port $IT_PORT" "$IT_WORK/sshd.log"; then
            break
        fi
        kill "$IT_SSHD_PID" 2>/dev/null
        wait "$IT_SSHD_PID" 2>/dev/null
        IT_SSHD_PID=
    done
    if [[ -z ${IT_SSHD_PID:-} ]]; then
        echo "FAIL $IT_NAME: sshd did not start"
        cat "$IT_WORK/sshd.log"
        exit 1
    fi
    echo "[127.0.0.1]:$IT_PORT $(cat "$IT_WORK/hostkey.pub")" >"$IT_WORK/known_hosts"
    : >"$IT_WORK/ssh_config.hosts"
    it_write_ssh_config
}

# harness_setup [--login-shell]: everything above. The default key ("main") runs
#   restrict,command="/mnt/bridle/bin/bridle --key it-key --policy /mnt/bridle/policy.yaml"
# --login-shell: the user's login shell is bridle itself (otherwise /bin/sh).
harness_setup() {
    local shell=/bin/sh
    [[ ${1:-} == --login-shell ]] && shell=$IT_BRIDLE
    it_setup_namespace
    it_make_fixtures
    it_start_journald
    it_install_bridle
    it_create_user "$shell"
    : >"$IT_ROOT/authorized_keys/$IT_USER"
    it_start_sshd
    it_add_key main "restrict,command=\"$IT_FORCED\""
    it_start_mux main
}

# it_mcp_run_command ID ARGV-JSON [HOST]: one run_command through `ssh HOST mcp` (default main),
# initialize first; prints the answer's line. The client keeps stdin open until the answer
# comes (an EOF ends the session, and cancels what still runs).
it_mcp_run_command() {
    timeout -k 5 60 "$IT_PYTHON" - "$IT_WORK/ssh_config" "$1" "$2" "${3:-main}" <<'PY'
import json, subprocess, sys
config, call_id, argv, host = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
ssh = subprocess.Popen(["ssh", "-F", config, host, "mcp"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
for m in ({"jsonrpc": "2.0", "id": "init", "method": "initialize",
           "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                      "clientInfo": {"name": "harness.sh", "version": "0"}}},
          {"jsonrpc": "2.0", "method": "notifications/initialized"},
          {"jsonrpc": "2.0", "id": call_id, "method": "tools/call",
           "params": {"name": "run_command", "arguments": {"argv": argv}}}):
    ssh.stdin.write(json.dumps(m) + "\n")
ssh.stdin.flush()
for line in ssh.stdout:
    if json.loads(line).get("id") == call_id:
        print(line.strip())
        break
ssh.stdin.close()
ssh.wait()
PY
}

# it_new_key NAME COMMENT: a key pair $IT_WORK/NAME(.pub) that no keys file lists yet (for
# `bridle enroll`), and `ssh NAME` (IT_KEY=NAME bridle_ssh) logging in with it.
it_new_key() {
    ssh-keygen -q -t ed25519 -N '' -C "$2" -f "$IT_WORK/$1" || exit 1
    printf 'Host %s\n  HostName 127.0.0.1\n  Port %s\n  User %s\n  IdentityFile %s\n' \
        "$1" "$IT_PORT" "$IT_USER" "$IT_WORK/$1" >>"$IT_WORK/ssh_config.hosts"
    it_write_ssh_config
}

# it_overlay_usr_bin: the binary under test as /usr/bin/bridle, which the lines `bridle enroll`
# writes run: a read-only overlay inside this mount namespace only (the host's /usr/bin is not
# touched).
it_overlay_usr_bin() {
    mkdir -m 0755 "$IT_WORK/usrbin"
    install -m 0755 "$BRIDLE" "$IT_WORK/usrbin/bridle"
    install -m 0755 "$(dirname "$BRIDLE")/bridle-full" "$IT_WORK/usrbin/bridle-full"
    mount -n -t overlay bridle-it-usrbin -o "lowerdir=$IT_WORK/usrbin:/usr/bin" /usr/bin ||
        { echo "FAIL $IT_NAME: cannot overlay /usr/bin"; exit 1; }
}

# it_overlay_var_lib: /var/lib becomes an overlay on the test's tmpfs (dpkg's and apt's state,
# bridle's own state directory /var/lib/bridle included), and apt has no source: apt-get and
# dpkg may run for real in the test (an install of an installed package, a local repository
# the test adds), bridle may keep versions, and the host's /var/lib is never changed. The
# host's package database stays visible in $IT_WORK/host-dpkg (bound before the overlay);
# it_host_dpkg_sum digests it, to compare at the end. Files a package installs outside /var/lib
# are the test's to keep on a tmpfs.
it_overlay_var_lib() {
    # The upper directory's mode becomes /var/lib's: 0755, as on the host.
    install -d -m 0700 "$IT_WORK/host-dpkg" "$IT_WORK/var-lib/work"
    install -d -m 0755 "$IT_WORK/var-lib/upper"
    mount -n --bind /var/lib/dpkg "$IT_WORK/host-dpkg" ||
        { fail setup.bind "cannot bind the host's dpkg state"; harness_finish; }
    mount -n -t overlay bridle-it-var-lib \
        -o "lowerdir=/var/lib,upperdir=$IT_WORK/var-lib/upper,workdir=$IT_WORK/var-lib/work" /var/lib ||
        { fail setup.overlay "cannot overlay /var/lib"; harness_finish; }
    mkdir -p /var/cache/apt/archives/partial /var/log/apt "$IT_WORK/apt-sources"
    mv /etc/apt/sources.list /etc/apt/sources.list.d/* "$IT_WORK/apt-sources/" 2>/dev/null
    return 0
}
it_host_dpkg_sum() {
    (cd "$IT_WORK/host-dpkg" && find . -maxdepth 1 -type f -exec sha256sum {} + | sort)
}

# bridle_ssh [ssh options...] -- [COMMANDTEXT]
# Runs ssh to the test sshd with key ${IT_KEY:-main} (over its master connection when there
# is one and no ssh option is given: see it_start_mux). COMMANDTEXT is sent verbatim as the
# exec request (ssh sends a *shell* request instead when it is absent or empty). Stdin is
# ${IT_STDIN:-/dev/null}. Sets SSH_RC, SSH_OUT, SSH_ERR (also in $IT_WORK/ssh.{out,err}) and
# SSH_CLIENT_TIMEOUT=1 when the client had to be stopped after ${IT_SSH_TIMEOUT:-30} s (SSH_RC
# is then a sentence, so no status check can pass by accident: `timeout` also exits 124).
# Calls journal_mark first, so bridle_records afterwards sees this request's records.
bridle_ssh() {
    local opts=() cmd=() start host=${IT_KEY:-main}
    while (($#)); do
        if [[ $1 == -- ]]; then
            shift
            (($#)) && cmd=(-- "$1")
            break
        fi
        opts+=("$1")
        shift
    done
    ((${#opts[@]} == 0)) && [[ -n ${IT_MUX[$host]:-} ]] && host=$host-mux
    journal_mark
    start=$SECONDS
    timeout -k 5 "${IT_SSH_TIMEOUT:-30}" ssh -F "$IT_WORK/ssh_config" "${opts[@]}" "$host" "${cmd[@]}" \
        <"${IT_STDIN:-/dev/null}" >"$IT_WORK/ssh.out" 2>"$IT_WORK/ssh.err"
    SSH_RC=$?
    SSH_CLIENT_TIMEOUT=0
    # shellcheck disable=SC2034  # SSH_CLIENT_TIMEOUT is read by the test scripts
    if [[ $SSH_RC == 124 || $SSH_RC == 137 ]] && ((SECONDS - start >= ${IT_SSH_TIMEOUT:-30})); then
        SSH_CLIENT_TIMEOUT=1
        SSH_RC="none (no answer within ${IT_SSH_TIMEOUT:-30} s: the client was stopped)"
    fi
    SSH_OUT=$(cat "$IT_WORK/ssh.out"; printf x)
    SSH_OUT=${SSH_OUT%x}
    SSH_ERR=$(cat "$IT_WORK/ssh.err"; printf x)
    SSH_ERR=${SSH_ERR%x}
    return 0
}

# run_as_user [VAR=VALUE...] -- COMMAND...: run COMMAND as the test user with exactly the
# given environment (no sshd in between), capturing like bridle_ssh.
run_as_user() {
    local envs=()
    while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    journal_mark
    setpriv --reuid="$IT_UID" --regid="$(id -g "$IT_USER")" --init-groups \
        env -i "${envs[@]}" "$@" </dev/null >"$IT_WORK/ssh.out" 2>"$IT_WORK/ssh.err"
    SSH_RC=$?
    SSH_OUT=$(cat "$IT_WORK/ssh.out"; printf x)
    SSH_OUT=${SSH_OUT%x}
    SSH_ERR=$(cat "$IT_WORK/ssh.err"; printf x)
    SSH_ERR=${SSH_ERR%x}
}
