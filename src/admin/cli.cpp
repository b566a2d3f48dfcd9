// SPDX-License-Identifier: Apache-2.0
// The --help text and option parsing, both from the tables in cli.hpp.
#include "admin/cli.hpp"

namespace bridle::admin {

std::string usage() {
    std::string out = "usage:\n";
    for (const auto& mode : kModes) {
        std::string line = "  bridle";
        if (!mode.name.empty()) line += " " + std::string(mode.name);
        for (const auto& option : kOptions) {
            if (option.mode != mode.name) continue;
            const std::string word = std::string(option.name) +
                                     (option.is_flag ? "" : " " + std::string(option.argument));
            line += option.required ? " " + word : " [" + word + "]";
        }
        if (!mode.operands.empty()) line += " " + std::string(mode.operands);
        if (line.size() < 48) {
            line.append(48 - line.size(), ' ');
        } else {
            line += "\n" + std::string(48, ' ');
        }
        out += line + std::string(mode.help) + "\n";
    }
    out += "options:\n";
    for (const auto& option : kOptions) {
        std::string line =
            "  " + std::string(option.mode.empty() ? "" : std::string(option.mode) + " ") +
            std::string(option.name) + (option.is_flag ? "" : " " + std::string(option.argument));
        if (line.size() < 30) line.append(30 - line.size(), ' ');
        out += line + " " + std::string(option.help) + "\n";
    }
    out += "See bridle(8) and bridle-policy(5).\n";
    return out;
}

std::string parse_mode_options(std::string_view mode, const std::vector<std::string>& args,
                               std::size_t& i, std::map<std::string, std::string>& values) {
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        std::string name = a, value;
        bool has_value = false;
        if (const auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
            name = a.substr(0, eq), value = a.substr(eq + 1), has_value = true;
        }
        bool known = false, here = false, flag = false;
        for (const auto& option : kOptions) {
            if (option.name != name) continue;
            known = true;
            if (option.mode == mode) here = true, flag = option.is_flag;
        }
        if (!known) return "";  // an operand, "--", or an unknown word: the caller decides
        if (!here) {
            return name + " is not an option of " +
                   (mode.empty() ? std::string("the forced command") : std::string(mode));
        }
        if (flag) {
            if (has_value) return name + " takes no value";
            values[name] = "1";
            continue;
        }
        if (!has_value) {
            if (i + 1 >= args.size()) return name + " needs a value";
            value = args[++i];
        }
        values[name] = value;
    }
    return "";
}

}  // namespace bridle::admin
