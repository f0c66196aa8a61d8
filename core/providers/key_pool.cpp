#include "core/providers/key_pool.hpp"

#include <algorithm>
#include <cmath>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/common/text.hpp"

namespace apiproxy {

namespace {

constexpr double kPreferenceMin = 0.1, kPreferenceMax = 10.0;
constexpr double kSuccessFactor = 1.1, kRateLimitedFactor = 0.7, kAuthFailureFactor = 0.2;
constexpr std::chrono::seconds kPreferenceTtl{7 * 24 * 3600};
constexpr std::chrono::seconds kRefreshEvery{5};
constexpr std::chrono::seconds kAuthBackoff{30}, kAuthBackoffMax{300};
constexpr std::chrono::seconds kLimitedBackoff{1}, kLimitedBackoffMax{60};
constexpr std::chrono::seconds kRetryAfterMax{3600};

std::chrono::seconds doubling(std::chrono::seconds base, unsigned in_row, std::chrono::seconds max) {
  unsigned shift = std::min(in_row > 0 ? in_row - 1 : 0u, 16u);
  return std::min(max, base * (int64_t{1} << shift));
}

int64_t ns(KeyPool::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string key_member(std::string_view secret, std::string_view provider_id, std::string_view key) {
  std::string message = std::string(provider_id) + ":" + std::string(key);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return to_hex(mac, len);
}

KeyPool::KeyPool(std::string provider_id, const std::vector<ApiKeyConfig>& keys, std::string_view secret)
    : provider_id_(std::move(provider_id)),
      store_key_("provider:" + provider_id_ + ":key_scores"),
      keys_(keys),
      state_(new KeyState[keys.size()]) {
  for (size_t i = 0; i < keys_.size(); ++i) {
    state_[i].member = key_member(secret, provider_id_, keys_[i].key);
    state_[i].limit_key = "provider:" + provider_id_ + ":key:" + state_[i].member.substr(0, 16);
    if (keys_[i].max_qps > 0) has_key_limits_ = true;
  }
}

void KeyPool::order(std::mt19937_64& rng, Clock::time_point now, const std::vector<uint16_t>& tried,
                    std::vector<uint16_t>& out) const {
  out.clear();
  if (keys_.size() == 1) {
    if (tried.empty()) out.push_back(0);
    return;
  }
  // Weighted random order without replacement (Efraimidis–Spirakis): each key draws
  // u^(1/w); the largest draws go first.
  std::vector<std::pair<double, uint16_t>> draws;
  draws.reserve(keys_.size());
  std::uniform_real_distribution<double> unit(std::nextafter(0.0, 1.0), 1.0);
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < keys_.size(); ++i) {
    auto index = static_cast<uint16_t>(i);
    if (state_[i].backoff_until > now || std::find(tried.begin(), tried.end(), index) != tried.end()) continue;
    // A preference above 1 is a record of reliability that absorbs a few 429s; it does not
    // buy a larger share, or healthy keys would drift away from their weights (the first
    // key to succeed would be drawn more, succeed more, and starve the others for a while).
    double w = keys_[i].weight * std::min(state_[i].preference, 1.0);
    draws.emplace_back(std::log(unit(rng)) / w, index);
  }
  std::sort(draws.begin(), draws.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& d : draws) out.push_back(d.second);
}

std::chrono::milliseconds KeyPool::backoff_for(KeyState& s, KeyOutcome outcome, std::chrono::milliseconds retry_after) {
  switch (outcome) {
    case KeyOutcome::Success:
      s.auth_failures_in_row = s.limited_in_row = 0;
      return std::chrono::milliseconds(0);
    case KeyOutcome::AuthFailure:
      ++s.auth_failures_in_row;
      return doubling(kAuthBackoff, s.auth_failures_in_row, kAuthBackoffMax);
    case KeyOutcome::RateLimited:
      ++s.limited_in_row;
      if (retry_after.count() > 0) return std::min<std::chrono::milliseconds>(retry_after, kRetryAfterMax);
      return doubling(kLimitedBackoff, s.limited_in_row, kLimitedBackoffMax);
    case KeyOutcome::OtherFailure:
      break;
  }
  return std::chrono::milliseconds(0);
}

void KeyPool::record(size_t i, KeyOutcome outcome, std::chrono::milliseconds retry_after, Clock::time_point now,
                     Store& store) {
  KeyState& s = state_[i];
  double factor = 1.0;
  switch (outcome) {
    case KeyOutcome::Success:
      s.successes.fetch_add(1, std::memory_order_relaxed);
      factor = kSuccessFactor;
      break;
    case KeyOutcome::AuthFailure:
      s.auth_failures.fetch_add(1, std::memory_order_relaxed);
      factor = kAuthFailureFactor;
      break;
    case KeyOutcome::RateLimited:
      s.rate_limited.fetch_add(1, std::memory_order_relaxed);
      factor = kRateLimitedFactor;
      break;
    case KeyOutcome::OtherFailure:
      s.other_failures.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  if (keys_.size() < 2) return;  // one key: nothing to choose between
  bool changes;
  {
    std::lock_guard lock(mu_);
    auto backoff = backoff_for(s, outcome, retry_after);
    s.backoff_until = backoff.count() > 0 ? now + backoff : Clock::time_point{};
    double next = std::clamp(s.preference * factor, kPreferenceMin, kPreferenceMax);
    changes = next != s.preference;
    s.preference = next;
  }
  if (changes) learn(store, i, factor);
}

void KeyPool::learn(Store& store, size_t i, double factor) {
  store.zset_scale(store_key_, state_[i].member, factor, 1.0, kPreferenceMin, kPreferenceMax, kPreferenceTtl,
                   [this, i](Result<double> score) {
                     if (!score || !std::isfinite(*score)) return;  // best effort: the local value stands
                     std::lock_guard lock(mu_);
                     state_[i].preference = std::clamp(*score, kPreferenceMin, kPreferenceMax);
                   });
}

void KeyPool::refresh(Store& store, Clock::time_point now) {
  if (keys_.size() < 2) return;
  int64_t due = next_refresh_ns_.load(std::memory_order_relaxed);
  if (ns(now) < due) return;
  if (!next_refresh_ns_.compare_exchange_strong(due, ns(now + kRefreshEvery), std::memory_order_relaxed)) return;
  store.zset_members(store_key_, [this](Result<std::vector<std::pair<std::string, double>>> members) {
    if (members) apply_preferences(*members);
  });
}

void KeyPool::apply_preferences(const std::vector<std::pair<std::string, double>>& members) {
  std::lock_guard lock(mu_);
  for (const auto& [member, score] : members) {
    if (!std::isfinite(score)) continue;
    for (size_t i = 0; i < keys_.size(); ++i)
      if (state_[i].member == member) state_[i].preference = std::clamp(score, kPreferenceMin, kPreferenceMax);
  }
}

std::vector<KeyPool::KeyView> KeyPool::view(Clock::time_point now) const {
  std::vector<KeyView> out;
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < keys_.size(); ++i) {
    const KeyState& s = state_[i];
    KeyView v;
    v.label = keys_[i].label;
    v.weight = keys_[i].weight;
    v.max_qps = keys_[i].max_qps;
    v.preference = s.preference;
    if (s.backoff_until > now) v.backoff_seconds = std::chrono::duration<double>(s.backoff_until - now).count();
    v.requests = s.requests.load(std::memory_order_relaxed);
    v.successes = s.successes.load(std::memory_order_relaxed);
    v.auth_failures = s.auth_failures.load(std::memory_order_relaxed);
    v.rate_limited = s.rate_limited.load(std::memory_order_relaxed);
    v.other_failures = s.other_failures.load(std::memory_order_relaxed);
    out.push_back(std::move(v));
  }
  return out;
}

KeyPools::KeyPools(const ProviderSet& providers, std::string_view secret) {
  for (const auto& p : providers.providers)
    if (!p.keys.empty()) pools_.push_back(std::make_unique<KeyPool>(p.id, p.keys, secret));
}

KeyPool* KeyPools::find(std::string_view provider_id) const {
  for (const auto& p : pools_)
    if (p->provider_id() == provider_id) return p.get();
  return nullptr;
}

}  // namespace apiproxy
