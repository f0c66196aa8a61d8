// Weights learned from outcomes, per (logical model, provider): nudged up on success and
// down on failure (harder when the failure was not worth retrying), clamped to
// [0.2, 3] × the base weight. Nudges are applied locally at once and to the shared ZSET
// routing:{logical}:provider_weights by the background flush, which also reads the
// shared values back; the ZSET holds absolute weights (base × multiplier).
#pragma once

#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/types.hpp"

namespace apiproxy {

enum class Nudge { Success, RetryableFailure, FatalFailure };

class DynamicWeights {
 public:
  static constexpr double kMin = 0.2, kMax = 3.0;
  static double factor(Nudge n);

  // The multiplier for base weights, 1.0 when nothing is known.
  double multiplier(const std::string& logical, const std::string& provider) const;
  // The multiplier of each upstream's provider, in order (out[i] for upstreams[i]), with
  // one lock for all of them: a routing decision's candidates.
  void multipliers(const std::string& logical, std::span<const PhysicalModel> upstreams, double* out) const;
  void nudge(const std::string& logical, const std::string& provider, Nudge n);

  struct Pending {
    std::string logical, provider;
    double factor;
  };
  // Nudges not yet published; clears them.
  std::vector<Pending> take_pending();
  // The shared value after a publish or read (absolute weight / base weight).
  void set(const std::string& logical, const std::string& provider, double multiplier);

 private:
  struct Entry {
    double multiplier = 1.0;
    double pending = 1.0;  // product of factors not yet published
  };
  // logical → provider → entry: a decision finds its model once, then compares only
  // provider names.
  using ProviderEntries = std::map<std::string, Entry, std::less<>>;
  const ProviderEntries* model_entries(std::string_view logical) const;  // mutex_ held; null if none
  static double multiplier_in(const ProviderEntries* model, std::string_view provider);

  mutable std::mutex mutex_;
  std::map<std::string, ProviderEntries, std::less<>> entries_;
};

}  // namespace apiproxy
