// SPDX-License-Identifier: Apache-2.0
#include "os/random.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "os/error.hpp"
#include "os/fd.hpp"

namespace bridle::os {
namespace {

// Fills `out` from getrandom, or from /dev/urandom: 0, or the errno of the last failure.
int fill(std::vector<unsigned char>& out) {
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = ::getrandom(out.data() + got, out.size() - got, 0);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    if (got == out.size()) return 0;
    const UniqueFd urandom(::open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (urandom.get() < 0) return errno;
    for (got = 0; got < out.size();) {
        const ssize_t n = ::read(urandom.get(), out.data() + got, out.size() - got);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
        } else if (n == 0) {
            return EIO;
        } else if (errno != EINTR) {
            return errno;
        }
    }
    return 0;
}

}  // namespace

std::string random_hex(std::size_t bytes) {
    std::vector<unsigned char> random(bytes);
    if (const int error = fill(random); error != 0) {
        (void)write_all(STDERR_FILENO,
                        "bridle: cannot read random bytes (getrandom, then "
                        "/dev/urandom: " +
                            errno_text(error) + "); stopping\n");
        std::abort();
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * bytes);
    for (const unsigned char b : random) hex += kHex[b >> 4], hex += kHex[b & 15];
    return hex;
}

}  // namespace bridle::os
