// SPDX-License-Identifier: Apache-2.0
// The compiled policy cache (policy_cache.hpp): the file's header, its trust checks on read, and
// the atomic write. Every file is opened relative to the directory's descriptor that
// open_trusted_directory checked, so the checks hold for what is read and written.
//
// The file: "BRIDLEPC", then fixed-width little-endian fields: the format version (u32 LE), the
// build id's length (u32 LE) and bytes, the key (64 hex digits), the body's length (u64 LE) and its
// checksum (16 hex digits, checksum_of); then the body (cache_codec.hpp).
#include "loader/policy_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>

#include "loader/cache_codec.hpp"
#include "loader/file_checks.hpp"
#include "os/error.hpp"
#include "os/fd.hpp"
#include "os/ownership.hpp"
#include "policy/sha256.hpp"

namespace bridle::policy::cache {
namespace {

constexpr std::string_view kMagic = "BRIDLEPC";
constexpr std::string_view kKeyTag = "bridle policy cache key 1";
constexpr std::size_t kMaxFileBytes = 256 * 1024 * 1024;
constexpr std::size_t kMaxBuildId = 256;
constexpr std::string_view kPrefix = "policy-", kSuffix = ".bin";

void put_fixed(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A 64-bit checksum of the body, 16 hex digits: it catches a damaged file (a flipped bit, a torn
// copy), not a forged one, which only root could write and the ownership checks exclude. Each
// step maps (state ^ word) one-to-one, so any change confined to one 8-byte word always changes
// the sum. About a tenth of SHA-256's cost, which matters at megabytes.
std::string checksum_of(std::string_view bytes) {
    constexpr std::uint64_t kOdd = 0xff51afd7ed558ccdULL;
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ bytes.size();
    const auto step = [&](std::uint64_t word) {
        h = (h ^ word) * kOdd;
        h ^= h >> 32;
    };
    std::size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, bytes.data() + i, 8);
        step(word);
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
    step(tail);
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int d = 15; d >= 0; --d, h >>= 4) out[static_cast<std::size_t>(d)] = kHex[h & 0xf];
    return out;
}

// A cursor over the header: each field or nothing.
struct Header {
    std::string_view in;
    bool take(std::size_t n, std::string_view& out) {
        if (in.size() < n) return false;
        out = in.substr(0, n);
        in.remove_prefix(n);
        return true;
    }
    bool fixed(int bytes, std::uint64_t& v) {
        std::string_view raw;
        if (!take(static_cast<std::size_t>(bytes), raw)) return false;
        v = 0;
        for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(raw[i]);
        return true;
    }
};

Lookup ignored(std::string reason) {
    Lookup found;
    found.outcome = "ignored: " + std::move(reason);
    return found;
}

// A cache file's bytes, mapped read-only: the page cache's own pages, none copied (reading
// 2.8 MB into fresh memory is 700 page faults, 7 ms on the VM in docs/benchmarks.md; mapping
// them, 1.7 ms). A policy decoded from them keeps the mapping while it lives (its rules are
// read from it as they are asked for). Only root can change the file, and bridle's writer
// never changes one in place (write_cache renames a new file over it).
class Mapped {
  public:
    Mapped(const void* data, std::size_t size) : data_(data), size_(size) {}
    Mapped(const Mapped&) = delete;
    Mapped& operator=(const Mapped&) = delete;
    ~Mapped() {
        if (size_ != 0) ::munmap(const_cast<void*>(data_), size_);
    }
    std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

  private:
    const void* data_;
    std::size_t size_;
};

// The cache file, mapped, when it is one only root could have written, else why not.
Result<std::shared_ptr<const Mapped>> map_trusted(int dir, const std::string& name) {
    os::UniqueFd fd(
        ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
        if (errno == ENOENT) return Error{"none", ""};
        if (errno == ELOOP) return Error{"a symbolic link", ""};
        return Error{"cannot open: " + os::errno_text(errno), ""};
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Error{"cannot stat: " + os::errno_text(errno), ""};
    if (!S_ISREG(st.st_mode)) return Error{"not a regular file", ""};
    const std::vector<std::string> problems = os::ownership_problems(st);
    if (!problems.empty()) return Error{"the file " + problems.front(), ""};
    if (static_cast<std::uint64_t>(st.st_size) > kMaxFileBytes) return Error{"too large", ""};
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0) return std::make_shared<const Mapped>(nullptr, 0);
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (data == MAP_FAILED) return Error{"cannot map: " + os::errno_text(errno), ""};
    return std::make_shared<const Mapped>(data, size);
}

// The body, when the header is this format's, this build's and this key's and the body matches
// its length and checksum; else why not.
Result<std::string_view> body_of(std::string_view file, const std::string& key) {
    Header h{file};
    std::string_view magic, build, stored_key, checksum;
    std::uint64_t version = 0, build_length = 0, body_length = 0;
    if (!h.take(kMagic.size(), magic) || magic != kMagic) return Error{"not a cache file", ""};
    if (!h.fixed(4, version)) return Error{"truncated header", ""};
    if (version != kFormatVersion) {
        return Error{
            "format version " + std::to_string(version) + ", not " + std::to_string(kFormatVersion),
            ""};
    }
    if (!h.fixed(4, build_length) || build_length > kMaxBuildId ||
        !h.take(static_cast<std::size_t>(build_length), build) || !h.take(64, stored_key) ||
        !h.fixed(8, body_length) || !h.take(16, checksum)) {
        return Error{"truncated header", ""};
    }
    if (build != build_id()) return Error{"written by another bridle build", ""};
    if (stored_key != key) return Error{"another key", ""};
    if (body_length != h.in.size()) return Error{"truncated or overlong body", ""};
    if (checksum_of(h.in) != checksum) return Error{"corrupt: checksum mismatch", ""};
    return h.in;
}

// The cache files in `dir`, oldest first.
std::vector<std::string> cache_files_by_age(int dir) {
    std::vector<std::pair<std::int64_t, std::string>> found;
    const int listing = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (listing < 0) return {};
    DIR* stream = ::fdopendir(listing);
    if (stream == nullptr) {
        ::close(listing);
        return {};
    }
    while (const dirent* entry = ::readdir(stream)) {
        const std::string_view name = entry->d_name;
        if (name.size() <= kPrefix.size() + kSuffix.size() || !name.starts_with(kPrefix) ||
            !name.ends_with(kSuffix)) {
            continue;
        }
        struct stat st {};
        if (::fstatat(dir, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        found.emplace_back(st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
                           std::string(name));
    }
    ::closedir(stream);
    std::sort(found.begin(), found.end());
    std::vector<std::string> names;
    for (auto& [when, name] : found) names.push_back(std::move(name));
    return names;
}

}  // namespace

std::string build_id() {
    // The version, the format, and the sizes of the model's structs: a build whose model
    // differs in any of them reads another layout, so it never takes this build's cache.
    return std::string("bridle ") + BRIDLE_VERSION + " format " + std::to_string(kFormatVersion) +
           " model " + std::to_string(sizeof(Policy)) + "." + std::to_string(sizeof(Settings)) +
           "." + std::to_string(sizeof(SandboxProfile)) + "." + std::to_string(sizeof(Rule)) + "." +
           std::to_string(sizeof(Option)) + "." + std::to_string(sizeof(ValueSpec));
}

std::string key_of(const std::vector<std::pair<std::string, std::size_t>>& lengths,
                   const std::string& sha256) {
    // The files' bytes enter through `sha256`, their hash in order, and their lengths, which
    // say where each one ends: the key covers every byte without hashing them a second time.
    std::string framed;
    put_fixed(framed, kKeyTag.size(), 8);
    framed += kKeyTag;
    for (const auto& [path, length] : lengths) {
        put_fixed(framed, path.size(), 8);
        framed += path;
        put_fixed(framed, length, 8);
    }
    framed += sha256;
    return sha256_hex(framed);
}

std::string file_for(const std::string& dir, const std::string& key) {
    return dir + "/" + std::string(kPrefix) + key + std::string(kSuffix);
}

Lookup read_cache(const std::string& dir, const std::string& key, const std::string& sha256) {
    std::vector<Error> unused;
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 && errno == ENOENT) return Lookup{{}, {}, "none"};
    Result<os::UniqueFd> trusted = open_trusted_directory(dir, true, unused);
    if (!trusted) return ignored("the directory: " + trusted.error().message);
    const std::string name = file_for("", key).substr(1);
    Result<std::shared_ptr<const Mapped>> file = map_trusted(trusted.value().get(), name);
    if (!file) {
        if (file.error().message == "none") return Lookup{{}, {}, "none"};
        return ignored(file.error().message);
    }
    const std::shared_ptr<const Mapped>& held = file.value();
    Result<std::string_view> body = body_of(held->bytes(), key);
    if (!body) return ignored(body.error().message);
    Lookup found;
    Result<Policy> policy = decode_policy(held, body.value(), found.warnings);
    if (!policy) return ignored(policy.error().message);
    if (policy.value().sha256 != sha256) return ignored("written for other policy bytes");
    found.policy = std::move(policy).value();
    found.outcome = "hit";
    return found;
}

Status write_cache(const std::string& dir, const std::string& key, const Policy& policy,
                   const std::vector<Error>& warnings) {
    if (::geteuid() != 0) return Error{"only root writes the compiled policy cache", dir};
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return Error{"cannot create " + dir + ": " + os::errno_text(errno), ""};
    }
    std::vector<Error> unused;
    Result<os::UniqueFd> trusted = open_trusted_directory(dir, true, unused);
    if (!trusted) return trusted.error();
    const int at = trusted.value().get();

    const std::string body = encode_policy(policy, warnings);
    std::string file(kMagic);
    const std::string build = build_id();
    put_fixed(file, kFormatVersion, 4);
    put_fixed(file, build.size(), 4);
    file += build;
    file += key;
    put_fixed(file, body.size(), 8);
    file += checksum_of(body);
    file += body;

    // A hidden name that no reader looks up and the clean-up below never lists.
    std::random_device random;
    const std::string name = file_for("", key).substr(1);
    const std::string temporary = "." + name + "." + std::to_string(random()) + ".tmp";
    os::UniqueFd fd(::openat(at, temporary.c_str(),
                             O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0)
        return Error{"cannot create a file in " + dir + ": " + os::errno_text(errno), ""};
    const auto fail = [&](const std::string& what) {
        const Error error{what + " " + dir + "/" + temporary + ": " + os::errno_text(errno), ""};
        ::unlinkat(at, temporary.c_str(), 0);
        return error;
    };
    if (!os::write_all(fd.get(), file)) return fail("cannot write");
    if (::fchmod(fd.get(), 0644) != 0) return fail("cannot chmod");
    if (::fsync(fd.get()) != 0) return fail("cannot fsync");
    fd.reset();
    if (::renameat(at, temporary.c_str(), at, name.c_str()) != 0) return fail("cannot rename");
    // The rename is durable once the directory is synced.
    os::UniqueFd directory(::openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (directory.get() >= 0) ::fsync(directory.get());

    std::vector<std::string> files = cache_files_by_age(at);
    std::erase(files, name);
    for (std::size_t i = 0; i + kKeptFiles < files.size() + 1; ++i) {
        ::unlinkat(at, files[i].c_str(), 0);
    }
    return ok_status();
}

}  // namespace bridle::policy::cache
