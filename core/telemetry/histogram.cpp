#include "core/telemetry/histogram.hpp"

#include <cmath>
#include <stdexcept>

namespace apiproxy::telemetry {

const std::vector<double>& latency_buckets() {
  static const std::vector<double> b{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
  return b;
}

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds) : bounds_(std::move(bounds)) {
  if (!bounds_) throw std::invalid_argument("histogram without bounds");
  for (size_t i = 0; i < bounds_->size(); ++i) {
    double b = (*bounds_)[i];
    if (!std::isfinite(b) || (i > 0 && b <= (*bounds_)[i - 1]))
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
  }
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_->size() + 1);
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  const auto& b = *bounds_;
  // Linear: a dozen bounds, mostly hit near the start; cheaper than a binary search here.
  size_t i = 0;
  while (i < b.size() && value > b[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_->size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

namespace {

// Checked once, where the family is declared, not at the first observation on a request path.
std::shared_ptr<const std::vector<double>> checked(std::vector<double> bounds) {
  auto b = std::make_shared<const std::vector<double>>(std::move(bounds));
  Histogram probe(b);  // throws for bad bounds
  return b;
}

}  // namespace

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds, size_t max_series)
    : Family<Histogram>(
          std::move(name), std::move(help), std::move(label_names),
          [b = checked(std::move(bounds))] { return std::make_unique<Histogram>(b); }, max_series) {}

void write(TextWriter& out, const HistogramFamily& family) {
  const FamilyInfo& info = family.info();
  out.family(info.name(), info.help(), "histogram");
  const std::string bucket = info.name() + "_bucket";
  const std::string sum = info.name() + "_sum";
  const std::string count = info.name() + "_count";
  std::string le;
  family.for_each([&](const std::vector<std::string>& values, const Histogram& h) {
    Histogram::Snapshot s = h.snapshot();
    const auto& bounds = h.bounds();
    for (size_t i = 0; i <= bounds.size(); ++i) {
      le.clear();
      if (i < bounds.size()) append_number(le, bounds[i]);
      else le = "+Inf";
      out.sample(bucket, info.label_names(), values, s.cumulative[i], Label{"le", le});
    }
    out.sample(sum, info.label_names(), values, s.sum);
    out.sample(count, info.label_names(), values, s.count());
  });
}

}  // namespace apiproxy::telemetry
