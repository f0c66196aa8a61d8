// Shared state behind one small asynchronous interface. Two implementations: Redis (many
// gateway instances share it) and in-process memory (one instance, nothing persisted).
//
// Every call completes by invoking its callback exactly once, on the io_context the store
// was made for, never before the call returns. Failures (Redis down, timeout) arrive as
// errors with a message fit for an operator; they never throw.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/common/result.hpp"

namespace apiproxy {

// One request-rate limit: at most `qps` requests per second under `key`, with bursts of up
// to max(1, qps) (one second's worth). See core/store/gcra.hpp for the algorithm (GCRA).
struct RateLimit {
  std::string key;  // e.g. "provider:openai", "upstream:gpt-4:openai:gpt-4o"
  double qps = 0;
};

// What Store::rate_admit decided.
struct RateDecision {
  std::optional<size_t> admitted;              // index of the candidate that took the request
  std::chrono::microseconds retry_after{0};    // none admitted: shortest wait until one would be
};

class Store {
 public:
  template <class T>
  using Callback = std::function<void(Result<T>)>;
  using Value = std::optional<std::string>;  // nullopt: no such key

  virtual ~Store() = default;
  virtual std::string_view kind() const = 0;  // "redis" or "memory"

  virtual void get(std::string key, Callback<Value> done) = 0;
  virtual void get_many(std::vector<std::string> keys, Callback<std::vector<Value>> done) = 0;
  // ttl 0: the key never expires.
  virtual void set(std::string key, std::string value, std::chrono::seconds ttl,
                   Callback<Unit> done) = 0;
  // true when the key existed.
  virtual void del(std::string key, Callback<bool> done) = 0;
  // Every key starting with `prefix` (no glob characters are interpreted).
  virtual void keys_with_prefix(std::string prefix, Callback<std::vector<std::string>> done) = 0;
  virtual void ping(Callback<Unit> done) = 0;

  // Sorted sets of weights. Multiplies `member`'s score (or `initial` when absent) by
  // `factor`, clamps it to [min, max] and stores it, atomically; yields the new score. The
  // set expires `ttl` after its last change (Redis; in process its keys are bounded anyway).
  virtual void zset_scale(std::string key, std::string member, double factor, double initial,
                          double min, double max, std::chrono::seconds ttl, Callback<double> done) = 0;
  // Every member with its score.
  virtual void zset_members(std::string key,
                            Callback<std::vector<std::pair<std::string, double>>> done) = 0;

  // Rate limiting, atomically and (for Redis) across every instance sharing the store, in
  // one round trip. Admits one request to the first candidate, in order, whose every limit
  // has room, taking one unit from each of that candidate's limits and nothing from any
  // other. Each candidate's keys are distinct and every qps is finite and > 0 (RateLimiter
  // normalises); a candidate with no limits admits. An empty list completes with nothing
  // admitted, without any I/O. The GCRA state lives under `ratelimit:{key}` in Redis.
  virtual void rate_admit(std::vector<std::vector<RateLimit>> candidates,
                          Callback<RateDecision> done) = 0;
};

// Makes the store one thread's io_context uses; every store a factory makes shares the
// same data.
using StoreFactory = std::function<std::shared_ptr<Store>(boost::asio::io_context&)>;

struct Settings;
// Redis when settings name one, else memory. Errors only for an unusable REDIS_URL.
Result<StoreFactory> make_store_factory(const Settings& settings);

}  // namespace apiproxy
