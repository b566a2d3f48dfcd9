// SPDX-License-Identifier: Apache-2.0
// Output capture: keep the head of each stream, hash all of it.
#include "audit/capture.hpp"

#include <algorithm>

namespace bridle::audit {

void OutputCapture::observe(execution::Stream stream, std::string_view bytes) {
    Stream& s = stream == execution::Stream::kStdout ? out_ : err_;
    s.hash.update(bytes);
    s.seen += bytes.size();
    if (s.head.size() < limit_) {
        const std::uint64_t room = limit_ - s.head.size();
        s.head.append(
            bytes.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(room, bytes.size()))));
    }
}

void OutputCapture::finish() {
    out_.sha256 = out_.hash.hex_digest();
    err_.sha256 = err_.hash.hex_digest();
}

}  // namespace bridle::audit
