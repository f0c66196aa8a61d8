// A provider's pool of API keys, from the first of its variables that yields a usable key:
//   LLM_PROVIDER_{id}_API_KEYS_JSON  [{"key":"…","weight":2,"max_qps":5,"label":"team-a"}, "k2", …]
//   LLM_PROVIDER_{id}_API_KEYS       k1,k2,k3          (labels key1, key2, …)
//   LLM_PROVIDER_{id}_API_KEY        k                 (label key1)
// (the original gateway's order). An unusable entry is skipped with a warning that names
// the variable and the entry's position, never the key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config/providers.hpp"

namespace apiproxy {

struct ApiKeyVariables {
  std::optional<std::string> api_key, api_keys, api_keys_json;
};

struct ApiKeyPool {
  std::vector<ApiKeyConfig> keys;  // empty: no variable yielded a usable key
  std::string source;              // "API_KEYS_JSON", "API_KEYS" or "API_KEY"
  std::vector<std::string> warnings;
};

// `prefix`: "LLM_PROVIDER_{id}_", for the warnings.
ApiKeyPool read_api_keys(const std::string& prefix, const ApiKeyVariables& vars);

// A key may travel in a header: no control characters, no leading or trailing space, at
// most 4 KiB.
bool is_header_safe_key(std::string_view key);

}  // namespace apiproxy
