// Token and cost accounting of one answered request: the usage the upstream reported (if
// any passed the checks of usage_parse.hpp), priced at the answering provider's COST_INPUT
// and COST_OUTPUT, goes to the Prometheus counters, the usage summary and the access log.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/dataplane/client_channel.hpp"
#include "core/routing/router.hpp"
#include "core/telemetry/telemetry.hpp"
#include "core/telemetry/token_usage.hpp"

namespace apiproxy {

// prompt_tokens / 1000 × cost_input + completion_tokens / 1000 × cost_output; 0 when that is
// not a finite amount (prices are checked when read, but may be absurdly large).
double usage_cost(const telemetry::TokenUsage& usage, double cost_input, double cost_output);

// Records the request `answered` (the candidate whose answer the client got) answered for
// `logical_model` (metric labels: its provider and model ids); the access log gets prompt_tokens, completion_tokens and cost when the
// upstream reported usage. `now`: when the answer was complete.
void account_usage(telemetry::Telemetry& telemetry, ClientChannel& client, std::string_view logical_model,
                   const Candidate& answered, const std::optional<telemetry::TokenUsage>& usage,
                   std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

}  // namespace apiproxy
