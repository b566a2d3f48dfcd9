// SPDX-License-Identifier: Apache-2.0
// The client's view of a command's output (client_stream.hpp): redact, then escape.
#include "gate/client_stream.hpp"

namespace bridle::gate {

OutputSteps steps_of(const policy::Rule& rule) {
    return OutputSteps{rule.redact, rule.escape_output};
}

ClientStream::ClientStream(OutputSteps steps, const policy::Policy& policy,
                           execution::OutputSink downstream)
    : steps_(steps), downstream_(std::move(downstream)) {
    if (!steps_.redact) return;
    for (Lane& l : lanes_) l.redactor.emplace(policy.settings.redaction);
}

ClientStream::Lane& ClientStream::lane(execution::Stream stream) {
    return lanes_[stream == execution::Stream::kStdout ? 0 : 1];
}

bool ClientStream::pass(execution::Stream stream, std::string_view bytes, bool last) {
    Lane& l = lane(stream);
    std::string_view text = bytes;
    if (l.redactor) {
        l.redacted.clear();
        l.redactor->feed(text, l.redacted);
        if (last) l.redactor->finish(l.redacted);
        text = l.redacted;
    }
    if (steps_.escape) {
        l.escaped.clear();
        l.escaper.escape(text, l.escaped);
        if (last) l.escaper.finish(l.escaped);
        text = l.escaped;
    }
    return text.empty() || downstream_(stream, text);
}

bool ClientStream::write(execution::Stream stream, std::string_view bytes) {
    return pass(stream, bytes, false);
}

execution::OutputSink ClientStream::sink() {
    return [this](execution::Stream s, std::string_view bytes) { return write(s, bytes); };
}

void ClientStream::finish() {
    for (const execution::Stream stream :
         {execution::Stream::kStdout, execution::Stream::kStderr}) {
        (void)pass(stream, {}, true);
    }
}

std::uint64_t ClientStream::redacted() const {
    std::uint64_t count = 0;
    for (const Lane& l : lanes_) count += l.redactor ? l.redactor->count() : 0;
    return count;
}

CapturedOutput::CapturedOutput(const policy::Rule& rule, const OutputSteps& client_steps,
                               const policy::Policy& policy, execution::Spec& spec) {
    if (!rule.capture) return;
    capture_.emplace(*rule.capture);
    redacted_.emplace(OutputSteps{client_steps.redact, false}, policy,
                      [this](execution::Stream stream, std::string_view bytes) {
                          capture_->observe(stream, bytes);
                          return true;
                      });
    spec.observe = [this](execution::Stream stream, std::string_view bytes) {
        (void)redacted_->write(stream, bytes);
    };
}

const audit::OutputCapture* CapturedOutput::finish() {
    if (!capture_) return nullptr;
    redacted_->finish();
    capture_->finish();
    return &*capture_;
}

}  // namespace bridle::gate
