// SPDX-License-Identifier: Apache-2.0
// File requests against `files:` entries: parse the words, canonicalise the path through the
// resolver, refuse protected paths, then the first entry that takes the request decides.
#include "matching/file_match.hpp"

#include <fnmatch.h>

#include <algorithm>

#include "common/text.hpp"

namespace bridle::matching {
namespace {

using policy::FileRule;
using policy::FileVerb;

bool is_normal_absolute(const std::string& path) {
    if (path.size() < 2 || path.front() != '/' || path.back() == '/') return false;
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const std::string_view part(path.data() + start, end - start);
        if (part.empty() || part == "." || part == "..") return false;
        start = end + 1;
    }
    return true;
}

bool is_inside(const std::string& path, const std::string& dir) {
    if (dir == "/") return true;
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
           path[dir.size()] == '/';
}

std::optional<std::uint64_t> parse_count(const std::string& text) {
    if (text.empty() || text.size() > 19 || (text.size() > 1 && text.front() == '0')) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

std::optional<std::uint32_t> parse_mode(const std::string& text) {
    if (text.size() < 3 || text.size() > 4) return std::nullopt;
    std::uint32_t mode = 0;
    for (const char c : text) {
        if (c < '0' || c > '7') return std::nullopt;
        mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
    }
    return mode;
}

Error usage(const std::string& what) {
    return Error{what, ""};
}

// Which options each verb takes.
bool takes(FileVerb verb, const std::string& option) {
    switch (verb) {
        case FileVerb::kGet:
            return option == "--offset" || option == "--limit";
        case FileVerb::kPut:
            return option == "--mode" || option == "--size" || option == "--then";
        case FileVerb::kRestore:
            return option == "--version" || option == "--then";
        case FileVerb::kVersions:
        default:
            return false;
    }
}

Status set_option(FileRequest& r, const std::string& option, const std::string& value) {
    const std::string bad = "the value of " + option + " " + quote_text(value, 40);
    if (option == "--then") {
        r.then = value;  // checked against the entry's `then` once an entry takes the path
    } else if (option == "--mode") {
        r.mode = parse_mode(value);
        if (!r.mode) return usage(bad + " is not an octal file mode such as 0644");
    } else if (option == "--version") {
        const std::optional<std::uint64_t> n = parse_count(value);
        if (!n || *n == 0 || *n > 1'000'000) return usage(bad + " is not a version number");
        r.version = static_cast<std::uint32_t>(*n);
    } else {
        const std::optional<std::uint64_t> n = parse_count(value);
        if (!n) return usage(bad + " is not a decimal number of bytes");
        if (option == "--size") {
            r.size = *n;
        } else if (option == "--limit") {
            r.limit = *n;
        } else {
            r.offset = *n;  // --offset
        }
    }
    return ok_status();
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& text, int flags) {
    return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
        return ::fnmatch(pattern.c_str(), text.c_str(), flags) == 0;
    });
}

// The entry's directory that holds `canonical`, or the parent for an exact path; empty when
// the entry does not take the path.
std::string root_for(const FileRule& rule, const std::string& canonical,
                     const std::string& directory, const std::string& name) {
    if (matches_any(rule.except, canonical, 0)) return "";
    if (std::find(rule.exact.begin(), rule.exact.end(), canonical) != rule.exact.end()) {
        return directory;
    }
    // FNM_PERIOD: `*` does not match a hidden name; a pattern that means one says so (".*").
    if (!rule.names.empty() && !matches_any(rule.names, name, FNM_PERIOD)) return "";
    for (const std::string& dir : rule.under) {
        if (is_inside(canonical, dir)) return dir;
    }
    return "";
}

}  // namespace

std::optional<FileVerb> file_verb(const std::string& word) {
    for (const FileVerb verb :
         {FileVerb::kGet, FileVerb::kPut, FileVerb::kVersions, FileVerb::kRestore}) {
        if (word == policy::file_verb_name(verb)) return verb;
    }
    return std::nullopt;
}

Result<FileRequest> parse_file_request(const std::vector<std::string>& argv) {
    if (argv.empty() || !file_verb(argv[0])) return usage("not a file request");
    FileRequest r;
    r.verb = *file_verb(argv[0]);
    const std::string verb = argv[0];
    std::vector<std::string> seen;
    bool have_path = false;
    for (std::size_t i = 1; i < argv.size(); ++i) {
        const std::string& word = argv[i];
        if (word.size() > 2 && word.compare(0, 2, "--") == 0) {
            const std::size_t eq = word.find('=');
            const std::string option = word.substr(0, eq);
            if (!takes(r.verb, option)) {
                return usage(verb + " has no option " + quote_text(option, 40));
            }
            if (std::find(seen.begin(), seen.end(), option) != seen.end()) {
                return usage(option + " is given twice");
            }
            seen.push_back(option);
            std::string value;
            if (eq != std::string::npos) {
                value = word.substr(eq + 1);
            } else if (i + 1 < argv.size()) {
                value = argv[++i];
            } else {
                return usage(option + " needs a value");
            }
            if (const Status s = set_option(r, option, value); !s) return s.error();
        } else if (!have_path) {
            r.path = word;
            have_path = true;
        } else {
            return usage(verb + " takes one path, not also " + quote_text(word, 80));
        }
    }
    if (!have_path) return usage(verb + " needs the file's path");
    if (!is_normal_absolute(r.path)) {
        return usage("the path " + quote_text(r.path, 200) +
                     " must be absolute, without ., .., // or a trailing /");
    }
    return r;
}

std::vector<std::string> normal_form(const FileRequest& r) {
    std::vector<std::string> words{policy::file_verb_name(r.verb), r.path};
    if (r.mode) words.push_back("--mode=" + policy::octal_mode(*r.mode));
    if (r.size) words.push_back("--size=" + std::to_string(*r.size));
    if (r.offset != 0) words.push_back("--offset=" + std::to_string(r.offset));
    if (r.limit) words.push_back("--limit=" + std::to_string(*r.limit));
    if (r.version) words.push_back("--version=" + std::to_string(*r.version));
    if (r.then) words.push_back("--then=" + *r.then);
    return words;
}

std::vector<std::string> protected_paths(const policy::Policy& policy, FileVerb verb,
                                         const std::string& own_executable) {
    std::vector<std::string> paths{"/var/lib/bridle", "/var/cache/bridle"};
    if (verb == FileVerb::kGet) return paths;
    paths.emplace_back("/etc/bridle");
    if (!own_executable.empty()) paths.push_back(own_executable);
    paths.insert(paths.end(), policy.files.begin(), policy.files.end());
    return paths;
}

FileDecision decide_file(const policy::Policy& policy, const std::vector<std::string>& argv,
                         const std::string& key, const PathResolver& resolver,
                         const std::vector<std::string>& protected_paths) {
    FileDecision d;
    Result<FileRequest> parsed = parse_file_request(argv);
    if (!parsed) {
        d.reason = parsed.error().message;
        return d;
    }
    d.request = std::move(parsed).value();
    const FileVerb verb = d.request.verb;
    const std::string& path = d.request.path;
    for (const FileRule& rule : policy.file_rules) {
        if (!rule.allows_key(key) || !rule.allows(verb)) continue;
        for (const std::string& synopsis : rule.synopses()) {
            if (d.nearest.size() < kMaxNearest &&
                synopsis.compare(0, argv[0].size() + 1, argv[0] + " ") == 0) {
                d.nearest.push_back(synopsis);
            }
        }
    }

    // The canonical path: `get` follows every link (the file read is what the link names, and
    // that is what must be allowed); the others resolve the directory only, and the name itself
    // is never followed (files/ refuses to write through or replace a link).
    const std::string quoted = quote_text(path, 200);
    std::string why;
    if (verb == FileVerb::kGet) {
        const std::optional<PathResolver::Resolved> file = resolver.resolve(path, why);
        if (!file) {
            d.reason = "file " + quoted + " " + why;
            return d;
        }
        if (!file->is_regular) {
            d.reason = "file " + quoted + " is not a regular file";
            return d;
        }
        d.canonical = file->canonical;
        d.exists = true;
    } else {
        const std::size_t slash = path.rfind('/');
        const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
        const std::optional<PathResolver::Resolved> dir = resolver.resolve(parent, why);
        if (!dir || !dir->is_directory) {
            d.reason = "directory " + quote_text(parent, 200) + " " +
                       (dir ? std::string("is not a directory") : why);
            return d;
        }
        d.canonical = (dir->canonical == "/" ? "" : dir->canonical) + path.substr(slash);
        std::string absent;
        d.exists = resolver.resolve(d.canonical, absent).has_value();
        if (!d.exists) {
            // A dangling symlink does not resolve, and is still there: files/ refuses it.
            d.exists = absent.rfind("does not exist", 0) != 0;
        }
    }
    const std::size_t slash = d.canonical.rfind('/');
    d.directory = slash == 0 ? "/" : d.canonical.substr(0, slash);
    d.name = d.canonical.substr(slash + 1);
    const std::string where =
        d.canonical == path ? quoted : quoted + " (" + quote_text(d.canonical, 200) + ")";

    for (const std::string& guarded : protected_paths) {
        if (d.canonical == guarded || is_inside(d.canonical, guarded)) {
            d.reason = "file " + where + " is bridle's own (" + guarded + "): no files entry can " +
                       (verb == FileVerb::kGet ? "read" : "change") + " it";
            d.nearest.clear();
            return d;
        }
    }
    for (const FileRule& rule : policy.file_rules) {
        if (!rule.allows_key(key) || !rule.allows(verb)) continue;
        const std::string root = root_for(rule, d.canonical, d.directory, d.name);
        if (root.empty()) continue;
        if (verb == FileVerb::kPut && !d.exists && !rule.create) {
            d.reason = "file " + where + " does not exist, and entry " + rule.id +
                       " may only replace existing files";
            return d;
        }
        if (d.request.size && *d.request.size > rule.max_size) {
            d.reason = "the content is " + std::to_string(*d.request.size) + " bytes; entry " +
                       rule.id + " takes at most " + std::to_string(rule.max_size);
            return d;
        }
        if (d.request.then &&
            std::find(rule.then.begin(), rule.then.end(), *d.request.then) == rule.then.end()) {
            std::string may;
            for (const std::string& t : rule.then) may += (may.empty() ? "" : ", ") + t;
            d.reason = "entry " + rule.id + " runs no rule " + quote_text(*d.request.then, 64) +
                       " after a write" + (may.empty() ? "" : " (it may run: " + may + ")");
            return d;
        }
        d.mode = d.request.mode.value_or(rule.mode);
        if (d.request.mode && *d.request.mode != rule.mode &&
            std::find(rule.modes.begin(), rule.modes.end(), *d.request.mode) == rule.modes.end()) {
            d.reason = "mode " + policy::octal_mode(*d.request.mode) + " is not one entry " +
                       rule.id + " allows";
            return d;
        }
        d.rule = &rule;
        d.root = root;
        d.verdict = Verdict::kAllow;
        d.reason.clear();
        return d;
    }
    d.reason =
        "no files entry lets this key " + std::string(policy::file_verb_name(verb)) + " " + where;
    return d;
}

}  // namespace bridle::matching
