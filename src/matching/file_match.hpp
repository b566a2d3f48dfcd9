// SPDX-License-Identifier: Apache-2.0
// A file request (`get`, `put`, `versions`, `restore`) against the policy's `files:` entries.
// Pure: the file system is reached only through PathResolver, and what is decided here is
// checked again on the descriptors when the file is opened (files/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "matching/matcher.hpp"
#include "policy/model.hpp"

namespace bridle::matching {

// A file request as the client spelled it: the verb, the path, then options in any order,
// each at most once, as "--mode 0640" or "--mode=0640".
struct FileRequest {
    policy::FileVerb verb = policy::FileVerb::kGet;
    std::string path;                      // as given: absolute and lexically normal
    std::optional<std::uint32_t> mode;     // put --mode (octal)
    std::optional<std::uint64_t> size;     // put --size: the content's exact length
    std::uint64_t offset = 0;              // get --offset
    std::optional<std::uint64_t> limit;    // get --limit
    std::optional<std::uint32_t> version;  // restore --version (default: the newest kept)
    std::optional<std::string> then;       // put, restore --then: a rule of the entry's `then`
};

// The verb `word` names, when it is one.
std::optional<policy::FileVerb> file_verb(const std::string& word);

// The request's words; an error (for the agent) when they are not a file request's.
Result<FileRequest> parse_file_request(const std::vector<std::string>& argv);

// The request's words again, in one spelling: what the target side of a run_as entry receives
// and must find identical after its own parse ("put", PATH, "--mode=0640", "--size=12").
std::vector<std::string> normal_form(const FileRequest& request);

struct FileDecision {
    Verdict verdict = Verdict::kDeny;
    const policy::FileRule* rule = nullptr;  // the deciding entry, when allowed
    FileRequest request;
    std::string canonical;   // the file's path, every directory symlink resolved (get: the
                             // file's own link too)
    std::string directory;   // canonical's parent
    std::string name;        // canonical's last component
    std::string root;        // the entry's directory canonical lies in, or `directory` for one
                             // of its exact paths: files/ opens beneath it, no symlink followed
    bool exists = false;     // a file (of any type) is at `canonical` now
    std::uint32_t mode = 0;  // put, restore: the mode the file gets
    std::string reason;
    std::vector<std::string> nearest;  // synopses of the entries for this verb the key may use
    std::string rule_id() const { return rule ? rule->id : std::string(); }
};

// Paths no files entry reaches, whatever it says: the policy and the keys (/etc/bridle), the
// compiled policy and the kept versions (/var/cache/bridle, /var/lib/bridle), bridle itself,
// and the policy's own files wherever --policy put them. `get` may read all but the kept
// versions and the cache.
std::vector<std::string> protected_paths(const policy::Policy& policy, policy::FileVerb verb,
                                         const std::string& own_executable);

// Entries are tried in policy order; the first whose keys, access and paths take the request
// wins. A path under a protected one is refused before any entry is tried.
FileDecision decide_file(const policy::Policy& policy, const std::vector<std::string>& argv,
                         const std::string& key, const PathResolver& resolver,
                         const std::vector<std::string>& protected_paths);

}  // namespace bridle::matching
