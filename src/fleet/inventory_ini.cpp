// SPDX-License-Identifier: Apache-2.0
// Ansible's INI inventory: `[group]` host lines (`NAME key=value ...`), `[group:vars]` lines
// (`key=value`), `[group:children]` lines (a group name each); hosts before the first section
// are `ungrouped`. Comments start with # or ; at the start of a line, and # at a word's start.
#include <string_view>

#include "fleet/inventory_raw.hpp"

namespace bridle::fleet::raw {
namespace {

enum class Section { kHosts, kVars, kChildren };

std::string trim(std::string_view s) {
    const auto begin = s.find_first_not_of(" \t\r");
    if (begin == std::string_view::npos) return {};
    const auto end = s.find_last_not_of(" \t\r");
    return std::string(s.substr(begin, end - begin + 1));
}

// The words of a host line, shlex-like: quotes group, `#` at a word's start ends the line.
// False on an unterminated quote.
bool split_words(std::string_view line, std::vector<std::string>& words) {
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (char c : line) {
        if (quote != 0) {
            if (c == quote) {
                quote = 0;
            } else {
                word += c;
            }
        } else if (c == '"' || c == '\'') {
            quote = c, in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            if (in_word) words.push_back(word), word.clear(), in_word = false;
        } else if (c == '#' && !in_word) {
            break;
        } else {
            word += c, in_word = true;
        }
    }
    if (quote != 0) return false;
    if (in_word) words.push_back(word);
    return true;
}

std::string unquote(std::string value) {
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
        return value.substr(1, value.size() - 2);
    }
    return value;
}

class IniReader {
  public:
    IniReader(const std::string& file) : file_(file) {}

    Inventory read(const std::string& text) {
        std::size_t start = 0;
        for (int number = 1; start <= text.size(); ++number) {
            auto end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            line(std::string_view(text).substr(start, end - start), number);
            start = end + 1;
        }
        return std::move(out_);
    }

  private:
    void fail(int number, std::string message) {
        out_.errors.push_back({std::move(message), file_ + ":" + std::to_string(number)});
    }
    std::string at(int number) const { return file_ + ":" + std::to_string(number); }

    void line(std::string_view raw_line, int number) {
        const std::string text = trim(raw_line);
        if (text.empty() || text[0] == '#' || text[0] == ';') return;
        if (text[0] == '[') {
            header(text, number);
        } else if (section_ == Section::kVars) {
            variable(text, number);
        } else if (section_ == Section::kChildren) {
            child(text, number);
        } else {
            host(text, number);
        }
    }

    void header(const std::string& text, int number) {
        header_seen_ = true;
        const auto close = text.find(']');
        if (close == std::string::npos || trim(text.substr(close + 1)).size() != 0) {
            fail(number, "a section header is [NAME], [NAME:vars] or [NAME:children]");
            group_.clear();
            return;
        }
        std::string name = text.substr(1, close - 1);
        section_ = Section::kHosts;
        if (const auto colon = name.find(':'); colon != std::string::npos) {
            const std::string kind = name.substr(colon + 1);
            name.resize(colon);
            if (kind == "vars") {
                section_ = Section::kVars;
            } else if (kind == "children") {
                section_ = Section::kChildren;
            } else {
                fail(number, "unknown section kind \"" + kind + "\" (vars or children)");
                group_.clear();
                return;
            }
        }
        if (!is_valid_name(name)) {
            fail(number, "invalid group name \"" + name + "\"");
            group_.clear();
            return;
        }
        group_ = name;
        // [g:vars] and [g:children] refer to g; [g] defines it.
        if (section_ != Section::kVars) {
            Group& g = out_.group(name);
            if (g.location.empty()) g.location = at(number);
        } else {
            out_.group(name);
        }
    }

    void variable(const std::string& text, int number) {
        if (group_.empty()) return;  // its header was wrong, and said so
        const auto eq = text.find('=');
        if (eq == std::string::npos || trim(text.substr(0, eq)).empty()) {
            fail(number, "a [" + group_ + ":vars] line is NAME=VALUE");
            return;
        }
        out_.group(group_).vars[trim(text.substr(0, eq))] = {unquote(trim(text.substr(eq + 1))),
                                                             at(number)};
    }

    void child(const std::string& text, int number) {
        if (group_.empty()) return;
        if (!is_valid_name(text)) {
            fail(number, "invalid group name \"" + text + "\" in [" + group_ + ":children]");
            return;
        }
        out_.group(group_).children.emplace_back(text, at(number));
    }

    void host(const std::string& text, int number) {
        const std::string group = header_seen_ ? group_ : std::string("ungrouped");
        if (group.empty()) return;  // its header was wrong, and said so
        std::vector<std::string> words;
        if (!split_words(text, words)) {
            fail(number, "unterminated quote");
            return;
        }
        if (words.empty()) return;
        HostEntry entry{words[0], {}, at(number)};
        if (words[0].find('[') != std::string::npos) {
            fail(number, "host ranges such as \"" + words[0] +
                             "\" are not supported: list each host on a line of its own");
            return;
        }
        if (!is_valid_name(words[0])) {
            fail(number, "invalid host name \"" + words[0] + "\"");
            return;
        }
        for (std::size_t i = 1; i < words.size(); ++i) {
            const auto eq = words[i].find('=');
            if (eq == std::string::npos || eq == 0) {
                fail(number, "after the host name, each word is NAME=VALUE: \"" + words[i] + "\"");
                return;
            }
            entry.vars[words[i].substr(0, eq)] = {words[i].substr(eq + 1), at(number)};
        }
        Group& g = out_.group(group);
        if (g.location.empty()) g.location = at(number);
        out_.add_host(group, std::move(entry));
    }

    const std::string& file_;
    Inventory out_;
    Section section_ = Section::kHosts;
    std::string group_;
    bool header_seen_ = false;
};

}  // namespace

Inventory read_ini(const std::string& text, const std::string& file) {
    return IniReader(file).read(text);
}

}  // namespace bridle::fleet::raw
