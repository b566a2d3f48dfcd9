// SPDX-License-Identifier: Apache-2.0
// Approval signatures through ssh-keygen, run by absolute path with fixed arguments and an
// empty environment (execution/auxiliary.hpp): bridle parses no signature format itself.
#include "approval/signature.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include "approval/canonical.hpp"
#include "execution/auxiliary.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"
#include "os/ownership.hpp"

namespace bridle::approval {
namespace {

constexpr std::size_t kMaxSignersBytes = 1024 * 1024;
constexpr std::size_t kMaxSignatureBytes = 64 * 1024;

// The file's text, once it is known to be a regular file only root can change.
Result<std::string> read_trusted(const std::string& path) {
    const os::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0)
        return Error{"the allowed-signers file " + path + ": " + os::errno_text(errno), ""};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return Error{"the allowed-signers file " + path + " is not a regular file", ""};
    }
    const std::vector<std::string> problems = os::ownership_problems(st);
    if (!problems.empty()) {
        return Error{"the allowed-signers file " + path + " " + problems.front() +
                         ": only root may be able to change who approves",
                     ""};
    }
    if (static_cast<std::size_t>(st.st_size) > kMaxSignersBytes) {
        return Error{"the allowed-signers file " + path + " is larger than 1 MiB", ""};
    }
    std::string text;
    const os::ReadEnd end =
        os::read_to_end(fd.get(), text, static_cast<std::size_t>(st.st_size), kMaxSignersBytes);
    if (end == os::ReadEnd::kFailed) {
        return Error{"the allowed-signers file " + path + ": " + os::errno_text(errno), ""};
    }
    if (end != os::ReadEnd::kEnd || text.size() != static_cast<std::size_t>(st.st_size)) {
        return Error{"the allowed-signers file " + path + " changed while it was read", ""};
    }
    return text;
}

execution::AuxSpec keygen(std::vector<std::string> args) {
    execution::AuxSpec spec;
    spec.path = kSshKeygen;
    spec.argv = {kSshKeygen};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.stdout_to = execution::AuxOutput::kCapture;
    spec.stderr_to = execution::AuxOutput::kCapture;
    return spec;
}

}  // namespace

Result<std::vector<std::string>> signer_names(const std::string& signers_file) {
    Result<std::string> text = read_trusted(signers_file);
    if (!text) return text.error();
    std::vector<std::string> names;
    std::istringstream lines(text.value());
    std::string line;
    while (std::getline(lines, line)) {
        const auto start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#') continue;
        const std::string field = line.substr(start, line.find_first_of(" \t", start) - start);
        std::istringstream principals(field);
        std::string principal;
        while (std::getline(principals, principal, ',')) {
            if (!principal.empty() &&
                std::find(names.begin(), names.end(), principal) == names.end()) {
                names.push_back(principal);
            }
        }
    }
    return names;
}

Result<Signer> verify_signature(const std::string& signers_file, const std::string& text,
                                const std::string& signature, const std::string& scratch_path,
                                const std::vector<std::string>& allowed) {
    if (Result<std::string> trusted = read_trusted(signers_file); !trusted) return trusted.error();
    if (signature.size() > kMaxSignatureBytes ||
        signature.find("-----BEGIN SSH SIGNATURE-----") == std::string::npos) {
        return Error{"not an SSH signature (make one with ssh-keygen -Y sign -n " +
                         std::string(kSignatureNamespace) + ")",
                     ""};
    }
    // Whose key made it, among the file's principals; then the signature over exactly this
    // text, in bridle's namespace, for each such principal that may approve this request.
    execution::AuxSpec find =
        keygen({"-Y", "find-principals", "-s", scratch_path, "-f", signers_file});
    Result<execution::AuxResult> found = execution::run_auxiliary(find);
    if (!found) return found.error();
    if (!found.value().succeeded()) {
        return Error{"the signature was made by no key in the allowed-signers file", ""};
    }
    std::vector<std::string> principals;
    std::istringstream out(found.value().out);
    for (std::string p; std::getline(out, p);) {
        std::istringstream split(p);
        for (std::string one; std::getline(split, one, ',');) principals.push_back(one);
    }
    std::string refused = "the signer (" +
                          (principals.empty() ? std::string("unknown") : principals.front()) +
                          ") is not an approver of this request";
    for (const std::string& principal : principals) {
        if (std::find(allowed.begin(), allowed.end(), principal) == allowed.end()) continue;
        execution::AuxSpec verify = keygen({"-Y", "verify", "-f", signers_file, "-I", principal,
                                            "-n", kSignatureNamespace, "-s", scratch_path});
        verify.stdin_bytes = text;
        Result<execution::AuxResult> ran = execution::run_auxiliary(verify);
        if (!ran) return ran.error();
        if (!ran.value().succeeded()) {
            refused =
                "the signature does not verify for this request (another request's text, "
                "another namespace than " +
                std::string(kSignatureNamespace) + ", or a changed signature)";
            continue;
        }
        // Good "bridle-approval" signature for admin with ED25519 key SHA256:...
        const std::string& said = ran.value().out;
        const auto at = said.find("SHA256:");
        const std::string fingerprint =
            at == std::string::npos ? "" : said.substr(at, said.find_first_of(" \n", at) - at);
        return Signer{principal, fingerprint};
    }
    return Error{refused, ""};
}

}  // namespace bridle::approval
