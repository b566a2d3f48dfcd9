// SPDX-License-Identifier: Apache-2.0
// Root's approvals on the host: the policy (for its store, signers file and SHA-256), the
// audit sink it names, then the gate's approval actions (gate/approvals.hpp).
#include "admin/approvals.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "admin/admin.hpp"
#include "approval/signature.hpp"
#include "approval/store.hpp"
#include "audit/sink_for_policy.hpp"
#include "common/exit_code.hpp"
#include "gate/approvals.hpp"
#include "gate/system_resolver.hpp"

namespace bridle::admin {
namespace {

constexpr std::size_t kMaxSignatureBytes = 64 * 1024;

int report(const gate::approvals::Answer& answer) {
    std::cout << answer.out << std::flush;
    std::cerr << answer.err;
    return answer.exit_status;
}

// Runs `action` with the policy loaded and its audit sink.
template <class Action>
int with_context(const std::string& policy_file, Action action) {
    const Result<policy::Policy> loaded = load_and_report(policy_file, false);
    if (!loaded) return to_int(ExitCode::kConfig);
    const std::unique_ptr<audit::Sink> sink = audit::make_sink(loaded.value().settings);
    gate::SystemResolver resolver;
    const gate::Context context{loaded.value(), *sink, resolver};
    return report(action(context));
}

std::string read_bounded(std::istream& in) {
    std::string bytes;
    char c = 0;
    while (bytes.size() <= kMaxSignatureBytes && in.get(c)) bytes += c;
    return bytes;
}

}  // namespace

int list_approvals(const ApprovalOptions& options) {
    const gate::approvals::Actor root{"host", "root", "", ""};
    return with_context(options.policy_file, [&](const gate::Context& context) {
        if (options.id.empty()) return gate::approvals::list(context, root);
        return gate::approvals::show(context, root, options.id, options.text_only);
    });
}

int answer_approval(const ApprovalOptions& options, bool approve) {
    std::optional<std::string> signature;
    if (!options.signature_file.empty()) {
        if (options.signature_file == "-") {
            signature = read_bounded(std::cin);
        } else {
            std::ifstream file(options.signature_file, std::ios::binary);
            if (!file) {
                std::cerr << "bridle: cannot read " << options.signature_file << "\n";
                return to_int(ExitCode::kUsage);
            }
            signature = read_bounded(file);
        }
    } else if (::geteuid() != 0) {
        // Without a signature, the answer is root's own: only root on the host gives it.
        std::cerr << "bridle: only root may " << (approve ? "approve" : "reject")
                  << " without --signature\n";
        return to_int(ExitCode::kNoPerm);
    }
    const gate::approvals::Actor actor{signature ? "signature" : "host", signature ? "" : "root",
                                       "", ""};
    return with_context(options.policy_file, [&](const gate::Context& context) {
        return gate::approvals::decide(context, actor, options.id, approve, signature);
    });
}

ApprovalFindings check_approvals(const policy::Policy& policy) {
    ApprovalFindings found;
    bool any = !policy.approvals.sets.empty();
    for (const policy::Rule& rule : policy.rules) {
        any = any || rule.approval.has_value();
        if (rule.run_as == "root" && !rule.approval) {
            found.warnings.push_back("rule " + rule.id + " (" + rule.source +
                                     ") runs as root without approval: consider approval:");
        }
    }
    if (!any) return found;
    const std::string& file = policy.approvals.signers;
    const Result<std::vector<std::string>> names = approval::signer_names(file);
    if (!names) {
        found.errors.push_back(names.error().message + " (approvals.signers: rules need approval)");
        return found;
    }
    const auto check = [&](const policy::ApprovalSpec& spec, const std::string& where) {
        for (const std::string& approver : spec.approvers) {
            if (std::find(names.value().begin(), names.value().end(), approver) ==
                names.value().end()) {
                found.errors.push_back(where + " names approver " + approver + ", whom " + file +
                                       " does not define (a line: " + approver +
                                       " namespaces=\"bridle-approval\" ssh-ed25519 AAAA...)");
            }
        }
    };
    for (const auto& [name, set] : policy.approvals.sets) check(set, "approval set " + name);
    for (const policy::Rule& rule : policy.rules) {
        if (rule.approval && rule.approval->set.empty()) {
            check(*rule.approval, "rule " + rule.id + " (" + rule.source + ")");
        }
    }
    if (Result<approval::Store> store = approval::Store::open(policy.approvals.store); !store) {
        found.warnings.push_back(store.error().message +
                                 ": requests that need approval are refused until it is usable");
    }
    return found;
}

}  // namespace bridle::admin
