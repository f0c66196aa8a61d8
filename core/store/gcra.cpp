#include "core/store/gcra.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace apiproxy::gcra {

Params params(double qps) {
  Params p;
  // The Lua script receives these integers; it does no rate arithmetic of its own.
  p.interval = std::max<Micros>(1, static_cast<Micros>(std::floor(1e6 / qps)));
  p.window = qps >= 1 ? Micros{1000000} : p.interval;
  return p;
}

Check check(Micros tat, Params p, Micros now) {
  Check c;
  if (tat < now) tat = now;
  c.new_tat = tat + p.interval;
  Micros allow_at = c.new_tat - p.window;
  c.admit = allow_at <= now;
  if (!c.admit) c.wait = allow_at - now;
  return c;
}

RateDecision Table::admit_first(const std::vector<std::vector<RateLimit>>& candidates, Micros now) {
  RateDecision d;
  std::optional<Micros> best_wait;
  std::vector<Micros> new_tats;
  for (size_t c = 0; c < candidates.size(); ++c) {
    const auto& limits = candidates[c];
    bool ok = true;
    Micros wait = 0;
    new_tats.clear();
    // Check every limit (for an accurate wait) before taking anything.
    for (const auto& l : limits) {
      auto it = tat_.find(l.key);
      auto r = check(it == tat_.end() ? 0 : it->second, params(l.qps), now);
      if (!r.admit) {
        ok = false;
        wait = std::max(wait, r.wait);
      }
      new_tats.push_back(r.new_tat);
    }
    if (ok) {
      for (size_t i = 0; i < limits.size(); ++i) tat_[limits[i].key] = new_tats[i];
      if (tat_.size() >= sweep_at_) sweep(now);
      d.admitted = c;
      return d;
    }
    if (!best_wait || wait < *best_wait) best_wait = wait;
  }
  d.retry_after = std::chrono::microseconds(best_wait.value_or(0));
  return d;
}

void Table::sweep(Micros now) {
  std::erase_if(tat_, [now](const auto& kv) { return kv.second <= now; });
  sweep_at_ = std::max<size_t>(1024, tat_.size() * 2);
}

Micros steady_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace apiproxy::gcra
