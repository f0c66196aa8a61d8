#include "core/telemetry/usage_summary.hpp"

#include <cmath>

#include "core/telemetry/family.hpp"

namespace apiproxy::telemetry {

namespace {

int64_t minute_of(UsageSummary::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
}

size_t slot_of(int64_t minute) {
  auto n = static_cast<int64_t>(UsageSummary::kWindowMinutes);
  return static_cast<size_t>(((minute % n) + n) % n);
}

}  // namespace

void UsageTotals::add(const UsageTotals& other) {
  requests += other.requests;
  requests_without_usage += other.requests_without_usage;
  prompt_tokens += other.prompt_tokens;
  completion_tokens += other.completion_tokens;
  total_tokens += other.total_tokens;
  cost += other.cost;
}

UsageSummary::Pair& UsageSummary::pair_for(std::string_view logical_model, std::string_view provider) {
  auto by = by_provider_.find(provider);
  if (by == by_provider_.end()) by = by_provider_.emplace(std::string(provider), ByLogical{}).first;
  ByLogical& pairs = by->second;
  auto it = pairs.find(logical_model);
  if (it != pairs.end()) return it->second;
  if (pairs_ >= max_pairs_) logical_model = kOverflowValue;  // bounded, see the header
  it = pairs.find(logical_model);
  if (it != pairs.end()) return it->second;
  ++pairs_;
  return pairs.emplace(std::string(logical_model), Pair{}).first->second;
}

void UsageSummary::record(std::string_view logical_model, std::string_view provider, const TokenUsage* usage,
                          double cost, Clock::time_point now) {
  UsageTotals one;
  if (usage) {
    one.requests = 1;
    one.prompt_tokens = usage->prompt_tokens;
    one.completion_tokens = usage->completion_tokens;
    one.total_tokens = usage->total_tokens;
    if (std::isfinite(cost) && cost > 0) one.cost = cost;
  } else {
    one.requests_without_usage = 1;
  }
  int64_t minute = minute_of(now);
  std::lock_guard lock(mu_);
  Pair& p = pair_for(logical_model, provider);
  p.since_start.add(one);
  Bucket& b = p.minutes[slot_of(minute)];
  if (b.minute != minute) b = Bucket{minute, {}};  // a bucket from an hour ago (or never used)
  b.totals.add(one);
}

void UsageSummary::add_rows(std::vector<UsageRow>& out, const std::string& provider, const ByLogical& pairs,
                            int64_t minute) const {
  for (const auto& [logical, p] : pairs) {
    UsageRow row{logical, provider, p.since_start, {}};
    for (const Bucket& b : p.minutes)
      if (b.minute > minute - static_cast<int64_t>(kWindowMinutes) && b.minute <= minute) row.last_hour.add(b.totals);
    out.push_back(std::move(row));
  }
}

std::vector<UsageRow> UsageSummary::rows(std::string_view provider, Clock::time_point now) const {
  int64_t minute = minute_of(now);
  std::vector<UsageRow> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, pairs] : by_provider_)
    if (provider.empty() || id == provider) add_rows(out, id, pairs, minute);
  return out;
}

}  // namespace apiproxy::telemetry
