// The API keys of each provider and what the gateway has learned about them.
//
// Each upstream attempt takes one key of its provider's pool: among the keys that are not
// backing off, at random in proportion to weight × min(preference, 1). A 401/403 sends a key into
// back-off for at least 30 s, a 429 for its Retry-After (else 1 s doubling to 60 s); the
// data plane then tries another key of the same provider before failing over. A pool of
// one key never backs off (the provider's own cooldowns and failover apply, as before).
//
// Preferences are shared by every instance through the store: a sorted set
// `provider:{id}:key_scores` whose members are HMAC-SHA256(SECRET_KEY, "{id}:{key}") in
// hex — never the key. Success raises a key's preference towards 10, a 429 lowers it, an
// authentication failure lowers it most (floor 0.1); each instance re-reads the set every
// few seconds. Only a preference below 1 changes a key's share: one above is a credit of
// past successes that a few 429s spend before the share drops. Back-off and the per-key counters are this instance's own.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/providers.hpp"
#include "core/store/store.hpp"

namespace apiproxy {

enum class KeyOutcome { Success, AuthFailure, RateLimited, OtherFailure };

// The key's name in the store: hex HMAC-SHA256 of "{provider_id}:{key}" under `secret`.
std::string key_member(std::string_view secret, std::string_view provider_id, std::string_view key);

class KeyPool {
 public:
  using Clock = std::chrono::steady_clock;

  KeyPool(std::string provider_id, const std::vector<ApiKeyConfig>& keys, std::string_view secret);

  const std::string& provider_id() const { return provider_id_; }
  size_t size() const { return keys_.size(); }
  const ApiKeyConfig& key(size_t i) const { return keys_[i]; }
  // The store key of this key's own MAX_QPS limit (the rate limiter prefixes "ratelimit:").
  const std::string& limit_key(size_t i) const { return state_[i].limit_key; }
  bool has_key_limits() const { return has_key_limits_; }

  // The keys worth trying now, best first, into `out`: not backing off and not in `tried`,
  // in a random order weighted by weight × preference.
  void order(std::mt19937_64& rng, Clock::time_point now, const std::vector<uint16_t>& tried,
             std::vector<uint16_t>& out) const;

  void count_request(size_t i) { state_[i].requests.fetch_add(1, std::memory_order_relaxed); }
  // What an answer said about key `i`: counts it, starts or clears its back-off, and moves
  // its shared preference (one store command, only when the preference changes).
  // `retry_after`: the answer's Retry-After (0: none).
  void record(size_t i, KeyOutcome outcome, std::chrono::milliseconds retry_after, Clock::time_point now,
              Store& store);
  // Re-reads the shared preferences when the last read is older than a few seconds.
  void refresh(Store& store, Clock::time_point now);

  struct KeyView {
    std::string label;
    double weight = 1, max_qps = 0, preference = 1;
    double backoff_seconds = 0;  // remaining; 0: usable
    uint64_t requests = 0, successes = 0, auth_failures = 0, rate_limited = 0, other_failures = 0;
  };
  std::vector<KeyView> view(Clock::time_point now) const;

  const std::string& store_key() const { return store_key_; }

 private:
  struct KeyState {
    std::string member;     // HMAC hex: the key's name in the store
    std::string limit_key;  // provider:{id}:key:{first 16 of member}
    std::atomic<uint64_t> requests{0}, successes{0}, auth_failures{0}, rate_limited{0}, other_failures{0};
    // Guarded by mu_:
    Clock::time_point backoff_until{};
    unsigned auth_failures_in_row = 0, limited_in_row = 0;
    double preference = 1.0;
  };

  static std::chrono::milliseconds backoff_for(KeyState& s, KeyOutcome outcome, std::chrono::milliseconds retry_after);
  void learn(Store& store, size_t i, double factor);
  void apply_preferences(const std::vector<std::pair<std::string, double>>& members);

  std::string provider_id_;
  std::string store_key_;  // provider:{id}:key_scores
  std::vector<ApiKeyConfig> keys_;
  std::unique_ptr<KeyState[]> state_;
  bool has_key_limits_ = false;
  mutable std::mutex mu_;
  std::atomic<int64_t> next_refresh_ns_{0};
};

// Every provider's pool, for the whole process: it outlives every store and data plane
// (store callbacks refer to the pools).
class KeyPools {
 public:
  KeyPools(const ProviderSet& providers, std::string_view secret);
  KeyPool* find(std::string_view provider_id) const;

 private:
  std::vector<std::unique_ptr<KeyPool>> pools_;
};

}  // namespace apiproxy
