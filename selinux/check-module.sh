#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Build the bridle SELinux module and link it into a NON-LIVE copy of Debian's reference
# policy (selinux-policy-default) with expand-check=1, so that an unresolved require, a
# type or interface the distribution does not have, or a neverallow violation fails here.
# Nothing is loaded, and nothing outside the work directory is written (the host kernel need
# not have SELinux at all). Then checks the compiled kernel policy with sesearch: the
# domain transitions and the file contexts are what selinux/bridle.te says.
#
# Needs (install/deps.sh): selinux-policy-dev checkpolicy semodule-utils policycoreutils
# setools, and the Debian archive for `apt-get download selinux-policy-default`.
# Exit 77 (ctest: skipped) when those tools are missing.
set -euo pipefail
SRC=$(cd "$(dirname "$0")" && pwd)
for tool in semodule sesearch checkmodule apt-get; do
    command -v "$tool" >/dev/null || { echo "SKIP selinux: $tool is missing (install/deps.sh installs it)"; exit 77; }
done
[[ -f /usr/share/selinux/devel/Makefile ]] || { echo "SKIP selinux: selinux-policy-dev is missing"; exit 77; }

W=$(mktemp -d /tmp/bridle-selinux.XXXXXX)
trap 'rm -rf "$W"' EXIT
R=$W/root
cp "$SRC"/bridle.{te,fc,if} "$SRC"/Makefile "$W"/
cd "$W"
failures=0
checks=0
check() {   # check NAME COMMAND...: PASS/FAIL line
    local name=$1
    shift
    checks=$((checks + 1))
    if "$@" >/dev/null 2>&1; then echo "PASS $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}

make -s bridle.pp >build.log 2>&1 || { cat build.log; echo "FAIL selinux.build"; exit 1; }
echo "PASS selinux.build"

# The base policy store, in an alternate root, from the distribution's package.
(cd "$W" && apt-get download -q selinux-policy-default >download.log 2>&1) ||
    { cat download.log; echo "FAIL selinux: apt-get download selinux-policy-default"; exit 1; }
mkdir -p "$R"
dpkg-deb -x selinux-policy-default_*.deb "$R"
cp /etc/selinux/semanage.conf "$R/etc/selinux/"
# Debian ships expand-check=0: without 1, neverallow rules are not checked at all.
if grep -q '^expand-check=' "$R/etc/selinux/semanage.conf"; then
    sed -i 's/^expand-check=.*/expand-check=1/' "$R/etc/selinux/semanage.conf"
else
    echo expand-check=1 >>"$R/etc/selinux/semanage.conf"
fi
printf 'SELINUX=disabled\nSELINUXTYPE=default\n' >"$R/etc/selinux/config"
mods=()
for m in $(cat "$R/usr/share/selinux/default/.modules"); do mods+=(-i "$R/usr/share/selinux/default/$m.pp.bz2"); done
quiet() { grep -v 'not in password file' || true; }
semodule -p "$R" -s default -n -X 100 "${mods[@]}" 2>&1 | quiet
# The module, linked and expanded against all of refpolicy (what `semodule -X 200 -i` does).
if ! semodule -p "$R" -s default -n -X 200 -i bridle.pp >link.log 2>&1; then
    quiet <link.log
    echo "FAIL selinux.link: semodule -X 200 -i bridle.pp (expand-check=1)"
    exit 1
fi
echo "PASS selinux.link"
check selinux.listed sh -c "semodule -p '$R' -s default -l | grep -qx bridle"

P=$(ls "$R"/etc/selinux/default/policy/policy.*)
FC=$R/etc/selinux/default/contexts/files/file_contexts
check selinux.transition.unconfined sh -c "sesearch -T -s unconfined_t -t bridle_exec_t -c process '$P' | grep -q bridle_t"
check selinux.transition.commands sh -c "sesearch -T -s bridle_t -t bin_t -c process '$P' | grep -q bridle_command_t"
check selinux.nnp-transition sh -c "sesearch -A -s bridle_t -t bridle_command_t -c process2 '$P' | grep -q nnp_transition"
check selinux.sshd-reads-keys sh -c "sesearch -A -s sshd_t -t bridle_keys_t -c file -p read '$P' | grep -q read"
check selinux.commands-cannot-write-etc sh -c "! sesearch -A -s bridle_command_t -t etc_t -c file -p write '$P' | grep -q write"
check selinux.commands-cannot-read-shadow sh -c "! sesearch -A -s bridle_command_t -t shadow_t -c file -p read '$P' | grep -q read"
check selinux.bridle-starts-bridle-full sh -c "sesearch -A -s bridle_t -t bridle_exec_t -c file -p execute_no_trans '$P' | grep -q execute_no_trans"
check selinux.fc.binary grep -q '^/usr/bin/bridle.*bridle_exec_t' "$FC"
check selinux.fc.binary-full grep -q '^/usr/bin/bridle-full.*bridle_exec_t' "$FC"
check selinux.fc.keys grep -q '^/etc/bridle/authorized_keys.*bridle_keys_t' "$FC"
echo "selinux: $((checks - failures + 2)) passed, $failures failed"   # + build and link
((failures == 0))
