// The data the gateway keeps and serves. Field names follow the original service's JSON
// (DESIGN.md §5) so existing Redis data and clients keep working.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace apiproxy {

// One concrete model at one provider, as a logical model maps to it.
struct PhysicalModel {
  std::string provider_id;
  std::string model_id;  // Azure: the deployment name
  std::string endpoint;
  double base_weight = 1.0;
  std::optional<std::string> region;
  std::optional<double> max_qps;
  std::optional<std::string> meta_hash;
  int64_t updated_at = 0;  // epoch seconds
};

inline const std::vector<std::string>& known_capabilities() {
  static const std::vector<std::string> caps{"chat",  "completion", "embedding",
                                             "vision", "audio",     "function_calling"};
  return caps;
}

// The model name clients ask for, mapped to upstreams at several providers.
struct LogicalModel {
  std::string logical_id;
  std::string display_name;
  std::string description;
  std::vector<std::string> capabilities;
  std::vector<PhysicalModel> upstreams;
  bool enabled = true;
  int64_t updated_at = 0;
  std::optional<std::string> strategy;  // extension: this model's default strategy
};

// A provider's model, normalised from its model-list response.
struct Model {
  std::string model_id;
  std::string provider_id;
  std::string family;
  std::string display_name;
  uint64_t context_length = 0;  // 0: unknown
  std::vector<std::string> capabilities;
  std::string pricing_json;   // raw JSON object, or empty
  std::string metadata_json;  // raw upstream entry, or empty
  std::string meta_hash;
};

// A conversation bound to the upstream it started on (sticky routing).
struct Session {
  std::string conversation_id;
  std::string logical_model;
  std::string provider_id;
  std::string model_id;
  int64_t created_at = 0;
  int64_t last_accessed = 0;
  int64_t message_count = 0;
};

struct HealthStatus {
  std::string provider_id;
  std::string status;  // healthy | degraded | down
  int64_t timestamp = 0;
  double response_time_ms = 0;
  std::optional<std::string> error_message;
  std::optional<int64_t> last_successful_check;
};

}  // namespace apiproxy
