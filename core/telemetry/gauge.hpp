// A value that goes up and down (Prometheus type "gauge"), and a guard that holds one unit
// of it for as long as it lives: in-flight requests and streams.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace apiproxy::telemetry {

class Gauge {
 public:
  void add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(int64_t n = 1) { value_.fetch_sub(n, std::memory_order_relaxed); }
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// +1 on construction, -1 on destruction or release(): however a request ends (answered,
// failed, abandoned, dropped at shutdown), the gauge comes back down exactly once.
class GaugeGuard {
 public:
  GaugeGuard() = default;
  explicit GaugeGuard(Gauge& g) : g_(&g) { g_->add(); }
  GaugeGuard(GaugeGuard&& o) noexcept : g_(std::exchange(o.g_, nullptr)) {}
  GaugeGuard& operator=(GaugeGuard&& o) noexcept {
    if (this != &o) {
      release();
      g_ = std::exchange(o.g_, nullptr);
    }
    return *this;
  }
  GaugeGuard(const GaugeGuard&) = delete;
  GaugeGuard& operator=(const GaugeGuard&) = delete;
  ~GaugeGuard() { release(); }

  void release() {
    if (g_) std::exchange(g_, nullptr)->sub();
  }
  bool held() const { return g_ != nullptr; }

 private:
  Gauge* g_ = nullptr;
};

}  // namespace apiproxy::telemetry
