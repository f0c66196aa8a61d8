#include "core/routing/dynamic_weights.hpp"

#include <algorithm>
#include <cmath>

namespace apiproxy {

double DynamicWeights::factor(Nudge n) {
  switch (n) {
    case Nudge::Success: return 1.02;
    case Nudge::RetryableFailure: return 0.85;
    case Nudge::FatalFailure: return 0.7;
  }
  return 1.0;
}

double DynamicWeights::multiplier(const std::string& logical, const std::string& provider) const {
  std::lock_guard lock(mutex_);
  return multiplier_in(model_entries(logical), provider);
}

void DynamicWeights::multipliers(const std::string& logical, std::span<const PhysicalModel> upstreams,
                                 double* out) const {
  std::lock_guard lock(mutex_);
  const ProviderEntries* model = model_entries(logical);
  for (size_t i = 0; i < upstreams.size(); ++i) out[i] = multiplier_in(model, upstreams[i].provider_id);
}

const DynamicWeights::ProviderEntries* DynamicWeights::model_entries(std::string_view logical) const {
  auto it = entries_.find(logical);
  return it == entries_.end() ? nullptr : &it->second;
}

double DynamicWeights::multiplier_in(const ProviderEntries* model, std::string_view provider) {
  if (!model) return 1.0;
  auto it = model->find(provider);
  return it == model->end() ? 1.0 : it->second.multiplier;
}

void DynamicWeights::nudge(const std::string& logical, const std::string& provider, Nudge n) {
  std::lock_guard lock(mutex_);
  Entry& e = entries_[logical][provider];
  double f = factor(n);
  e.multiplier = std::clamp(e.multiplier * f, kMin, kMax);
  // Keep the pending product bounded too: beyond the clamp range it changes nothing.
  e.pending = std::clamp(e.pending * f, kMin / kMax, kMax / kMin);
}

std::vector<DynamicWeights::Pending> DynamicWeights::take_pending() {
  std::lock_guard lock(mutex_);
  std::vector<Pending> out;
  for (auto& [logical, providers] : entries_) {
    for (auto& [provider, e] : providers) {
      if (e.pending == 1.0) continue;
      out.push_back({logical, provider, e.pending});
      e.pending = 1.0;
    }
  }
  return out;
}

void DynamicWeights::set(const std::string& logical, const std::string& provider, double multiplier) {
  if (!std::isfinite(multiplier)) return;
  std::lock_guard lock(mutex_);
  entries_[logical][provider].multiplier = std::clamp(multiplier, kMin, kMax);
}

}  // namespace apiproxy
