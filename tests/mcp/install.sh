# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Sourced by the integration tests that drive bridle with the official MCP SDKs
# (mcp_session.sh, files.sh), before the harness enters its namespaces: the SDKs come from npm,
# installed into the build dir from the committed lock file, with the npm cache in the build
# dir (reruns stay offline); the client scripts are copied beside them. Sets and exports
# BRIDLE_MCP_DIR; returns non-zero (after a FAIL line) when that cannot be done.
MCP_SRC=$(realpath "$(dirname "${BASH_SOURCE[0]}")")
: "${BRIDLE_MCP_DIR:=$(dirname "$(realpath "${BRIDLE:-$MCP_SRC/../../build/dev/bridle}")")/tests/mcp}"
export BRIDLE_MCP_DIR
if ! command -v node >/dev/null || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
    echo "FAIL mcp: node 20 or later is needed for the MCP SDKs (install/deps.sh installs it)"
    return 1
fi
mkdir -p "$BRIDLE_MCP_DIR" || return 1
mcp_stamp=$(cat "$MCP_SRC/package.json" "$MCP_SRC/package-lock.json" | sha256sum | cut -d' ' -f1)
# One install at a time: two tests may start it together (ctest -j).
exec {mcp_lock}>"$BRIDLE_MCP_DIR/.lock" && flock "$mcp_lock" || return 1
if [[ $(cat "$BRIDLE_MCP_DIR/.installed" 2>/dev/null) != "$mcp_stamp" ]]; then
    cp "$MCP_SRC/package.json" "$MCP_SRC/package-lock.json" "$BRIDLE_MCP_DIR/"
    if ! (cd "$BRIDLE_MCP_DIR" && npm ci --cache "$BRIDLE_MCP_DIR/.npm-cache" --prefer-offline \
            --no-audit --no-fund >npm.log 2>&1); then
        echo "FAIL mcp: npm ci failed:"
        tail -n 20 "$BRIDLE_MCP_DIR/npm.log"
        exec {mcp_lock}>&-
        return 1
    fi
    echo "$mcp_stamp" >"$BRIDLE_MCP_DIR/.installed"
fi
cp "$MCP_SRC"/*.mjs "$BRIDLE_MCP_DIR/"
exec {mcp_lock}>&-
return 0
