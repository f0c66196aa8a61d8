// The token usage summary (core/telemetry/usage_summary.hpp) as GET /providers/{id}/metrics
// shows it under "usage".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/telemetry/usage_summary.hpp"
#include "server/api/json_writer.hpp"

namespace apiproxy {

// Writes the key "usage" and its object: this instance's rows, one per logical model (only
// `logical_model`'s when given), each with its totals since start and over the last hour.
void write_usage_summary(JsonOut& j, const std::vector<telemetry::UsageRow>& rows,
                         const std::optional<std::string>& logical_model);

}  // namespace apiproxy
