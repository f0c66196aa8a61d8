#include "core/ratelimit/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

#include <spdlog/spdlog.h>

namespace apiproxy {

struct RateLimiter::State {
  explicit State(Clock c) : clock(std::move(c)) {}
  Clock clock;
  std::mutex mutex;
  gcra::Table local;  // guarded by mutex
  std::atomic<bool> outage{false};
  std::atomic<gcra::Micros> next_probe{0};  // in an outage: when the store may be asked again
};

namespace {

// In an outage, how often a request still asks the store whether it is back.
constexpr gcra::Micros kProbeInterval = 1000000;

// The store's form: only real limits, no duplicate keys, cut after the first candidate with
// none (it admits, so nothing after it matters; it is reported as `unlimited`).
struct Normalised {
  std::vector<std::vector<RateLimit>> limited;
  std::optional<size_t> unlimited;  // index of the first candidate without limits
};

Normalised normalise(std::vector<AdmissionCandidate> candidates) {
  Normalised out;
  for (size_t i = 0; i < candidates.size(); ++i) {
    std::vector<RateLimit> limits;
    for (auto& l : candidates[i].limits) {
      if (!(l.qps > 0) || !std::isfinite(l.qps)) continue;
      auto same = std::find_if(limits.begin(), limits.end(),
                               [&](const RateLimit& o) { return o.key == l.key; });
      if (same == limits.end()) limits.push_back(std::move(l));
      else same->qps = std::min(same->qps, l.qps);
    }
    if (limits.empty()) {
      out.unlimited = i;
      break;
    }
    out.limited.push_back(std::move(limits));
  }
  return out;
}

Admission to_admission(const RateDecision& d, const std::optional<size_t>& unlimited,
                       bool local) {
  Admission a;
  a.local_fallback = local;
  if (d.admitted) {
    a.admitted = d.admitted;
  } else if (unlimited) {
    a.admitted = unlimited;
  } else {
    auto us = d.retry_after.count();
    a.retry_after = std::chrono::milliseconds((us + 999) / 1000);
  }
  return a;
}

}  // namespace

RateLimiter::RateLimiter() : RateLimiter(Clock(gcra::steady_now)) {}

RateLimiter::RateLimiter(Clock local_clock)
    : state_(std::make_shared<State>(std::move(local_clock))) {}

bool RateLimiter::in_outage() const { return state_->outage.load(); }

void RateLimiter::admit(Store& store, std::vector<AdmissionCandidate> candidates,
                        std::function<void(Admission)> done) {
  auto n = normalise(std::move(candidates));
  auto unlimited = n.unlimited;
  // An empty list (the first candidate has no limits, or there are none) costs no I/O;
  // the store merely completes it on its io_context.
  if (n.limited.empty()) {
    store.rate_admit({}, [unlimited, done = std::move(done)](Result<RateDecision>) {
      done(to_admission(RateDecision{}, unlimited, false));
    });
    return;
  }
  auto decide_locally = [](State& state, const std::vector<std::vector<RateLimit>>& limited) {
    std::lock_guard lock(state.mutex);
    return state.local.admit_first(limited, state.clock());
  };
  // During an outage only one request per probe interval asks the store (a hung Redis
  // would otherwise cost every request a timeout); the rest decide locally at once.
  if (state_->outage.load()) {
    auto now = state_->clock();
    auto due = state_->next_probe.load();
    if (now < due || !state_->next_probe.compare_exchange_strong(due, now + kProbeInterval)) {
      store.rate_admit({}, [state = state_, limited = std::move(n.limited), unlimited, decide_locally,
                            done = std::move(done)](Result<RateDecision>) {
        done(to_admission(decide_locally(*state, limited), unlimited, true));
      });
      return;
    }
  }
  auto limited = n.limited;  // kept for the fallback: the store consumes its own copy
  store.rate_admit(std::move(n.limited), [state = state_, limited = std::move(limited), unlimited,
                                          decide_locally,
                                          done = std::move(done)](Result<RateDecision> r) {
    if (r) {
      if (state->outage.exchange(false))
        spdlog::info("rate limits: the store answers again; MAX_QPS limits are shared by every "
                     "instance again");
      return done(to_admission(*r, unlimited, false));
    }
    state->next_probe.store(state->clock() + kProbeInterval);
    if (!state->outage.exchange(true))
      spdlog::warn("rate limits: the store failed ({}); enforcing MAX_QPS limits per instance "
                   "until it answers again",
                   r.error());
    done(to_admission(decide_locally(*state, limited), unlimited, true));
  });
}

}  // namespace apiproxy
