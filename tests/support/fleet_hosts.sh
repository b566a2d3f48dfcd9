# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Hosts for the fleet controller's tests (tests/integration/fleet.sh, tests/bench/fleet.sh),
# sourced after harness_setup: each host a network namespace reached over a veth pair, with
# its own sshd (the harness's config and host key), its own journald in a mount and UTS
# namespace of its own, and its own policy; one client key for all (key-fleet), and an
# ssh_config with their host keys (fleet_ssh_config).
#   start_host N NAME POLICY   host N at 10.231.N.2; POLICY "" leaves it down (no sshd)
#   wait_hosts N...            until each host's sshd listens
#   host_records N [MATCHES]   that host's bridle records, JSON lines
ssh-keygen -q -t ed25519 -N '' -C bridle-fleet -f "$IT_WORK/key-fleet" || exit 1
: >"$IT_WORK/fleet_known_hosts"
cat >"$IT_WORK/fleet_ssh_config" <<CFG
Host *
  UserKnownHostsFile $IT_WORK/fleet_known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  LogLevel ERROR
  ControlMaster no
  ControlPath none
CFG

# start_host N NAME POLICY: host N at 10.231.N.2 (the controller's side is 10.231.N.1), with
# sshd and journald in its own namespaces; POLICY "" leaves it down (no sshd).
declare -A HOST_PID=()
start_host() {
    local n=$1 name=$2 policy=$3 ns=fleet-h$1 st=$IT_WORK/h$1
    mkdir -p "$st"
    ip netns add "$ns" || exit 1
    ip link add "fh$n" type veth peer name "fn$n" && ip link set "fn$n" netns "$ns" || exit 1
    ip addr add "10.231.$n.1/30" dev "fh$n" && ip link set "fh$n" up
    ip -n "$ns" addr add "10.231.$n.2/30" dev "fn$n" && ip -n "$ns" link set "fn$n" up
    ip -n "$ns" link set lo up
    echo "10.231.$n.2 $(cat "$IT_WORK/hostkey.pub")" >>"$IT_WORK/fleet_known_hosts"
    [[ -n $policy ]] || return 0
    install -d -m 0755 -o root -g root "$IT_ROOT/h$n" "$IT_ROOT/h$n/keys"
    install -m 0644 -o root -g root "$IT_POLICIES/$policy" "$IT_ROOT/h$n/policy.yaml"
    printf 'restrict,command="%s --key fleet --policy %s" %s\n' "$IT_BRIDLE" "$IT_ROOT/h$n/policy.yaml" \
        "$(cat "$IT_WORK/key-fleet.pub")" >"$IT_ROOT/h$n/keys/$IT_USER"
    chmod 0644 "$IT_ROOT/h$n/keys/$IT_USER"
    sed -e "s|^Port .*|Port 22|" -e "s|^ListenAddress .*|ListenAddress 10.231.$n.2|" \
        -e "s|^PidFile .*|PidFile $st/sshd.pid|" \
        -e "s|^AuthorizedKeysFile .*|AuthorizedKeysFile $IT_ROOT/h$n/keys/%u|" \
        "$IT_WORK/sshd_config" >"$st/sshd_config"
    # nsenter, not `ip netns exec`: that remounts /sys, where journald then finds no cgroup.
    nsenter --net="/run/netns/$ns" unshare --uts --mount --propagation private -- bash -c '
        st=$2
        source "$3/host_journald.sh" "$1" "$st"
        exec /usr/sbin/sshd -D -f "$st/sshd_config" -E "$st/sshd.log"
    ' bash "$name" "$st" "$IT_SUPPORT" </dev/null &
    HOST_PID[$name]=$!
    IT_PIDS+=($!)
}
# wait_hosts N...: until those hosts' sshd listen (a failed check ends the test).
wait_hosts() {
    local n
    for n in "$@"; do
        wait_until 20 grep -q "Server listening on 10.231.$n.2 port 22" "$IT_WORK/h$n/sshd.log" ||
            { fail "setup.sshd.h$n" "$(cat "$IT_WORK/h$n/sshd.log" "$IT_WORK/h$n/journald.log" 2>&1)"; harness_finish; }
    done
}
# host_records N [journalctl matches]: host N's bridle records, JSON lines.
host_records() {
    local n=$1
    shift
    journalctl --directory="$IT_WORK/h$n/log/journal" --no-pager --all -o json SYSLOG_IDENTIFIER=bridle "$@" 2>/dev/null
}
