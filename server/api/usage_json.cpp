#include "server/api/usage_json.hpp"

namespace apiproxy {

namespace {

void write_totals(JsonOut& j, std::string_view key, const telemetry::UsageTotals& t) {
  j.key(key).w().StartObject();
  j.field("requests", static_cast<size_t>(t.requests));
  j.field("requests_without_usage", static_cast<size_t>(t.requests_without_usage));
  j.field("prompt_tokens", static_cast<size_t>(t.prompt_tokens));
  j.field("completion_tokens", static_cast<size_t>(t.completion_tokens));
  j.field("total_tokens", static_cast<size_t>(t.total_tokens));
  j.field("cost", t.cost);
  j.w().EndObject();
}

}  // namespace

void write_usage_summary(JsonOut& j, const std::vector<telemetry::UsageRow>& rows,
                         const std::optional<std::string>& logical_model) {
  j.key("usage").w().StartObject();
  j.field("scope", "instance");  // each gateway instance counts its own requests
  j.field("window_seconds", static_cast<size_t>(telemetry::UsageSummary::kWindowMinutes * 60));
  j.key("logical_models").w().StartArray();
  for (const auto& row : rows) {
    if (logical_model && !logical_model->empty() && row.logical_model != *logical_model) continue;
    j.w().StartObject();
    j.field("logical_model", row.logical_model);
    write_totals(j, "since_start", row.since_start);
    write_totals(j, "last_hour", row.last_hour);
    j.w().EndObject();
  }
  j.w().EndArray();
  j.w().EndObject();
}

}  // namespace apiproxy
