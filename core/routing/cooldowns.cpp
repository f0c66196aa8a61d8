#include "core/routing/cooldowns.hpp"

#include <algorithm>

#include "core/config/values.hpp"

namespace apiproxy {

void Cooldowns::cool(const std::string& provider, const std::string& model, std::chrono::milliseconds d) {
  if (d.count() <= 0) return;
  auto now = Clock::now();
  auto until = now + std::min<Clock::duration>(d, kMaxCooldown);
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(provider, model);
  if (until_.size() >= kMaxEntries && !until_.count(key)) {
    sweep(now);
    if (until_.size() >= kMaxEntries) return;
  }
  auto& slot = until_[std::move(key)];
  slot = std::max(slot, until);
}

void Cooldowns::sweep(Clock::time_point now) {
  std::erase_if(until_, [now](const auto& entry) { return entry.second <= now; });
}

bool Cooldowns::cooling(const std::string& provider, const std::string& model) const {
  std::lock_guard lock(mutex_);
  if (until_.empty()) return false;
  auto it = until_.find(NamesView(provider, model));
  return it != until_.end() && it->second > Clock::now();
}

std::chrono::milliseconds Cooldowns::parse_retry_after(std::string_view value) {
  auto d = parse_double(value);
  if (!d || *d <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<long long>(std::min(*d, 3600.0) * 1000));
}

}  // namespace apiproxy
