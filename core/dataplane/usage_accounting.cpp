#include "core/dataplane/usage_accounting.hpp"

#include <cmath>

#include "core/catalog/model_resolution.hpp"
#include "core/providers/provider_runtime.hpp"

namespace apiproxy {

double usage_cost(const telemetry::TokenUsage& usage, double cost_input, double cost_output) {
  double cost = static_cast<double>(usage.prompt_tokens) / 1000.0 * cost_input +
                static_cast<double>(usage.completion_tokens) / 1000.0 * cost_output;
  return std::isfinite(cost) && cost > 0 ? cost : 0.0;
}

void account_usage(telemetry::Telemetry& telemetry, ClientChannel& client, std::string_view logical_model,
                   const Candidate& answered, const std::optional<telemetry::TokenUsage>& usage,
                   std::chrono::steady_clock::time_point now) {
  // A model a client invented ("provider/anything") is no label of its own: the unlisted
  // bucket of model_resolution.hpp, as for the logical model.
  std::string_view model = logical_model == kUnlistedModels ? kUnlistedModels : answered.upstream->model_id;
  telemetry::UsageRecord r{logical_model, answered.upstream->provider_id, model};
  if (usage) {
    const ProviderConfig& prices = answered.provider->config;
    r.usage = &*usage;
    r.cost = usage_cost(*usage, prices.cost_input, prices.cost_output);
    client.note_number("prompt_tokens", static_cast<long long>(usage->prompt_tokens));
    client.note_number("completion_tokens", static_cast<long long>(usage->completion_tokens));
    client.note_decimal("cost", r.cost);
  }
  telemetry.record_usage(r, now);
}

}  // namespace apiproxy
