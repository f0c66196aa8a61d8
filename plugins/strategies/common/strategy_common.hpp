// Header-only helpers shared by the bundled routing strategies (latency_first, cost_first,
// reliability_first, balanced). Built only against the SDK; C++17.
//
// What every strategy here does the same way:
//  * Inputs are sanitised first (`Metrics`): NaN / infinite / negative numbers become
//    "unknown" (0) or the neutral value, everything is clamped to a sane range, and an
//    unknown status code reads as APX_HEALTH_UNKNOWN. Nothing later can produce NaN.
//  * Eligibility: DOWN candidates score 0, unless every candidate is DOWN; then all of
//    them are scored by the strategy's ordinary rule so the host still gets an order.
//  * Raw preferences are normalised so the best eligible candidate scores 1, then lifted
//    by an order-preserving exploration floor: score = f + (1 - f) * raw, so no eligible
//    candidate reaches 0 (0 means "never use", which would also drop it from failover).
//  * Configuration errors throw apx::InvalidInput naming the full variable, so the
//    host refuses to load the plugin.
#ifndef APIPROXY_STRATEGIES_COMMON_HPP
#define APIPROXY_STRATEGIES_COMMON_HPP

#include <apiproxy/strategy.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace apx::strategies {

// A vector of per-candidate numbers for one score() call. Up to kInline elements live
// inside the object (a decision has a handful of candidates), more on the heap: score()
// runs on every proxied request, and heap vectors were a large share of its cost. Only
// for plain values (numbers, Metrics), and only what the strategies use.
template <class T, size_t kInline = 16>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T>, "SmallVector holds plain values only");

 public:
  SmallVector() = default;
  explicit SmallVector(size_t n, const T& value = T()) {
    reserve(n);
    std::uninitialized_fill_n(data(), n, value);
    size_ = n;
  }
  SmallVector(const SmallVector& other) { *this = other; }
  SmallVector& operator=(const SmallVector& other) {
    if (this == &other) return *this;
    reserve(other.size_);
    std::uninitialized_copy(other.begin(), other.end(), data());
    size_ = other.size_;
    return *this;
  }

  void reserve(size_t n) {
    if (n <= capacity()) return;
    std::vector<T> bigger(std::max(n, 2 * capacity()));
    std::copy(begin(), end(), bigger.begin());
    heap_ = std::move(bigger);
  }
  void push_back(const T& v) {
    reserve(size_ + 1);
    new (data() + size_) T(v);
    ++size_;
  }

  T* data() noexcept { return heap_.empty() ? reinterpret_cast<T*>(inline_) : heap_.data(); }
  const T* data() const noexcept {
    return heap_.empty() ? reinterpret_cast<const T*>(inline_) : heap_.data();
  }
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](size_t i) noexcept { return data()[i]; }
  const T& operator[](size_t i) const noexcept { return data()[i]; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }

 private:
  size_t capacity() const noexcept { return heap_.empty() ? kInline : heap_.size(); }

  // Raw storage: elements are created as they are added (no kInline default constructions).
  alignas(T) unsigned char inline_[kInline * sizeof(T)];
  std::vector<T> heap_;  // empty while the elements fit inline_
  size_t size_ = 0;
};

// Bounds that keep every intermediate finite.
inline constexpr double kMaxLatencyMs = 1e7;  // ~2.8 h
inline constexpr double kMaxPrice = 1e9;      // per 1k tokens
inline constexpr double kMaxQps = 1e9;
inline constexpr double kMaxWeight = 1e6;
inline constexpr double kMinWeight = 1e-6;
inline constexpr uint64_t kMaxTokens = 100'000'000;  // 1e8 tokens per request
// The floor every eligible candidate keeps (relative to the best), even when the
// strategy's own exploration share is configured to 0.
inline constexpr double kMinShare = 1e-6;

// A finite, non-negative value or `fallback`; clamped to `hi`.
inline double sane(double v, double fallback, double hi) noexcept {
  if (!std::isfinite(v) || v < 0) return fallback;
  return v > hi ? hi : v;
}

// One candidate's numbers, made safe to compute with.
struct Metrics {
  double base_weight = 1;     // (0, 1e6]
  double dynamic_weight = 1;  // [0.2, 3]
  double cost_input = 0;      // 0 = unknown
  double cost_output = 0;
  double ewma_ms = 0;  // 0 = no data
  double p95_ms = 0;
  double p99_ms = 0;
  double error_rate = 0;  // [0, 1]
  double in_flight = 0;
  double samples = 0;
  uint32_t status = APX_HEALTH_UNKNOWN;
  double max_qps = 0;  // 0 = unlimited
  double current_qps = 0;
  // The last seconds (ABI 1.1). From a 1.0 host: 0 latency (so latency() falls back to the
  // window's), and the window's error rate and sample count.
  double recent_latency_ms = 0;
  double recent_error_rate = 0;
  double recent_samples = 0;

  bool down() const noexcept { return status == APX_HEALTH_DOWN; }
  bool degraded() const noexcept { return status == APX_HEALTH_DEGRADED; }
  bool price_known() const noexcept { return cost_input > 0 || cost_output > 0; }
  // The latency to route by: the recent mean, else the window's EWMA, else its p95; 0 when
  // nothing is known.
  double latency() const noexcept {
    return recent_latency_ms > 0 ? recent_latency_ms : ewma_ms > 0 ? ewma_ms : p95_ms;
  }
  // Recent failures (decayed count), the evidence behind recent_error_rate.
  double recent_failures() const noexcept { return recent_error_rate * recent_samples; }
};

inline Metrics sanitize(const apx_candidate& c) noexcept {
  Metrics m;
  m.base_weight = (std::isfinite(c.base_weight) && c.base_weight > 0)
                      ? std::clamp(c.base_weight, kMinWeight, kMaxWeight)
                      : 1.0;
  m.dynamic_weight =
      std::isfinite(c.dynamic_weight) ? std::clamp(c.dynamic_weight, 0.2, 3.0) : 1.0;
  m.cost_input = sane(c.cost_input, 0, kMaxPrice);
  m.cost_output = sane(c.cost_output, 0, kMaxPrice);
  m.ewma_ms = sane(c.latency_ewma_ms, 0, kMaxLatencyMs);
  m.p95_ms = sane(c.latency_p95_ms, 0, kMaxLatencyMs);
  m.p99_ms = sane(c.latency_p99_ms, 0, kMaxLatencyMs);
  m.error_rate = std::isnan(c.error_rate) ? 0.0 : std::clamp(c.error_rate, 0.0, 1.0);
  m.in_flight = static_cast<double>(c.in_flight);
  m.samples = static_cast<double>(c.samples);
  m.status = c.status <= APX_HEALTH_DOWN ? c.status : static_cast<uint32_t>(APX_HEALTH_UNKNOWN);
  m.max_qps = sane(c.max_qps, 0, kMaxQps);
  m.current_qps = sane(c.current_qps, 0, kMaxQps);
  if (APX_HAS_FIELD(apx_candidate, &c, recent_samples)) {
    m.recent_latency_ms = sane(c.recent_latency_ms, 0, kMaxLatencyMs);
    m.recent_error_rate = std::isnan(c.recent_error_rate) ? 0.0 : std::clamp(c.recent_error_rate, 0.0, 1.0);
    m.recent_samples = sane(c.recent_samples, 0, 1e9);
  } else {
    m.recent_error_rate = m.error_rate;
    m.recent_samples = m.samples;
  }
  return m;
}

inline SmallVector<Metrics> sanitize_all(Candidates c) {
  SmallVector<Metrics> out;
  out.reserve(c.size());
  for (size_t i = 0; i < c.size(); ++i) out.push_back(sanitize(c[i]));
  return out;
}

// Which candidates may be used: all but DOWN ones, or every one when all are DOWN.
inline SmallVector<char> eligible(const SmallVector<Metrics>& m) {
  bool any_up = std::any_of(m.begin(), m.end(), [](const Metrics& x) { return !x.down(); });
  SmallVector<char> e(m.size());
  for (size_t i = 0; i < m.size(); ++i) e[i] = any_up ? !m[i].down() : 1;
  return e;
}

// The request's token estimate; 0 (unknown) becomes the configured default.
struct Tokens {
  double input;
  double output;
};
inline Tokens tokens(const RouteContext& ctx, double default_in, double default_out) noexcept {
  auto pick = [](uint64_t v, double fallback) {
    return v == 0 ? fallback : static_cast<double>(std::min<uint64_t>(v, kMaxTokens));
  };
  return {pick(ctx.estimated_input_tokens(), default_in),
          pick(ctx.estimated_output_tokens(), default_out)};
}

// Price of one request: in/1000 * cost_input + out/1000 * cost_output (<= ~2e14).
inline double request_cost(const Metrics& m, Tokens t) noexcept {
  return t.input / 1000.0 * m.cost_input + t.output / 1000.0 * m.cost_output;
}

inline double median(SmallVector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t k = v.size() / 2;
  return v.size() % 2 ? v[k] : (v[k - 1] + v[k]) / 2;
}

// The recent error rate, shrunk toward 0 when it rests on few attempts (one failure in
// one attempt reads as 1/3, not 100 %).
inline double recent_error(const Metrics& m) noexcept {
  return m.recent_failures() / (m.recent_samples + 2);
}

// How many times slower a candidate's errors make it: a failed attempt costs its time and
// then a retry elsewhere, so errors count as latency. With `penalty` 10, 1 % errors cost
// ~10 %, 30 % errors ~5.3x.
inline double error_slowdown(const Metrics& m, double penalty) noexcept {
  double e = std::min(recent_error(m), 0.9);
  return 1 + penalty * e / (1 - e);
}

// Gives the eligible entries marked `unknown` the median of the other eligible entries
// (`fallback` when there are none), so a candidate without a figure is treated like a
// typical one, neither starved nor stampeded.
inline void fill_unknown_with_median(SmallVector<double>& values, const SmallVector<char>& ok,
                                     const SmallVector<char>& unknown, double fallback) {
  SmallVector<double> known;
  for (size_t i = 0; i < values.size(); ++i)
    if (ok[i] && !unknown[i]) known.push_back(values[i]);
  const double typical = known.empty() ? fallback : median(known);
  for (size_t i = 0; i < values.size(); ++i)
    if (ok[i] && unknown[i]) values[i] = typical;
}

// Each eligible candidate's latency (Metrics::latency), at least 1 µs. Candidates without
// one, or with fewer than `min_samples` samples in both horizons (a first sample that paid
// for a TLS handshake says little), get the median of the others (1 ms when nobody has
// one), so a new or long-unused upstream is explored like a typical one. Entries of
// ineligible candidates are 0.
inline constexpr double kColdSamples = 5;  // fewer samples: a latency is mostly noise
inline SmallVector<double> latencies(const SmallVector<Metrics>& m, const SmallVector<char>& ok,
                                     double min_samples = kColdSamples) {
  SmallVector<double> out(m.size(), 0);
  SmallVector<char> unknown(m.size(), 0);
  bool any_unknown = false;
  for (size_t i = 0; i < m.size(); ++i) {
    if (!ok[i]) continue;
    unknown[i] = !(m[i].latency() > 0 && std::max(m[i].samples, m[i].recent_samples) >= min_samples);
    if (unknown[i]) any_unknown = true;
    else out[i] = std::max(m[i].latency(), 1e-3);
  }
  if (any_unknown) fill_unknown_with_median(out, ok, unknown, 1.0);  // the usual case skips this
  return out;
}

// Bayesian (Beta-Binomial) recent error rate: the recent failures and successes (decayed
// counts) on top of a prior worth `prior_weight` requests at `prior_error`.
struct Posterior {
  double mean_error;  // posterior mean of the error rate
  double sd;          // posterior standard deviation
};
inline Posterior error_posterior(const Metrics& m, double prior_error, double prior_weight) noexcept {
  double failures = m.recent_failures();
  double successes = m.recent_samples - failures;
  double a = successes + (1 - prior_error) * prior_weight;  // success pseudo-count
  double b = failures + prior_error * prior_weight;         // failure pseudo-count
  double total = a + b;
  if (!(total > 0)) return {m.error_rate, 0};
  double mean_success = a / total;
  double var = mean_success * (1 - mean_success) / (total + 1);
  return {1 - mean_success, std::sqrt(std::max(var, 0.0))};
}

// Writes the final scores: `raw` (>= 0, higher is better, only eligible entries
// matter) is normalised so the best eligible candidate gets 1, then lifted by the
// exploration floor `explore` (order-preserving); ineligible candidates get 0.
inline void finish(const SmallVector<double>& raw, const SmallVector<char>& ok, double explore,
                   double* out) noexcept {
  double best = 0;
  for (size_t i = 0; i < raw.size(); ++i)
    if (ok[i] && std::isfinite(raw[i]) && raw[i] > best) best = raw[i];
  double floor = std::max(explore, kMinShare);
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!ok[i]) {
      out[i] = 0;
      continue;
    }
    double r = 1;  // no usable preference at all: every eligible candidate is equal
    if (best > 0) r = std::isfinite(raw[i]) && raw[i] > 0 ? std::min(raw[i] / best, 1.0) : 0;
    out[i] = floor + (1 - floor) * r;
  }
}

// (best / cost)^sharpness for a positive cost. A cost at least the best gives a ratio in
// (0, 1], which no power overflows; a whole-number sharpness (the defaults) is then a few
// multiplications instead of a log and an exp per candidate. Anything else is computed in
// log space (no overflow), with the best cost's log taken once for all the candidates.
class SharpenedInverse {
 public:
  SharpenedInverse(double best_cost, double sharpness) noexcept
      : usable_(best_cost > 0),
        best_(best_cost),
        sharpness_(sharpness),
        whole_(sharpness == std::floor(sharpness) && sharpness <= 64 ? static_cast<int>(sharpness) : -1),
        // Only the log-space path needs it; strategies build one of these per group.
        log_best_(usable_ && whole_ < 0 ? std::log(best_cost) : 0) {}

  double operator()(double cost) const noexcept {
    if (!(cost > 0) || !usable_) return 0;
    double r;
    if (whole_ >= 0 && cost >= best_) {
      double ratio = best_ / cost;
      r = 1;
      for (int i = 0; i < whole_; ++i) r *= ratio;
    } else {
      double log_best = whole_ < 0 ? log_best_ : std::log(best_);
      r = std::exp(sharpness_ * (log_best - std::log(cost)));
    }
    return std::isfinite(r) ? r : 0;
  }

 private:
  bool usable_;
  double best_;
  double sharpness_;
  int whole_;  // the sharpness when it is a whole number, else -1
  double log_best_;  // log(best_) when whole_ < 0
};

// ------------------------------------------------------------ configuration ----

// Reads APIPROXY_STRATEGY_{NAME}_{PARAM} values with range checks; every problem names
// the full variable. Unknown PARAMs are logged once at creation (likely typos).
class Params {
 public:
  Params(const Host& host, const Settings& settings, std::string_view strategy_upper,
         std::initializer_list<std::string_view> known)
      : settings_(settings), prefix_("APIPROXY_STRATEGY_" + std::string(strategy_upper) + "_") {
    for (const auto& [key, value] : settings.entries())
      if (std::find(known.begin(), known.end(), key) == known.end())
        host.warn("ignoring unknown setting " + prefix_ + key + " (known: " + join(known) + ")");
  }

  // A number in [lo, hi] (`lo_open`: lo itself excluded), or `fallback` when unset or
  // empty (`NAME=` in a .env file means "not set", as everywhere in the gateway).
  double number(std::string_view key, double fallback, double lo, double hi,
                bool lo_open = false) const {
    auto text = settings_.find(key);
    if (!text || text->empty()) return fallback;
    double v;
    try {
      v = settings_.get_double(key, fallback);
    } catch (const InvalidInput&) {
      throw InvalidInput(prefix_ + std::string(key) + " is not a number: '" +
                         settings_.get(key) + "'");
    }
    if (!std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo)) {
      std::ostringstream msg;
      msg << prefix_ << key << " must be " << (lo_open ? "> " : ">= ") << lo << " and <= " << hi
          << " (got '" << settings_.get(key) << "')";
      throw InvalidInput(msg.str());
    }
    return v;
  }

  // A whole number in [lo, hi], or `fallback` when unset.
  double whole(std::string_view key, double fallback, double lo, double hi) const {
    double v = number(key, fallback, lo, hi);
    if (v != std::floor(v))
      throw InvalidInput(prefix_ + std::string(key) + " must be a whole number (got '" +
                         settings_.get(key) + "')");
    return v;
  }

 private:
  static std::string join(std::initializer_list<std::string_view> keys) {
    std::string s;
    for (auto k : keys) {
      if (!s.empty()) s += ", ";
      s += k;
    }
    return s;
  }

  const Settings& settings_;
  std::string prefix_;
};

}  // namespace apx::strategies

#endif  // APIPROXY_STRATEGIES_COMMON_HPP
