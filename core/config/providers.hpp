// Providers as the user's spec configures them: ids in LLM_PROVIDERS, each described by
// LLM_PROVIDER_{id}_* variables. A provider that cannot be used is skipped with a reason.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/config/environment.hpp"
#include "core/config/values.hpp"
#include "core/model/types.hpp"

namespace apiproxy {

// One API key of a provider's pool (API_KEY, API_KEYS or API_KEYS_JSON).
struct ApiKeyConfig {
  std::string key;    // secret: never printed, logged or stored; header-safe (checked)
  std::string label;  // what responses and logs show instead; never contains the key
  double weight = 1.0;
  double max_qps = 0.0;  // 0 = no limit of its own
};

struct ProviderConfig {
  std::string id;
  std::string name;
  std::string base_url;  // validated http(s) URL, no trailing slash
  std::string api_key;   // secret: keys[0].key, for what uses one key (discovery, health)
  std::vector<ApiKeyConfig> keys;  // never empty for a usable provider
  std::string keys_source;         // the variable the pool came from, e.g. "API_KEYS_JSON"
  std::string models_path;  // empty: the adapter's default (/v1/models, Azure /openai/models)
  std::string region;
  std::string adapter;      // plugin name: explicit ADAPTER, else inferred from base_url
  bool adapter_inferred = false;
  double weight = 1.0;
  double cost_input = 0.0;
  double cost_output = 0.0;
  double max_qps = 0.0;  // 0 = unlimited
  StatusCodeSet retryable = StatusCodeSet::default_retryable();
  // {TIMEOUT,CONNECT_TIMEOUT,FIRST_BYTE_TIMEOUT,STREAM_IDLE_TIMEOUT}_SECONDS; 0: the global one.
  std::chrono::milliseconds total_timeout{0}, connect_timeout{0}, first_byte_timeout{0}, idle_timeout{0};
  // STATIC_MODELS_JSON / _FILE: the provider's models without asking MODELS_PATH (or, when
  // MODELS_PATH is set too, when asking fails and no earlier list is known).
  std::vector<Model> static_models;
  std::string static_models_source;  // the variable they came from; empty: none
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
