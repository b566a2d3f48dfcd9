// SPDX-License-Identifier: Apache-2.0
// The built-in `help` request's text: the rules and the files entries a key may use.
#include "gate/gate.hpp"

namespace bridle::gate {

std::string help_text(const policy::Policy& policy, const std::string& key) {
    std::string text = "bridle: commands you may run (one per request; no shell syntax):\n";
    std::size_t count = 0;
    for (const auto& rule : policy.rules) {
        if (!rule.allows_key(key)) continue;
        ++count;
        text += "  " + rule.synopsis() + "\n";
        if (!rule.summary.empty()) text += "      " + rule.summary + "\n";
        if (rule.pipeline.in_pipeline()) text += "      (places: " + rule.pipeline.text() + ")\n";
    }
    std::string files;
    for (const auto& entry : policy.file_rules) {
        if (!entry.allows_key(key)) continue;
        for (const std::string& synopsis : entry.synopses()) files += "  " + synopsis + "\n";
        if (!entry.summary.empty()) files += "      " + entry.summary + "\n";
    }
    if (!files.empty()) {
        text +=
            "bridle: files you may read or write (a put's content on stdin; the old content "
            "is kept for restore):\n" +
            files;
    }
    if (count == 0 && files.empty()) text += "  (none: the policy grants this key nothing)\n";
    return text;
}

}  // namespace bridle::gate
