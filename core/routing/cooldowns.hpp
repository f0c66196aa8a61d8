// Upstreams that asked us to back off (Retry-After on a retryable answer) are left out of
// routing until the time they named has passed. Shared by all threads of one instance.
#pragma once

#include <chrono>
#include <compare>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace apiproxy {

class Cooldowns {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kMaxCooldown{300};  // a huge Retry-After is capped
  // Entries expire within kMaxCooldown; past this many at once (model names may be chosen by
  // clients), expired ones are swept and new ones not recorded until there is room.
  static constexpr size_t kMaxEntries = 10000;

  void cool(const std::string& provider, const std::string& model, std::chrono::milliseconds d);
  bool cooling(const std::string& provider, const std::string& model) const;

  // Parses a Retry-After value in seconds (HTTP-date forms are treated as absent).
  static std::chrono::milliseconds parse_retry_after(std::string_view value);

 private:
  mutable std::mutex mutex_;
  using NamesView = std::pair<std::string_view, std::string_view>;
  // Orders the (provider, model) keys and finds them by views of the names, so that a
  // lookup (one per routing candidate) copies no string into a temporary key.
  struct NamesLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return (NamesView(a.first, a.second) <=> NamesView(b.first, b.second)) < 0;
    }
  };
  std::map<std::pair<std::string, std::string>, Clock::time_point, NamesLess> until_;
  void sweep(Clock::time_point now);  // with mutex_ held
};

}  // namespace apiproxy
