// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the streaming redactor (src/policy/redaction.hpp), fed a command's output. The
// first byte picks the read size (1 to 256 bytes), the rest is the output, cut into reads of
// it. Beyond "no crash, no hang": the result does not depend on the reads; output with nothing
// replaced is the input unchanged; and the output grows only by the markers (and a line break).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "policy/redaction.hpp"

using bridle::fuzz::check;
using bridle::policy::RedactionPatterns;
using bridle::policy::Redactor;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t chunk = std::size_t{data[0]} + 1;
    const std::string_view output(reinterpret_cast<const char*>(data) + 1, size - 1);

    Redactor whole(RedactionPatterns::builtin());
    std::string at_once;
    whole.feed(output, at_once);
    whole.finish(at_once);

    Redactor pieces(RedactionPatterns::builtin());
    std::string in_reads;
    for (std::size_t pos = 0; pos < output.size(); pos += chunk) {
        pieces.feed(output.substr(pos, chunk), in_reads);
    }
    pieces.finish(in_reads);

    check(in_reads == at_once, "the reads do not change the result");
    check(pieces.count() == whole.count(), "the reads do not change the count");
    if (whole.count() == 0) check(at_once == output, "nothing replaced: the output is unchanged");
    // A private key block whose body is empty gets its marker on a line of its own: at most
    // one line break ("\r\n") more than the input had, per replacement.
    const std::size_t most = bridle::policy::kRedactedMarker.size() + 2;
    check(at_once.size() <= output.size() + whole.count() * most,
          "the output grows only by the markers");
    return 0;
}
