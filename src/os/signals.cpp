// SPDX-License-Identifier: Apache-2.0
// Resetting signals with the raw system call (signals.hpp): glibc's sigaction refuses the two
// signals it reserves for itself.
#include "os/signals.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace bridle::os {

int reset_signals() noexcept {
    // Dispositions first, then the mask, so no inherited handler runs once signals are
    // unblocked. SIG_IGN survives execve (signal(7)), so a SIGPIPE that bridle ignores
    // would otherwise be ignored by the program too. glibc's sigaction refuses (EINVAL) the
    // two signals it reserves for itself, which GNU make, for one, passes on ignored: reset
    // every signal with the raw system call. The kernel's struct sigaction, all zero, is
    // SIG_DFL with no flags and an empty mask (same layout on x86_64 and arm64). EINVAL
    // from the kernel: SIGKILL and SIGSTOP, which cannot be ignored anyway.
    struct {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)();
        std::uint64_t mask;
    } dfl{};
    for (int sig = 1; sig < NSIG; ++sig) {
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
