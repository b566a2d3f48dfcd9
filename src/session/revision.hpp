// SPDX-License-Identifier: Apache-2.0
// MCP protocol revisions: which one governs a request (2026-07-28 per request, from its
// `_meta` envelope; the 2025 ones through initialize) and how a result is shaped for it.
// Pure: no OS calls, nothing here throws.
#pragma once

#include <optional>
#include <string>

#include "session/jsonrpc.hpp"

namespace bridle::session::revision {

using jsonrpc::Json;

// The stateless revision: no initialize, every request carries its version and the client's
// capabilities in params._meta, server/discover says what the server speaks.
inline constexpr const char* kModernVersion = "2026-07-28";
// The revisions served through the initialize handshake, newest first.
inline constexpr const char* kLegacyVersions[] = {"2025-11-25", "2025-06-18"};

// The reserved `_meta` keys of 2026-07-28 (basic/index: "Request _meta").
inline constexpr const char* kProtocolVersionKey = "io.modelcontextprotocol/protocolVersion";
inline constexpr const char* kClientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities";
inline constexpr const char* kClientInfoKey = "io.modelcontextprotocol/clientInfo";
inline constexpr const char* kServerInfoKey = "io.modelcontextprotocol/serverInfo";

// How long a client may cache server/discover and tools/list: both are fixed for a bridle
// build (the tool definitions are compiled in; what a key may run is list_allowed_commands,
// which is a tool call and never cached). "private": the answer is behind an SSH key.
inline constexpr int kListTtlMs = 3'600'000;
inline constexpr const char* kCacheScope = "private";

enum class Era {
    kLegacy,  // no envelope: the session's initialize decides (2025-11-25, 2025-06-18)
    kModern,  // a valid 2026-07-28 envelope: this request stands on its own
};

// A request bridle must refuse before looking at its method (the 2026 ladder: version and
// envelope outrank method-not-found).
struct Refusal {
    jsonrpc::ErrorCode code = jsonrpc::ErrorCode::kInvalidParams;
    std::string message;
    Json data;  // null: none
};

struct Classification {
    Era era = Era::kLegacy;
    std::optional<Refusal> refusal;
};

// Every revision bridle speaks, newest first (server/discover's supportedVersions and the
// data of an unsupported-version error).
Json supported_versions();

// The era of one request from its method and params (an object or null). A request whose
// `_meta` names a protocol version is modern: the version must be 2026-07-28 and the
// envelope complete, or it is refused. server/discover exists only in 2026-07-28, so
// without an envelope it is refused too. Anything else is legacy traffic, as before.
Classification classify(const std::string& method, const Json& params);

// The methods a 2026-07-28 request may call (its registry: no initialize, no ping).
bool is_modern_method(const std::string& method);

// A successful result as `era` shapes it: 2026-07-28 adds resultType "complete" and the
// server's identity under `_meta`, and list results (`cacheable`) their ttlMs/cacheScope.
// Legacy results are returned unchanged.
Json shape_result(Json result, Era era, bool cacheable, const Json& server_info);

// The server/discover result: versions, capabilities, instructions, cache hints, identity.
Json discover_result(const Json& server_info, const std::string& instructions);

}  // namespace bridle::session::revision
