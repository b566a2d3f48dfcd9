// SPDX-License-Identifier: Apache-2.0
// A scratch directory that a strict policy load trusts (policy_test, cache_test): next to the
// test binary when the build tree is root-owned and not writable by others (file_checks'
// "safe"), else under /run (root's 0755 runtime directory on Debian), so that the strict-mode
// tests run even when the build tree sits below a world-writable /tmp, as a fresh CI clone
// does. safe() says whether a strict load can succeed there at all (only as root). Removed,
// with everything in it, however the test ends: the tests leave the machine as they found it.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "loader/file_checks.hpp"

namespace bridle::test {

class TrustedScratch {
  public:
    TrustedScratch() {
        namespace fs = std::filesystem;
        const fs::path exe = fs::read_symlink("/proc/self/exe");
        for (const fs::path& parent : {exe.parent_path(), fs::path("/run")}) {
            std::string dir = (parent / "bridle-scratch.XXXXXX").string();
            if (::mkdtemp(dir.data()) == nullptr) continue;
            ::chmod(dir.c_str(), 0755);
            root_ = dir;
            if (safe()) return;
            remove();
        }
    }
    ~TrustedScratch() { remove(); }
    TrustedScratch(const TrustedScratch&) = delete;
    TrustedScratch& operator=(const TrustedScratch&) = delete;

    const std::string& root() const { return root_; }
    std::string path(const std::string& name) const { return root_ + "/" + name; }
    std::string file(const std::string& name, const std::string& content,
                     mode_t mode = 0644) const {
        const std::string file = path(name);
        std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
        ::chmod(file.c_str(), mode);
        return file;
    }
    std::string dir(const std::string& name, mode_t mode = 0755) const {
        const std::string dir = path(name);
        ::mkdir(dir.c_str(), mode);
        ::chmod(dir.c_str(), mode);
        return dir;
    }
    bool safe() const {
        std::vector<Error> warnings;
        return !root_.empty() && ::geteuid() == 0 &&
               policy::check_trusted_directory(root_, true, warnings).ok();
    }

  private:
    void remove() {
        std::error_code ignored;
        if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
        root_.clear();
    }
    std::string root_;
};

}  // namespace bridle::test
