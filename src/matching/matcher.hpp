// SPDX-License-Identifier: Apache-2.0
// Policy x argv x key -> Decision. Pure: the file system is reached only through PathResolver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/model.hpp"

namespace bridle::matching {

// A denial lists the usage of at most this many rules (or files entries) for the program: the
// ones that got furthest, in policy order. A policy with thousands of rules for one program
// would otherwise send (and build) thousands of lines for one mistyped word; `help` lists them.
inline constexpr std::size_t kMaxNearest = 8;

// Deny is the default value: a Decision nobody filled in denies.
enum class Verdict { kDeny, kAllow };

struct Binding {
    std::string name;   // parameter name, or the option's canonical spelling
    std::string value;  // the value as bridle passes it to the program (paths canonical)
};

// A path value of an `open: fd` spec: bridle opens it (gate/confined_open.hpp) and the
// program gets /dev/fd/N in its place.
struct FdPath {
    std::size_t argv_index = 0;  // the exec_argv word that holds the path
    std::size_t prefix = 0;      // bytes of that word before the path ("--file=", "-f"; 0)
    std::string canonical;       // the path as checked
    std::string under;           // the directory of the spec it lies in
    bool hard_links_allowed = false;
    std::optional<std::uint64_t> max_size;
    int fd = -1;  // set by the gate once opened: the word is then
                  // prefix + "/dev/fd/" + fd
};

struct Decision {
    Verdict verdict = Verdict::kDeny;
    const policy::Rule* rule = nullptr;  // the deciding rule, when allowed
    std::vector<Binding> bindings;
    std::vector<std::string> exec_argv;  // what bridle execs: argv[0] is the rule's name
    std::vector<FdPath> fd_paths;        // exec_argv words the gate replaces by /dev/fd/N
    std::string reason;                  // for a denial: what is wrong, in the agent's terms
    std::vector<std::string> nearest;    // synopses of rules for the same program: at most
                                         // kMaxNearest, those that got furthest
    std::string rule_id() const { return rule ? rule->id : std::string(); }
};

// The only way matching touches the file system: canonicalise a path the client gave.
class PathResolver {
  public:
    struct Resolved {
        std::string canonical;  // absolute, no symlinks, no . or ..
        bool is_regular = false;
        bool is_directory = false;
        std::uint64_t links = 1;        // st_nlink: a regular file with more than one name may be
                                        // a hard link to a file outside the allowed directories
        std::uint64_t size = 0;         // st_size
        bool final_is_symlink = false;  // the client's path itself is a symlink (lstat)
    };
    virtual ~PathResolver() = default;
    // nullopt when the path does not exist or cannot be resolved; `why` says which.
    virtual std::optional<Resolved> resolve(const std::string& path, std::string& why) const = 0;
    // The names in directory `dir` (canonical), without . and ..; for `glob:` paths only.
    virtual std::optional<std::vector<std::string>> list(const std::string& dir,
                                                         std::string& why) const {
        (void)dir;
        why = "cannot be listed";
        return std::nullopt;
    }
};

// Decide one request. Rules are tried in policy order and the first that consumes every
// token wins; a rule whose `keys` do not include `key` is invisible to that key.
// `globbed` (from command::tokenize_allowing_globs): which words hold an unquoted * or ?;
// such a word is accepted only by a `glob:` path argument, and expanded there. nullptr: none.
// `place`: where the command stands (a stage of a pipeline, or alone); only rules that list
// that place are tried, and one that would be tried elsewhere is named in the reason.
Decision decide(const policy::Policy& policy, const std::vector<std::string>& argv,
                const std::string& key, const PathResolver& resolver,
                const std::vector<bool>* globbed = nullptr,
                policy::Place place = policy::Place::kAlone);

// The synopses of every rule `key` may use, for `help`.
std::vector<std::string> allowed_synopses(const policy::Policy& policy, const std::string& key);

}  // namespace bridle::matching
