// GCRA (generic cell rate algorithm), the one C++ copy of the rate-limit arithmetic: used by
// MemoryStore, by RateLimiter's local fallback (core/ratelimit/), and mirrored line for
// line by the Lua script in core/store/redis_store.cpp. It lives with the store because
// Store::rate_admit is where the arithmetic runs atomically; core/ratelimit builds on the
// store, never the other way round.
//
// A limit of `qps` has an emission interval T = 1/qps and admits bursts of B = max(1, qps)
// requests (one second's worth). Its whole state is one "theoretical arrival time" (TAT).
// A request at `now` computes new_tat = max(tat, now) + T and is admitted when
// new_tat - now <= B*T (the "window"), storing new_tat; otherwise it may retry after
// new_tat - window - now. A missing state, or one whose TAT has passed, is the same as a
// full bucket, so idle state may be dropped (Redis: PEXPIRE) without changing any answer.
//
// All times are whole microseconds, so that the C++ and the Lua (IEEE doubles, exact for
// integers below 2^53) compute bit-identical answers; T is rounded down to a whole
// microsecond and the window is exactly one second for qps >= 1 (so bursts of floor(qps)
// are never lost to rounding).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/store/store.hpp"

namespace apiproxy::gcra {

using Micros = std::int64_t;

struct Params {
  Micros interval = 0;  // T, >= 1
  Micros window = 0;    // B*T: 1 s when qps >= 1, else T
};

// qps must be finite and > 0.
Params params(double qps);

struct Check {
  bool admit = false;
  Micros new_tat = 0;  // the state to store when the request is taken
  Micros wait = 0;     // not admitted: how long until it would be (> 0)
};

// One limit at `now`, given its stored TAT (tat <= 0: none). Pure.
Check check(Micros tat, Params p, Micros now);

// How long Redis keeps a state after it is written (milliseconds): until its TAT, plus
// slack, after which the key is equivalent to a missing one.
inline constexpr Micros kExpirySlackMs = 5000;

// The Redis key for a limit's state.
inline std::string redis_key(std::string_view key) { return "ratelimit:" + std::string(key); }

// Rate-limit states in memory: the in-process equivalent of the Lua script. Not
// thread-safe; the owner locks.
class Table {
 public:
  // Store::rate_admit's semantics at `now` (microseconds on any monotonic clock).
  RateDecision admit_first(const std::vector<std::vector<RateLimit>>& candidates, Micros now);
  size_t size() const { return tat_.size(); }

 private:
  void sweep(Micros now);  // drops states whose TAT has passed
  std::unordered_map<std::string, Micros> tat_;
  size_t sweep_at_ = 1024;  // sweep when the table grows to this many states
};

// Microseconds since an arbitrary epoch on the steady clock.
Micros steady_now();

}  // namespace apiproxy::gcra
