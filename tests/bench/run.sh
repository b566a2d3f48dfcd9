#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bridle's benchmarks (issue 8): prints one table of medians, ratios and targets, all
# measured in this run. Needs root (the private journald runs in a mount namespace, as in the
# integration tests) and the restricted-ssh-commands package. Results and how to read them:
# docs/benchmarks.md.
#
# usage: tests/bench/run.sh [--build-dir DIR] [--runs N] [--no-build] [--out FILE] [--profile]
#   --build-dir DIR  release build to use/make (default /tmp/bridle-bench-build):
#                    RelWithDebInfo, BRIDLE_HARDEN=ON, as `cmake --preset release`
#   --runs N         process starts per command (default 300, after 30 warm-up rounds)
#   --no-build       use DIR as it is
#   --out FILE       also write the table (markdown) to FILE
#   --profile        also count the instructions of one decision at 1,000 and 10,000 rules
#                    under callgrind (repeatable where wall time is not; adds ~3 minutes)
#
# What is measured:
#   1. whole-process latency: /bin/true run directly, through `/bin/sh -c`, through
#      restricted-ssh-commands with the equivalent rule (^/bin/true$), and through bridle
#      (default policy plus one rule for /bin/true, compiled into the policy cache as the
#      package does; audit on, to a private journald). Each is
#      started the way sshd starts a forced command: a fresh process as an unprivileged user
#      (nobody) with sshd's environment and SSH_ORIGINAL_COMMAND set, stdio on /dev/null. sshd
#      itself and the login shell it puts in front of every forced command are left out (the
#      same for all of them); `bridle via /bin/sh -c` shows that shell's cost once.
#      Commands run in rounds, in a new order each (tests/bench/spawn_bench.cpp). In the same rounds, the floor
#      (tests/bench/floor.c): a small static C program that starts, denies and allows with the
#      same mechanisms and none of bridle's code, so that the report can say which of issue
#      20's targets this machine allows at all. And bridle linked at a fixed address
#      (tests/bench/CMakeLists.txt, bench_front_fixed; where bridle is static-pie): what position
#      independence, and so the randomization of bridle's code and data addresses, costs.
#   2. policy scaling: load and decide with 10 .. 10,000 generated rules
#      (tests/bench/bench_policy.cpp), in-process.
#   3. peak RSS (VmHWM) of the bridle process while it supervises `sleep 1`.
#   4. redaction cost per MiB of output: one stream's redactor against a plain copy of the same
#      bytes, in 64 KiB reads, in-process (tests/bench/bench_redaction.cpp).
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BENCH_SOURCE_DIR:=$(cd "$BENCH_DIR/../.." && pwd)}"

if [[ -z ${BRIDLE_IT_INSIDE:-} ]]; then
    # ---------------------------------------------------------------- outside: build, scaling
    build_dir=/tmp/bridle-bench-build
    runs=300
    build=1
    out=
    profile=0
    while (($#)); do
        case $1 in
            --build-dir) build_dir=$2; shift 2 ;;
            --runs) runs=$2; shift 2 ;;
            --no-build) build=0; shift ;;
            --out) out=$(realpath -m "$2"); shift 2 ;;
            --profile) profile=1; shift ;;
            -h|--help) sed -n '3,30p' "$0"; exit 0 ;;
            *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
        esac
    done
    if [[ $EUID -ne 0 ]]; then
        echo "run.sh: needs root (private journald in a mount namespace, like the integration tests)" >&2
        exit 1
    fi
    if [[ ! -x /usr/lib/restricted-ssh-commands ]]; then
        echo "run.sh: install the restricted-ssh-commands package (the comparison)" >&2
        exit 1
    fi
    if ((build)); then
        echo "== release build in $build_dir" >&2
        mkdir -p "$build_dir" || exit 1
        cmake -S "$BENCH_SOURCE_DIR" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRIDLE_HARDEN=ON \
            -DBRIDLE_FUZZ_IN_CTEST=OFF >"$build_dir/bench-configure.log" 2>&1 ||
            { cat "$build_dir/bench-configure.log"; exit 1; }
        cmake --build "$build_dir" --parallel "$(nproc)" --target bridle bench_policy spawn_bench bench_redaction \
            >"$build_dir/bench-build.log" 2>&1 || { tail -n 40 "$build_dir/bench-build.log"; exit 1; }
        # Only where bridle is static-pie (CMakeLists.txt); the rows that need it are left out
        # without it.
        if cmake --build "$build_dir" --target help 2>/dev/null | grep -q bench_front_fixed; then
            cmake --build "$build_dir" --parallel "$(nproc)" --target bench_front_fixed \
                >>"$build_dir/bench-build.log" 2>&1 || { tail -n 40 "$build_dir/bench-build.log"; exit 1; }
        fi
    fi
    for program in bridle tests/bench/bench_policy tests/bench/spawn_bench tests/bench/bench_redaction; do
        [[ -x $build_dir/$program ]] || { echo "run.sh: $build_dir/$program is missing" >&2; exit 1; }
    done
    # The raw numbers stay in the build directory (the harness below re-executes this script,
    # so nothing after it could remove a directory of their own).
    results=$build_dir/bench-results
    rm -rf "$results" && mkdir -p "$results" || exit 1
    chmod 0755 "$results"
    # The floor (tests/bench/floor.c): the mechanisms alone, static, measured beside bridle.
    cc -O2 -static -o "$results/floor" "$BENCH_DIR/floor.c" || { echo "run.sh: cannot build floor.c" >&2; exit 1; }
    echo "== policy scaling (bench_policy)" >&2
    "$build_dir/tests/bench/bench_policy" >"$results/scaling.txt" || exit 1
    echo "== redaction cost per MiB (bench_redaction)" >&2
    "$build_dir/tests/bench/bench_redaction" >"$results/redaction.txt" || exit 1
    if ((profile)); then
        echo "== instructions per decision (callgrind)" >&2
        for spec in same:1000 same:10000 spread:1000 spread:10000; do
            # bench_policy --callgrind decides the allow and the deny request 100 times each;
            # only matching::decide is counted.
            valgrind --tool=callgrind --callgrind-out-file="$results/callgrind.${spec/:/-}" \
                --toggle-collect='bridle::matching::decide*' \
                "$build_dir/tests/bench/bench_policy" --callgrind "$spec" >/dev/null 2>"$results/callgrind.log" ||
                { cat "$results/callgrind.log"; exit 1; }
            echo "$spec $(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$results/callgrind.log")"
        done >"$results/instructions.txt"
    fi
    export BENCH_BUILD=$build_dir BENCH_RUNS=$runs BENCH_RESULTS=$results BENCH_OUT=$out BENCH_SOURCE_DIR
    export BRIDLE=$build_dir/bridle BRIDLE_SOURCE_DIR=$BENCH_SOURCE_DIR
    echo "== process latency and RSS (private journald)" >&2
    # The harness re-executes this script inside private mount, PID and network namespaces.
    # shellcheck source=../support/harness.sh
    source "$BENCH_SOURCE_DIR/tests/support/harness.sh"
    exit 1   # not reached
fi

# -------------------------------------------------------------------- inside the namespaces
# shellcheck source=../support/harness.sh
source "$BENCH_SOURCE_DIR/tests/support/harness.sh"
it_setup_namespace
it_start_journald

bench_user=nobody
bench_root=/mnt/bench
install -d -m 0755 -o root -g root "$bench_root"
policy=$bench_root/policy.yaml
{
    cat "$BENCH_SOURCE_DIR/policy/default.yaml"
    printf '%s\n' "" "  # --- added by tests/bench/run.sh ---" \
        "  - id: bench-true" "    command: /bin/true" \
        "  - id: bench-sleep" "    command: /bin/sleep" "    args: [{name: seconds, int: [1, 5]}]"
} >"$policy"
chown root:root "$policy"
chmod 0644 "$policy"
# restricted-ssh-commands with the equivalent rule (the private /etc copy, not the host's).
install -d -m 0755 /etc/restricted-ssh-commands
echo '^/bin/true$' >/etc/restricted-ssh-commands/bench
chmod 0644 /etc/restricted-ssh-commands/bench

home=$(getent passwd "$bench_user" | cut -d: -f6)
# The environment sshd gives a forced command (less SSH_ORIGINAL_COMMAND, set per request).
sshd_vars=("USER=$bench_user" "LOGNAME=$bench_user" "HOME=$home" "PATH=/usr/bin:/bin" "SHELL=/bin/sh"
           "MAIL=/var/mail/$bench_user" "SSH_CLIENT=127.0.0.1 50000 22"
           "SSH_CONNECTION=127.0.0.1 50000 127.0.0.1 22")
sshd_env=()
for v in "${sshd_vars[@]}"; do sshd_env+=(-e "$v"); done
# The smallest policy that allows the same request: shows what the shipped policy's size costs.
minimal=$bench_root/minimal.yaml
printf '%s\n' "version: 1" "rules:" "  - id: bench-true" "    command: /bin/true" >"$minimal"
chmod 0644 "$minimal"
# As the package installs it: the policies compiled into root's cache (/var/cache is the
# harness's empty tmpfs). The same policy under a name never compiled shows what the YAML
# costs a whole request.
for compiled in "$policy" "$minimal"; do
    "$BRIDLE" check --compile --policy "$compiled" >"$BENCH_RESULTS/compile.txt" 2>&1 ||
        { echo "FAIL: bridle check --compile --policy $compiled"; cat "$BENCH_RESULTS/compile.txt"; exit 1; }
    # The floor reads the bench policy's compiled form (the first and then only one there).
    [[ -n ${policy_cache:-} ]] || policy_cache=$(compgen -G '/var/cache/bridle/policy-*.bin')
done
[[ -f $policy_cache ]] || { echo "FAIL: no compiled policy in /var/cache/bridle"; exit 1; }
floor=$BENCH_RESULTS/floor
uncompiled=$bench_root/policy-yaml.yaml
install -m 0644 -o root -g root "$policy" "$uncompiled"
bridle_cmd=("$BRIDLE" --key bench --policy "$policy")
# bridle linked at a fixed address, where the build has it: its denial and its start.
fixed=$BENCH_BUILD/tests/bench/bench_front_fixed
fixed_rows=()
if [[ -x $fixed ]]; then
    fixed_rows=(:: fixed-deny 77 "${sshd_env[@]}" -e "SSH_ORIGINAL_COMMAND=cat /etc/shadow" "$fixed" --key bench
                --policy "$policy" :: fixed-start 0 "${sshd_env[@]}" "$fixed" --version)
fi
# Rows after the first five break bridle's time down: process start alone (--version), start
# plus policy load and decision (bridle-full explain, started directly: no audit, nothing run,
# the YAML), the whole request with the one-rule policy, the whole request with the policy read
# from its YAML (no cache: bridle hands it to bridle-full), and the whole request behind the
# login shell sshd puts in front of it. The floor rows are
# the least a start, a denial and an allowed request can cost here (tests/bench/floor.c).
"$BENCH_BUILD/tests/bench/spawn_bench" --runs "$BENCH_RUNS" --warmup 30 --user "$bench_user" -- \
    direct 0 "${sshd_env[@]}" /bin/true :: \
    sh-c 0 "${sshd_env[@]}" /bin/sh -c /bin/true :: \
    rsc 0 "${sshd_env[@]}" -e SSH_ORIGINAL_COMMAND=/bin/true /usr/lib/restricted-ssh-commands bench :: \
    bridle 0 "${sshd_env[@]}" -e SSH_ORIGINAL_COMMAND=true "${bridle_cmd[@]}" :: \
    bridle-deny 77 "${sshd_env[@]}" -e "SSH_ORIGINAL_COMMAND=cat /etc/shadow" "${bridle_cmd[@]}" :: \
    bridle-start 0 "${sshd_env[@]}" "$BRIDLE" --version :: \
    bridle-explain 0 "${sshd_env[@]}" "$(dirname "$BRIDLE")/bridle-full" explain --policy "$policy" -- true :: \
    bridle-minimal 0 "${sshd_env[@]}" -e SSH_ORIGINAL_COMMAND=true "$BRIDLE" --key bench --policy "$minimal" :: \
    bridle-yaml 0 "${sshd_env[@]}" -e SSH_ORIGINAL_COMMAND=true "$BRIDLE" --key bench --policy "$uncompiled" :: \
    bridle-login-shell 0 "${sshd_env[@]}" -e SSH_ORIGINAL_COMMAND=true /bin/sh -c "${bridle_cmd[*]}" :: \
    floor-start 0 "${sshd_env[@]}" "$floor" start :: \
    floor-deny 77 "${sshd_env[@]}" "$floor" deny "$policy" "$policy_cache" :: \
    floor-allow 0 "${sshd_env[@]}" "$floor" allow "$policy" "$policy_cache" :: \
    floor-no-namespaces 0 "${sshd_env[@]}" "$floor" no-namespaces "$policy" "$policy_cache" \
    "${fixed_rows[@]}" >"$BENCH_RESULTS/latency.txt" || { echo "FAIL: spawn_bench"; exit 1; }

# Peak RSS while supervising: VmHWM of bridle, read while its `sleep 1` runs.
rss_once() {   # rss_once LABEL REQUEST PROGRAM...
    local label=$1 request=$2 pid child= i
    shift 2
    setpriv --reuid="$bench_user" --regid="$(id -g "$bench_user")" --clear-groups \
        env -i "${sshd_vars[@]}" SSH_ORIGINAL_COMMAND="$request" "$@" </dev/null >/dev/null 2>&1 &
    pid=$!
    for ((i = 0; i < 100; i++)); do
        child=$(pgrep -P "$pid" 2>/dev/null | head -n 1)
        [[ -n $child || $label == sleep ]] && break
        sleep 0.01
    done
    sleep 0.3   # well inside the second of `sleep 1`
    echo "$label $(awk '/^VmHWM|^VmRSS|^RssAnon|^RssFile/ {printf "%s=%s ", $1, $2}' "/proc/$pid/status")"
    if [[ $label == bridle-1 ]]; then
        # Where the resident pages are: Rss per mapping, largest first.
        awk '/^[0-9a-f]+-[0-9a-f]+ / {name = (NF >= 6 ? $6 : "[anon]")} /^Rss:/ {rss[name] += $2}
             END {for (n in rss) if (rss[n] > 0) printf "map %s %d\n", n, rss[n]}' "/proc/$pid/smaps" |
            sort -k3 -n -r >"$BENCH_RESULTS/smaps.txt"
    fi
    wait "$pid"
}
{
    for i in 1 2 3; do rss_once "bridle-$i" "sleep 1" "${bridle_cmd[@]}"; done
    rss_once sleep "" /bin/sleep 1
} >"$BENCH_RESULTS/rss.txt" 2>&1

"$IT_PYTHON" "$BENCH_SOURCE_DIR/tests/bench/report.py" "$BENCH_RESULTS" "${BENCH_OUT:-}"
status=$?
it_cleanup
exit $status
