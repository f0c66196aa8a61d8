#include "core/telemetry/family.hpp"

#include <array>
#include <atomic>
#include <set>

#include <spdlog/spdlog.h>

namespace apiproxy::telemetry {

FamilyInfo::FamilyInfo(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  if (!valid_metric_name(name_)) throw std::invalid_argument("invalid metric name '" + name_ + "'");
  std::set<std::string_view> seen;
  for (const auto& l : label_names_) {
    if (!valid_label_name(l)) throw std::invalid_argument(name_ + ": invalid label name '" + l + "'");
    if (l == "le" || l == "quantile") throw std::invalid_argument(name_ + ": label name '" + l + "' is reserved");
    if (!seen.insert(l).second) throw std::invalid_argument(name_ + ": label '" + l + "' appears twice");
  }
}

void warn_family_full(const FamilyInfo& info, size_t max_series) {
  spdlog::warn("metric {} has {} label sets, its limit: further ones are counted under label values \"{}\"",
               info.name(), max_series, kOverflowValue);
}

uint64_t next_family_id() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

LastLookup& last_lookup(uint64_t family) {
  thread_local std::array<LastLookup, 16> last;
  return last[family % last.size()];
}

}  // namespace apiproxy::telemetry
