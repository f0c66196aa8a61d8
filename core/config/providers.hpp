// Providers as the user's spec configures them: ids in LLM_PROVIDERS, each described by
// LLM_PROVIDER_{id}_* variables. A provider that cannot be used is skipped with a reason.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/config/environment.hpp"
#include "core/config/values.hpp"

namespace apiproxy {

struct ProviderConfig {
  std::string id;
  std::string name;
  std::string base_url;  // validated http(s) URL, no trailing slash
  std::string api_key;   // secret: print only redacted_api_key()
  std::string models_path;  // empty: the adapter's default (/v1/models, Azure /openai/models)
  std::string region;
  std::string adapter;      // plugin name: explicit ADAPTER, else inferred from base_url
  bool adapter_inferred = false;
  double weight = 1.0;
  double cost_input = 0.0;
  double cost_output = 0.0;
  double max_qps = 0.0;  // 0 = unlimited
  StatusCodeSet retryable = StatusCodeSet::default_retryable();
  // Every LLM_PROVIDER_{id}_{KEY} variable, keyed by KEY (adapters read their options here).
  std::vector<std::pair<std::string, std::string>> settings;

  std::string redacted_api_key() const;
  // BASE_URL as responses and logs may show it: a query string (some providers take a key
  // there) is masked.
  std::string display_base_url() const;
};

struct SkippedProvider {
  std::string id;
  std::string reason;  // names the variable that is missing or invalid
};

struct ProviderSet {
  std::vector<ProviderConfig> providers;
  std::vector<SkippedProvider> skipped;
  std::vector<std::string> notes;  // harmless oddities worth a warning (duplicates, strays)
};

ProviderSet load_providers(const Environment& env);

// Mask for a secret: never reveals more than its last four characters, and nothing of
// short secrets.
std::string redact_secret(const std::string& secret);

}  // namespace apiproxy
