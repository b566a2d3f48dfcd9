// SPDX-License-Identifier: Apache-2.0
// read_file and write_file (file_tools.hpp): schemas, argument checks, results. The gate decides
// and does everything; these only translate.
#include "session/file_tools.hpp"

#include <array>

#include "common/text.hpp"

namespace bridle::session::tools {
namespace {

constexpr const char* kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Json path_property() {
    return Json{{"type", "string"},
                {"description",
                 "The file's absolute path, without . or .. (list_allowed_commands shows the "
                 "files you may read and write)."}};
}

bool valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::optional<CodePoint> cp = decode_utf8(text, i);
        if (!cp) return false;
        i += cp->length;
    }
    return true;
}

Json file_output_schema(bool read) {
    Json properties = {{"status",
                        {{"type", "string"},
                         {"enum", {"ok", "denied", "refused", "failed", "then-failed", "error"}}}},
                       {"path", {{"type", "string"}}},
                       {"message", {{"type", "string"}}},
                       {"request_id", {{"type", "string"}}},
                       {"bridle_status", {{"type", "integer"}}}};
    if (read) {
        properties["content"] = {{"type", "string"}};
        properties["encoding"] = {{"type", "string"}, {"enum", {"utf-8", "base64"}}};
        properties["size"] = {{"type", "integer"},
                              {"description", "the whole file's size, when bridle knows it here"}};
        properties["offset"] = {{"type", "integer"}};
        properties["returned"] = {{"type", "integer"}};
        properties["more"] = {{"type", "boolean"},
                              {"description", "bytes follow: call again with offset + returned"}};
    } else {
        properties["old_sha256"] = {{"type", "string"}};
        properties["new_sha256"] = {{"type", "string"}};
        properties["size"] = {{"type", "integer"}};
        properties["kept_version"] = {
            {"type", "integer"},
            {"description",
             "the version that holds the content before: run_command [\"restore\", path, "
             "\"--version\", N] puts it back"}};
        properties["created"] = {{"type", "boolean"}};
        properties["validator"] = {{"type", "string"}};
        properties["validator_status"] = {{"type", "integer"}};
        properties["diff"] = {{"type", "string"}};
    }
    return Json{{"type", "object"}, {"properties", properties}, {"required", {"status"}}};
}

Json file_annotations(const char* title, bool read_only) {
    return Json{{"title", title},
                {"readOnlyHint", read_only},
                {"destructiveHint", !read_only},
                {"idempotentHint", read_only},
                {"openWorldHint", true}};
}

std::optional<std::uint64_t> count_of(const Json& value) {
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0) return std::nullopt;
    return value.get<std::uint64_t>();
}

}  // namespace

Json read_file_definition() {
    return Json{
        {"name", kReadFile},
        {"title", "Read a file on the host"},
        {"description",
         "Read a file that the host's bridle policy lets your key read (a files entry with "
         "access get). Returns at most 128 KiB per call as text, or base64 when the bytes are "
         "not UTF-8; `more` says whether to call again with a larger offset."},
        {"inputSchema",
         {{"type", "object"},
          {"properties",
           {{"path", path_property()},
            {"offset", {{"type", "integer"}, {"minimum", 0}}},
            {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxToolOutputBytes}}}}},
          {"required", {"path"}},
          {"additionalProperties", false}}},
        {"outputSchema", file_output_schema(true)},
        {"annotations", file_annotations("Read a file on the host", true)}};
}

Json write_file_definition() {
    return Json{
        {"name", kWriteFile},
        {"title", "Write a file on the host"},
        {"description",
         "Replace (or create, where allowed) a file that the host's bridle policy lets your key "
         "write (a files entry with access put). The write is atomic, checked by the entry's "
         "validator before it takes effect (a rejected content leaves the file as it was), and "
         "the old content is kept: the result's kept_version, and run_command [\"versions\", "
         "path] / [\"restore\", path] to list or put back earlier contents."},
        {"inputSchema",
         {{"type", "object"},
          {"properties",
           {{"path", path_property()},
            {"content", {{"type", "string"}, {"description", "the new content, as text"}}},
            {"content_base64",
             {{"type", "string"}, {"description", "or the new content's bytes, base64"}}},
            {"then",
             {{"type", "string"},
              {"description",
               "a rule to run once the file is in place (a reload), one the entry allows"}}},
            {"mode",
             {{"type", "string"},
              {"pattern", "^[0-7]{3,4}$"},
              {"description", "octal, e.g. \"0640\"; only modes the entry allows"}}}}},
          {"required", {"path"}},
          {"additionalProperties", false}}},
        {"outputSchema", file_output_schema(false)},
        {"annotations", file_annotations("Write a file on the host", false)}};
}

Result<FileArgs> parse_file_args(const std::string& tool, const Json& arguments) {
    if (!arguments.is_object()) return Error{tool + " needs its arguments: at least path", ""};
    const bool read = tool == kReadFile;
    for (const auto& [name, value] : arguments.items()) {
        const bool known =
            name == "path" || (read ? name == "offset" || name == "limit"
                                    : name == "content" || name == "content_base64" ||
                                          name == "mode" || name == "then");
        if (!known) return Error{tool + " has no argument " + quote_text(name, 40), ""};
    }
    const auto path = arguments.find("path");
    if (path == arguments.end() || !path->is_string()) {
        return Error{tool + " needs path, the file's absolute path, as a string", ""};
    }
    FileArgs args;
    args.argv = {read ? "get" : "put", path->get<std::string>()};
    if (read) {
        std::uint64_t limit = kMaxToolOutputBytes;
        if (const auto l = arguments.find("limit"); l != arguments.end()) {
            const std::optional<std::uint64_t> n = count_of(*l);
            if (!n || *n == 0 || *n > kMaxToolOutputBytes) {
                return Error{
                    "limit must be a whole number from 1 to " + std::to_string(kMaxToolOutputBytes),
                    ""};
            }
            limit = *n;
        }
        if (const auto o = arguments.find("offset"); o != arguments.end()) {
            const std::optional<std::uint64_t> n = count_of(*o);
            if (!n) return Error{"offset must be a whole number of bytes, 0 or more", ""};
            args.argv.push_back("--offset=" + std::to_string(*n));
        }
        args.argv.push_back("--limit=" + std::to_string(limit));
        return args;
    }
    const auto text = arguments.find("content");
    const auto b64 = arguments.find("content_base64");
    if ((text == arguments.end()) == (b64 == arguments.end())) {
        return Error{"write_file needs exactly one of content (text) and content_base64", ""};
    }
    if (text != arguments.end()) {
        if (!text->is_string()) return Error{"content must be a string", ""};
        args.content = text->get<std::string>();
    } else {
        if (!b64->is_string()) return Error{"content_base64 must be a string", ""};
        args.content = base64_decode(b64->get<std::string>());
        if (!args.content) return Error{"content_base64 is not valid base64", ""};
    }
    if (const auto m = arguments.find("mode"); m != arguments.end()) {
        if (!m->is_string())
            return Error{"mode must be a string of octal digits, e.g. \"0640\"", ""};
        args.argv.push_back("--mode=" + m->get<std::string>());
    }
    if (const auto t = arguments.find("then"); t != arguments.end()) {
        if (!t->is_string()) return Error{"then must be a rule id, as a string", ""};
        args.argv.push_back("--then=" + t->get<std::string>());
    }
    args.argv.push_back("--size=" + std::to_string(args.content->size()));
    return args;
}

Json file_outcome_json(const gate::FileOutcome& f) {
    return Json{{"verb", f.verb},
                {"path", f.path},
                {"status", f.status},
                {"old_sha256", f.old_sha256},
                {"new_sha256", f.new_sha256},
                {"size", f.size},
                {"offset", f.offset},
                {"sent", f.sent},
                {"limit", f.limit},
                {"size_known", f.size_known},
                {"kept_version", f.kept_version},
                {"created", f.created},
                {"diff", f.diff},
                {"validator", f.validator},
                {"validator_status", f.validator_status},
                {"then", f.then},
                {"then_status", f.then_status}};
}

Json file_result(const std::string& tool, const CallReport& c) {
    const Json& f = c.file;
    std::string status = f.is_object() ? f.value("status", std::string("error")) : "error";
    if (!c.allowed && c.kind == gate::Kind::kDenied) status = "denied";
    if (c.kind == gate::Kind::kUnparsable) status = "denied";
    if (c.kind == gate::Kind::kUnaudited) status = "error";
    // Through sudo, the target side's words (what it wrote, its digests) are its stderr.
    std::string message = c.stderr_text + c.message;
    Json s{{"status", status},
           {"message", message},
           {"request_id", c.request_id},
           {"bridle_status", c.exit_status}};
    if (f.is_object()) s["path"] = f.value("path", std::string());
    std::string text;
    if (tool == kReadFile && status == "ok") {
        const std::string& bytes = c.stdout_text;
        const bool utf8 = valid_utf8(bytes);
        s["content"] = utf8 ? bytes : base64_encode(bytes);
        s["encoding"] = utf8 ? "utf-8" : "base64";
        const std::uint64_t offset = f.value("offset", std::uint64_t{0});
        s["offset"] = offset;
        s["returned"] = bytes.size();
        if (f.value("size_known", true)) {
            s["size"] = f.value("size", std::uint64_t{0});
            s["more"] = offset + bytes.size() < f.value("size", std::uint64_t{0});
        } else {
            // Through sudo the size is the target side's: a full read means there may be more.
            s["more"] = bytes.size() >= f.value("limit", std::uint64_t{0});
        }
        text = utf8 ? bytes
                    : "[" + std::to_string(bytes.size()) +
                          " bytes, not UTF-8: see structuredContent.content (base64)]\n";
    } else if (tool == kWriteFile && f.is_object()) {
        for (const char* key : {"old_sha256", "new_sha256", "diff", "validator"}) {
            const std::string value = f.value(key, std::string());
            if (!value.empty()) s[key] = value;
        }
        if (status == "ok") {
            s["size"] = f.value("size", std::uint64_t{0});
            s["created"] = f.value("created", false);
        }
        if (f.value("kept_version", 0) != 0) s["kept_version"] = f.value("kept_version", 0);
        if (!f.value("then", std::string()).empty()) {
            s["then"] = f.value("then", std::string());
            s["then_status"] = f.value("then_status", -1);
        }
        if (f.value("validator_status", -1) >= 0)
            s["validator_status"] = f.value("validator_status", -1);
    }
    if (!c.reason.empty()) s["reason"] = c.reason;
    if (!c.usage.empty()) s["usage"] = c.usage;
    text += message;
    return Json{{"content", Json::array({Json{{"type", "text"}, {"text", text}}})},
                {"structuredContent", s},
                {"isError", status != "ok"}};
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
        if (i + 1 < bytes.size())
            n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::array<int, 256> value{};
    value.fill(-1);
    for (int i = 0; i < 64; ++i) value[static_cast<unsigned char>(kAlphabet[i])] = i;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        std::uint32_t n = 0;
        int pad = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = text[i + j];
            if (c == '=' && last && j >= 2 && (pad > 0 || j == 2 || text[i + 3] == '=')) {
                ++pad;
                n <<= 6;
                continue;
            }
            const int v = value[static_cast<unsigned char>(c)];
            if (v < 0 || pad > 0) return std::nullopt;
            n = (n << 6) | static_cast<std::uint32_t>(v);
        }
        out += static_cast<char>((n >> 16) & 0xff);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(n & 0xff);
    }
    return out;
}

}  // namespace bridle::session::tools
