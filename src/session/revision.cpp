// SPDX-License-Identifier: Apache-2.0
// MCP protocol revisions of a session: classifying each request by its `_meta` envelope and
// shaping results for 2026-07-28. The rules follow the official v2 SDK's inbound ladder
// (@modelcontextprotocol/client 2.4.0, inboundClassification): a wrong version (-32022) and
// a malformed envelope (-32602) are answered before the method is looked at, and a request
// that claims 2026-07-28 is never silently served as legacy traffic.
#include "session/revision.hpp"

#include <utility>

#include "common/text.hpp"

namespace bridle::session::revision {
namespace {

using jsonrpc::ErrorCode;

constexpr std::size_t kMaxEchoedChars = 100;  // of a client's version string, in errors

Refusal invalid_envelope(std::string why) {
    return Refusal{ErrorCode::kInvalidParams,
                   "Invalid params: " + std::move(why) + " (revision " + kModernVersion +
                       ": every request carries params._meta with " + kProtocolVersionKey +
                       " and " + kClientCapabilitiesKey + ")",
                   nullptr};
}

}  // namespace

Json supported_versions() {
    Json versions = Json::array({kModernVersion});
    for (const char* v : kLegacyVersions) versions.push_back(v);
    return versions;
}

bool is_modern_method(const std::string& method) {
    // Of the 2026-07-28 registry, what bridle serves: tools and discovery. prompts/*,
    // resources/*, completion/complete and subscriptions/listen are not offered (the
    // capabilities say so), so they are method-not-found like any unknown method.
    return method == "server/discover" || method == "tools/list" || method == "tools/call";
}

Classification classify(const std::string& method, const Json& params) {
    const Json* meta = nullptr;
    if (params.is_object()) {
        const auto it = params.find("_meta");
        if (it != params.end()) meta = &*it;
    }
    const bool claims_version =
        meta != nullptr && meta->is_object() && meta->contains(kProtocolVersionKey);
    if (!claims_version) {
        if (method == "server/discover") {
            return {Era::kModern, invalid_envelope(meta == nullptr ? "server/discover has no _meta"
                                                                   : "server/discover's _meta "
                                                                     "names no protocol version")};
        }
        return {Era::kLegacy, std::nullopt};
    }

    const Json& version = (*meta)[kProtocolVersionKey];
    if (!version.is_string()) {
        return {Era::kModern,
                invalid_envelope(std::string(kProtocolVersionKey) + " must be a string")};
    }
    const std::string requested = version.get<std::string>();
    if (requested != kModernVersion) {
        // The 2025 revisions exist too, but through initialize, not per request: a client
        // that names one here is told what it can do either way.
        const std::string shown = escape_text(requested, kMaxEchoedChars);
        return {Era::kModern,
                Refusal{ErrorCode::kUnsupportedProtocolVersion,
                        "Unsupported protocol version: " + shown + " (per request, bridle serves " +
                            kModernVersion + "; 2025-11-25 and 2025-06-18 through initialize)",
                        Json{{"supported", supported_versions()},
                             {"requested", requested.substr(0, kMaxEchoedChars)}}}};
    }
    const auto capabilities = meta->find(kClientCapabilitiesKey);
    if (capabilities == meta->end()) {
        return {Era::kModern,
                invalid_envelope(std::string("_meta has no ") + kClientCapabilitiesKey)};
    }
    if (!capabilities->is_object()) {
        return {Era::kModern,
                invalid_envelope(std::string(kClientCapabilitiesKey) + " must be an object")};
    }
    const auto info = meta->find(kClientInfoKey);
    if (info != meta->end() && !info->is_object()) {
        return {Era::kModern, invalid_envelope(std::string(kClientInfoKey) + " must be an object")};
    }
    return {Era::kModern, std::nullopt};
}

Json shape_result(Json result, Era era, bool cacheable, const Json& server_info) {
    if (era == Era::kLegacy) return result;
    result["resultType"] = "complete";
    if (cacheable) {
        result["ttlMs"] = kListTtlMs;
        result["cacheScope"] = kCacheScope;
    }
    // Servers SHOULD name themselves on every 2026-07-28 response (ResultMetaObject).
    result["_meta"][kServerInfoKey] = server_info;
    return result;
}

Json discover_result(const Json& server_info, const std::string& instructions) {
    // The Tasks extension (SEP-2663): run_command's background runs as tasks/get polls them.
    Json result{{"supportedVersions", supported_versions()},
                {"capabilities",
                 {{"tools", {{"listChanged", false}}},
                  {"extensions", {{"io.modelcontextprotocol/tasks", Json::object()}}}}},
                {"instructions", instructions}};
    return shape_result(std::move(result), Era::kModern, true, server_info);
}

}  // namespace bridle::session::revision
