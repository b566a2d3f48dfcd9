// SPDX-License-Identifier: Apache-2.0
// The compiled policy's body (cache_codec.hpp). One function pair per struct of the model, each
// writing and reading the fields in the same order; the reader fails at the first bad byte and
// bounds every count by the bytes left, so no input makes it allocate more than it was given.
#include "loader/cache_codec.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "loader/cache_wire.hpp"

namespace bridle::policy::cache {
namespace {

using wire::Reader;
using wire::Writer;

// A field added to the model must be encoded and decoded here, or a cache hit would lose it:
// these sizes (libstdc++, 64-bit) change with any field, and stop the build until the codec,
// kFormatVersion and the sizes below are updated together. (A bool that fits in padding,
// as SandboxProfile::exec_log did, leaves them as they were: bump the version all the same.)
#if defined(__GLIBCXX__) && __SIZEOF_POINTER__ == 8 && !defined(_GLIBCXX_DEBUG)
static_assert(sizeof(Policy) == 680 && sizeof(FileRule) == 448 && sizeof(Settings) == 272 &&
                  sizeof(AuditFile) == 48 && sizeof(Guardrail) == 104 && sizeof(ApprovalSpec) == 72,
              "the policy model changed: update cache_codec.cpp");
static_assert(sizeof(SandboxProfile) == 304 && sizeof(LandlockRules) == 104 &&
                  sizeof(ResourceLimits) == 80,
              "the sandbox model changed: update cache_codec.cpp");
static_assert(sizeof(Rule) == 568 && sizeof(Arg) == 304 && sizeof(Option) == 272 &&
                  sizeof(ValueSpec) == 232 && sizeof(PipelinePlaces) == 4 &&
                  sizeof(ValueSpec::Glob) == 16,
              "the rule model changed: update cache_codec.cpp");
#endif

// The fewest bytes a rule's encoding takes (its fields, each at least one byte).
constexpr std::size_t kMinRuleBytes = 24;

// ---- Value specs, arguments, options

void put(Writer& w, const ValueSpec& v) {
    w.u(static_cast<std::uint64_t>(v.kind));
    w.s(v.regex_source);
    w.b(v.regex != nullptr);
    if (v.regex) w.s(v.regex->pattern());
    w.strings(v.choices);
    w.i(v.min), w.i(v.max);
    w.strings(v.under);
    w.u(static_cast<std::uint64_t>(v.path_type));
    w.b(v.hard_links_allowed);
    w.strings(v.names);
    w.b(v.final_symlink_refused);
    w.opt(v.max_size);
    w.b(v.glob.has_value());
    if (v.glob) w.u(v.glob->max), w.b(v.glob->hidden);
    w.b(v.dot_components_refused);
    w.opt(v.max_length);
    w.b(v.leading_dash_allowed);
    w.b(v.open_fd);
}

// Rules that share a pattern share its Regex, as the loader's RegexPool does: compiled once.
using Pool = std::map<std::string, std::shared_ptr<const Regex>>;

// Reads into `v`, every field assigned: the validation walk reads each rule into the same
// scratch Rule. With no pool (that walk) a pattern is read and no Regex made.
void read_spec(Reader& r, Pool* pool, ValueSpec& v) {
    v.kind = static_cast<ValueSpec::Kind>(r.below(4, "value kind"));
    r.s(v.regex_source);
    v.regex = nullptr;
    if (r.b()) {
        const std::string_view pattern = r.view();
        if (pool != nullptr) {
            std::shared_ptr<const Regex>& shared = (*pool)[std::string(pattern)];
            if (!shared) shared = std::make_shared<const Regex>(std::string(pattern));
            v.regex = shared;
        }
    }
    r.strings(v.choices);
    v.min = r.i(), v.max = r.i();
    r.strings(v.under);
    v.path_type = static_cast<ValueSpec::PathType>(r.below(3, "path type"));
    v.hard_links_allowed = r.b();
    r.strings(v.names);
    v.final_symlink_refused = r.b();
    v.max_size = r.opt<std::uint64_t>();
    v.glob.reset();
    if (r.b()) v.glob = ValueSpec::Glob{r.u(), r.b()};
    v.dot_components_refused = r.b();
    v.max_length = r.opt<std::uint64_t>();
    v.leading_dash_allowed = r.b();
    v.open_fd = r.b();
}

void put(Writer& w, const Option& o) {
    w.strings(o.spellings);
    w.b(o.is_flag);
    put(w, o.value);
    w.b(o.required), w.b(o.attached);
}

void read_option(Reader& r, Pool* pool, Option& o) {
    r.strings(o.spellings);
    o.is_flag = r.b();
    read_spec(r, pool, o.value);
    o.required = r.b(), o.attached = r.b();
    if (o.spellings.empty() && !r.failed()) r.fail("an option without spellings");
}

// ---- Approvals

void put(Writer& w, const ApprovalSpec& a) {
    w.s(a.set), w.strings(a.approvers), w.u(a.required), w.i(a.timeout.count());
}

ApprovalSpec get_approval(Reader& r) {
    ApprovalSpec a;
    a.set = r.s(), a.approvers = r.strings();
    a.required = static_cast<std::uint32_t>(r.u());
    a.timeout = std::chrono::milliseconds(r.i());
    // What the loader guarantees and the gate relies on: someone must approve.
    if (!r.failed() && (a.approvers.empty() || a.required < 1 || a.required > a.approvers.size()))
        r.fail("an approval without approvers");
    return a;
}

// ---- Rules

void put(Writer& w, const Rule& rule) {
    w.s(rule.id), w.s(rule.summary), w.s(rule.command), w.s(rule.name);
    w.strings(rule.keys);
    w.u(rule.args.size());
    for (const Arg& a : rule.args) w.b(a.is_literal), w.s(a.literal), w.s(a.name), put(w, a.spec);
    w.u(rule.options.size());
    for (const Option& o : rule.options) put(w, o);
    w.strings(rule.fixed_before), w.strings(rule.fixed_after);
    w.b(rule.bundle_flags), w.b(rule.end_of_options);
    w.b(rule.timeout.has_value());
    if (rule.timeout) w.i(rule.timeout->count());
    w.opt(rule.max_output);
    w.map(rule.env);
    w.b(rule.escape_output), w.b(rule.redact), w.b(rule.stdin_allowed);
    w.s(rule.sandbox), w.s(rule.source), w.s(rule.run_as);
    const PipelinePlaces& p = rule.pipeline;
    w.b(p.alone), w.b(p.first), w.b(p.middle), w.b(p.last);
    w.opt(rule.capture);
    w.b(rule.task), w.b(rule.idle_timeout.has_value());
    if (rule.idle_timeout) w.i(rule.idle_timeout->count());
    w.b(rule.approval.has_value());
    if (rule.approval) put(w, *rule.approval);
}

// Reads one rule into `rule`, every field assigned (see read_spec).
void read_rule(Reader& r, Pool* pool, Rule& rule) {
    r.s(rule.id), r.s(rule.summary), r.s(rule.command), r.s(rule.name);
    r.strings(rule.keys);
    r.list(rule.args, [&](Arg& a) {
        a.is_literal = r.b(), r.s(a.literal), r.s(a.name);
        read_spec(r, pool, a.spec);
    });
    r.list(rule.options, [&](Option& o) { read_option(r, pool, o); });
    r.strings(rule.fixed_before), r.strings(rule.fixed_after);
    rule.bundle_flags = r.b(), rule.end_of_options = r.b();
    rule.timeout.reset();
    if (r.b()) rule.timeout = std::chrono::milliseconds(r.i());
    rule.max_output = r.opt<std::uint64_t>();
    rule.env = r.map();
    rule.escape_output = r.b(), rule.redact = r.b(), rule.stdin_allowed = r.b();
    r.s(rule.sandbox), r.s(rule.source), r.s(rule.run_as);
    PipelinePlaces& p = rule.pipeline;
    p.alone = r.b(), p.first = r.b(), p.middle = r.b(), p.last = r.b();
    rule.capture = r.opt<std::uint64_t>();
    rule.task = r.b();
    rule.idle_timeout.reset();
    if (r.b()) rule.idle_timeout = std::chrono::milliseconds(r.i());
    rule.approval.reset();
    if (r.b()) rule.approval = get_approval(r);
    if (rule.id.empty() && !r.failed()) r.fail("a rule without id");
}

// The rules of a decoded body, each read when it is first asked for (RuleSource). decode_policy
// read every rule once before making it, with the same read_rule, so a rule read again from the
// same bytes reads as it did then: they are held (a private copy, or a cache file that only
// root can write and bridle never writes in place).
class CachedRules final : public RuleSource {
  public:
    CachedRules(std::shared_ptr<const void> held, std::string_view body,
                std::vector<std::size_t> starts)
        : held_(std::move(held)), body_(body), starts_(std::move(starts)) {}

    std::size_t size() const override { return starts_.size(); }

    Rule decode(std::size_t i) const override {
        Reader r(body_, starts_[i]);
        Rule rule;
        read_rule(r, &pool_, rule);
        if (r.failed()) std::abort();  // bytes that read without error once, and cannot change
        return rule;
    }

    RuleHead head(std::size_t i) const override {
        Reader r(body_, starts_[i]);  // read_rule's first four fields: id, summary, command, name
        RuleHead head;
        head.id = r.view();
        r.view();
        head.command = r.view();
        head.name = r.view();
        return head;
    }

  private:
    std::shared_ptr<const void> held_;  // keeps body_ where it is
    std::string_view body_;
    std::vector<std::size_t> starts_;  // where each rule's bytes begin
    mutable Pool pool_;
};

// Reads the `count` rules that begin at r's position, each into one scratch Rule (checking
// its bytes and its sandbox, allocating nothing once the scratch has grown), and returns them
// as a list that reads each rule again when it is asked for.
RuleList read_rules_lazily(Reader& r, std::size_t count, const Policy& policy,
                           std::shared_ptr<const void> held, std::string_view body) {
    std::vector<std::size_t> starts;
    // Every rule takes at least kMinRuleBytes: no count can reserve more than the bytes hold.
    starts.reserve(std::min(count, r.left() / kMinRuleBytes));
    Rule scratch;
    for (std::size_t n = count; n > 0 && !r.failed(); --n) {
        const std::size_t start = r.pos();
        read_rule(r, nullptr, scratch);
        // What the loader guarantees of every policy it returns, and matching relies on.
        if (!r.failed() && policy.sandbox_for(scratch) == nullptr) r.fail("an undefined sandbox");
        starts.push_back(start);
    }
    if (r.failed()) return {};
    return RuleList(std::make_shared<const CachedRules>(std::move(held), body, std::move(starts)));
}

// ---- Sandboxes and settings

void put_paths(Writer& w, const std::optional<std::vector<std::string>>& paths) {
    w.b(paths.has_value());
    if (paths) w.strings(*paths);
}

std::optional<std::vector<std::string>> get_paths(Reader& r) {
    if (!r.b()) return std::nullopt;
    return r.strings();
}

void put(Writer& w, const SandboxProfile& p) {
    w.s(p.name);
    w.u(p.seccomp.size());
    for (const SeccompProfile s : p.seccomp) w.u(static_cast<std::uint64_t>(s));
    w.b(p.exec_once);
    w.b(p.exec_log);
    w.b(p.landlock.has_value());
    if (p.landlock) {
        w.u(static_cast<std::uint64_t>(p.landlock->mode));
        put_paths(w, p.landlock->read), put_paths(w, p.landlock->write);
        put_paths(w, p.landlock->execute);
    }
    const ResourceLimits& l = p.limits;
    w.b(l.cpu.has_value());
    if (l.cpu) w.i(l.cpu->count());
    w.opt(l.address_space), w.opt(l.processes), w.opt(l.file_size), w.opt(l.open_files);
    w.opt(p.umask);
    w.u(static_cast<std::uint64_t>(p.namespaces));
    w.s(p.source);
}

SandboxProfile get_sandbox(Reader& r) {
    SandboxProfile p;
    p.name = r.s();
    p.seccomp.clear();
    for (std::size_t n = r.count(); n > 0 && !r.failed(); --n) {
        p.seccomp.push_back(static_cast<SeccompProfile>(r.below(3, "seccomp profile")));
    }
    p.exec_once = r.b();
    p.exec_log = r.b();
    if (r.b()) {
        LandlockRules l;
        l.mode = static_cast<LandlockRules::Mode>(r.below(2, "landlock mode"));
        l.read = get_paths(r), l.write = get_paths(r), l.execute = get_paths(r);
        p.landlock = std::move(l);
    }
    ResourceLimits& l = p.limits;
    if (r.b()) l.cpu = std::chrono::seconds(r.i());
    l.address_space = r.opt<std::uint64_t>(), l.processes = r.opt<std::uint64_t>();
    l.file_size = r.opt<std::uint64_t>(), l.open_files = r.opt<std::uint64_t>();
    p.umask = r.opt<std::uint32_t>();
    p.namespaces = static_cast<NamespaceMode>(r.below(3, "namespace mode"));
    p.source = r.s();
    return p;
}

// ---- Files entries

void put(Writer& w, const FileRule& f) {
    w.s(f.id), w.s(f.summary);
    w.strings(f.exact), w.strings(f.under), w.strings(f.names), w.strings(f.except);
    w.b(f.get), w.b(f.put);
    w.strings(f.keys);
    w.s(f.run_as), w.s(f.owner), w.s(f.group);
    w.u(f.mode);
    w.u(f.modes.size());
    for (const std::uint32_t m : f.modes) w.u(m);
    w.u(f.max_size);
    w.u(static_cast<std::uint64_t>(f.content));
    w.b(f.create);
    w.s(f.validator);
    w.strings(f.then);
    w.b(f.diff);
    w.u(f.versions);
    w.b(f.timeout.has_value());
    if (f.timeout) w.i(f.timeout->count());
    w.s(f.source);
}

FileRule get_file_rule(Reader& r) {
    FileRule f;
    f.id = r.s(), f.summary = r.s();
    f.exact = r.strings(), f.under = r.strings(), f.names = r.strings(), f.except = r.strings();
    f.get = r.b(), f.put = r.b();
    f.keys = r.strings();
    f.run_as = r.s(), f.owner = r.s(), f.group = r.s();
    f.mode = static_cast<std::uint32_t>(r.below(01000, "file mode"));
    for (std::size_t n = r.count(); n > 0 && !r.failed(); --n) {
        f.modes.push_back(static_cast<std::uint32_t>(r.below(01000, "file mode")));
    }
    f.max_size = r.u();
    f.content = static_cast<ContentType>(r.below(3, "content type"));
    f.create = r.b();
    f.validator = r.s();
    f.then = r.strings();
    f.diff = r.b();
    f.versions = static_cast<std::uint32_t>(r.below(kMaxVersions + 1, "versions"));
    if (r.b()) f.timeout = std::chrono::milliseconds(r.i());
    f.source = r.s();
    if (f.id.empty() && !r.failed()) r.fail("a files entry without id");
    if (f.max_size > kMaxFileSize && !r.failed()) r.fail("a files entry's max_size past 64MiB");
    return f;
}

void put(Writer& w, const Settings& s) {
    w.u(static_cast<std::uint64_t>(s.audit));
    w.s(s.audit_file.path), w.u(s.audit_file.max_size), w.u(s.audit_file.max_files);
    w.i(s.timeout.count());
    w.u(s.max_output);
    w.map(s.env);
    w.s(s.sandbox);
    w.u(static_cast<std::uint64_t>(s.landlock));
    w.u(s.max_request);
    w.opt(s.max_words);
    // The redaction patterns by their sources: the built-in set alone, or the policy's own.
    const bool own = s.redaction && s.redaction != RedactionPatterns::builtin();
    w.b(own);
    if (own) w.strings(s.redaction->own());
    w.s(s.task_spool), w.u(s.task_max_running), w.i(s.task_retention.count());
    w.u(s.guardrails.size());
    for (const Guardrail& g : s.guardrails) {
        w.strings(g.keys), w.opt(g.per_minute), w.opt(g.concurrent), w.opt(g.per_day);
        w.s(g.source);
    }
}

Settings get_settings(Reader& r) {
    Settings s;
    s.audit = static_cast<AuditSink>(r.below(3, "audit sink"));
    s.audit_file.path = r.s(), s.audit_file.max_size = r.u(), s.audit_file.max_files = r.u();
    s.timeout = std::chrono::milliseconds(r.i());
    s.max_output = r.u();
    s.env = r.map();
    s.sandbox = r.s();
    s.landlock = static_cast<LandlockSetting>(r.below(2, "landlock setting"));
    s.max_request = r.u();
    s.max_words = r.opt<std::uint64_t>();
    if (r.b()) s.redaction = std::make_shared<const RedactionPatterns>(r.strings());
    s.task_spool = r.s(), s.task_max_running = r.u();
    s.task_retention = std::chrono::milliseconds(r.i());
    for (std::size_t n = r.count(); n > 0 && !r.failed(); --n) {
        Guardrail g;
        g.keys = r.strings();
        g.per_minute = r.opt<std::uint64_t>(), g.concurrent = r.opt<std::uint64_t>();
        g.per_day = r.opt<std::uint64_t>();
        g.source = r.s();
        // What the loader guarantees: at least one limit, each at least 1 (0 would admit none).
        const auto bad = [](const std::optional<std::uint64_t>& v, std::uint64_t max) {
            return v && (*v == 0 || *v > max);
        };
        if ((!g.per_minute && !g.concurrent && !g.per_day) || bad(g.per_minute, kMaxPerMinute) ||
            bad(g.concurrent, kMaxConcurrent) || bad(g.per_day, kMaxPerDay)) {
            r.fail("a guardrails entry out of range");
        }
        s.guardrails.push_back(std::move(g));
    }
    return s;
}

}  // namespace

std::string encode_policy(const Policy& policy, const std::vector<Error>& warnings) {
    Writer w;
    put(w, policy.settings);
    w.u(policy.sandboxes.size());
    for (const auto& [name, profile] : policy.sandboxes) w.s(name), put(w, profile);
    w.u(policy.rules.size());
    for (const Rule& rule : policy.rules) put(w, rule);
    w.u(policy.file_rules.size());
    for (const FileRule& file : policy.file_rules) put(w, file);
    w.s(policy.approvals.signers), w.s(policy.approvals.store);
    w.strings(policy.approvals.notify), w.i(policy.approvals.notify_timeout.count());
    w.u(policy.approvals.sets.size());
    for (const auto& [name, set] : policy.approvals.sets) w.s(name), put(w, set);
    w.strings(policy.files);
    w.s(policy.sha256);
    w.u(warnings.size());
    for (const Error& e : warnings) w.s(e.message), w.s(e.location);
    return std::move(w.out);
}

Result<Policy> decode_policy(std::string_view bytes, std::vector<Error>& warnings) {
    auto held = std::make_shared<const std::string>(bytes);
    return decode_policy(held, *held, warnings);
}

Result<Policy> decode_policy(std::shared_ptr<const void> held, std::string_view bytes,
                             std::vector<Error>& warnings) {
    Reader r(bytes);
    Policy policy;
    policy.settings = get_settings(r);
    for (std::size_t n = r.count(); n > 0 && !r.failed(); --n) {
        std::string name = r.s();
        policy.sandboxes[std::move(name)] = get_sandbox(r);
    }
    const std::size_t rules = r.count();
    policy.rules = read_rules_lazily(r, rules, policy, std::move(held), bytes);
    for (std::size_t n = r.count(); n > 0 && !r.failed(); --n) {
        policy.file_rules.push_back(get_file_rule(r));
    }
    policy.approvals.signers = r.s(), policy.approvals.store = r.s();
    policy.approvals.notify = r.strings();
    policy.approvals.notify_timeout = std::chrono::milliseconds(r.i());
    for (std::size_t n = r.count(); n > 0 && !r.failed(); --n) {
        std::string name = r.s();
        policy.approvals.sets[std::move(name)] = get_approval(r);
    }
    policy.files = r.strings();
    policy.sha256 = r.s();
    std::vector<Error> found;
    for (std::size_t n = r.count(); n > 0 && !r.failed(); --n) {
        Error e;
        e.message = r.s(), e.location = r.s();
        found.push_back(std::move(e));
    }
    if (!r.failed() && !r.at_end()) r.fail("bytes after the policy");
    if (r.failed()) return Error{"the compiled policy is not valid: " + r.error(), ""};
    warnings.insert(warnings.end(), found.begin(), found.end());
    return policy;
}

}  // namespace bridle::policy::cache
