#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package on this machine, as an administrator would use it (issue 7): build the
# .deb from a copy of the tree, check it (lintian, hardening-check, contents), install it with
# apt, enrol a key, log in over a real ssh as ai-agent through the host's own sshd_config plus
# the package's drop-in, run allowed and denied requests through the SHIPPED policy with their
# records in journald, revoke, upgrade over itself keeping a locally edited policy, purge, and
# check that the machine is as it was found.
#
# What it guards against: a postinst that leaves sshd broken or reloads it into a config that
# sshd -t rejects (an sshd -t that fails is injected: the drop-in must be backed out); a purge
# that leaves an account, a drop-in or a keys file behind, or removes something it did not add;
# a conffile that an upgrade overwrites; an agent key that reaches a shell, a pty or a forward.
#
# Isolation: dpkg and apt really install on this machine (/usr, /etc, /var/lib/dpkg): that is
# the point. Everything else runs in private namespaces (tests/support/harness.sh re-execs
# this script under unshare): /run is a tmpfs (sshd's pid file and privilege separation
# directory, journald's socket and the volatile journal), a tmpfs hides /var/log/journal, the
# network namespace has only its own loopback, where the test sshd listens on port 2222, and
# Docker's policy-rc.d (which forbids every service action) is replaced by one that allows
# them, as on a real host. When the script ends, every process it started dies with the PID
# namespace. The machine must not have bridle installed or an ai-agent account beforehand.
#
# Environment: PACKAGE_TEST_CHECK=1 also runs the unit tests inside dpkg-buildpackage (they
# run in the main ctest anyway; off by default to stay within the CI budget).
# Needs root, and the packages of install/deps.sh (debhelper, lintian, devscripts, ...).
set -uo pipefail
export LC_ALL=C
SELF=$(realpath "$0")
SRC=$(realpath "$(dirname "$SELF")/../..")
export DEBIAN_FRONTEND=noninteractive

# --------------------------------------------------------------------------------------------
# Outside the namespaces: preconditions, build, static checks, the "before" snapshot.
if [[ -z ${BRIDLE_IT_INSIDE:-} ]]; then
    say() { printf '%s package: %s\n' "$(date +%T)" "$*"; }
    [[ $EUID -eq 0 ]] || { echo "FAIL package: needs root (it installs the package)"; exit 1; }
    for tool in dpkg-buildpackage lintian hardening-check apt-get unshare ssh ssh-keygen adduser objdump readelf; do
        command -v "$tool" >/dev/null || { echo "FAIL package: $tool is missing (run install/deps.sh)"; exit 1; }
    done
    if dpkg-query -W -f='${Status}' bridle 2>/dev/null | grep -q 'installed\|config-files\|half'; then
        echo "FAIL package: bridle is already installed here; this test installs and purges it: purge it first"
        exit 1
    fi
    if getent passwd ai-agent >/dev/null || getent group ai-agent >/dev/null; then
        echo "FAIL package: an ai-agent account exists; this test creates and removes it"
        exit 1
    fi
    PKG_WORK=$(mktemp -d /tmp/bridle-package.XXXXXX)
    chmod 0755 "$PKG_WORK"
    export PKG_WORK
    trap 'rm -rf "$PKG_WORK"' EXIT

    say "building the package (dpkg-buildpackage -us -uc -b in a copy of the tree)"
    options="parallel=$(nproc)"
    [[ ${PACKAGE_TEST_CHECK:-0} == 1 ]] || options="nocheck $options"
    start=$SECONDS
    # Debian's flags and the hardening, without -g (DEB_*FLAGS_STRIP, dpkg-buildflags(1)): the
    # debug information goes only to the -dbgsym package, which this test never installs, and
    # costs about a third of the compile (the test runs alone: every second of it is CI's).
    # For the same reason a unity build (install/test.sh says why that is safe to test).
    if ! DEB_BUILD_OPTIONS=$options DEB_CFLAGS_STRIP=-g DEB_CXXFLAGS_STRIP=-g \
       BRIDLE_CMAKE_FLAGS=-DCMAKE_UNITY_BUILD=ON \
       bash "$SRC/tests/package/build-deb.sh" "$PKG_WORK/build" >"$PKG_WORK/build.log" 2>&1; then
        tail -n 60 "$PKG_WORK/build.log"
        echo "FAIL package: dpkg-buildpackage failed (log above)"
        exit 1
    fi
    say "built in $((SECONDS - start)) s"
    deb=$(ls "$PKG_WORK"/build/bridle_*_"$(dpkg --print-architecture)".deb)
    version=$(dpkg-deb -f "$deb" Version)

    # The upgrade: the same package as the next Debian revision (repacked, not rebuilt: the
    # maintainer scripts and the conffile are what an upgrade exercises).
    next=${version%-*}-$((${version##*-} + 1))
    dpkg-deb -R "$deb" "$PKG_WORK/next"
    sed -i "s/^Version: .*/Version: $next/" "$PKG_WORK/next/DEBIAN/control"
    dpkg-deb --root-owner-group -b "$PKG_WORK/next" "$PKG_WORK/bridle_${next}_next.deb" >/dev/null
    rm -rf "$PKG_WORK/next"

    # The state the purge must return to.
    snapshot() {
        dpkg-query -W -f='${Package}:${Architecture} ${Version} ${Status}\n' | sort
        for f in /etc/passwd /etc/group /etc/shadow /etc/gshadow; do echo "== $f"; cat "$f"; done
        for d in /etc/ssh /etc/bridle /var/lib/bridle /usr/share/bridle /usr/share/doc/bridle; do
            [[ -e $d ]] || { echo "== $d absent"; continue; }
            find "$d" -printf '%p %M %u:%g %s\n' | sort
            find "$d" -type f -exec sha256sum {} + | sort
        done
        ls -la /usr/bin/bridle /usr/share/man/man8/bridle.8.gz /usr/share/man/man5/bridle-policy.5.gz 2>&1
    }
    snapshot >"$PKG_WORK/before.txt"
    export -f snapshot
    export PKG_DEB=$deb PKG_NEXT=$PKG_WORK/bridle_${next}_next.deb PKG_VERSION=$version PKG_NEXT_VERSION=$next

    # harness.sh re-execs this script inside the namespaces (BRIDLE names a binary to it).
    export BRIDLE=/bin/true
    trap - EXIT
    # shellcheck source=../support/harness.sh
    source "$SRC/tests/support/harness.sh"
fi

# --------------------------------------------------------------------------------------------
# Inside: PID 1 of new PID, mount and network namespaces.
# shellcheck source=../support/harness.sh
source "$SRC/tests/support/harness.sh"
IT_NAME=package
say() { printf '%s package: %s\n' "$(date +%T)" "$*"; }
W=$PKG_WORK
# Whatever happens, the package does not stay installed.
pkg_cleanup() {
    it_cleanup
    if dpkg-query -W -f='${Status}' bridle 2>/dev/null | grep -qv 'not-installed'; then
        echo "package: cleaning up: apt-get purge bridle"
        apt-get purge -y -q -o DPkg::Lock::Timeout=120 bridle >/dev/null 2>&1 || dpkg --purge bridle
    fi
    rm -rf "$PKG_WORK"
}
trap pkg_cleanup EXIT

ip link set lo up || { echo "FAIL package: cannot bring up lo"; exit 1; }
# -n: no /run/mount/utab on the host's /run (it is on the root file system here).
mount -n -t tmpfs -o mode=0755,nosuid,nodev bridle-pkg-run /run || exit 1
mkdir -m 0755 /run/sshd /run/systemd /run/log /run/lock /run/user
mkdir -m 0700 "$IT_WORK"
if [[ -d /var/log/journal ]]; then
    mount -n -t tmpfs -o mode=0755 bridle-pkg-journal /var/log/journal || exit 1
fi
if [[ -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 0\n' >"$W/policy-rc.d"
    chmod 0755 "$W/policy-rc.d"
    mount -n --bind "$W/policy-rc.d" /usr/sbin/policy-rc.d || exit 1
fi
it_start_journald

DROPIN=/etc/ssh/sshd_config.d/bridle.conf
KEYS=/etc/bridle/authorized_keys/ai-agent

# run NAME CMD...: CMD's status in RC, stdout+stderr in OUT (and $W/NAME.log).
run() {
    local name=$1
    shift
    "$@" >"$W/$name.log" 2>&1
    RC=$?
    OUT=$(cat "$W/$name.log")
}

# Another apt run on the machine holds the lock for a while: wait for it rather than fail.
apt_install() { apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 "$@"; }
apt_purge() { apt-get purge -y -q -o DPkg::Lock::Timeout=120 bridle; }

# --------------------------------------------------------------------------------------------
say "static checks: lintian, hardening-check, contents"
# lintian leaves its ELF database (mldbm-elf-*) in $TMPDIR when it exits: a directory of this
# test's, removed with it, not the machine's /tmp.
mkdir -m 0700 "$W/lintian-tmp"
tmp_before=$(find /tmp -maxdepth 1 -name 'mldbm-*' | sort)
run lintian env TMPDIR="$W/lintian-tmp" lintian --fail-on error,warning "$PKG_DEB"
assert_eq lintian.clean 0 "$RC"
[[ $RC == 0 ]] || echo "$OUT"
assert_eq lintian.leaves-nothing-in-tmp "$tmp_before" "$(find /tmp -maxdepth 1 -name 'mldbm-*' | sort)"
mkdir "$W/x"
dpkg-deb -x "$PKG_DEB" "$W/x"
# Control flow integrity: Debian 12's glibc start files are not built with CET, so the linker
# cannot mark any bookworm executable IBT/SHSTK (sshd and ls fail this check too); that the
# code itself is built with -fcf-protection is checked through its endbr64 instructions.
# bridle-full is linked dynamically: hardening-check reads its imports. bridle, linked statically
# where the build allows (static-pie), imports nothing; it is the same objects built with the
# same flags, so its ELF is checked instead (a PIE with no interpreter, RELRO, BIND_NOW), and
# its code for the stack protector's canary.
run hardening hardening-check --nocfprotection "$W/x/usr/bin/bridle-full"
assert_eq hardening-check 0 "$RC"
[[ $RC == 0 ]] || echo "$OUT"
if readelf -lW "$W/x/usr/bin/bridle" | grep -q INTERP; then
    run hardening hardening-check --nocfprotection "$W/x/usr/bin/bridle"
    assert_eq hardening-check.bridle 0 "$RC"
else
    assert_match static-pie.type "$(readelf -hW "$W/x/usr/bin/bridle" | grep 'Type:')" 'DYN'
    assert_ne static-pie.relro 0 "$(readelf -lW "$W/x/usr/bin/bridle" | grep -c GNU_RELRO)"
    assert_match static-pie.bind-now "$(readelf -dW "$W/x/usr/bin/bridle")" 'BIND_NOW'
    # Linked by lld on glibc 2.36: its relocations packed (CMakeLists.txt, DT_RELR), and the
    # relocated binary runs.
    assert_match static-pie.relr "$(readelf -dW "$W/x/usr/bin/bridle")" '\(RELR\)'
    assert_match static-pie.runs "$("$W/x/usr/bin/bridle" --version)" '^bridle '
    if [[ $(dpkg --print-architecture) == amd64 ]]; then
        assert_ne static-pie.stack-protector 0 "$(objdump -d "$W/x/usr/bin/bridle" | grep -c '%fs:0x28')"
    fi
fi
# bridle as the package links it (lld, hot functions first; CMakeLists.txt): no YAML parser
# or <iostream> set-up came with it, and lld honoured src/front.order. The build tree's copy
# still has its symbols.
front=$(compgen -G "$PKG_WORK/build/src/obj-*/bridle" | head -n 1)
run front-links bash "$SRC/tests/layout/front_links.sh" "$front"
assert_eq front.links 0 "$RC"
[[ $RC == 0 ]] || echo "$OUT"
run front-order python3 "$SRC/tests/layout/front_order.py" "$front" "$SRC/src/front.order"
assert_eq front.order 0 "$RC"
[[ $RC == 0 ]] || echo "$OUT"
if [[ $(dpkg --print-architecture) == amd64 ]]; then
    for b in bridle bridle-full; do
        assert_ne "hardening.cf-protection.$b" 0 "$(objdump -d "$W/x/usr/bin/$b" | grep -c endbr64)"
    done
fi
assert_eq deb.conffiles "/etc/bridle/policy.yaml" "$(dpkg-deb --ctrl-tarfile "$PKG_DEB" | tar -xOf - ./conffiles)"
assert_match deb.policy-mode "$(dpkg-deb -c "$PKG_DEB" | grep ' ./etc/bridle/policy.yaml$')" '^-rw-r--r-- root/root '
for f in usr/bin/bridle usr/bin/bridle-full usr/share/man/man8/bridle.8.gz usr/share/man/man5/bridle-policy.5.gz \
         usr/share/bridle/sshd-bridle.conf; do
    [[ -f $W/x/$f ]] && pass "deb.has.$f" || fail "deb.has.$f" "missing from the package"
done
cmp -s "$W/x/etc/bridle/policy.yaml" "$SRC/policy/default.yaml" && pass deb.policy-is-default ||
    fail deb.policy-is-default "the packaged policy differs from policy/default.yaml"
rm -rf "$W/x"

# --------------------------------------------------------------------------------------------
say "install with an sshd -t that rejects the drop-in: postinst must back it out"
cp /usr/sbin/sshd "$W/sshd.real"
cat >"$W/sshd.fake" <<EOF
#!/bin/sh
# sshd, except that -t fails while bridle's drop-in is in place.
for a in "\$@"; do
    if [ "\$a" = -t ] && [ -e $DROPIN ]; then echo "fake sshd: rejecting $DROPIN" >&2; exit 255; fi
done
exec $W/sshd.real "\$@"
EOF
chmod 0755 "$W/sshd.fake"
run install-rejected unshare --mount --propagation private -- \
    sh -c "mount -n --bind '$W/sshd.fake' /usr/sbin/sshd && apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 '$PKG_DEB'"
assert_ne rejected.install-fails 0 "$RC"
assert_contains rejected.says-why "$OUT" "sshd -t rejects the configuration"
assert_absent rejected.no-dropin "$DROPIN"
assert_absent rejected.no-temporary "$DROPIN.dpkg-new"
assert_match rejected.half-configured "$(dpkg-query -W -f='${Status}' bridle)" 'half-configured'
run purge-rejected apt_purge
assert_eq rejected.purge 0 "$RC"
if getent passwd ai-agent >/dev/null; then fail rejected.account-gone "ai-agent still exists"; else pass rejected.account-gone; fi

# --------------------------------------------------------------------------------------------
say "install and purge while sshd is not running"
run install-stopped apt_install "$PKG_DEB"
assert_eq stopped.install 0 "$RC"
[[ $RC == 0 ]] || echo "$OUT"
assert_not_contains stopped.no-reload "$OUT" "sshd reloaded"
[[ -f $DROPIN ]] && pass stopped.dropin || fail stopped.dropin "no drop-in after install"
run purge-stopped apt_purge
assert_eq stopped.purge 0 "$RC"
assert_absent stopped.dropin-gone "$DROPIN"

# --------------------------------------------------------------------------------------------
say "start sshd: the host's own sshd_config (Include sshd_config.d/*.conf), on 127.0.0.1:2222"
ssh-keygen -q -t ed25519 -N '' -C bridle-package-host -f "$W/hostkey"
: >"$W/sshd.log"
/usr/sbin/sshd -D -E "$W/sshd.log" -f /etc/ssh/sshd_config -h "$W/hostkey" \
    -o Port=2222 -o ListenAddress=127.0.0.1 -o PidFile=/run/sshd.pid -o LogLevel=VERBOSE </dev/null &
IT_SSHD_PID=$!
wait_until 10 grep -q "Server listening on 127.0.0.1 port 2222" "$W/sshd.log" ||
    { cat "$W/sshd.log"; echo "FAIL package: sshd did not start"; exit 1; }
wait_until 5 test -s /run/sshd.pid
echo "[127.0.0.1]:2222 $(cat "$W/hostkey.pub")" >"$W/known_hosts"
for k in agent1 agent2 intruder; do ssh-keygen -q -t ed25519 -N '' -C "$k@controller" -f "$W/$k"; done
cat >"$W/ssh_config" <<EOF
Host *
  HostName 127.0.0.1
  Port 2222
  User ai-agent
  IdentitiesOnly yes
  UserKnownHostsFile $W/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
  ConnectTimeout 10
EOF
# agent KEY [ssh options] -- [TEXT]: like bridle_ssh, with the given client key.
agent() {
    local key=$1 opts=()
    shift
    while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    journal_mark
    timeout -k 5 30 ssh -F "$W/ssh_config" -i "$W/$key" "${opts[@]}" pi ${1+"$1"} </dev/null \
        >"$W/ssh.out" 2>"$W/ssh.err"
    SSH_RC=$?
    SSH_OUT=$(cat "$W/ssh.out")
    SSH_ERR=$(cat "$W/ssh.err")
}
hups() { grep -c "Received SIGHUP" "$W/sshd.log"; }

# --------------------------------------------------------------------------------------------
say "install while sshd runs: the drop-in goes live through a reload"
run install apt_install "$PKG_DEB"
assert_eq install.status 0 "$RC"
[[ $RC == 0 ]] || echo "$OUT"
assert_contains install.reloads-sshd "$OUT" "sshd reloaded"
wait_until 10 grep -q "Received SIGHUP" "$W/sshd.log" && pass install.sshd-got-sighup ||
    fail install.sshd-got-sighup "$(tail -n 5 "$W/sshd.log")"
wait_until 10 sh -c "grep -c 'Server listening on 127.0.0.1 port 2222' '$W/sshd.log' | grep -qx 2" &&
    pass install.sshd-listens-again || fail install.sshd-listens-again "$(tail -n 5 "$W/sshd.log")"
assert_eq install.sshd-same-pid "$IT_SSHD_PID" "$(cat /run/sshd.pid)"

IFS=: read -r _ _ _ _ gecos home shell <<<"$(getent passwd ai-agent)"
assert_eq account.shell /usr/bin/bridle "$shell"
assert_eq account.home /var/lib/bridle "$home"
assert_contains account.marked "$gecos" "created by the bridle package"
assert_eq account.password '*' "$(getent shadow ai-agent | cut -d: -f2)"
assert_contains account.group-adm " $(id -nG ai-agent) " " adm "
assert_contains account.group-systemd-journal " $(id -nG ai-agent) " " systemd-journal "
assert_eq home.root-owned "root:root 755" "$(stat -c '%U:%G %a' /var/lib/bridle)"
assert_eq policy.mode "root:root 644" "$(stat -c '%U:%G %a' /etc/bridle/policy.yaml)"
assert_eq keys.dir-mode "root:root 755" "$(stat -c '%U:%G %a' /etc/bridle/authorized_keys)"
assert_eq keys.file-mode "root:root 644" "$(stat -c '%U:%G %a' $KEYS)"
assert_eq dropin.mode "root:root 644" "$(stat -c '%U:%G %a' $DROPIN)"
effective=$(/usr/sbin/sshd -T -h "$W/hostkey" -C user=ai-agent,host=localhost,addr=127.0.0.1)
for setting in "authorizedkeysfile /etc/bridle/authorized_keys/%u" "disableforwarding yes" "permittty no" \
               "permituserrc no" "authenticationmethods publickey" "passwordauthentication no"; do
    assert_contains "sshd-T.ai-agent.$setting" "$effective" "$setting"
done
assert_contains sshd-T.others-untouched "$(/usr/sbin/sshd -T -h "$W/hostkey" -C user=root,host=localhost,addr=127.0.0.1)" \
    "authorizedkeysfile .ssh/authorized_keys"
run check bridle check
assert_eq bridle-check 0 "$RC"
man -w bridle >/dev/null 2>&1 && man -w 5 bridle-policy >/dev/null 2>&1 && pass man.installed ||
    fail man.installed "man -w cannot find bridle(8) or bridle-policy(5)"

# --------------------------------------------------------------------------------------------
say "enrol keys; log in as ai-agent"
run enroll1 bridle enroll --name laptop-agent "$W/agent1.pub"
assert_eq enroll.status 0 "$RC"
run enroll2 bridle enroll --name ci-runner "$W/agent2.pub"
assert_eq enroll.second 0 "$RC"
run enroll-dup bridle enroll --name laptop-agent "$W/intruder.pub"
assert_eq enroll.duplicate-name 64 "$RC"
printf 'command="/bin/sh" %s\n' "$(cat "$W/intruder.pub")" >"$W/smuggled.pub"
run enroll-smuggled bridle enroll --name smuggled "$W/smuggled.pub"
assert_eq enroll.smuggled-options 64 "$RC"
run keys bridle keys
assert_match keys.lists "$OUT" "laptop-agent	ssh-ed25519	256	SHA256:"
assert_eq keys.count 2 "$(grep -c '^restrict,command="/usr/bin/bridle --key ' $KEYS)"

agent agent1 -- 'uptime'
assert_eq ssh.uptime.status 0 "$SSH_RC"
assert_contains ssh.uptime.output "$SSH_OUT" "load average"
bridle_records >/dev/null
assert_eq ssh.uptime.decision allow "$(rec decision BRIDLE_DECISION)"
assert_eq ssh.uptime.key laptop-agent "$(rec decision BRIDLE_KEY)"
assert_eq ssh.uptime.result-status 0 "$(rec result BRIDLE_EXIT_STATUS)"

agent agent1 -- 'journalctl -n 5 --no-pager'
assert_eq ssh.journal.status 0 "$SSH_RC"

agent agent2 -- 'cat /etc/shadow'
assert_eq ssh.shadow.denied 77 "$SSH_RC"
assert_eq ssh.shadow.no-output "" "$SSH_OUT"
bridle_records >/dev/null
assert_eq ssh.shadow.decision deny "$(rec decision BRIDLE_DECISION)"
assert_eq ssh.shadow.key ci-runner "$(rec decision BRIDLE_KEY)"

agent agent1 -- 'uptime; sh'
assert_eq ssh.shell-syntax 64 "$SSH_RC"
agent agent1 -- 'help'
assert_eq ssh.help 0 "$SSH_RC"
assert_contains ssh.help.lists-rules "$SSH_OUT" "uptime"
agent agent1 -T --
assert_eq ssh.login-attempt 64 "$SSH_RC"
agent agent1 -tt -- 'uptime'
assert_contains ssh.no-pty "$SSH_ERR" "PTY allocation request failed"
agent agent1 -W 127.0.0.1:2222 --
assert_eq ssh.no-forwarding 255 "$SSH_RC"
agent intruder -- 'uptime'
assert_eq ssh.unknown-key 255 "$SSH_RC"
assert_contains ssh.unknown-key.denied "$SSH_ERR" "Permission denied"

# --------------------------------------------------------------------------------------------
say "revoke"
run revoke bridle revoke laptop-agent
assert_eq revoke.status 0 "$RC"
agent agent1 -- 'uptime'
assert_eq revoke.refused 255 "$SSH_RC"
agent agent2 -- 'uptime'
assert_eq revoke.other-key-works 0 "$SSH_RC"

# --------------------------------------------------------------------------------------------
say "upgrade to $PKG_NEXT_VERSION with a locally modified policy"
echo "# local edit $$" >>/etc/bridle/policy.yaml
cp /etc/bridle/policy.yaml "$W/policy.local"
hups_before=$(hups)
run upgrade apt_install "$PKG_NEXT"
assert_eq upgrade.status 0 "$RC"
[[ $RC == 0 ]] || echo "$OUT"
assert_eq upgrade.version "$PKG_NEXT_VERSION" "$(dpkg-query -W -f='${Version}' bridle)"
cmp -s /etc/bridle/policy.yaml "$W/policy.local" && pass upgrade.keeps-local-policy ||
    fail upgrade.keeps-local-policy "the local edit of policy.yaml is gone"
assert_absent upgrade.no-dpkg-dist /etc/bridle/policy.yaml.dpkg-dist
assert_eq upgrade.no-reload "$hups_before" "$(hups)"
agent agent2 -- 'uptime'
assert_eq upgrade.key-still-works 0 "$SSH_RC"

# --------------------------------------------------------------------------------------------
say "purge while sshd runs"
run purge apt_purge
assert_eq purge.status 0 "$RC"
[[ $RC == 0 ]] || echo "$OUT"
assert_contains purge.reloads-sshd "$OUT" "sshd reloaded"
wait_until 10 sh -c "test \$(grep -c 'Received SIGHUP' '$W/sshd.log') -gt $hups_before" &&
    pass purge.sshd-got-sighup || fail purge.sshd-got-sighup "$(tail -n 5 "$W/sshd.log")"
agent agent2 -- 'uptime'
assert_eq purge.login-refused 255 "$SSH_RC"
kill "$IT_SSHD_PID" 2>/dev/null
wait "$IT_SSHD_PID" 2>/dev/null
IT_SSHD_PID=

snapshot >"$W/after.txt"
if diff -u "$W/before.txt" "$W/after.txt" >"$W/snapshot.diff"; then
    pass purge.machine-as-found
else
    fail purge.machine-as-found "$(head -c 1500 "$W/snapshot.diff")"
fi
harness_finish
