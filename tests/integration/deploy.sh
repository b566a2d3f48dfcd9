# SPDX-License-Identifier: Apache-2.0
# Changing a host through the shipped example rules (issue 16, parts 3 and 4), through a real
# sshd, the real sudo and journald, with the policy as a host would have it: policy/default.yaml
# as /etc/bridle/policy.yaml, policy/examples/packages.yaml and deploy.yaml in
# /etc/bridle/policy.d (the package list narrowed to this test's package), and the drop-in from
# `bridle sudoers --install`. Checks:
# - deploys as `deploy`: `git -C /srv/app pull --ff-only` against a real remote (git daemon on
#   127.0.0.1 in the test's network namespace) updates the work tree as deploy and is audited
#   with every program git ran (BRIDLE_EXECS); a rewritten remote history is refused by git
#   (not a fast-forward), the work tree stays as it was, and both sides report it; any other
#   words are denied by bridle before sudo; systemctl restart app.service runs as deploy;
# - package installs as root: the real apt-get installs a package from a local repository
#   built here (dpkg-deb, dpkg-scanpackages, a file: source), its maintainer script runs, every
#   program that ran is in the target side's result record, an upgrade whose conffile the
#   admin changed keeps the admin's file without a prompt, and other packages or words are
#   denied. dpkg's and apt's state are overlays on tmpfs in the test's mount namespace, /srv a
#   tmpfs: the host's package database is checked byte for byte at the end.
# Guards against: run_as rules that run as the agent or as root, an exec log that misses
# programs, a pull that merges a diverged history, apt waiting for a conffile answer.
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
harness_setup

for tool in /usr/bin/sudo /usr/sbin/visudo /usr/bin/git /usr/lib/git-core/git-daemon \
    /usr/bin/dpkg-deb /usr/bin/dpkg-scanpackages /usr/bin/apt-get; do
    [[ -x $tool ]] || { fail setup.tools "$tool is missing (install/deps.sh)"; harness_finish; }
done

target_result() { rec_get "$1" BRIDLE_FRONT_END=sudo BRIDLE_EVENT=result; }

# ---- the shipped policy, as a host has it ----------------------------------------------------
install -d -m 0755 -o root -g root /etc/bridle /etc/bridle/policy.d
install -m 0644 -o root -g root "$BRIDLE_SOURCE_DIR/policy/default.yaml" /etc/bridle/policy.yaml
sed 's/enum: \[nginx, curl\]/enum: [bridle-hello, nginx]/' "$BRIDLE_SOURCE_DIR/policy/examples/packages.yaml" \
    >"$IT_WORK/40-packages.yaml"
assert_contains setup.narrowed "$(cat "$IT_WORK/40-packages.yaml")" "enum: [bridle-hello, nginx]"
install -m 0644 -o root -g root "$IT_WORK/40-packages.yaml" /etc/bridle/policy.d/40-packages.yaml
install -m 0644 -o root -g root "$BRIDLE_SOURCE_DIR/policy/examples/deploy.yaml" /etc/bridle/policy.d/50-deploy.yaml
check_out=$("$IT_BRIDLE" check 2>&1)
assert_eq check.status 0 "$?"
assert_contains check.warns-exec-log "$check_out" "sandbox 'deploy-git' runs commands without exec-once (the command may start other programs; each is recorded in BRIDLE_EXECS); used by deploy-pull"
explain_out=$("$IT_BRIDLE" explain -- 'git -C /srv/app pull --ff-only' 2>&1)
assert_contains explain.sandbox "$explain_out" "sandbox: deploy-git (seccomp: baseline; exec-once: no, execs logged;"
getent passwd deploy >/dev/null || useradd -M -N -d /srv/app -s /usr/sbin/nologin deploy ||
    { fail setup.deploy-user "useradd deploy failed"; harness_finish; }
"$IT_BRIDLE" sudoers --user "$IT_USER" --install >"$IT_WORK/sudoers.out" 2>&1
assert_eq sudoers.install "0" "$?"
dropin=$(cat /etc/sudoers.d/bridle)
assert_contains sudoers.pull "$dropin" "$IT_BRIDLE run-as deploy-pull -- git -C /srv/app pull --ff-only"
# The fixed -o words are the target side's to add (it re-checks the policy as root): sudo's line
# holds what the agent typed, one exact line per package.
assert_contains sudoers.install-line "$dropin" "$IT_BRIDLE run-as apt-install -- apt-get install -y bridle-hello"
assert_contains sudoers.install-line-nginx "$dropin" "$IT_BRIDLE run-as apt-install -- apt-get install -y nginx"
assert_contains sudoers.as-deploy "$dropin" "$IT_USER ALL = (deploy) NOPASSWD:"
# The key whose forced command reads the default policy (/etc/bridle: the harness's copy).
it_add_key shipped "restrict,command=\"$IT_BRIDLE --key it-key\""
export IT_KEY=shipped

# ---- part 4: the app, its remote on loopback, deploy's clone ----------------------------------
mount -n -t tmpfs -o mode=0755 bridle-it-srv /srv || { fail setup.srv "cannot mount /srv"; harness_finish; }
git_as() { local who=$1; shift; setpriv --reuid="$who" --regid="$(id -g "$who")" --init-groups \
    env -i HOME=/tmp PATH=/usr/bin:/bin GIT_CONFIG_NOSYSTEM=1 "$@"; }
mkdir -p /srv/remote "$IT_WORK/seed"
git init -q --bare -b main /srv/remote/app.git
(
    cd "$IT_WORK/seed" && export HOME=$IT_WORK GIT_CONFIG_NOSYSTEM=1 &&
        git init -q -b main && git config user.email it@invalid && git config user.name it &&
        echo v1 >VERSION && git add VERSION && git commit -qm v1 &&
        git remote add origin /srv/remote/app.git && git push -q origin main
) || fail setup.seed "could not seed the remote"
it_bg /usr/lib/git-core/git-daemon --reuseaddr --listen=127.0.0.1 --port=9418 --export-all \
    --base-path=/srv/remote /srv/remote
wait_until 10 git ls-remote git://127.0.0.1/app.git >/dev/null 2>&1 || fail setup.daemon "git daemon did not answer"
install -d -o deploy -g "$(id -g deploy)" -m 0755 /srv/app
git_as deploy git clone -q git://127.0.0.1/app.git /srv/app || fail setup.clone "deploy could not clone"
advance_remote() { # advance_remote FILE TEXT: a new commit on the remote's main
    (cd "$IT_WORK/seed" && export HOME=$IT_WORK GIT_CONFIG_NOSYSTEM=1 &&
        echo "$2" >"$1" && git add "$1" && git commit -qm "$2" && git push -q -f origin main)
}

# A fast-forward: the work tree moves, as deploy, and the record lists what git ran.
advance_remote VERSION v2
advance_remote NEWS "released v2"
bridle_ssh -- 'git -C /srv/app pull --ff-only'
assert_status pull.status 0
assert_eq pull.work-tree "v2" "$(cat /srv/app/VERSION)"
assert_eq pull.new-file-owner "deploy" "$(stat -c %U /srv/app/NEWS 2>&1)"
bridle_records >/dev/null
assert_eq pull.records "decisions 2 results 2" "decisions $REC_N_DECISION results $REC_N_RESULT"
assert_eq pull.user-side "deploy-pull deploy /usr/bin/sudo" \
    "$(rec decision BRIDLE_RULE) $(rec decision BRIDLE_RUN_AS) $(rec decision BRIDLE_SUDO)"
assert_eq pull.target-side "deploy deploy-git 0 0" \
    "$(target_result BRIDLE_RUN_AS) $(target_result BRIDLE_SANDBOX) $(target_result BRIDLE_EXEC_ONCE) $(target_result BRIDLE_EXIT_STATUS)"
assert_eq pull.trusted-uid "$(id -u deploy)" "$(rec_get _UID BRIDLE_FRONT_END=sudo BRIDLE_EVENT=result)"
execs=$(target_result BRIDLE_EXECS)
echo "note: the pull's BRIDLE_EXECS: $execs"
assert_eq pull.execs.first "/usr/bin/git" "$(jq_get "$execs" 'm[0]')"
# pull runs fetch and merge as programs of their own (git's exec path).
assert_eq pull.execs.fetch-and-merge "True" "$(jq_get "$execs" 'len(m) >= 2 and all(e.endswith("/git") for e in m)')"
assert_eq pull.execs.dropped "0" "$(target_result BRIDLE_EXECS_DROPPED)"

# Not a fast-forward: the remote's history was rewritten. git refuses; nothing changes.
(cd "$IT_WORK/seed" && export HOME=$IT_WORK GIT_CONFIG_NOSYSTEM=1 &&
    git reset -q --hard HEAD~2 && echo evil >VERSION && git commit -qam rewritten &&
    git push -q -f origin main) || fail setup.rewrite "could not rewrite the remote"
head_before=$(git_as deploy git -C /srv/app rev-parse HEAD)
bridle_ssh -- 'git -C /srv/app pull --ff-only'
assert_status non-ff.status 128
assert_contains non-ff.git-says "$SSH_ERR" "Not possible to fast-forward"
assert_eq non-ff.work-tree "v2 $head_before" "$(cat /srv/app/VERSION) $(git_as deploy git -C /srv/app rev-parse HEAD)"
bridle_records >/dev/null
assert_eq non-ff.reported "128 128" "$(rec result BRIDLE_EXIT_STATUS) $(target_result BRIDLE_EXIT_STATUS)"

# Other words never reach sudo.
for request in 'git -C /srv/app pull' 'git -C /srv/app pull --ff-only origin main' \
    'git -C /srv/app -c core.hooksPath=/tmp pull --ff-only' 'git -C /srv pull --ff-only' \
    'git -C /srv/app push --force' 'systemctl restart ssh.service' 'systemctl stop app.service'; do
    bridle_ssh -- "$request"
    assert_status "denied.status:$request" 77
    bridle_records >/dev/null
    assert_eq "denied.no-target-side:$request" "deny 0" \
        "$(rec decision BRIDLE_DECISION) $(rec_count BRIDLE_FRONT_END=sudo)"
done

# The restart runs as deploy (here systemd is not PID 1, so systemctl fails: its status is
# reported like any other; on a host, polkit decides).
bridle_ssh -- 'systemctl restart app.service'
bridle_records >/dev/null
assert_eq restart.target-side "deploy-restart deploy root-service" \
    "$(target_result BRIDLE_RULE) $(target_result BRIDLE_RUN_AS) $(target_result BRIDLE_SANDBOX)"
assert_eq restart.status-reported "$SSH_RC" "$(rec result BRIDLE_EXIT_STATUS)"

# ---- part 3: a local repository, apt's and dpkg's state as overlays ---------------------------
it_overlay_var_lib
host_dpkg_sum=$(it_host_dpkg_sum)
REPO=$IT_ROOT/repo
install -d -m 0755 "$REPO"
echo "deb [trusted=yes] file:$REPO ./" >/etc/apt/sources.list.d/bridle-it.list

# build_package VERSION CONF: bridle-hello VERSION, with /etc/bridle-hello.conf (a conffile)
# holding CONF, a file under /mnt, and a postinst that starts programs of its own.
build_package() {
    local root=$IT_WORK/pkg-$1
    mkdir -p "$root/DEBIAN" "$root/mnt/bridle-hello" "$root/etc"
    printf 'Package: bridle-hello\nVersion: %s\nArchitecture: all\nMaintainer: bridle tests <it@invalid>\nDescription: bridle integration test package\n' "$1" >"$root/DEBIAN/control"
    echo /etc/bridle-hello.conf >"$root/DEBIAN/conffiles"
    printf '#!/bin/sh\nset -e\n/usr/bin/touch /mnt/bridle-hello/configured\n/usr/bin/env true\n' >"$root/DEBIAN/postinst"
    chmod 0755 "$root/DEBIAN/postinst"
    echo "hello $1" >"$root/mnt/bridle-hello/hello.txt"
    echo "$2" >"$root/etc/bridle-hello.conf"
    dpkg-deb --root-owner-group -Zgzip --build "$root" "$REPO/bridle-hello_$1_all.deb" >/dev/null &&
        (cd "$REPO" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null >Packages) &&
        chmod -R a+rX "$REPO" && apt-get update -qq >"$IT_WORK/apt-update.log" 2>&1
}
build_package 1 "setting=1" || fail setup.package "$(cat "$IT_WORK/apt-update.log")"

IT_SSH_TIMEOUT=120 bridle_ssh -- 'apt-get install -y bridle-hello'
assert_status install.status 0
assert_eq install.installed "install ok installed 1" "$(dpkg-query -W -f '${Status} ${Version}' bridle-hello 2>&1)"
assert_eq install.files "hello 1 configured" "$(cat /mnt/bridle-hello/hello.txt) $(ls /mnt/bridle-hello/configured 2>/dev/null | sed 's|.*/||')"
bridle_records >/dev/null
assert_eq install.target-side "apt-install root root-packages 0" \
    "$(target_result BRIDLE_RULE) $(target_result BRIDLE_RUN_AS) $(target_result BRIDLE_SANDBOX) $(target_result BRIDLE_EXIT_STATUS)"
assert_contains install.exec-argv "$(rec_get BRIDLE_EXEC_ARGV BRIDLE_FRONT_END=sudo BRIDLE_EVENT=decision)" \
    '"apt-get","-o","Dpkg::Options::=--force-confdef","-o","Dpkg::Options::=--force-confold","install","-y","bridle-hello"'
execs=$(target_result BRIDLE_EXECS)
echo "note: the install's BRIDLE_EXECS: $execs"
for program in /usr/bin/apt-get /usr/bin/dpkg /var/lib/dpkg/info/bridle-hello.postinst /usr/bin/touch /usr/bin/env /usr/bin/true; do
    assert_eq "install.execs:$program" "True" "$(jq_get "$execs" "'$program' in m")"
done
assert_eq install.execs.order "True" \
    "$(jq_get "$execs" 'm[0] == "/usr/bin/apt-get" and m.index("/var/lib/dpkg/info/bridle-hello.postinst") < m.index("/usr/bin/touch")')"
assert_eq install.execs.dropped "0" "$(target_result BRIDLE_EXECS_DROPPED)"

# An upgrade whose conffile the admin changed: dpkg keeps the admin's version (--force-confold)
# and asks nothing; the new one is left beside it.
echo "setting=local" >/etc/bridle-hello.conf
build_package 2 "setting=2" || fail setup.package-2 "$(cat "$IT_WORK/apt-update.log")"
IT_SSH_TIMEOUT=120 bridle_ssh -- 'apt-get install -y bridle-hello'
assert_status upgrade.status 0
assert_eq upgrade.version "2" "$(dpkg-query -W -f '${Version}' bridle-hello 2>&1)"
assert_eq upgrade.conffile-kept "setting=local setting=2" \
    "$(cat /etc/bridle-hello.conf) $(cat /etc/bridle-hello.conf.dpkg-dist 2>&1)"

# Other packages, other words, other apt commands: denied before sudo.
for request in 'apt-get install -y bridle-hello-evil' 'apt-get install bridle-hello' \
    'apt-get install -y bridle-hello nginx' 'apt-get remove -y bridle-hello' \
    'apt-get install -y ./evil.deb' 'apt-get -o APT::Update::Pre-Invoke::=id install -y nginx'; do
    bridle_ssh -- "$request"
    assert_status "apt-denied.status:$request" 77
done

# The host's package database is as it was.
assert_eq host.dpkg-untouched "$host_dpkg_sum" "$(it_host_dpkg_sum)"
assert_eq host.no-package "" "$(grep -l '^Package: bridle-hello$' "$IT_WORK/host-dpkg/status")"
assert_absent host.no-lists "$IT_WORK/host-apt/lists/_mnt_bridle_repo_._Packages"

harness_finish
