# SPDX-License-Identifier: Apache-2.0
# The sandbox's second wall (issue 12): the allowed command can never reach bridle or outlive
# its request. tests/sandbox/attack_supervisor.c, run as the allowed command, attacks the
# processes that supervise it (its own supervisor, the MCP session process, the run_as target
# side, any process named bridle it can see): /proc/PID/mem write, /proc/PID/environ and fd,
# ptrace, SIGKILL and SIGSTOP from a setsid() grandchild, kill(-1, SIGKILL), prlimit64 and
# setpriority, pidfd_open and pidfd_send_signal; it leaves SysV shm and a POSIX queue behind,
# changes inode flags through a read-only fd, and fork-bombs.
# It runs in every sandbox of the shipped policy/default.yaml and in the built-in baseline
# (tests/integration/policies/second_wall.yaml), with Landlock on (auto) and forced off,
# through (a) the forced command, (b) the MCP session (raw JSON-RPC over `ssh ... mcp`), and
# (c) the target side of a run_as root rule through the real sudo. For each request:
# - the helper reports `blocked` (kill-all, shm, forkbomb: the check from outside passes:
#   the request still ends with its result record, no IPC object survives, fork is capped);
# - the request ends with its result record, and that record's BRIDLE_CONTAINMENT says
#   pidns=yes (none of these sandboxes says `namespaces: off`);
# - afterwards no process of the request is left (`ps -u` of the agent's account, and no
#   attack_supervisor of any user), within a bounded wait.
# Then bridle is SIGKILLed from outside mid-request (the command double-forked a setsid()
# sleeper): within 5 s nothing of the request is left, and `bridle audit` shows it `lost`.
# The run_as root kill-all runs last: unconfined, it kills the test's own sshd and journald.
# Guards against: a same-uid command that takes over or kills its supervisor, survives its
# request, or leaves IPC objects behind.
# A private IPC namespace around the harness's namespaces: the SysV segments and POSIX queues
# the command leaves behind (before the fix) never reach the host's, even when the test is
# killed.
if [[ -z ${BRIDLE_IT_INSIDE:-} && -z ${SECOND_WALL_IPCNS:-} ]]; then
    export SECOND_WALL_IPCNS=1
    exec unshare --ipc -- /bin/bash "$0" "$@"
    echo "FAIL second_wall: unshare --ipc failed (root is needed)"
    exit 1
fi
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
harness_setup

POLICY_SRC=$IT_POLICIES/second_wall.yaml
# SECOND_WALL_SANDBOXES / SECOND_WALL_MODES: a subset, while debugging.
read -r -a SANDBOXES <<<"${SECOND_WALL_SANDBOXES:-readonly logs netinfo firmware packages root-service root-apt baseline}"
read -r -a MODES <<<"${SECOND_WALL_MODES:-auto off}"
HELPER_DIR=/usr/lib/bridle-it
HELPER=$HELPER_DIR/attack_supervisor
FLAGS_FILE=/var/log/second-wall/flags.log
MQ_DIR=$IT_WORK/mqueue

# ---- fixtures ---------------------------------------------------------------------------------
for tool in /usr/bin/sudo /usr/sbin/visudo; do
    [[ -x $tool ]] || { fail setup.sudo "$tool is missing (package sudo)"; harness_finish; }
done
if [[ -z ${ATTACK_SUPERVISOR:-} || ! -x $ATTACK_SUPERVISOR ]]; then
    fail setup.helper "ATTACK_SUPERVISOR is not set to the built helper (tests/CMakeLists.txt sets it)"
    harness_finish
fi
# /usr/lib/bridle-it: an overlay on /usr/lib in this mount namespace (the upper layer on the
# /run tmpfs), so the host's /usr/lib is never written. Under /usr/lib, `logs` may read the
# helper and `packages` may execute it.
mkdir -p "$IT_WORK/usr-lib/upper" "$IT_WORK/usr-lib/work"
mount -n -t overlay bridle-it-usr-lib \
    -o "lowerdir=/usr/lib,upperdir=$IT_WORK/usr-lib/upper,workdir=$IT_WORK/usr-lib/work" /usr/lib ||
    { fail setup.overlay "cannot mount an overlay on /usr/lib"; harness_finish; }
install -d -m 0755 -o root -g root "$HELPER_DIR"
install -m 0755 -o root -g root "$ATTACK_SUPERVISOR" "$HELPER"
# A file the agent's account owns and may read (chattr-able as its owner, unsandboxed).
install -d -m 0755 -o root -g root /var/log/second-wall
install -m 0644 -o "$IT_USER" /dev/null "$FLAGS_FILE"
# The POSIX message queues of the IPC namespace bridle runs in (the test's private one, see
# the top); SysV segments are in /proc/sysvipc/shm. What survives a request is removed again.
mkdir -p "$MQ_DIR"
mount -n -t mqueue bridle-it-mqueue "$MQ_DIR" || fail setup.mqueue "cannot mount the mqueue file system"

# The unsandboxed controls: as the agent's account, without bridle, the attacks work on a
# process of its own named bridle (a symlink to sleep: comm is the name executed), so a
# `blocked` below is the sandbox's doing.
ln -s /bin/sleep "$IT_SCRATCH/bridle"
as_agent() { setpriv --reuid="$IT_UID" --regid="$(id -g "$IT_USER")" --init-groups "$@"; }
out=$(as_agent bash -c "$IT_SCRATCH/bridle 60 & sleep 0.2; for a in mem-write environ fd prlimit pidfd stop; do $HELPER \$a; done; kill \$!" 2>&1)
for attack in mem-write environ fd prlimit pidfd stop; do
    assert_contains "control.$attack.works-unsandboxed" "$out" "ATTACK $attack SUCCEEDED"
done
out=$(as_agent "$HELPER" setflags "$FLAGS_FILE" 2>&1)
assert_contains control.setflags.works-unsandboxed "$out" "ATTACK setflags SUCCEEDED"
rm -f "$IT_SCRATCH/bridle"

# ---- helpers ----------------------------------------------------------------------------------
# install_variant MODE: the policy with settings.landlock MODE (auto|off), and its sudoers
# drop-in (the run_as rules through the real sudo).
install_variant() {
    local out=$IT_WORK/second_wall-$1.yaml
    sed "s/^  landlock: auto /  landlock: $1 /" "$POLICY_SRC" >"$out"
    install_policy "$out"
    "$IT_BRIDLE" sudoers --policy "$IT_POLICY" --user "$IT_USER" --install >"$IT_WORK/sudoers.out" 2>&1 ||
        fail "$1.sudoers-install" "$(cat "$IT_WORK/sudoers.out")"
}

# What is left of a request: the agent's processes other than its ssh sessions, and any
# attack_supervisor (of any user: the run_as side is root's).
leftovers() {
    {
        ps -u "$IT_USER" -o pid=,stat=,comm= | grep -v -E ' sshd(-session)?$'
        pgrep -a -x attack_supervis   # comm: 15 bytes of the file name
    } | sort -u
}
no_leftovers() { [[ -z $(leftovers) ]]; }
# check_leftovers NAME: wait up to 3 s for the request's processes to go; kill what is left
# (so the next case starts clean) and fail.
check_leftovers() {
    if wait_until 3 no_leftovers; then pass "$1.no-process-left"; return; fi
    local left
    left=$(leftovers)
    fail "$1.no-process-left" "$(wc -l <<<"$left") left: $(head -n 5 <<<"$left" | tr '\n' ';')"
    kill_leftovers
}
kill_leftovers() {
    local pids
    pids=$( {
        ps -u "$IT_USER" -o pid=,comm= | grep -v -E ' sshd(-session)?$' | awk '{print $1}'
        pgrep -x attack_supervis
    } | sort -u)
    [[ -n $pids ]] || return 0
    # shellcheck disable=SC2086
    kill -CONT $pids 2>/dev/null
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    wait_until 5 no_leftovers
}

# IPC objects: what exists now (shm ids; queue names), and what appeared since ipc_snapshot.
ipc_now() { awk 'NR > 1 {print "shm " $2}' /proc/sysvipc/shm; ls "$MQ_DIR" 2>/dev/null | sed 's/^/mq /'; }
ipc_snapshot() { ipc_now | sort >"$IT_WORK/ipc.before"; }
# check_ipc NAME: no shm segment or queue created since the snapshot survives; remove any.
check_ipc() {
    local new id
    new=$(ipc_now | sort | comm -13 "$IT_WORK/ipc.before" -)
    if [[ -z $new ]]; then pass "$1.no-ipc-left"; return; fi
    fail "$1.no-ipc-left" "$(tr '\n' ';' <<<"$new")"
    while read -r kind id; do
        case $kind in
        shm) ipcrm -m "$id" 2>/dev/null ;;
        mq) rm -f "$MQ_DIR/$id" ;;
        esac
    done <<<"$new"
}

# ensure_mux: kill-all (or a killed session) may have taken the master connection with it.
ensure_mux() {
    ssh -F "$IT_WORK/ssh_config" -o ControlPath="$IT_WORK/mux-main" -O check main >/dev/null 2>&1 && return
    rm -f "$IT_WORK/mux-main"
    it_start_mux main
}

# judge NAME ATTACK OUTPUT: the helper's verdict, or the outside check for the attacks it
# cannot judge. RESULTS collects one line per case for the summary.
declare -a RESULTS=()
judge() {
    local name=$1 attack=$2 out=$3 line
    line=$(grep -m 1 "^ATTACK $attack " <<<"$out")
    case $attack in
    kill-all | shm) ;;   # judged from outside (records, survivors, IPC)
    forkbomb)
        if [[ $line == *" blocked errno=11 "* ]]; then pass "$name.capped"; else
            fail "$name.capped" "$(it_show "${line:-no ATTACK line; output $out}")"
        fi ;;
    *)
        if [[ $line == "ATTACK $attack blocked "* ]]; then pass "$name.blocked"; else
            fail "$name.blocked" "$(it_show "${line:-no ATTACK line (the supervisor died?); output $out}")"
        fi ;;
    esac
    RESULTS+=("$name ${line:-(no ATTACK line)}")
    # Which target gave way (the helper's stderr: `  ATTACK PID: worked`), for the summary.
    if [[ $line == *SUCCEEDED* && -n ${4:-} ]]; then
        RESULTS+=("$name   $(grep -E ': worked|setpriority worked|wrote' <<<"$4" | sed 's/^ *//' | tr '\n' ';' | head -c 300)")
    fi
}

# Records since MARK: one line per decision: FRONT_END RULE ATTACK RESULT? CONTAINMENT.
cat >"$IT_WORK/summarize.py" <<'EOF'
import json, sys
decisions, results = [], {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r.get("BRIDLE_REQUEST_ID"), r.get("BRIDLE_FRONT_END"))
    if r.get("BRIDLE_EVENT") == "decision":
        decisions.append((key, r))
    elif r.get("BRIDLE_EVENT") == "result":
        results[key] = r
for key, d in decisions:
    try:
        attack = json.loads(d.get("BRIDLE_ARGV", "[]"))[1]
    except Exception:
        attack = "?"
    res = results.get(key)
    if d.get("BRIDLE_DECISION") != "allow":
        print(d.get("BRIDLE_FRONT_END", "?"), d.get("BRIDLE_RULE", "-"), attack, "denied", "-")
        continue
    cont = (res or {}).get("BRIDLE_CONTAINMENT", "-").replace(" ", ",") or "-"
    print(d.get("BRIDLE_FRONT_END", "?"), d.get("BRIDLE_RULE", "?"), attack,
          "result" if res else "no-result", cont)
EOF
# check_records PREFIX: every decision since IT_MARK has its result record (on its side), and
# that result says pidns=yes.
check_records() {
    local prefix=$1 fe rule attack has cont n=0
    bridle_records >/dev/null
    while read -r fe rule attack has cont; do
        [[ -n $fe ]] || continue
        n=$((n + 1))
        local name=$prefix.$fe.$rule.$attack
        if [[ $has == denied ]]; then fail "$name.allowed" "the request was denied"; continue; fi
        [[ $has == result ]] && pass "$name.result-record" ||
            fail "$name.result-record" "the decision has no result record (the supervisor was killed or stopped?)"
        [[ $has == result ]] || continue
        # A run_as rule's command runs on the target side (sudo): the agent's side runs sudo
        # itself, outside the namespaces; its record names no containment of the command.
        [[ $rule == r* && $fe != sudo ]] && continue
        [[ ,$cont, == *,pidns=yes,* ]] && pass "$name.containment" ||
            fail "$name.containment" "BRIDLE_CONTAINMENT=${cont//,/ } (want pidns=yes)"
    done < <("$IT_PYTHON" "$IT_WORK/summarize.py" "$IT_WORK/records.json")
    ((n > 0)) || fail "$prefix.records" "no decision records at all"
}

# ---- (a) and (c): forced command, and the run_as root target side through sudo -------------
# run_ssh_case MODE PREFIX SANDBOX ATTACK: one request over ssh.
run_ssh_case() {
    local mode=$1 prefix=$2 sbx=$3 attack=$4 side=forced words
    [[ $prefix == r ]] && side=run-as
    local name=$mode.$side.$sbx.$attack
    words="${prefix}atk-$sbx $attack"
    [[ $attack == setflags ]] && words="${prefix}flags-$sbx setflags $FLAGS_FILE"
    local start=$SECONDS
    ipc_snapshot
    local mark=$IT_MARK
    if [[ $attack == kill-all ]]; then
        IT_SSH_TIMEOUT=20 bridle_ssh -o ControlMaster=no -- "$words"   # a connection of its own
    else
        IT_SSH_TIMEOUT=20 bridle_ssh -- "$words"
    fi
    IT_MARK=$mark
    if [[ $attack == setflags ]]; then
        local line
        line=$(grep -m 1 '^ATTACK setflags ' <<<"$SSH_OUT")
        # no-write (readonly, logs, netinfo) must refuse both with EPERM; without it the
        # owner may change its own file's flags: reported only.
        case $sbx in
        readonly | logs | netinfo)
            [[ $line == "ATTACK setflags blocked errno=1 fsxattr-errno=1" ]] && pass "$name.eperm" ||
                fail "$name.eperm" "$(it_show "${line:-no ATTACK line; $SSH_OUT $SSH_ERR}")" ;;
        esac
        RESULTS+=("$name ${line:-(no ATTACK line)}")
    else
        judge "$name" "$attack" "$SSH_OUT" "$SSH_ERR"
    fi
    ((SECONDS - start > 3)) && RESULTS+=("$name took $((SECONDS - start)) s")
    check_leftovers "$name"
    [[ $attack == shm ]] && check_ipc "$name"
    if [[ $attack == kill-all || $attack == kill ]]; then
        # The account's other ssh session (the master connection) is out of reach too.
        if [[ -n ${IT_MUX[main]:-} ]]; then
            ssh -F "$IT_WORK/ssh_config" -o ControlPath="$IT_WORK/mux-main" -O check main >/dev/null 2>&1 &&
                pass "$name.other-session-survives" ||
                fail "$name.other-session-survives" "the master connection's session was killed"
        fi
        ensure_mux
    fi
}

# ---- (b) the MCP session: raw JSON-RPC over `ssh ... mcp`, one call at a time ---------------
# mcp_attacks.py SANDBOX ATTACK...: one session; each call waits for its answer (20 s). When
# the session dies (a kill reached it), the next attack gets a new session, and the line
# says so. Prints `CALL ATTACK <stdout of the command, one line>` or `CALL ATTACK NO-ANSWER`.
cat >"$IT_WORK/mcp_attacks.py" <<'EOF'
import json, os, select, subprocess, sys, time
ssh = sys.argv[1].split()
sbx, attacks = sys.argv[2], sys.argv[3:]
INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "second-wall", "version": "0"}}}

class Session:
    def __init__(self):
        self.p = subprocess.Popen(ssh + ["mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        self.buf = b""
        self.alive = self.call(INIT) is not None
        if self.alive:
            self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    def send(self, m):
        try:
            self.p.stdin.write((json.dumps(m) + "\n").encode()); self.p.stdin.flush()
            return True
        except OSError:
            return False
    def call(self, m, timeout=20):
        if not self.send(m):
            return None
        deadline = time.time() + timeout
        while time.time() < deadline:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("id") == m["id"]:
                    return r
            ready, _, _ = select.select([self.p.stdout], [], [], max(0, deadline - time.time()))
            if not ready:
                break
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buf += chunk
        return None
    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill(); self.p.wait()

s, n, prev = Session(), 0, "initialize"
for attack in attacks:
    if not s.alive:
        s.close(); s = Session(); print(f"NOTE {prev} session-died", flush=True)
    prev = attack
    n += 1
    words = f"flags-{sbx} setflags /var/log/second-wall/flags.log" if attack == "setflags" else f"atk-{sbx} {attack}"
    r = s.call({"jsonrpc": "2.0", "id": n, "method": "tools/call",
                "params": {"name": "run_command", "arguments": {"command": words}}})
    if r is None:
        s.alive = False
        print(f"CALL {attack} NO-ANSWER", flush=True)
        continue
    sc = (r.get("result") or {}).get("structuredContent") or {}
    out = (sc.get("stdout") or "").replace("\n", " ").strip()
    print(f"CALL {attack} status={sc.get('status')} {out}", flush=True)
    worked = [l.strip() for l in (sc.get("stderr") or "").splitlines() if "worked" in l]
    if worked:
        print(f"DETAIL {attack} {';'.join(worked)[:300]}", flush=True)
if not s.alive or s.p.poll() is not None:
    print(f"NOTE {prev} session-died", flush=True)
s.close()
EOF
# run_mcp_group MODE SANDBOX ATTACK...: the attacks through one session (a new one after a
# kill); the checks per attack come after the whole session (no process may be left then).
run_mcp_group() {
    local mode=$1 sbx=$2 line attack rest
    shift 2
    ipc_snapshot
    journal_mark
    local mark=$IT_MARK
    timeout -k 5 200 "$IT_PYTHON" "$IT_WORK/mcp_attacks.py" "ssh -F $IT_WORK/ssh_config main" "$sbx" "$@" \
        >"$IT_WORK/mcp.out" 2>"$IT_WORK/mcp.err"
    while read -r kind attack rest; do
        if [[ $kind == NOTE ]]; then
            # The session process (a supervisor of the account) did not survive ATTACK.
            fail "$mode.mcp.$sbx.$attack.session-survives" "the MCP session ended during $attack; a new one ran the rest"
            RESULTS+=("$mode.mcp.$sbx.$attack ended the MCP session")
            continue
        fi
        if [[ $kind == DETAIL ]]; then RESULTS+=("$mode.mcp.$sbx.$attack   $rest"); continue; fi
        [[ $kind == CALL ]] || continue
        if [[ $attack == setflags ]]; then
            case $sbx in
            readonly | logs | netinfo)
                [[ $rest == *"ATTACK setflags blocked errno=1 fsxattr-errno=1"* ]] && pass "$mode.mcp.$sbx.setflags.eperm" ||
                    fail "$mode.mcp.$sbx.setflags.eperm" "$(it_show "$rest")" ;;
            esac
            RESULTS+=("$mode.mcp.$sbx.setflags $rest")
        else
            judge "$mode.mcp.$sbx.$attack" "$attack" "${rest#status=* }"
        fi
    done <"$IT_WORK/mcp.out"
    check_leftovers "$mode.mcp.$sbx"
    check_ipc "$mode.mcp.$sbx"
    IT_MARK=$mark
    check_records "$mode.mcp.$sbx"
}

# ---- the run --------------------------------------------------------------------------------
# Order within a group: the quiet attacks first, the ones that may kill or stop a supervisor
# (or, unconfined, everything of the account) last.
ATTACKS=(mem-write environ fd ptrace prlimit pidfd shm setflags forkbomb stop kill kill-all)
for MODE in "${MODES[@]}"; do
    install_variant "$MODE"
    for prefix in "" r; do
        side=forced
        [[ $prefix == r ]] && side=run-as
        echo "== $MODE, $side ($SECONDS s)"
        for sbx in "${SANDBOXES[@]}"; do
            journal_mark
            group_mark=$IT_MARK
            for attack in "${ATTACKS[@]}"; do
                # As root, kill(-1, SIGKILL) unconfined ends the test's sshd and journald:
                # those run last of all, below.
                [[ $prefix == r && $attack == kill-all ]] && continue
                run_ssh_case "$MODE" "$prefix" "$sbx" "$attack"
            done
            IT_MARK=$group_mark
            check_records "$MODE.$side.$sbx"
        done
    done
    echo "== $MODE, mcp ($SECONDS s)"
    for sbx in "${SANDBOXES[@]}"; do
        run_mcp_group "$MODE" "$sbx" "${ATTACKS[@]}"
        ensure_mux
    done
done

# ---- bridle SIGKILLed from outside mid-request ----------------------------------------------
# The command double-forked a setsid() sleeper (30 s) and sleeps itself; the supervisor (the
# account's oldest bridle) is killed. Within 5 s nothing of the request may be left, and the
# decision without a result shows in `bridle audit` as lost.
echo "== outside SIGKILL ($SECONDS s)"
install_variant auto
journal_mark
kill_mark=$IT_MARK
ssh -F "$IT_WORK/ssh_config" main -- 'atk-readonly sleeper' </dev/null >"$IT_WORK/sleeper.out" 2>&1 &
client=$!
sleeper_running() { pgrep -u "$IT_USER" -x attack_supervis >/dev/null; }
if wait_until 10 sleeper_running; then
    sleep 0.3   # the grandchild has forked
    supervisor=$(pgrep -o -u "$IT_USER" -x bridle)
    if [[ -n $supervisor ]]; then
        kill -KILL "$supervisor"
        if wait_until 5 no_leftovers; then pass outside-kill.nothing-survives; else
            fail outside-kill.nothing-survives "after 5 s: $(leftovers | tr '\n' ';')"
            kill_leftovers
        fi
    else
        fail outside-kill.supervisor "no bridle process of $IT_USER"
    fi
else
    fail outside-kill.started "the sleeper did not start: $(cat "$IT_WORK/sleeper.out")"
fi
timeout 10 tail --pid="$client" -f /dev/null 2>/dev/null || kill -KILL "$client" 2>/dev/null
wait "$client" 2>/dev/null
IT_MARK=$kill_mark
bridle_records >/dev/null
request=$(rec decision BRIDLE_REQUEST_ID)
# bridle audit calls a request lost once the bridle that wrote its decision is gone and the
# decision is 5 s old (or its timeout and a minute are past): wait up to 15 s.
audit_lost() {
    audit=$("$IT_BRIDLE" audit -D "$IT_JOURNAL_DIR" --request "$request" --color never 2>&1)
    [[ $audit == *lost* ]]
}
if [[ -n $request ]]; then
    wait_until 15 audit_lost
    assert_contains outside-kill.audit-lost "$audit" "lost"
    assert_eq outside-kill.no-result-record 0 "$REC_N_RESULT"
else
    fail outside-kill.decision-record "no decision record: $(rec_dump | tr '\n' ';')"
fi

# ---- last: kill(-1, SIGKILL) as root, on the run_as target side -----------------------------
harness_alive() { kill -0 "$IT_SSHD_PID" 2>/dev/null && kill -0 "$IT_JOURNALD_PID" 2>/dev/null; }
for MODE in "${MODES[@]}"; do
    install_variant "$MODE"
    for sbx in "${SANDBOXES[@]}"; do
        if ! harness_alive; then
            fail "$MODE.run-as.$sbx.kill-all.harness" "sshd or journald was killed by an earlier root kill-all: not run"
            RESULTS+=("$MODE.run-as.$sbx.kill-all not run (the harness was killed)")
            continue
        fi
        journal_mark
        group_mark=$IT_MARK
        run_ssh_case "$MODE" r "$sbx" kill-all
        if harness_alive; then
            IT_MARK=$group_mark
            check_records "$MODE.run-as.$sbx.kill-all"
        else
            fail "$MODE.run-as.$sbx.kill-all.harness-survives" "kill(-1, SIGKILL) as root killed sshd or journald"
            RESULTS+=("$MODE.run-as.$sbx.kill-all KILLED THE HARNESS (sshd/journald)")
        fi
    done
done

echo "---- attack results ----"
printf '%s\n' "${RESULTS[@]}"
harness_finish
