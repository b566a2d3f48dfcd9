# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by mcp.sh and mcp_ab.sh, inside the harness's namespaces (after sourcing
# tests/support/harness.sh): the integration policy plus one rule for /bin/true, as the other
# benchmarks use it, and tests/bench/floor.c (the bare fork+exec and the floors of a sandboxed
# start) built as $IT_ROOT/bin/floor, beside bridle, where the session's account can run it.
# It is linked as issue 17's reference always was (dynamically, as `cc` links by default).
bench_mcp_setup() {
    harness_setup
    {
        cat "$BENCH_SOURCE_DIR/tests/integration/policies/basic.yaml"
        printf '%s\n' "  - id: bench-true" "    command: /bin/true"
    } >"$IT_WORK/bench-policy.yaml"
    install_policy "$IT_WORK/bench-policy.yaml"
    cc -O2 -o "$IT_ROOT/bin/floor" "$BENCH_SOURCE_DIR/tests/bench/floor.c" ||
        { echo "FAIL: cannot build floor.c"; exit 1; }
}

# The direct session's command line in BENCH_DIRECT: bridle ($1, default $IT_BRIDLE) started
# as sshd starts the key's forced command (the account, its groups, sshd's environment), its
# stdio the client's pipes.
bench_direct_command() {
    # shellcheck disable=SC2034  # read by the caller
    BENCH_DIRECT=(setpriv --reuid="$IT_UID" --regid="$(id -g "$IT_USER")" --init-groups
        env -i "USER=$IT_USER" "LOGNAME=$IT_USER" "HOME=/nonexistent" "PATH=/usr/bin:/bin"
        "SHELL=/bin/sh" "SSH_CONNECTION=127.0.0.1 40000 127.0.0.1 22" "SSH_ORIGINAL_COMMAND=mcp"
        "${1:-$IT_BRIDLE}" --key it-key --policy "$IT_POLICY")
}
