// SPDX-License-Identifier: Apache-2.0
// What the client reads of a command's output, per stream: secrets redacted (a rule's
// `redact: true`, policy/redaction.hpp), then control characters escaped (`escape_output`,
// output_hygiene.hpp), then on to the downstream sink. The one composition of both for every
// stream that reaches a client.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "audit/capture.hpp"
#include "execution/runner.hpp"
#include "gate/output_hygiene.hpp"
#include "policy/model.hpp"
#include "policy/redaction.hpp"

namespace bridle::gate {

// Which steps a stream takes. Both off: the bytes pass unchanged (a run_as rule's user side,
// whose bytes come from the target side, which took the steps already).
struct OutputSteps {
    bool redact = false;
    bool escape = false;
};

// The steps `rule` asks for.
OutputSteps steps_of(const policy::Rule& rule);

class ClientStream {
  public:
    // Redacts with the policy's patterns (settings.redaction).
    ClientStream(OutputSteps steps, const policy::Policy& policy, execution::OutputSink downstream);

    // The runner's sink: false when the downstream is gone. Bytes a step holds back (the rest
    // of a line, a character cut short) come with later ones or at finish().
    bool write(execution::Stream stream, std::string_view bytes);
    // write(), as an execution::OutputSink; valid while this object lives.
    execution::OutputSink sink();
    // After the run, once: what each stream still holds, to the downstream.
    void finish();

    bool redacts() const { return steps_.redact; }
    std::uint64_t redacted() const;  // secrets replaced over both streams

  private:
    struct Lane {
        std::optional<policy::Redactor> redactor;
        OutputEscaper escaper;
        std::string redacted, escaped;  // reused between writes
    };
    Lane& lane(execution::Stream stream);
    // `bytes` through the lane's steps (`last`: the end of the stream), to the downstream.
    bool pass(execution::Stream stream, std::string_view bytes, bool last);

    OutputSteps steps_;
    execution::OutputSink downstream_;
    std::array<Lane, 2> lanes_;
};

// A rule's output capture (`capture:`): every byte the command writes, also past max_output,
// redacted as the client's stream is, so that the journal never holds a secret the client was
// spared. Neither copied nor moved: the spec's observer refers to it until the run has ended.
class CapturedOutput {
  public:
    // Sets spec.observe when `rule` captures; otherwise captures nothing.
    CapturedOutput(const policy::Rule& rule, const OutputSteps& client_steps,
                   const policy::Policy& policy, execution::Spec& spec);
    CapturedOutput(const CapturedOutput&) = delete;
    CapturedOutput& operator=(const CapturedOutput&) = delete;

    // After the run, once: what the redactor held back, then the capture's digest. The capture
    // for the result record; nullptr when the rule captures nothing.
    const audit::OutputCapture* finish();

  private:
    std::optional<audit::OutputCapture> capture_;
    std::optional<ClientStream> redacted_;
};

}  // namespace bridle::gate
