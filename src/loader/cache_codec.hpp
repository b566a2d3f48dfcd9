// SPDX-License-Identifier: Apache-2.0
// The compiled policy's body: a Policy (and the lint warnings of its load) as bytes and back.
// Pure: the cache file around it (header, checksum, trust) is policy_cache.hpp.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "policy/model.hpp"

namespace bridle::policy::cache {

// Every field of `policy` except given_path and cache (the loader sets both after a load), and
// `warnings`. Integers are LEB128 varints, strings and lists are length-prefixed. Two policies
// encode to the same bytes exactly when they are the same policy: the tests compare a load from
// the cache with the YAML's this way.
std::string encode_policy(const Policy& policy, const std::vector<Error>& warnings);

// The inverse, total on any bytes: a Policy, or why the bytes are not one ("truncated at byte
// N", "bad enum value ..."). Never allocates more than the bytes can describe. Every byte is
// checked here, but the rules are decoded only when they are read (policy/rule_list.hpp):
// the policy keeps a copy of `bytes` for that. Regexes are recreated from their sources without
// being parsed or compiled (the cache holds only a policy that loaded without errors).
Result<Policy> decode_policy(std::string_view bytes, std::vector<Error>& warnings);

// The same, keeping `held`, which keeps `bytes` where they are (a string, a mapped file),
// instead of a copy.
Result<Policy> decode_policy(std::shared_ptr<const void> held, std::string_view bytes,
                             std::vector<Error>& warnings);

}  // namespace bridle::policy::cache
