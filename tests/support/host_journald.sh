# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Sourced first thing inside a new UTS and mount namespace (`unshare --uts --mount
# --propagation private`) to make it a host of its own: hostname NAME, a machine id and the
# journal's run directories of its own under STATE, and its own systemd-journald on them,
# serving once this returns (HOST_JOURNALD_PID). Its journal files are STATE/log/journal.
# Used by fleet_hosts.sh and integration/audit_fleet.sh.
#   source host_journald.sh NAME STATE
mkdir -p "$2/run-systemd" "$2/log"
[[ -s $2/machine-id ]] || tr -d '-' </proc/sys/kernel/random/uuid >"$2/machine-id"
hostname "$1"
mount -n --bind "$2/run-systemd" /run/systemd
mount -n --bind "$2/log" /run/log
mount -n --bind "$2/machine-id" /etc/machine-id
mkdir -p /run/systemd/journald.conf.d
printf '%s\n' "[Journal]" Storage=volatile ReadKMsg=no Audit=no ForwardToSyslog=no \
    ForwardToKMsg=no ForwardToConsole=no ForwardToWall=no RateLimitBurst=0 \
    >/run/systemd/journald.conf.d/99-it.conf
SYSTEMD_LOG_TARGET=console /lib/systemd/systemd-journald </dev/null >"$2/journald.log" 2>&1 &
HOST_JOURNALD_PID=$!
for _ in $(seq 200); do [[ -S /run/systemd/journal/socket ]] && break; sleep 0.05; done
