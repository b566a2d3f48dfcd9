// SPDX-License-Identifier: Apache-2.0
// Output capture for the result record: the first N bytes of each stream and a SHA-256 of
// everything the command wrote to it (a rule's `capture:`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "execution/runner.hpp"
#include "policy/sha256.hpp"

namespace bridle::audit {

class OutputCapture {
  public:
    explicit OutputCapture(std::uint64_t limit) : limit_(limit) {}
    // execution::Spec::observe: every byte, also those past max_output.
    void observe(execution::Stream stream, std::string_view bytes);
    // Finishes both hashes; call once, after the run.
    void finish();

    struct Stream {
        std::string head;  // the first `limit` bytes, raw
        std::uint64_t seen = 0;
        std::string sha256;  // after finish(): 64 hex digits
        policy::Sha256 hash;
    };
    const Stream& out() const { return out_; }
    const Stream& err() const { return err_; }
    std::uint64_t limit() const { return limit_; }

  private:
    std::uint64_t limit_;
    Stream out_, err_;
};

}  // namespace bridle::audit
