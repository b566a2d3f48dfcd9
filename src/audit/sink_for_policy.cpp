// SPDX-License-Identifier: Apache-2.0
// The sink a policy's settings.audit names: journald, the file, or both.
#include "audit/sink_for_policy.hpp"

namespace bridle::audit {

std::unique_ptr<Sink> make_sink(const policy::Settings& settings) {
    const auto file = [&] {
        return make_file_sink(FileSinkOptions{
            settings.audit_file.path, static_cast<std::size_t>(settings.audit_file.max_size),
            static_cast<std::size_t>(settings.audit_file.max_files)});
    };
    switch (settings.audit) {
        case policy::AuditSink::kFile:
            return file();
        case policy::AuditSink::kBoth:
            return make_tee_sink(make_journald_sink(), file());
        case policy::AuditSink::kJournald:
        default:
            return make_journald_sink();
    }
}

}  // namespace bridle::audit
