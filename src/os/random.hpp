// SPDX-License-Identifier: Apache-2.0
// Random bytes from the kernel, as lowercase hexadecimal: the ids of requests and fan-outs, the
// nonces that approvals bind, the names of staged files.
#pragma once

#include <cstddef>
#include <string>

namespace bridle::os {

// `bytes` random bytes as 2 x `bytes` hexadecimal digits: from getrandom(2), or from
// /dev/urandom where getrandom fails (a kernel without it, a filter that refuses it). Where
// both fail, the process stops (std::abort, after a line on stderr) rather than go on with an
// id that is not random: an approval's nonce is one.
std::string random_hex(std::size_t bytes);

}  // namespace bridle::os
