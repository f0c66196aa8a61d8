// GET /metrics: the Prometheus text exposition (format 0.0.4) of this instance.
//
// Behind the same token as the control plane when APIPROXY_AUTH_TOKEN is set: Prometheus
// sends it with `authorization: {credentials: <base64(token)>}` in its scrape config
// (type Bearer is the default). The numbers are this process's own, except the upstream
// health series, which show routing's view (shared through the store by every instance).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "server/app/worker.hpp"

namespace apiproxy {

struct GatewayState;

void add_metrics_routes(Worker& worker);

// The whole exposition. `store_reachable`: the outcome of a store ping just made
// (nullopt: not checked, the gauge is left out).
std::string render_metrics(const GatewayState& state, std::optional<bool> store_reachable, std::string_view store_kind);

}  // namespace apiproxy
