// SPDX-License-Identifier: Apache-2.0
// Every exit status bridle itself chooses (sysexits-style); bridle(8) documents each.
#pragma once

namespace bridle {

enum class ExitCode : int {
    kOk = 0,
    kUsage = 64,    // EX_USAGE: the request (or bridle's own command line) could not be parsed
    kDataErr = 65,  // EX_DATAERR: a put's content was refused (size, type, the validator)
    kUnavailable =
        69,          // EX_UNAVAILABLE: the audit sink cannot take records; nothing runs unaudited
    kSoftware = 70,  // EX_SOFTWARE: internal error
    kSetupFailed = 71,  // EX_OSERR: the child's set-up (fds, environment, exec) failed before exec
    kCantCreate = 73,   // EX_CANTCREAT: `learn --write FILE` cannot create FILE (or it exists)
    kIoErr = 74,        // EX_IOERR: a file request's upload was cut, or its file could not be
                        // read, written or kept (nothing was replaced)
    kTempFail = 75,     // EX_TEMPFAIL: the task cap, a guardrail (retry later); approvals
    kNoPerm = 77,       // EX_NOPERM: denied by policy
    kConfig = 78,       // EX_CONFIG: policy missing, unreadable, unsafe or invalid
    kTimeout = 124,     // the rule's timeout expired; the command was killed
    kCannotExecute = 126,
    kNotFound = 127,
    kSignalBase = 128,  // 128+N: the command was killed by signal N
};

constexpr int to_int(ExitCode c) {
    return static_cast<int>(c);
}

}  // namespace bridle
