// MAX_QPS enforcement that holds across gateway instances.
//
// The router hands the data plane an ordered list of candidate upstreams; each candidate
// carries the limits that apply to it (its provider's MAX_QPS, its upstream's max_qps).
// RateLimiter admits the request to the first candidate that is under all its limits, in
// one store round trip: with Redis the limits are shared by every instance using that
// Redis (GCRA state under `ratelimit:{key}`, on the Redis server's clock); with the
// in-process store they hold for this one instance.
//
// When the store fails (Redis down, timeout) the limiter decides with in-process state
// instead (the same GCRA code, one table shared by every thread of this process) and says
// so in the result; the limits then hold per instance only. While the outage lasts, one
// request a second still asks the store (so a hung Redis costs one timeout a second, not
// one per request); the others decide locally at once. It logs a warning once when an
// outage starts and a note when the store answers again, never per request.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/gcra.hpp"
#include "core/store/store.hpp"  // RateLimit {key, qps}

namespace apiproxy {

// Limit keys the gateway uses (the store adds the "ratelimit:" prefix).
namespace rate_limit_keys {
inline std::string provider(std::string_view provider_id) {
  return "provider:" + std::string(provider_id);
}
inline std::string upstream(std::string_view logical_model, std::string_view provider_id,
                            std::string_view model) {
  return "upstream:" + std::string(logical_model) + ":" + std::string(provider_id) + ":" +
         std::string(model);
}
}  // namespace rate_limit_keys

struct AdmissionCandidate {
  // All must admit. A qps that is not > 0 (or not finite) means no limit; no limits at all:
  // the candidate is always admitted. A key listed twice counts once, at its lowest qps.
  std::vector<RateLimit> limits;
};

struct Admission {
  std::optional<size_t> admitted;           // index into the candidates; nullopt: none has room
  std::chrono::milliseconds retry_after{0};  // none admitted: the shortest wait until one would be
                                             // (rounded up; 0 only when there were no candidates)
  bool local_fallback = false;              // decided by this instance alone: the store failed
};

class RateLimiter {
 public:
  using Clock = std::function<gcra::Micros()>;  // microseconds on a monotonic clock

  RateLimiter();
  // `local_clock` drives the local fallback and the outage probe interval (tests inject one).
  explicit RateLimiter(Clock local_clock);

  // Admits one request to the first candidate (in order) whose every limit has room,
  // taking one unit from each of its limits and nothing from the others. `done` runs
  // exactly once, on the store's io_context, never inside this call. Candidates after the
  // first one with no limits are never looked at; when the first candidate has no limits,
  // no store command is sent at all. The store must outlive the call (as for every store
  // call); the RateLimiter need not.
  void admit(Store& store, std::vector<AdmissionCandidate> candidates,
             std::function<void(Admission)> done);

  // True from a store failure until the store next answers.
  bool in_outage() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace apiproxy
