// SPDX-License-Identifier: Apache-2.0
// Resetting signals with the raw system call (signals.hpp): glibc's sigaction refuses the two
// signals it reserves for itself. Only the signals the kernel reports as ignored or caught are
// reset: one system call each instead of one for each of the 64.
#include "os/signals.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace bridle::os {
namespace {

constexpr std::uint64_t kEverySignal = ~std::uint64_t{0};

// The mask on the line "NAME:\t" followed by 16 hex digits and a newline, or false.
bool mask_of(std::string_view status, std::string_view name, std::uint64_t& mask) noexcept {
    const std::size_t at = status.find(name);
    if (at == std::string_view::npos || (at != 0 && status[at - 1] != '\n')) return false;
    const std::string_view digits = status.substr(at + name.size());
    if (digits.size() < 17 || digits[16] != '\n') return false;
    mask = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        const char c = digits[i];
        const int value = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (value < 0) return false;
        mask = (mask << 4) | static_cast<std::uint64_t>(value);
    }
    return true;
}

// This process's ignored and caught signals, from /proc/self/status; every signal when it
// cannot be read whole.
std::uint64_t own_signals_to_reset() noexcept {
    char buffer[4096];
    const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return kEverySignal;
    std::size_t length = 0;
    bool whole = false;
    while (length < sizeof buffer) {
        const ssize_t n = ::read(fd, buffer + length, sizeof buffer - length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            whole = n == 0;
            break;
        }
        length += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return whole ? signals_to_reset(std::string_view(buffer, length)) : kEverySignal;
}

}  // namespace

std::uint64_t signals_to_reset(std::string_view status) noexcept {
    std::uint64_t ignored = 0, caught = 0;
    if (!mask_of(status, "SigIgn:\t", ignored) || !mask_of(status, "SigCgt:\t", caught)) {
        return kEverySignal;
    }
    return ignored | caught;
}

int reset_signals() noexcept {
    // Dispositions first, then the mask, so no inherited handler runs once signals are
    // unblocked. SIG_IGN survives execve (signal(7)), so a SIGPIPE that bridle ignores
    // would otherwise be ignored by the program too; a caught signal's handler is bridle's
    // code until execve. glibc's sigaction refuses (EINVAL) the two signals it reserves for
    // itself, which GNU make, for one, passes on ignored: reset them with the raw system
    // call. The kernel's struct sigaction, all zero, is SIG_DFL with no flags and an empty
    // mask (same layout on x86_64 and arm64). EINVAL from the kernel: SIGKILL and SIGSTOP,
    // which cannot be ignored or caught anyway.
    struct {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)();
        std::uint64_t mask;
    } dfl{};
    const std::uint64_t which = own_signals_to_reset();
    for (int sig = 1; sig < NSIG && sig <= 64; ++sig) {
        if ((which & (std::uint64_t{1} << (sig - 1))) == 0) continue;
        if (::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask) != 0 &&
            errno != EINVAL) {
            return -1;
        }
    }
    sigset_t none;
    ::sigemptyset(&none);
    return ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace bridle::os
