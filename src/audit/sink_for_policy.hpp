// SPDX-License-Identifier: Apache-2.0
// The sink a policy's settings.audit names.
#pragma once

#include <memory>

#include "audit/audit.hpp"
#include "policy/model.hpp"

namespace bridle::audit {

// journald (the default), the file sink, or both (each record must reach both). Until a
// policy is loaded, bridle records refusals in journald.
std::unique_ptr<Sink> make_sink(const policy::Settings& settings);

}  // namespace bridle::audit
