// A rolling summary of token usage and cost per logical model and provider, for
// GET /providers/{id}/metrics: totals since this process started and over the last hour, in
// one-minute buckets. Each gateway instance keeps its own (nothing goes through the store);
// the Prometheus counters apiproxy_tokens_total and apiproxy_cost_total are the place to sum
// instances up.
//
// Memory is bounded: a pair takes about 4 KiB (its hour of buckets) and at most `max_pairs`
// pairs are kept. Past that, a new logical model is summed under "_overflow_" for its
// provider (providers come from configuration, so those rows are bounded too). One mutex,
// held for a map lookup and a few additions per answered request.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/telemetry/token_usage.hpp"

namespace apiproxy::telemetry {

struct UsageTotals {
  uint64_t requests = 0;                // answered, with a usage report that passed the checks
  uint64_t requests_without_usage = 0;  // answered, without one
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint64_t total_tokens = 0;
  double cost = 0;  // COST_INPUT / COST_OUTPUT of the provider, per 1,000 tokens

  void add(const UsageTotals& other);
};

struct UsageRow {
  std::string logical_model;
  std::string provider;
  UsageTotals since_start;
  UsageTotals last_hour;
};

class UsageSummary {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kWindowMinutes = 60;
  static constexpr size_t kDefaultMaxPairs = 1000;

  explicit UsageSummary(size_t max_pairs = kDefaultMaxPairs) : max_pairs_(max_pairs) {}
  UsageSummary(const UsageSummary&) = delete;
  UsageSummary& operator=(const UsageSummary&) = delete;

  // One answered request. `usage` null: the upstream reported none (or a broken one).
  // `cost` is added only when finite and above 0.
  void record(std::string_view logical_model, std::string_view provider, const TokenUsage* usage, double cost,
              Clock::time_point now = Clock::now());

  // The rows of `provider` (every provider's when empty), ordered by provider, then
  // logical model.
  std::vector<UsageRow> rows(std::string_view provider = "", Clock::time_point now = Clock::now()) const;

 private:
  struct Bucket {
    int64_t minute = -1;  // minutes since the clock's epoch; -1: never used
    UsageTotals totals;
  };
  struct Pair {
    UsageTotals since_start;
    std::array<Bucket, kWindowMinutes> minutes;
  };
  using ByLogical = std::map<std::string, Pair, std::less<>>;

  Pair& pair_for(std::string_view logical_model, std::string_view provider);
  void add_rows(std::vector<UsageRow>& out, const std::string& provider, const ByLogical& pairs, int64_t minute) const;

  const size_t max_pairs_;
  mutable std::mutex mu_;
  std::map<std::string, ByLogical, std::less<>> by_provider_;
  size_t pairs_ = 0;
};

}  // namespace apiproxy::telemetry
